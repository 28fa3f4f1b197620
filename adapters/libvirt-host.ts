import type { HostFacts } from '../core/class-plan.js';
import { HostNotReadyError } from '../core/errors.js';
import { virshError } from './host-probes.js';
import { ANY_EXIT_CODE, run } from './run.js';

// What a class host (issue 18) reports about itself, asked through its libvirt URI with virsh:
// `nodeinfo` for RAM and CPUs, `pool-info` of the `default` storage pool (where vagrant-libvirt puts
// the labs' disks) for free disk. Over SSH, virsh runs the system ssh, so the teacher's keys, agent
// and ~/.ssh/config apply as they do for vagrant-libvirt.

/** An SSH login and two virsh calls; an unanswered one (a host that drops packets) must not hang `class plan`. */
export const HOST_FACTS_TIMEOUT_MS = 20_000;

/** The host's RAM, CPUs and free disk; a HostNotReadyError naming the URI and what to check when virsh cannot connect. */
export async function readHostFacts(uri: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<HostFacts> {
  const connect = batchUri(uri);
  const hint = reachHint(uri);
  const call = { timeoutMs: opts.timeoutMs ?? HOST_FACTS_TIMEOUT_MS, signal: opts.signal, okCodes: ANY_EXIT_CODE, hint, missingHint: 'install the libvirt client (Debian: apt install libvirt-clients)' };
  const node = await run('virsh', ['--connect', connect, 'nodeinfo'], call);
  if (node.code !== 0) {
    throw new HostNotReadyError(`cannot reach libvirt at ${uri}: ${virshError(`${node.stderr}\n${node.stdout}`) ?? `virsh exited with ${node.code}`}`, { hint });
  }
  const facts = parseNodeinfo(node.stdout);
  if (facts === undefined) throw new HostNotReadyError(`libvirt at ${uri} answered \`virsh nodeinfo\` without its memory size or CPU count`, { hint: 'run `virsh --connect URI nodeinfo` by hand to see what it says', details: node.stdout });
  // No `default` pool is no error: vagrant-libvirt makes it on first use; free disk is then unknown.
  const pool = await run('virsh', ['--connect', connect, 'pool-info', '--bytes', 'default'], call);
  const free = pool.code === 0 ? parsePoolAvailable(pool.stdout) : undefined;
  return free === undefined ? facts : { ...facts, freeDiskGiB: free };
}

/** `virsh nodeinfo` → RAM (MiB) and CPUs; undefined when either is missing. */
export function parseNodeinfo(output: string): HostFacts | undefined {
  const kib = /^Memory size:\s+(\d+)\s*KiB\s*$/m.exec(output)?.[1];
  const cpus = /^CPU\(s\):\s+(\d+)\s*$/m.exec(output)?.[1];
  if (kib === undefined || cpus === undefined || Number(cpus) === 0) return undefined;
  return { memoryMiB: Math.floor(Number(kib) / 1024), cpus: Number(cpus) };
}

/** `virsh pool-info --bytes` → available GiB (one decimal, rounded down); undefined without the line. */
export function parsePoolAvailable(output: string): number | undefined {
  const bytes = /^Available:\s+(\d+)\s*$/m.exec(output)?.[1];
  return bytes === undefined ? undefined : Math.floor((Number(bytes) / 2 ** 30) * 10) / 10;
}

/**
 * Over SSH, libvirt's `no_tty=1` has ssh run with BatchMode: a host that would ask for a password or
 * for a new host key fails at once with ssh's reason, instead of prompting on the terminal of a run
 * that asks several hosts at the same time.
 */
export function batchUri(uri: string): string {
  const url = new URL(uri);
  if (!url.protocol.includes('+ssh') || url.searchParams.has('no_tty')) return uri;
  return `${uri}${url.search === '' ? '?' : '&'}no_tty=1`;
}

/** What to check when a host cannot be reached, in the terms of its URI. */
export function reachHint(uri: string): string {
  const url = new URL(uri);
  const daemon = 'libvirt-daemon-system installed with libvirtd running';
  if (!url.protocol.includes('+ssh')) return `check that this machine has ${daemon} (systemctl status libvirtd) and that you are in the libvirt group (sudo adduser $USER libvirt, then log in again)`;
  const user = url.username === '' ? '' : `${decodeURIComponent(url.username)}@`;
  const login = `ssh ${url.port === '' ? '' : `-p ${url.port} `}${user}${url.hostname}`;
  return `check that \`${login}\` logs in without a password (a key in ssh-agent) and knows the host's key, that the host has ${daemon}, and that ${user === '' ? 'your user' : user.slice(0, -1)} is in its libvirt group (sudo adduser ${user === '' ? 'USER' : user.slice(0, -1)} libvirt)`;
}
