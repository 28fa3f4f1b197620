import { constants } from 'node:fs';
import { access, readFile, stat, statfs } from 'node:fs/promises';
import { freemem, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { HostFacts, Provider } from '../core/config.js';
import { BAKED_BOX, DEFAULTS, validateIp } from '../core/config.js';
import { HostNotReadyError, LabctlError, NotFoundError } from '../core/errors.js';
import { canWrite } from '../core/hosts-file.js';
import { hostsFilePath, labctlHome } from '../core/paths.js';
import { ANY_EXIT_CODE, hasProgram, run } from './run.js';
import { addedBuildId, pluginList, vagrantVersion } from './vagrant.js';

// `labctl doctor` probes: each check reads the machine and reports ok / warn / fail with the fix.
// create uses the same probes to pick the default provider and the libvirt accelerator, and runs
// preflight() (the subset it needs) before it writes anything, so both agree on what can work.

export type Verdict = 'ok' | 'warn' | 'fail';
export interface Check {
  id: string;
  verdict: Verdict;
  summary: string;
  fix?: string;
  /** A program or file that create needs is absent (preflightError reports it as NotFoundError). */
  missing?: true;
}

export const MIN_NODE = [20, 19] as const;
export const MIN_FREE_DISK_GIB = 10;
const GIB = 1024 ** 3;
/** vagrant-libvirt's URI when the Vagrantfile sets none and LIBVIRT_DEFAULT_URI is unset. */
export const DEFAULT_LIBVIRT_URI = 'qemu:///system';
/** A local libvirtd answers in well under a second; a hung socket must not hang doctor or create. */
export const VIRSH_CONNECT_TIMEOUT_MS = 15_000;
export const SUDO_PROBE_TIMEOUT_MS = 15_000;
const LIBVIRT_FIX = 'start libvirtd: `sudo systemctl start libvirtd`; add yourself to the libvirt group: `sudo usermod -aG libvirt $USER`, then log in again';
const LIBVIRT_INSTALL_FIX = 'Debian/Ubuntu: `apt install libvirt-daemon-system vagrant-libvirt qemu-system-x86`';

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
  return r && r.code === 0 ? r.stdout.trim() : undefined;
}

export async function probeVagrantLibvirt(): Promise<string | undefined> {
  const r = await pluginList();
  return r?.stdout.match(/^vagrant-libvirt \(([^,)]+)/m)?.[1];
}

export async function hardwareVirtualization(): Promise<boolean> {
  return (await cpuHasVirtualization()) && (await kvmUsable());
}

/**
 * The providers for which the baked box is in this user's Vagrant store. Read from the store's
 * files (the metadata `box build` writes), not from `vagrant box list`: that costs seconds.
 */
export async function bakedBoxProviders(env: NodeJS.ProcessEnv = process.env): Promise<Provider[]> {
  const store = env.VAGRANT_HOME && env.VAGRANT_HOME !== '' ? env.VAGRANT_HOME : join(homedir(), '.vagrant.d');
  // labctl builds boxes for libvirt only.
  return (await addedBuildId(BAKED_BOX, store, 'libvirt')) === undefined ? [] : ['libvirt'];
}

/** What create needs to know about the host; the provider probe only runs when asked for. */
export async function probeHostFacts(needProvider: boolean): Promise<HostFacts> {
  let usableProvider: Provider | undefined;
  if (needProvider) {
    if (await probeVirtualBox()) usableProvider = 'virtualbox';
    else if ((await hasProgram('virsh', ['--version']))?.code === 0 && (await probeVagrantLibvirt())) usableProvider = 'libvirt';
  }
  return { usableProvider, hardwareVirtualization: await hardwareVirtualization(), bakedBoxProviders: await bakedBoxProviders() };
}

export async function runDoctor(env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);

  add(
    nodeVersionOk(process.version)
      ? { id: 'node', verdict: 'ok', summary: `Node.js ${process.version}` }
      : { id: 'node', verdict: 'fail', summary: `Node.js ${process.version} is too old`, fix: `install Node.js ${MIN_NODE.join('.')} or newer` },
  );

  const vagrant = await checkVagrant();
  add(vagrant);

  const vbox = await probeVirtualBox();
  add(
    vbox
      ? { id: 'virtualbox', verdict: 'ok', summary: `VirtualBox ${vbox}` }
      : { id: 'virtualbox', verdict: 'warn', summary: 'VirtualBox is not installed (VBoxManage not found)', fix: 'install VirtualBox, or use --provider libvirt on Linux' },
  );

  const cpuVirt = await cpuHasVirtualization();
  const kvm = await kvmUsable();
  // A missing piece is the provider check's failure below; a connection that fails is a failure
  // of its own when libvirt is the provider create would pick.
  const libvirt = await checkLibvirt(env, { vagrant: vagrant.verdict === 'ok', onMissing: 'warn', onUnreachable: vbox ? 'warn' : 'fail' });
  add(libvirt);
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

  if (!vbox && libvirt.missing) {
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

  add(await checkLabctlHome(env));
  add(await checkHostsFile(env));
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

/** The URI vagrant-libvirt connects to: the Vagrantfile sets only the driver, so LIBVIRT_DEFAULT_URI wins. */
export function libvirtUri(env: NodeJS.ProcessEnv = process.env): string {
  return env.LIBVIRT_DEFAULT_URI && env.LIBVIRT_DEFAULT_URI !== '' ? env.LIBVIRT_DEFAULT_URI : DEFAULT_LIBVIRT_URI;
}

export type LibvirtConnection = { ok: true; uri: string } | { ok: false; uri: string; error: string; missing?: true };

/** Connects the way vagrant-libvirt will; `virsh uri` needs nothing but a working connection. */
export async function probeLibvirtConnection(env: NodeJS.ProcessEnv = process.env): Promise<LibvirtConnection> {
  const uri = libvirtUri(env);
  try {
    const r = await run('virsh', ['-c', uri, 'uri'], { timeoutMs: VIRSH_CONNECT_TIMEOUT_MS, okCodes: ANY_EXIT_CODE });
    if (r.code === 0) return { ok: true, uri };
    return { ok: false, uri, error: virshError(`${r.stderr}\n${r.stdout}`) ?? `virsh exited with ${r.code}` };
  } catch (error) {
    if (error instanceof NotFoundError) return { ok: false, uri, error: 'virsh not found', missing: true };
    if (error instanceof LabctlError) return { ok: false, uri, error: error.message };
    throw error;
  }
}

/**
 * virsh says "failed to connect to the hypervisor" first and the cause (socket missing, permission
 * denied) on the next line: the cause is the line worth showing.
 */
export function virshError(output: string): string | undefined {
  const lines = output
    .split('\n')
    .map((l) => l.trim().replace(/^error:\s*/, ''))
    .filter((l) => l !== '');
  return lines.find((l) => !/^failed to connect to the hypervisor$/i.test(l)) ?? lines[0];
}

/**
 * virsh, the vagrant-libvirt plugin and a live connection. create passes 'fail' for both; doctor
 * warns about a missing piece (off Linux it is not even that: libvirt is not expected there).
 */
export async function checkLibvirt(env: NodeJS.ProcessEnv, opts: { vagrant: boolean; onMissing: 'warn' | 'fail'; onUnreachable: 'warn' | 'fail' }): Promise<Check> {
  const gap = (summary: string, fix: string): Check =>
    opts.onMissing === 'warn' && process.platform !== 'linux'
      ? { id: 'libvirt', verdict: 'ok', summary: 'libvirt is Linux-only (not needed here)', missing: true }
      : { id: 'libvirt', verdict: opts.onMissing, summary, fix, missing: true };
  const [virsh, plugin] = await Promise.all([hasProgram('virsh', ['--version']), opts.vagrant ? probeVagrantLibvirt() : Promise.resolve(undefined)]);
  if (!virsh || virsh.code !== 0) return gap('libvirt not usable (virsh not found)', LIBVIRT_INSTALL_FIX);
  if (!plugin) return gap(`libvirt not usable (${opts.vagrant ? 'vagrant-libvirt plugin missing' : 'Vagrant is not installed'})`, LIBVIRT_INSTALL_FIX);
  const connection = await probeLibvirtConnection(env);
  if (!connection.ok) {
    return { id: 'libvirt', verdict: opts.onUnreachable, summary: `cannot connect to ${connection.uri}: ${connection.error}`, fix: LIBVIRT_FIX };
  }
  return { id: 'libvirt', verdict: 'ok', summary: `libvirt ${virsh.stdout.trim()}, vagrant-libvirt ${plugin}, connected to ${connection.uri}` };
}

async function checkVagrant(): Promise<Check> {
  const vagrant = await vagrantVersion();
  return vagrant && vagrant.code === 0
    ? { id: 'vagrant', verdict: 'ok', summary: vagrant.stdout.trim() }
    : { id: 'vagrant', verdict: 'fail', summary: 'Vagrant is not installed', fix: 'install Vagrant (Debian/Ubuntu: `apt install vagrant`; others: the Vagrant website)', missing: true };
}

/** create makes $LABCTL_HOME/<name>: the home must be a writable directory, or creatable. */
export async function checkLabctlHome(env: NodeJS.ProcessEnv): Promise<Check> {
  const home = labctlHome(env);
  const fix = 'point LABCTL_HOME at a directory you can write';
  const info = await stat(home).catch(() => undefined);
  if (info && !info.isDirectory()) return { id: 'labctl-home', verdict: 'fail', summary: `${home} is not a directory`, fix: `remove it, or ${fix}` };
  const target = info ? home : await nearestExisting(home);
  const targetInfo = info ?? (await stat(target).catch(() => undefined));
  if (!targetInfo?.isDirectory()) return { id: 'labctl-home', verdict: 'fail', summary: `${home} cannot be created: ${target} is not a directory`, fix };
  if (!(await writable(target))) {
    return { id: 'labctl-home', verdict: 'fail', summary: info ? `${home} is not writable` : `${home} cannot be created: ${target} is not writable`, fix };
  }
  return { id: 'labctl-home', verdict: 'ok', summary: info ? `${home} is writable` : `${home} will be created (${target} is writable)` };
}

async function writable(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The same test create makes (canWrite, else sudo). `sudo -n` failing is only a warning: create
 * may still get the password on the terminal, or the user adds the line by hand with --no-hosts.
 */
export async function checkHostsFile(env: NodeJS.ProcessEnv): Promise<Check> {
  const path = hostsFilePath(env);
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) {
    if (info.code === 'ENOENT' || info.code === 'ENOTDIR') {
      return {
        id: 'hosts-file',
        verdict: 'fail',
        summary: `${path} does not exist`,
        fix: 'create it, or point LABCTL_HOSTS_FILE at the hosts file, or run create with --no-hosts',
        missing: true,
      };
    }
  } else if (info.isDirectory()) {
    return { id: 'hosts-file', verdict: 'fail', summary: `${path} is a directory, not a hosts file`, fix: 'point LABCTL_HOSTS_FILE at the hosts file, or run create with --no-hosts' };
  }
  if (await canWrite(path)) return { id: 'hosts-file', verdict: 'ok', summary: `${path} is writable` };
  const sudo = await sudoWithoutPassword();
  return sudo === true
    ? { id: 'hosts-file', verdict: 'ok', summary: `${path} is not writable; create will use sudo` }
    : {
        id: 'hosts-file',
        verdict: 'warn',
        summary: `${path} is not writable and ${sudo}`,
        fix: 'run create with sudo available, or --no-hosts and add the printed line yourself',
      };
}

/** true, or why not: a failed `sudo -n` is an answer too, not proof that sudo works. */
async function sudoWithoutPassword(): Promise<true | string> {
  try {
    const r = await run('sudo', ['-n', 'true'], { timeoutMs: SUDO_PROBE_TIMEOUT_MS, okCodes: ANY_EXIT_CODE });
    if (r.code === 0) return true;
    const why = r.stderr.split('\n').find((l) => l.trim() !== '')?.trim();
    return `\`sudo -n true\` failed (exit ${r.code}${why ? `: ${why}` : ''})`;
  } catch (error) {
    if (error instanceof NotFoundError) return 'sudo is not installed';
    if (error instanceof LabctlError) return `\`sudo -n true\` failed: ${error.message}`;
    throw error;
  }
}

export interface PreflightInput {
  provider: Provider;
  hosts: boolean;
  env: NodeJS.ProcessEnv;
}

/** Only what create needs, so that it fails before writing anything rather than halfway through. */
export async function preflight(input: PreflightInput): Promise<Check[]> {
  const vagrant = checkVagrant();
  const provider =
    input.provider === 'libvirt'
      ? vagrant.then((v) => checkLibvirt(input.env, { vagrant: v.verdict === 'ok', onMissing: 'fail', onUnreachable: 'fail' }))
      : probeVirtualBox().then(
          (v): Check =>
            v
              ? { id: 'virtualbox', verdict: 'ok', summary: `VirtualBox ${v}` }
              : { id: 'virtualbox', verdict: 'fail', summary: 'VirtualBox is not installed (VBoxManage not found)', fix: 'install VirtualBox, or use --provider libvirt on Linux', missing: true },
        );
  return Promise.all([vagrant, provider, checkLabctlHome(input.env), ...(input.hosts ? [checkHostsFile(input.env)] : [])]);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The one line that ends doctor: `2 problems: libvirt (…), hosts-file (…); 1 warning: accelerator`. */
export function summaryLine(checks: readonly Check[]): string {
  const failed = checks.filter((c) => c.verdict === 'fail');
  const warned = checks.filter((c) => c.verdict === 'warn');
  const warnings = warned.length > 0 ? `${plural(warned.length, 'warning')}: ${warned.map((c) => c.id).join(', ')}` : '';
  if (failed.length === 0) return `no problems: create can run here${warnings ? ` (${warnings})` : ''}`;
  return `${plural(failed.length, 'problem')}: ${failed.map((c) => `${c.id} (${c.summary})`).join(', ')}${warnings ? `; ${warnings}` : ''}`;
}

/**
 * One error for every failed check: NotFoundError (exit 5) when each is a missing program or file,
 * else CheckFailedError (exit 1, "a problem was found", as doctor itself).
 */
export function preflightError(checks: Check[]): LabctlError | undefined {
  const failed = checks.filter((c) => c.verdict === 'fail');
  if (failed.length === 0) return undefined;
  const message = summaryLine(failed);
  const options = failed[0]?.fix === undefined ? {} : { hint: failed[0].fix };
  // For create this is not a grade (exit 1) but a machine that cannot run it: something missing
  // (exit 5), or a tool that is there and fails, such as libvirt refusing the connection (exit 6).
  return failed.every((c) => c.missing) ? new NotFoundError(message, options) : new HostNotReadyError(message, options);
}
