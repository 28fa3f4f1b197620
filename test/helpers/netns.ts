import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa, type Options, type Result } from 'execa';

// A network namespace of the test's own, so that every private address the e2e test touches (the
// lab's 192.168.56.x, libvirt's bridges) belongs to the test. Measured trap on these machines: from
// the root namespace a 192.168.56.x address is routed out to the real network and may *appear* to
// answer with no VM at all. Only uplink: a veth pair with a /30 and MASQUERADE in the root namespace.
//
// The namespace also gets a private *mount* namespace (a persistent one, entered with nsenter) in
// which libvirt's directories (/run/libvirt, /etc/libvirt, /var/lib/libvirt …) can be replaced by
// the test's own: a privileged libvirtd in the root mount namespace (a developer's, or another
// test's) then neither clashes with ours nor answers our `vagrant up` on the shared socket path.
//
// Teardown undoes exactly what setup did, in reverse order, and always runs all of its steps.

export const NETNS_COMMAND_TIMEOUT_MS = 60_000;
const FORCE_KILL_AFTER_MS = 5_000;
const STATE_ROOT = '/run/labctl-e2e';
/** Third octet picked at random in 10.254.0.0/16; a /30 uses .1 (host side) and .2 (namespace). */
const UPLINK_PREFIX = '10.254';
const UPLINK_PICK_ATTEMPTS = 20;

export type Log = (line: string) => void;

export interface Netns {
  /** `ip netns` name, unique per run. */
  name: string;
  /** Root-namespace end of the veth pair. */
  hostAddress: string;
  /** Namespace end, its default route points at hostAddress. */
  nsAddress: string;
  /** /etc/netns/NAME/hosts: what /etc/hosts is for every command run through exec(). */
  hostsFile: string;
  /** Runs argv inside the namespace (network + private mounts + /etc/netns overlays). */
  exec(argv: readonly string[], options?: Options): Promise<Result>;
  /** Replaces `target` with `source` for every later exec(); call before starting daemons. */
  overlay(source: string, target: string): Promise<void>;
  /** Undoes everything, best effort, reporting what it could not undo. Idempotent. */
  teardown(): Promise<void>;
}

export interface Undo {
  what: string;
  run: () => Promise<unknown>;
}

/** Runs argv in the root namespace, bounded, killed for good if it ignores the timeout's SIGTERM. */
export async function root(argv: readonly string[], options: Options = {}): Promise<Result> {
  const [file, ...args] = argv;
  if (file === undefined) throw new TypeError('empty argv');
  return execa(file, args, { timeout: NETNS_COMMAND_TIMEOUT_MS, forceKillAfterDelay: FORCE_KILL_AFTER_MS, ...options });
}

/** Creates the namespace; on any failure undoes what was done and rethrows. */
export async function createNetns(opts: { log: Log; prefix?: string }): Promise<Netns> {
  const id = randomBytes(3).toString('hex');
  const name = `${opts.prefix ?? 'labctl-e2e'}-${id}`;
  // Interface names are limited to 15 characters.
  const hostIf = `lce${id}h`;
  const nsIf = `lce${id}n`;
  const stateDir = join(STATE_ROOT, name);
  const mountNs = join(stateDir, 'mnt');
  const undo: Undo[] = [];
  const log = opts.log;

  const third = await pickFreeThirdOctet();
  const hostAddress = `${UPLINK_PREFIX}.${third}.1`;
  const nsAddress = `${UPLINK_PREFIX}.${third}.2`;
  const cidr = `${UPLINK_PREFIX}.${third}.0/30`;
  const etcDir = join('/etc/netns', name);

  // Entering a mount namespace resets the working directory to its root: --wd carries `cwd` over.
  const exec = (argv: readonly string[], options: Options = {}) => {
    const wd = options.cwd === undefined ? [] : [`--wd=${String(options.cwd)}`];
    return root(['nsenter', `--mount=${mountNs}`, ...wd, '--', 'ip', 'netns', 'exec', name, ...argv], options);
  };

  let tornDown = false;
  const teardown = async (): Promise<void> => {
    if (tornDown) return;
    tornDown = true;
    await killNamespaceProcesses(name, log);
    const failures: string[] = [];
    for (const step of undo.reverse()) {
      try {
        await step.run();
      } catch (error) {
        failures.push(`${step.what}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    const left = [...failures, ...(await leftovers(name, hostIf, etcDir, stateDir))];
    if (left.length > 0) {
      log(`netns teardown left:\n  ${left.join('\n  ')}`);
      throw new Error(`network namespace teardown left things behind:\n  ${left.join('\n  ')}`);
    }
    log(`netns ${name} removed`);
  };

  try {
    await root(['ip', 'netns', 'add', name]);
    undo.push({ what: `ip netns del ${name}`, run: () => root(['ip', 'netns', 'del', name]) });

    // `ip netns exec` bind-mounts these over /etc/resolv.conf and /etc/hosts: DNS works through the
    // uplink and labctl can edit a real hosts file without touching the machine's.
    await mkdir(etcDir, { recursive: true });
    undo.push({ what: `rm -r ${etcDir}`, run: () => rm(etcDir, { recursive: true, force: true }) });
    await root(['cp', '--dereference', '/etc/resolv.conf', join(etcDir, 'resolv.conf')]);
    await copyFile('/etc/hosts', join(etcDir, 'hosts'));

    await root(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', name]);
    undo.push({ what: `ip link del ${hostIf}`, run: () => root(['ip', 'link', 'del', hostIf], { reject: false }) });
    await root(['ip', 'addr', 'add', `${hostAddress}/30`, 'dev', hostIf]);
    await root(['ip', 'link', 'set', hostIf, 'up']);
    const inNs = (argv: string[]) => root(['ip', 'netns', 'exec', name, ...argv]);
    await inNs(['ip', 'link', 'set', 'lo', 'up']);
    await inNs(['ip', 'addr', 'add', `${nsAddress}/30`, 'dev', nsIf]);
    await inNs(['ip', 'link', 'set', nsIf, 'up']);
    await inNs(['ip', 'route', 'add', 'default', 'via', hostAddress]);

    // Left enabled on teardown: other namespaces on the machine may rely on it too.
    await writeFile('/proc/sys/net/ipv4/ip_forward', '1\n');
    const rules: string[][] = [
      ['-t', 'nat', 'POSTROUTING', '-s', cidr, '!', '-o', hostIf, '-j', 'MASQUERADE'],
      // dockerd sets the FORWARD policy to DROP: let the namespace's traffic and its replies through.
      ['-t', 'filter', 'FORWARD', '-i', hostIf, '-j', 'ACCEPT'],
      ['-t', 'filter', 'FORWARD', '-o', hostIf, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'],
    ];
    for (const [tableFlag, table, chain, ...spec] of rules as [string, string, string, ...string[]][]) {
      await root(['iptables', tableFlag, table, '-I', chain, '1', ...spec]);
      undo.push({ what: `iptables -D ${chain} ${spec.join(' ')}`, run: () => root(['iptables', tableFlag, table, '-D', chain, ...spec]) });
    }

    // A persistent private mount namespace: its file must sit on a mount that is not shared.
    await mkdir(stateDir, { recursive: true });
    undo.push({ what: `rmdir ${stateDir}`, run: () => rm(stateDir, { recursive: true, force: true }) });
    await root(['mount', '--bind', stateDir, stateDir]);
    undo.push({ what: `umount ${stateDir}`, run: () => root(['umount', stateDir]) });
    await root(['mount', '--make-private', stateDir]);
    await writeFile(mountNs, '');
    await root(['unshare', `--mount=${mountNs}`, '--propagation', 'private', 'true']);
    undo.push({ what: `umount ${mountNs}`, run: () => root(['umount', mountNs]) });

    log(`netns ${name}: ${nsAddress}/30 via ${hostAddress} (${hostIf})`);
    return {
      name,
      hostAddress,
      nsAddress,
      hostsFile: join(etcDir, 'hosts'),
      exec,
      overlay: async (source, target) => {
        await mkdir(target, { recursive: true });
        await root(['nsenter', `--mount=${mountNs}`, '--', 'mount', '--bind', source, target]);
      },
      teardown,
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}

export async function nsExec(ns: Netns, argv: readonly string[], options?: Options): Promise<Result> {
  return ns.exec(argv, options);
}

/**
 * Guard against the trap above: before probing a lab address, prove that inside the namespace it
 * is routed to a local libvirt bridge (virbrN), not out through the uplink.
 */
export async function assertRoutedToLocalBridge(ns: Netns, ip: string): Promise<string> {
  const out = String((await ns.exec(['ip', '-o', 'route', 'get', ip])).stdout);
  const dev = /\bdev (\S+)/.exec(out)?.[1];
  if (dev === undefined || !dev.startsWith('virbr')) {
    throw new Error(`inside ${ns.name}, ${ip} is routed via ${dev ?? '?'} (${out.trim()}), not a local virbr bridge: refusing to probe it`);
  }
  return dev;
}

/** What a complete teardown must have removed; each entry names what is still there. */
async function leftovers(name: string, hostIf: string, etcDir: string, stateDir: string): Promise<string[]> {
  const left: string[] = [];
  if (String((await root(['ip', 'netns', 'list'])).stdout).split('\n').some((l) => l.split(' ')[0] === name)) left.push(`namespace ${name}`);
  if ((await root(['ip', 'link', 'show', hostIf], { reject: false })).exitCode === 0) left.push(`link ${hostIf}`);
  for (const table of ['filter', 'nat']) {
    const rules = String((await root(['iptables', '-t', table, '-S'])).stdout);
    if (rules.includes(hostIf)) left.push(`iptables ${table} rules for ${hostIf}`);
  }
  if (existsSync(etcDir)) left.push(etcDir);
  if (existsSync(stateDir)) left.push(stateDir);
  return left;
}

/** A /24 in 10.254.0.0/16 that no address or route of the root namespace already uses. */
async function pickFreeThirdOctet(): Promise<number> {
  const used = `${String((await root(['ip', '-4', '-o', 'addr'])).stdout)}\n${String((await root(['ip', '-4', 'route'])).stdout)}`;
  for (let i = 0; i < UPLINK_PICK_ATTEMPTS; i++) {
    const third = 1 + (randomBytes(1)[0] ?? 0) % 254;
    if (!used.includes(`${UPLINK_PREFIX}.${third}.`)) return third;
  }
  throw new Error(`no free /24 in ${UPLINK_PREFIX}.0.0/16 after ${UPLINK_PICK_ATTEMPTS} tries`);
}

/**
 * Whatever still runs in the namespace was started by this test (qemu, dnsmasq, daemons): SIGTERM,
 * then SIGKILL what is left after a bounded wait.
 */
export const NAMESPACE_PROCESS_EXIT_TIMEOUT_MS = 15_000;
async function killNamespaceProcesses(name: string, log: Log): Promise<void> {
  const pids = async () =>
    String((await root(['ip', 'netns', 'pids', name], { reject: false })).stdout)
      .split('\n')
      .map(Number)
      .filter((p) => Number.isInteger(p) && p > 0);
  const first = await pids();
  if (first.length === 0) return;
  log(`stopping ${first.length} leftover process(es) in ${name}: ${first.join(' ')}`);
  signalAll(first, 'SIGTERM');
  const deadline = Date.now() + NAMESPACE_PROCESS_EXIT_TIMEOUT_MS;
  while (Date.now() < deadline && (await pids()).length > 0) await new Promise((r) => setTimeout(r, 500));
  signalAll(await pids(), 'SIGKILL');
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}
