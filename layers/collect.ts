import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { LabConfig } from '../core/config.js';
import { UsageError } from '../core/errors.js';
import { labCallLog } from '../core/lab-log.js';
import { parseContainerInspect, splitSections, type InspectedContainer, type Section } from '../core/layers-parse.js';
import type { LayersReport } from '../core/layers-report.js';
import type { Lab } from '../core/state.js';
import { machineIdPath } from '../adapters/provider-state.js';
import { ANY_EXIT_CODE, run } from '../adapters/run.js';
import { guestSsh } from '../adapters/ssh-mux.js';
import { assembleReport, type RawMeasure, type RemoteHostAnswers } from './assemble.js';
import { guestScript, hostScript, RESTART_SCRIPT, RESTART_WAIT_S } from './probes.js';

// Reads the three layers: one shell script on this machine, one over the lab's shared SSH
// connection in the VM (as root), and with --measure one timed container restart in the VM. A
// probe that fails is a problem line in the report, never the end of the command; only an
// unreachable VM is (RemoteCommandError, from guestSsh).

/** The host script reads /proc and lists processes: seconds at most. */
export const HOST_SCRIPT_TIMEOUT_MS = 60_000;
/** The guest script: a dozen probes per container, each a fork in an emulated VM, docker stats' sampling. */
export const GUEST_SCRIPT_TIMEOUT_MS = 240_000;
/** The restart probe bounds its own wait (RESTART_WAIT_S); this is for `docker restart` itself and SSH. */
export const RESTART_TIMEOUT_MS = (RESTART_WAIT_S + 90) * 1000;
export const VIRSH_TIMEOUT_MS = 30_000;

export interface CollectOptions {
  measure: boolean;
  /** With measure: the service (or container) to restart; default adminer, else nginx, else the first one. */
  restart?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Told before each slow step (the guest script, the restart). */
  progress?: (line: string) => void;
}

export async function collectLayers(lab: Lab, opts: CollectOptions): Promise<LayersReport> {
  const env = opts.env ?? process.env;
  const { config, paths } = lab;
  const vmId = await recordedVmId(lab);
  const remoteHost = remoteLibvirtHost(config);
  const boxDir = vagrantBoxDir(config.box, env);
  opts.progress?.(remoteHost === undefined ? 'reading this machine (the bare-metal host)…' : `reading the VM's host ${remoteHost} through libvirt…`);
  const [host, remote] = await Promise.all([
    runHostScript({ local: remoteHost === undefined, vmId, boxDir: opts.measure ? boxDir : undefined, provider: config.provider, env }),
    remoteHost === undefined ? Promise.resolve(undefined) : remoteAnswers(lab, remoteHost, vmId, env),
  ]);
  opts.progress?.('reading the VM and its containers over SSH…');
  const guest = splitSections((await guestSsh(paths, ['sh', '-s'], { sudo: true, input: guestScript({ measure: opts.measure }), timeoutMs: GUEST_SCRIPT_TIMEOUT_MS })).stdout);
  let measure: RawMeasure | undefined;
  if (opts.measure) {
    const containers = parseContainerInspect(guest.get('containers.inspect')?.output ?? '[]').filter((c) => c.running);
    const target = containers.length === 0 ? undefined : chooseRestartContainer(containers, opts.restart);
    let restart: RawMeasure['restart'];
    if (target !== undefined) {
      opts.progress?.(`restarting container ${target} to time it (it is down for a moment)…`);
      const r = await guestSsh(paths, ['sh', '-s', '--', target, String(RESTART_WAIT_S)], { sudo: true, input: RESTART_SCRIPT, timeoutMs: RESTART_TIMEOUT_MS, okCodes: ANY_EXIT_CODE });
      restart = { container: target, section: { output: r.stdout, code: r.code, error: r.stderr.trim().split('\n')[0] ?? '' } };
    }
    const log = await readFile(paths.log, 'utf8').catch(() => '');
    measure = { log, logPath: paths.log, boxDir, ...(restart ? { restart } : {}) };
  }
  return assembleReport({
    config,
    labJsonPath: paths.config,
    collectedAt: new Date().toISOString(),
    host,
    vmId,
    ...(remote ? { remote } : {}),
    guest,
    ...(measure ? { measure } : {}),
  });
}

/**
 * The container `--measure` restarts: the one asked for (by service or container name), else a
 * service whose short absence costs least — adminer, then nginx — else the first. A name that is
 * not running is a usage error listing the ones that are.
 */
export function chooseRestartContainer(containers: readonly Pick<InspectedContainer, 'name' | 'service'>[], asked: string | undefined): string {
  const byName = (n: string) => containers.find((c) => c.service === n || c.name === n)?.name;
  if (asked !== undefined) {
    const found = byName(asked);
    if (found === undefined) {
      const running = containers.map((c) => c.service).sort();
      throw new UsageError(`--restart: no running container of service "${asked}" in this lab`, { hint: `choose one of ${running.join(', ')} (e.g. --restart ${running[0] ?? 'nginx'})` });
    }
    return found;
  }
  return byName('adminer') ?? byName('nginx') ?? containers[0]?.name ?? '';
}

async function recordedVmId(lab: Lab): Promise<string | null> {
  const id = (await readFile(machineIdPath(lab.paths, lab.config.provider), 'utf8').catch(() => '')).trim();
  // The id becomes a pgrep pattern and a virsh argument: only the shape vagrant writes.
  return /^[A-Za-z0-9-]{1,80}$/.test(id) ? id : null;
}

/** The host in a qemu+ssh:// libvirt URI, undefined when the VM runs on this machine. */
export function remoteLibvirtHost(config: Pick<LabConfig, 'provider' | 'libvirt_uri'>): string | undefined {
  if (config.provider !== 'libvirt' || config.libvirt_uri === undefined) return undefined;
  try {
    const url = new URL(config.libvirt_uri);
    return url.protocol === 'qemu+ssh:' && url.hostname !== '' ? url.hostname : undefined;
  } catch {
    return undefined;
  }
}

/** Where Vagrant keeps the versions of `box` (`labctl/trixie` → `<VAGRANT_HOME>/boxes/labctl-VAGRANTSLASH-trixie`). */
export function vagrantBoxDir(box: string, env: NodeJS.ProcessEnv): string {
  const home = env.VAGRANT_HOME && env.VAGRANT_HOME !== '' ? env.VAGRANT_HOME : join(homedir(), '.vagrant.d');
  return join(home, 'boxes', box.replaceAll('/', '-VAGRANTSLASH-'));
}

async function runHostScript(o: { local: boolean; vmId: string | null; boxDir: string | undefined; provider: string; env: NodeJS.ProcessEnv }): Promise<Map<string, Section>> {
  const script = hostScript({ local: o.local, vmProcess: o.vmId !== null, box: o.boxDir !== undefined });
  const r = await run('sh', ['-s'], {
    input: script,
    timeoutMs: HOST_SCRIPT_TIMEOUT_MS,
    okCodes: ANY_EXIT_CODE,
    env: { ...o.env, LAYERS_VM_ID: o.vmId ?? '', LAYERS_BOX_DIR: o.boxDir ?? '', LAYERS_BOX_PROVIDER: o.provider },
  });
  return splitSections(r.stdout);
}

async function remoteAnswers(lab: Lab, hostName: string, vmId: string | null, env: NodeJS.ProcessEnv): Promise<RemoteHostAnswers> {
  const uri = lab.config.libvirt_uri ?? '';
  const ask = async (args: string[]): Promise<Section> => {
    try {
      const r = await run('virsh', ['-c', uri, ...args], { timeoutMs: VIRSH_TIMEOUT_MS, okCodes: ANY_EXIT_CODE, log: labCallLog(lab.paths), env });
      return { output: r.stdout, code: r.code, error: r.stderr.trim().split('\n')[0] ?? '' };
    } catch (error) {
      return { output: '', code: -1, error: (error as Error).message.split('\n')[0] ?? '' };
    }
  };
  const domstatsArgs = ['domstats', '--balloon', vmId ?? ''];
  return {
    hostName,
    nodeinfo: await ask(['nodeinfo']),
    nodeinfoCommand: `virsh -c ${uri} nodeinfo`,
    domstats: vmId === null ? { output: '', code: -1, error: 'vagrant recorded no domain id for this VM' } : await ask(domstatsArgs),
    domstatsCommand: `virsh -c ${uri} ${domstatsArgs.join(' ')}`,
  };
}
