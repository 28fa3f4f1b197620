import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type Options, type Result } from 'execa';
import { readPid, startLibvirt, stopByPid, type Libvirt } from './libvirt.js';
import { createNetns, root, type Log, type Netns, type Undo } from './netns.js';

// A classroom for class mode (issue 18), made of network namespaces only: N libvirt "hosts", each
// with its own libvirtd and an sshd, a teacher's machine that reaches them by qemu+ssh:// and
// nothing else, and a student's machine. All of them sit on one classroom LAN, a bridge in a
// namespace of its own, on a 10.253.X.0/24 the test picks (see LAN_*).
//
//   teacher (.2) ─┐
//   student (.3) ─┼─ br0 in the LAN namespace
//   host k (.10+k)┘  (each host: libvirtd with its own state, sshd on its LAN address)
//
// Each member namespace is made by createNetns (private mount namespace, uplink veth). Hosts keep
// the uplink as their default route (their VMs' NAT, as on a real host). The teacher and the
// student lose their default route: the LAN is their only network, so a probe of a VM's private
// address (libvirt's 192.168.12x.x) from there fails with "Network is unreachable" instead of
// leaving the machine (the trap that netns.ts describes).
//
// The teacher's home (the root user's, where ssh and vagrant-libvirt look for ~/.ssh) is replaced
// in its mount namespace by the test's directory: ~/.ssh holds a key made for this run, a
// known_hosts with the hosts' keys (generated for this run too) and a config that names them, so
// plain `virsh -c qemu+ssh://root@<host>/system` works with strict host key checking, and so does
// vagrant-libvirt's own ProxyCommand (`ssh '<host>' -l 'root' -i '<key>' -W %h:%p`). Nothing is
// written to the machine's /root/.ssh.
//
// Prototype (issue 18, part 2; 2026-12-05, load average ~5 on 2 shared cores, TCG): plain vagrant
// 2.3.4 + vagrant-libvirt 0.11.2 in the teacher namespace, VAGRANT_HOME holding labctl/trixie,
// against host 1. This Vagrantfile worked as is:
//
//   config.vm.box = "labctl/trixie"
//   config.vm.synced_folder ".", "/vagrant", disabled: true
//   config.vm.network "public_network", ip: "<LAN .100>", netmask: "255.255.255.0",
//                     dev: "lan0", mode: "bridge", type: "direct"       # macvtap on the host's LAN NIC
//   config.vm.provider "libvirt" do |lv|
//     lv.host = "<host LAN ip>"; lv.connect_via_ssh = true; lv.username = "root"
//     lv.id_ssh_key_file = "/root/.ssh/id_ed25519"   # absolute; a bare name is taken from $HOME/.ssh
//     lv.driver = "qemu"; lv.cpu_mode = "custom"; lv.cpu_model = "qemu64"
//     lv.storage_pool_name = "default"
//     lv.management_network_name = "vagrant-libvirt"; lv.management_network_address = "192.168.121.0/24"
//     lv.memory = 1024; lv.cpus = 1; lv.graphics_type = "none"; lv.video_type = "none"
//   end
//
// vagrant-libvirt then connects to qemu+ssh://root@<host>/system?no_verify=1&keyfile=<key> and
// - `vagrant up`: 225 s in all: the 454 MB box uploaded into host 1's pool in ~17 s (over SSH on
//   the veth LAN), domain started, SSH ready, hostname and the static LAN address set. While the
//   guest's sshd is not up yet, the jump prints "channel 0: open failed: connect failed: Connection
//   refused" / "stdio forwarding failed" (14 pairs) on stderr: noise, not a failure.
// - `vagrant ssh-config` (7.8 s) prints HostName 192.168.121.x (the management network, reachable
//   only from the host), User vagrant, the machine's private_key, StrictHostKeyChecking no and
//   `ProxyCommand ssh '<host>' -l 'root' -i '/root/.ssh/id_ed25519' -W %h:%p`: the jump is the
//   host's sshd (direct-tcpip; AllowTcpForwarding must stay yes), nothing to install on the host.
//   `ssh -F <that> default …` works from the teacher namespace (3.1 s); so does `vagrant ssh -c
//   true` (17.4 s). The jump, and vagrant-libvirt's `ssh <host> ip -j link show` below, check
//   the host key against the teacher's known_hosts (only libvirt's own connection gets
//   no_verify=1): for a host not in it, BatchMode ssh answers "Host key verification failed", so
//   class mode must see to known_hosts or stop early naming the host.
// - The VM's LAN address (macvtap0@lan0, bridge mode) answers ping and `nc -z … 22` from the
//   student and the teacher namespaces and from host 2; not from host 1 itself (macvtap cannot
//   talk to its own parent device's host). The guest's default route is the management network's
//   NAT through its host: apt-get update in the guest worked.
// - Nothing was installed or configured on the host beyond what this file sets up: libvirt 9's
//   qemu+ssh runs virt-ssh-helper (package libvirt-daemon) on the host, so no nc or socat;
//   vagrant-libvirt also runs `ssh <host> ip -j link show` to check that `dev` exists (iproute2).
//   The pool `default` exists here (startLibvirt); if it is missing, vagrant-libvirt creates it
//   at /var/lib/libvirt/images itself (HandleStoragePool; not exercised here). libvirt's own
//   `default` network is not used: the VM's NICs were vnet0 on `vagrant-libvirt` and the macvtap.
// - `vagrant destroy --force` (14 s) removed the domain, its disk volume and the vagrant-libvirt
//   network (undefined), and the macvtap. It leaves the uploaded box volume
//   (`labctl-VAGRANTSLASH-trixie_vagrant_box_image_0_<box.img mtime>_box.img`), removed with
//   `virsh -c <uri> vol-delete --pool default <name>`. That name carries the teacher's box.img
//   mtime (the box has no version), so a rebuilt box uploads a second volume.
// - vagrant-libvirt guards the box upload with a Ruby Mutex, i.e. within one vagrant process only:
//   parallel `vagrant up`s of several labs on a host whose pool lacks the box volume all upload it.
//   Class create should let one lab per host upload it first (or upload it itself).

export const CLASS_LAN_PREFIX = '10.253';
const LAN_PICK_ATTEMPTS = 20;
/** Last octets on the classroom LAN. */
export const LAN_TEACHER = 2;
export const LAN_STUDENT = 3;
export const LAN_FIRST_HOST = 11;
/** From here up the LAN is free for bridged VMs (macvtap), e.g. a per-host range of the class file. */
export const LAN_FIRST_FREE = 100;
/** Name of the LAN interface inside every member namespace (a bridged VM's macvtap parent on a host). */
export const LAN_INTERFACE = 'lan0';
const LAN_BRIDGE = 'br0';
/** Interface indexes per host: host k's are k × this and up (see spreadInterfaceIndexes). */
const IFINDEX_BLOCK = 200;

export const SSHD_READY_TIMEOUT_MS = 15_000;
export const TEACHER_SSH_CONNECT_TIMEOUT_S = 10;
export const VIRSH_OVER_SSH_TIMEOUT_MS = 60_000;
const POLL_MS = 250;

/** Programs this harness runs, with the Debian package that ships each. */
export const CLASS_HOST_PROGRAMS: Record<string, string> = {
  libvirtd: 'libvirt-daemon-system',
  virtlogd: 'libvirt-daemon-system',
  virsh: 'libvirt-clients',
  'virt-ssh-helper': 'libvirt-daemon',
  sshd: 'openssh-server',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  ip: 'iproute2',
  iptables: 'iptables',
  nsenter: 'util-linux',
  nc: 'netcat-openbsd',
};

export interface ClassHost {
  /** 1-based, as a teacher numbers them. */
  index: number;
  ns: Netns;
  lanAddress: string;
  libvirt: Libvirt;
  sshdPid: number;
  /** What the teacher passes to `virsh --connect` (and a class file's `uri`). */
  uri: string;
}

export interface ClassHosts {
  /** The run's own directory: libvirt state, host keys, the teacher's home. Removed at teardown. */
  stateDir: string;
  lan: {
    /** e.g. 10.253.17.0/24 */
    cidr: string;
    /** `${prefix}.${lastOctet}` */
    address(lastOctet: number): string;
    /** The LAN namespace's name, which holds the bridge. */
    ns: string;
  };
  teacher: {
    ns: Netns;
    lanAddress: string;
    /** Replaces the root user's home inside the teacher namespace. */
    home: string;
    keyFile: string;
    knownHostsFile: string;
    sshConfigFile: string;
    /** `virsh --connect <host.uri> …` from the teacher namespace; never throws, the exit code is the answer. */
    virsh(host: ClassHost, args: readonly string[], options?: Options): Promise<Result>;
  };
  student: { ns: Netns; lanAddress: string };
  hosts: ClassHost[];
  /** Undoes everything in reverse, daemons by PID; idempotent; throws listing what it could not undo. */
  teardown(): Promise<void>;
}

/** Fails early with the packages to install. */
export async function classHostsPreflight(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('class hosts need root (network namespaces, libvirtd, sshd): run as root');
  const missing: string[] = [];
  for (const [program, pkg] of Object.entries(CLASS_HOST_PROGRAMS)) {
    const found = await execa('sh', ['-c', 'export PATH="$PATH:/usr/sbin:/sbin"; command -v "$1"', 'which', program], { reject: false });
    if (found.exitCode !== 0) missing.push(pkg);
  }
  if (missing.length > 0) throw new Error(`missing host programs; apt-get install ${[...new Set(missing)].join(' ')}`);
}

export async function createClassHosts(opts: { log: Log; hosts: number; stateDir?: string }): Promise<ClassHosts> {
  const { log } = opts;
  if (!Number.isInteger(opts.hosts) || opts.hosts < 1 || LAN_FIRST_HOST + opts.hosts > LAN_FIRST_FREE) {
    throw new RangeError(`hosts must be 1..${LAN_FIRST_FREE - LAN_FIRST_HOST}, got ${opts.hosts}`);
  }
  await classHostsPreflight();
  const id = randomBytes(3).toString('hex');
  const lanNs = `labctl-class-${id}-lan`;
  const stateDir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), 'labctl-class-')));
  const undo: Undo[] = [];
  const hosts: ClassHost[] = [];
  const hostKeyLines: string[] = [];

  let tornDown = false;
  const teardown = async (): Promise<void> => {
    if (tornDown) return;
    tornDown = true;
    const failures = await undoAll(undo, log);
    const left = [...failures, ...(await leftovers(lanNs, id, stateDir))];
    if (left.length > 0) {
      log(`class hosts teardown left:\n  ${left.join('\n  ')}`);
      throw new Error(`class hosts teardown left things behind:\n  ${left.join('\n  ')}`);
    }
    log(`class hosts ${id} removed`);
  };

  try {
    await mkdir(stateDir, { recursive: true });
    undo.push({ what: `rm -r ${stateDir}`, run: () => rm(stateDir, { recursive: true, force: true }) });
    const prefix = `${CLASS_LAN_PREFIX}.${await pickFreeLanOctet()}`;
    const address = (lastOctet: number) => `${prefix}.${lastOctet}`;
    const cidr = `${prefix}.0/24`;

    await root(['ip', 'netns', 'add', lanNs]);
    undo.push({ what: `ip netns del ${lanNs}`, run: () => root(['ip', 'netns', 'del', lanNs]) });
    await root(['ip', '-n', lanNs, 'link', 'add', LAN_BRIDGE, 'type', 'bridge']);
    await root(['ip', '-n', lanNs, 'link', 'set', LAN_BRIDGE, 'up']);

    // Each member: its namespace, then a veth made directly between it and the LAN namespace, so
    // that no end ever appears in the root namespace.
    const addMember = async (role: string, lastOctet: number, steps: Undo[] = undo): Promise<Netns> => {
      const ns = await createNetns({ log, prefix: `labctl-class-${id}-${role}` });
      steps.push({ what: `teardown of ${ns.name}`, run: () => ns.teardown() });
      const lanEnd = role;
      await root(['ip', 'link', 'add', lanEnd, 'netns', lanNs, 'type', 'veth', 'peer', 'name', LAN_INTERFACE, 'netns', ns.name]);
      steps.push({ what: `ip -n ${lanNs} link del ${lanEnd}`, run: () => root(['ip', '-n', lanNs, 'link', 'del', lanEnd]) });
      await root(['ip', '-n', lanNs, 'link', 'set', lanEnd, 'master', LAN_BRIDGE, 'up']);
      await root(['ip', '-n', ns.name, 'addr', 'add', `${address(lastOctet)}/24`, 'dev', LAN_INTERFACE]);
      await root(['ip', '-n', ns.name, 'link', 'set', LAN_INTERFACE, 'up']);
      return ns;
    };

    const teacherNs = await addMember('teacher', LAN_TEACHER);
    const studentNs = await addMember('student', LAN_STUDENT);
    for (const ns of [teacherNs, studentNs]) await root(['ip', '-n', ns.name, 'route', 'del', 'default']);

    // The teacher's key: one for every host, as a teacher's own key would be.
    const home = join(stateDir, 'teacher-home');
    const sshDir = join(home, '.ssh');
    await mkdir(sshDir, { recursive: true, mode: 0o700 });
    const keyFile = join(sshDir, 'id_ed25519');
    await root(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `labctl-class-${id}-teacher`, '-f', keyFile]);
    const teacherPublicKey = (await readFile(`${keyFile}.pub`, 'utf8')).trim();

    // Hosts are independent machines: each has its own undo list, and they start and stop side by
    // side (libvirtd's start is mostly waiting). Namespaces are made one at a time, since
    // createNetns picks its uplink /30 by looking at what is in use.
    const hostUndo: Undo[][] = [];
    undo.push({
      what: 'hosts',
      run: async () => {
        const failures = (await Promise.all(hostUndo.map((steps) => undoAll(steps, log)))).flat();
        if (failures.length > 0) throw new Error(failures.join('; '));
      },
    });
    const hostNs: Netns[] = [];
    for (let index = 1; index <= opts.hosts; index++) {
      const steps: Undo[] = [];
      hostUndo.push(steps);
      hostNs.push(await addMember(`host${index}`, LAN_FIRST_HOST + index - 1, steps));
    }
    await Promise.all(hostNs.map((ns, i) => spreadInterfaceIndexes(ns.name, i * IFINDEX_BLOCK)));
    const started = await Promise.allSettled(
      hostNs.map(async (ns, i) => {
        const index = i + 1;
        const steps = hostUndo[i] ?? [];
        const lanAddress = address(LAN_FIRST_HOST + i);
        const hostDir = join(stateDir, `host${index}`);
        const libvirt = await startLibvirt(ns, { stateDir: join(hostDir, 'libvirt'), log });
        steps.push({ what: `libvirt of host${index}`, run: () => libvirt.stop() });
        const sshd = await startSshd(ns, { dir: join(hostDir, 'sshd'), listen: lanAddress, authorizedKey: teacherPublicKey, log });
        steps.push({ what: `sshd ${sshd.pid} of host${index}`, run: () => stopByPid(sshd.pid, 'sshd', log) });
        const host: ClassHost = { index, ns, lanAddress, libvirt, sshdPid: sshd.pid, uri: `qemu+ssh://root@${lanAddress}/system` };
        return { host, knownHost: `${lanAddress} ${sshd.hostKeyLine}\n` };
      }),
    );
    const failed = started.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    for (const r of started) {
      if (r.status === 'fulfilled') {
        hosts.push(r.value.host);
        hostKeyLines.push(r.value.knownHost);
      }
    }

    // known_hosts names each host by its LAN address; the config limits itself to those addresses,
    // so a VM's own address on the LAN is not taken for a host.
    const knownHostsFile = join(sshDir, 'known_hosts');
    await writeFile(knownHostsFile, hostKeyLines.join(''), { mode: 0o600 });
    const sshConfigFile = join(sshDir, 'config');
    await writeFile(sshConfigFile, teacherSshConfig(hosts.map((h) => h.lanAddress), keyFile, knownHostsFile), { mode: 0o600 });
    await teacherNs.overlay(home, homedir());

    const virsh = (host: ClassHost, args: readonly string[], options: Options = {}) =>
      teacherNs.exec(['virsh', '--connect', host.uri, ...args], { timeout: VIRSH_OVER_SSH_TIMEOUT_MS, reject: false, all: true, ...options });

    log(`class hosts ${id}: LAN ${cidr} in ${lanNs}; teacher ${address(LAN_TEACHER)}, student ${address(LAN_STUDENT)}, hosts ${hosts.map((h) => h.lanAddress).join(' ')}`);
    return {
      stateDir,
      lan: { cidr, address, ns: lanNs },
      teacher: { ns: teacherNs, lanAddress: address(LAN_TEACHER), home, keyFile, knownHostsFile, sshConfigFile, virsh },
      student: { ns: studentNs, lanAddress: address(LAN_STUDENT) },
      hosts,
      teardown,
    };
  } catch (error) {
    try {
      await teardown();
    } catch (teardownError) {
      log(String((teardownError as Error).message));
    }
    throw error;
  }
}

/**
 * Moves a host namespace's interface index counter `count` places on, so that host k's macvtaps
 * get indexes no other host's have. Why: the hosts here share one /dev, and a macvtap's character
 * device is /dev/tap<ifindex>. Two hosts' macvtaps with the same index (each namespace counts from
 * 1) share one node, that of the first made, and libvirt on the second host then opens the first
 * host's macvtap: that VM's frames leave through the other host, and its LAN address never answers
 * (seen in the class e2e: bob on host 2 went out through alice's macvtap on host 1). Real hosts
 * each have their own /dev. The kernel hands out indexes cyclically, so a veth pair made and
 * deleted takes two numbers for good.
 */
async function spreadInterfaceIndexes(ns: string, count: number): Promise<void> {
  if (count <= 0) return;
  const lines: string[] = [];
  for (let i = 0; i < count / 2; i++) lines.push(`link add lcspread0 type veth peer name lcspread1`, 'link del lcspread0');
  await root(['ip', '-n', ns, '-batch', '-'], { input: `${lines.join('\n')}\n` });
}

/** Runs every step, last first, whatever fails; answers what failed. */
async function undoAll(steps: Undo[], log: Log): Promise<string[]> {
  const failures: string[] = [];
  for (const step of steps.splice(0).reverse()) {
    const t = Date.now();
    try {
      await step.run();
    } catch (error) {
      failures.push(`${step.what}: ${(error as Error).message.split('\n')[0]}`);
    }
    log(`undone: ${step.what} (${Date.now() - t} ms)`);
  }
  return failures;
}

function teacherSshConfig(hostAddresses: readonly string[], keyFile: string, knownHostsFile: string): string {
  return [
    '# The class hosts of one test run (test/helpers/class-hosts.ts).',
    `Host ${hostAddresses.join(' ')}`,
    '  User root',
    `  IdentityFile ${keyFile}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${knownHostsFile}`,
    '  StrictHostKeyChecking yes',
    '  BatchMode yes',
    `  ConnectTimeout ${TEACHER_SSH_CONNECT_TIMEOUT_S}`,
    '',
  ].join('\n');
}

/**
 * sshd on the host's LAN address only, with host keys and authorized_keys in the test's
 * directory. StrictModes is off because that directory lies under the world-writable /tmp.
 */
async function startSshd(ns: Netns, opts: { dir: string; listen: string; authorizedKey: string; log: Log }): Promise<{ pid: number; hostKeyLine: string }> {
  const { dir, listen } = opts;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  await root(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `labctl-class-host-${listen}`, '-f', hostKey]);
  const authorizedKeys = join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, `${opts.authorizedKey}\n`, { mode: 0o600 });
  const pidFile = join(dir, 'sshd.pid');
  const config = join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `ListenAddress ${listen}`,
      `HostKey ${hostKey}`,
      `PidFile ${pidFile}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      // vagrant-libvirt reaches a VM's private address with `ssh -W` through this host.
      'AllowTcpForwarding yes',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const sshd = String((await root(['sh', '-c', 'export PATH="$PATH:/usr/sbin:/sbin"; command -v sshd'])).stdout).trim();
  // sshd refuses to start without its privilege separation directory, which on a machine without
  // systemd nothing makes (a fresh CI machine has none: `sshd -t` exits 255 "Missing privilege
  // separation directory: /run/sshd"). The host namespaces share the machine's /run (their mount
  // namespaces only keep their own mounts), so it is made there, where Debian's sshd unit makes
  // it, and left in place as that unit leaves it.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  // sshd re-executes itself and so must be started by its absolute path.
  await ns.exec([sshd, '-t', '-f', config]);
  await ns.exec([sshd, '-f', config, '-E', join(dir, 'sshd.log')]);
  const pid = await readPid(pidFile, 'sshd', SSHD_READY_TIMEOUT_MS);
  const deadline = Date.now() + SSHD_READY_TIMEOUT_MS;
  while ((await ns.exec(['nc', '-z', '-w', '1', listen, '22'], { reject: false })).exitCode !== 0) {
    if (Date.now() > deadline) throw new Error(`sshd ${pid} in ${ns.name} did not listen on ${listen}:22 within ${SSHD_READY_TIMEOUT_MS} ms; see ${join(dir, 'sshd.log')}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const [type, key] = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/);
  opts.log(`sshd ${pid} in ${ns.name} on ${listen}:22`);
  return { pid, hostKeyLine: `${type} ${key}` };
}

/**
 * Guard for probes from the teacher or the student namespace: `ip` must be reached on the LAN
 * interface, not through any other route.
 */
export async function assertRoutedToLan(ns: Netns, ip: string): Promise<void> {
  const r = await ns.exec(['ip', '-o', 'route', 'get', ip], { reject: false });
  const dev = /\bdev (\S+)/.exec(String(r.stdout))?.[1];
  if (r.exitCode !== 0 || dev !== LAN_INTERFACE) {
    throw new Error(`inside ${ns.name}, ${ip} is not on the classroom LAN (${String(r.stdout).trim() || String(r.stderr).trim()}): refusing to probe it`);
  }
}

/** What a complete teardown must have removed from the root namespace; each entry names a leftover. */
async function leftovers(lanNs: string, id: string, stateDir: string): Promise<string[]> {
  const left: string[] = [];
  const namespaces = String((await root(['ip', 'netns', 'list'])).stdout).split('\n').map((l) => l.split(' ')[0] ?? '');
  for (const name of namespaces) if (name === lanNs || name.startsWith(`labctl-class-${id}-`)) left.push(`namespace ${name}`);
  for (const entry of await readdir('/etc/netns').catch(() => [])) if (entry.startsWith(`labctl-class-${id}-`)) left.push(`/etc/netns/${entry}`);
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  if (mounts.includes(stateDir) || mounts.includes(`labctl-class-${id}-`)) left.push(`mounts of ${stateDir} or labctl-class-${id}-*`);
  if (existsSync(stateDir)) left.push(stateDir);
  return left;
}

/** A /24 in 10.253.0.0/16 that no address or route of the root namespace uses. */
async function pickFreeLanOctet(): Promise<number> {
  const used = `${String((await root(['ip', '-4', '-o', 'addr'])).stdout)}\n${String((await root(['ip', '-4', 'route'])).stdout)}`;
  for (let i = 0; i < LAN_PICK_ATTEMPTS; i++) {
    const third = 1 + ((randomBytes(1)[0] ?? 0) % 254);
    if (!used.includes(`${CLASS_LAN_PREFIX}.${third}.`)) return third;
  }
  throw new Error(`no free /24 in ${CLASS_LAN_PREFIX}.0.0/16 after ${LAN_PICK_ATTEMPTS} tries`);
}
