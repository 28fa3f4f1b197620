import { constants } from 'node:fs';
import { access, readFile, statfs } from 'node:fs/promises';
import { freemem } from 'node:os';
import { dirname } from 'node:path';
import type { HostFacts, Provider } from './config.js';
import { DEFAULTS, validateIp } from './config.js';
import { canWrite } from './hosts.js';
import { hostsFilePath, labctlHome } from './paths.js';
import { hasProgram } from './run.js';

// `labctl doctor` probes: each check reads the machine and reports ok / warn / fail with the fix.
// create uses the same probes to pick the default provider and the libvirt accelerator.

export type Verdict = 'ok' | 'warn' | 'fail';
export interface Check {
  id: string;
  verdict: Verdict;
  summary: string;
  fix?: string;
}

export const MIN_NODE = [20, 19] as const;
export const MIN_FREE_DISK_GIB = 10;
const GIB = 1024 ** 3;

export function nodeVersionOk(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
}

export async function cpuHasVirtualization(): Promise<boolean> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  return /^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo);
}

async function kvmUsable(): Promise<boolean> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export async function probeVirtualBox(): Promise<string | undefined> {
  const r = await hasProgram('VBoxManage', ['--version']);
  return r && r.exitCode === 0 ? r.stdout.trim() : undefined;
}

export async function probeVagrantLibvirt(): Promise<string | undefined> {
  const r = await hasProgram('vagrant', ['plugin', 'list']);
  return r?.stdout.match(/^vagrant-libvirt \(([^,)]+)/m)?.[1];
}

export async function hardwareVirtualization(): Promise<boolean> {
  return (await cpuHasVirtualization()) && (await kvmUsable());
}

/** What create needs to know about the host; the provider probe only runs when asked for. */
export async function probeHostFacts(needProvider: boolean): Promise<HostFacts> {
  let usableProvider: Provider | undefined;
  if (needProvider) {
    if (await probeVirtualBox()) usableProvider = 'virtualbox';
    else if ((await hasProgram('virsh', ['--version'])) && (await probeVagrantLibvirt())) usableProvider = 'libvirt';
  }
  return { usableProvider, hardwareVirtualization: await hardwareVirtualization() };
}

export async function runDoctor(env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);

  add(
    nodeVersionOk(process.version)
      ? { id: 'node', verdict: 'ok', summary: `Node.js ${process.version}` }
      : { id: 'node', verdict: 'fail', summary: `Node.js ${process.version} is too old`, fix: `install Node.js ${MIN_NODE.join('.')} or newer` },
  );

  const vagrant = await hasProgram('vagrant', ['--version']);
  add(
    vagrant && vagrant.exitCode === 0
      ? { id: 'vagrant', verdict: 'ok', summary: vagrant.stdout.trim() }
      : { id: 'vagrant', verdict: 'fail', summary: 'Vagrant is not installed', fix: 'install Vagrant (Debian/Ubuntu: `apt install vagrant`; others: the Vagrant website)' },
  );

  const vbox = await probeVirtualBox();
  add(
    vbox
      ? { id: 'virtualbox', verdict: 'ok', summary: `VirtualBox ${vbox}` }
      : { id: 'virtualbox', verdict: 'warn', summary: 'VirtualBox is not installed (VBoxManage not found)', fix: 'install VirtualBox, or use --provider libvirt on Linux' },
  );

  const virsh = await hasProgram('virsh', ['--version']);
  const plugin = vagrant ? await probeVagrantLibvirt() : undefined;
  const cpuVirt = await cpuHasVirtualization();
  const kvm = await kvmUsable();
  if (virsh && virsh.exitCode === 0 && plugin) {
    add({ id: 'libvirt', verdict: 'ok', summary: `libvirt ${virsh.stdout.trim()}, vagrant-libvirt ${plugin}` });
  } else {
    add({
      id: 'libvirt',
      verdict: process.platform === 'linux' ? 'warn' : 'ok',
      summary: process.platform === 'linux' ? `libvirt not usable (${!virsh ? 'virsh not found' : 'vagrant-libvirt plugin missing'})` : 'libvirt is Linux-only (not needed here)',
      ...(process.platform === 'linux' ? { fix: 'Debian/Ubuntu: `apt install libvirt-daemon-system vagrant-libvirt qemu-system-x86`' } : {}),
    });
  }
  add(
    cpuVirt && kvm
      ? { id: 'accelerator', verdict: 'ok', summary: 'hardware virtualization (vmx/svm) and /dev/kvm: libvirt_driver auto → kvm' }
      : {
          id: 'accelerator',
          verdict: 'warn',
          summary: `${!cpuVirt ? 'CPU has no vmx/svm flag' : '/dev/kvm is not usable'}${kvm && !cpuVirt ? ' (/dev/kvm exists but is not hardware KVM)' : ''}: libvirt_driver auto → qemu (software emulation, several times slower)`,
          fix: 'enable VT-x/AMD-V in the firmware or nested virtualization, or accept slower VMs',
        },
  );

  if (!vbox && !(virsh && plugin)) {
    add({ id: 'provider', verdict: 'fail', summary: 'no usable provider: neither VirtualBox nor vagrant-libvirt', fix: 'install VirtualBox, or libvirt + vagrant-libvirt on Linux' });
  } else {
    add({ id: 'provider', verdict: 'ok', summary: `default provider: ${vbox ? 'virtualbox' : 'libvirt'}` });
  }

  const provider: Provider = vbox ? 'virtualbox' : 'libvirt';
  try {
    validateIp(DEFAULTS.ip, provider);
    add({ id: 'ip-range', verdict: 'ok', summary: `default lab IP ${DEFAULTS.ip} is allowed for ${provider}` });
  } catch (error) {
    add({ id: 'ip-range', verdict: 'fail', summary: String((error as Error).message), fix: 'pass --ip with an allowed address' });
  }
  const networksConf = await readFile('/etc/vbox/networks.conf', 'utf8').catch(() => undefined);
  if (vbox) {
    add({
      id: 'vbox-networks',
      verdict: 'ok',
      summary: networksConf ? `/etc/vbox/networks.conf allows: ${networksConf.trim().replace(/\s+/g, ' ')}` : 'VirtualBox host-only range: 192.168.56.0/21 (default)',
    });
  }

  const home = labctlHome(env);
  const disk = await statfs(await nearestExisting(home)).catch(() => undefined);
  if (disk) {
    const free = (disk.bavail * disk.bsize) / GIB;
    add(
      free >= MIN_FREE_DISK_GIB
        ? { id: 'disk', verdict: 'ok', summary: `${free.toFixed(1)} GiB free for ${home}` }
        : { id: 'disk', verdict: 'warn', summary: `only ${free.toFixed(1)} GiB free for ${home}`, fix: `free at least ${MIN_FREE_DISK_GIB} GiB (a lab VM with images needs about 6 GiB)` },
    );
  }
  const freeMiB = Math.floor((await availableMemoryBytes()) / 1024 ** 2);
  add(
    freeMiB >= DEFAULTS.memory + 512
      ? { id: 'memory', verdict: 'ok', summary: `${freeMiB} MiB RAM available (a lab uses ${DEFAULTS.memory} MiB by default)` }
      : { id: 'memory', verdict: 'warn', summary: `only ${freeMiB} MiB RAM available`, fix: 'close programs or create the lab with a smaller --memory (at least 1024)' },
  );

  const hosts = hostsFilePath(env);
  if (await canWrite(hosts)) {
    add({ id: 'hosts-file', verdict: 'ok', summary: `${hosts} is writable` });
  } else {
    const sudo = await hasProgram('sudo', ['-n', 'true']);
    add(
      sudo
        ? { id: 'hosts-file', verdict: 'ok', summary: `${hosts} is not writable; create will ask for sudo once` }
        : { id: 'hosts-file', verdict: 'warn', summary: `${hosts} is not writable and sudo is not available`, fix: 'run create with --no-hosts and add the printed line yourself' },
    );
  }
  return checks;
}

async function nearestExisting(path: string): Promise<string> {
  let p = path;
  for (let i = 0; i < 64; i++) {
    try {
      await access(p);
      return p;
    } catch {
      const parent = dirname(p);
      if (parent === p) return p;
      p = parent;
    }
  }
  return '/';
}

async function availableMemoryBytes(): Promise<number> {
  const meminfo = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const kib = /^MemAvailable:\s+(\d+)/m.exec(meminfo)?.[1];
  return kib ? Number(kib) * 1024 : freemem();
}
