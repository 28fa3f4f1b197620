import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Log, Netns } from './netns.js';

// libvirt inside the test's namespace, with no systemd: virtlogd and libvirtd started by hand and
// stopped by PID. All of libvirt's state lives in the test's own directory (overlaid on the system
// paths inside the private mount namespace), so nothing outside that directory is left behind.

export const LIBVIRTD_READY_TIMEOUT_MS = 60_000;
export const DAEMON_EXIT_TIMEOUT_MS = 30_000;
export const VIRSH_TIMEOUT_MS = 120_000;
const POLL_MS = 500;

/** System path → subdirectory of the test's state dir that replaces it inside the namespace. */
const OVERLAID = {
  '/etc/libvirt': 'etc',
  '/var/lib/libvirt': 'lib',
  '/var/cache/libvirt': 'cache',
  '/var/log/libvirt': 'log',
  '/run/libvirt': 'run',
} as const;

export interface Libvirt {
  stateDir: string;
  /** Directory of the `default` storage pool that vagrant-libvirt uploads boxes into. */
  poolDir: string;
  pids: { virtlogd: number; libvirtd: number };
  virsh(args: readonly string[]): Promise<string>;
  /** Destroys domains, networks and the pool, then stops both daemons. Best effort, idempotent. */
  stop(): Promise<void>;
  /**
   * Stops libvirtd alone, by PID, as when a host's daemon dies: domains and state stay. stop()
   * then leaves the domains to the namespace teardown unless startDaemon() ran again.
   */
  stopDaemon(): Promise<void>;
  /** Starts libvirtd again on the same state and waits until it answers. */
  startDaemon(): Promise<void>;
}

export async function startLibvirt(ns: Netns, opts: { stateDir: string; log: Log }): Promise<Libvirt> {
  const { stateDir, log } = opts;
  await mkdir(stateDir, { recursive: true });
  for (const [target, sub] of Object.entries(OVERLAID)) {
    const source = join(stateDir, sub);
    await mkdir(source, { recursive: true });
    if (target === '/etc/libvirt') await execa('cp', ['-a', '/etc/libvirt/.', source]);
    await ns.overlay(source, target);
  }
  for (const sub of ['qemu', 'images', 'boot', 'dnsmasq']) await mkdir(join(stateDir, 'lib', sub), { recursive: true });
  // qemu runs as root with no security driver: the pool sits in a test directory that the
  // libvirt-qemu user cannot traverse, and no AppArmor profile knows these paths.
  await appendFile(join(stateDir, 'etc', 'qemu.conf'), '\n# labctl e2e\nuser = "root"\ngroup = "root"\nsecurity_driver = "none"\n');

  const pidFiles = { virtlogd: join(stateDir, 'virtlogd.pid'), libvirtd: join(stateDir, 'libvirtd.pid') };
  const pids = { virtlogd: 0, libvirtd: 0 };
  const virsh = async (args: readonly string[]) =>
    String((await ns.exec(['virsh', '--connect', 'qemu:///system', ...args], { timeout: VIRSH_TIMEOUT_MS })).stdout);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (pids.libvirtd > 0) await cleanLibvirtObjects(virsh, log);
    for (const daemon of ['libvirtd', 'virtlogd'] as const) {
      if (pids[daemon] > 0) await stopByPid(pids[daemon], daemon, log);
    }
  };

  const stopDaemon = async () => {
    if (pids.libvirtd === 0) return;
    await stopByPid(pids.libvirtd, 'libvirtd', log);
    pids.libvirtd = 0;
    // The PID file outlives a killed daemon: startDaemon() must not read the old PID from it.
    await rm(pidFiles.libvirtd, { force: true });
  };
  const startDaemon = async () => {
    if (pids.libvirtd > 0) return;
    await ns.exec(['libvirtd', '--daemon', '--pid-file', pidFiles.libvirtd]);
    pids.libvirtd = await readPid(pidFiles.libvirtd, 'libvirtd');
    await waitForLibvirtd(virsh);
  };

  try {
    await ns.exec(['virtlogd', '--daemon', '--pid-file', pidFiles.virtlogd]);
    pids.virtlogd = await readPid(pidFiles.virtlogd, 'virtlogd');
    await startDaemon();
    log(`libvirtd ${pids.libvirtd}, virtlogd ${pids.virtlogd} in ${ns.name}`);

    if (!(await virsh(['net-list', '--all', '--name'])).split('\n').includes('default')) {
      await virsh(['net-define', '/usr/share/libvirt/networks/default.xml']);
    }
    if (!(await virsh(['net-list', '--name'])).split('\n').includes('default')) await virsh(['net-start', 'default']);

    const poolDir = join(stateDir, 'pool');
    await mkdir(poolDir, { recursive: true });
    await virsh(['pool-define-as', 'default', 'dir', '--target', poolDir]);
    await virsh(['pool-start', 'default']);
    return { stateDir, poolDir, pids, virsh, stop, stopDaemon, startDaemon };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits (bounded) for a daemon's PID file and returns the PID it holds. */
export async function readPid(file: string, daemon: string, timeoutMs = LIBVIRTD_READY_TIMEOUT_MS): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      const pid = Number((await readFile(file, 'utf8')).trim());
      if (Number.isInteger(pid) && pid > 0) return pid;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`${daemon} wrote no PID file (${file}) within ${timeoutMs / 1000} s`);
}

async function waitForLibvirtd(virsh: (args: readonly string[]) => Promise<string>): Promise<void> {
  const deadline = Date.now() + LIBVIRTD_READY_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await virsh(['version']);
      return;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
  throw new Error(`libvirtd did not answer within ${LIBVIRTD_READY_TIMEOUT_MS / 1000} s: ${(last as Error | undefined)?.message ?? ''}`);
}

/** Domains (qemu) and networks (dnsmasq) outlive libvirtd if not destroyed through it. */
async function cleanLibvirtObjects(virsh: (args: readonly string[]) => Promise<string>, log: Log): Promise<void> {
  const names = async (args: string[]) => {
    try {
      return (await virsh(args)).split('\n').map((s) => s.trim()).filter(Boolean);
    } catch (error) {
      log(`virsh ${args.join(' ')}: ${(error as Error).message.split('\n')[0]}`);
      return [];
    }
  };
  const attempt = async (args: string[]) => {
    try {
      await virsh(args);
    } catch (error) {
      log(`virsh ${args.join(' ')}: ${(error as Error).message.split('\n')[0]}`);
    }
  };
  for (const domain of await names(['list', '--name'])) await attempt(['destroy', domain]);
  for (const domain of await names(['list', '--all', '--name'])) await attempt(['undefine', domain, '--nvram']);
  for (const net of await names(['net-list', '--name'])) await attempt(['net-destroy', net]);
  await attempt(['pool-destroy', 'default']);
}

/** SIGTERM, then SIGKILL after a bounded wait; only if `pid` still runs a `daemon` command line. */
export async function stopByPid(pid: number, daemon: string, log: Log): Promise<void> {
  // Only signal the process we started: a recycled PID would have another command line.
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes(daemon)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + DAEMON_EXIT_TIMEOUT_MS;
  while (Date.now() < deadline && (await running(pid))) await new Promise((r) => setTimeout(r, POLL_MS));
  if (await running(pid)) {
    log(`${daemon} ${pid} ignored SIGTERM for ${DAEMON_EXIT_TIMEOUT_MS / 1000} s: SIGKILL`);
    process.kill(pid, 'SIGKILL');
  }
}

/** Alive and not a zombie (the machine's init may be slow to reap daemonized orphans). */
async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !/^\d+ \(.*\) Z /.test(stat);
}
