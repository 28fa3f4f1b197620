import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Provider } from '../core/config.js';
import type { LabctlError } from '../core/errors.js';
import { AbortedError, ExternalCommandError, NotFoundError } from '../core/errors.js';
import { interruptSignal } from '../core/interrupt.js';
import { labCallLog, type LogLine } from '../core/lab-log.js';
import { assertInsideHome, type LabPaths } from '../core/paths.js';
import { ANY_EXIT_CODE, hasProgram, run, type RunResult } from './run.js';
import { parseProxyCommand, type SshTarget } from '../core/ssh-target.js';
import { closeSshMaster } from './ssh-mux.js';

// Thin adapter over the vagrant CLI: argv arrays, cwd = the lab's directory, no decisions. Every
// vagrant call labctl makes comes from here (box store and plugin probes included), so all of them
// run with VAGRANT_ENV, and every call in a lab's directory leaves its line in the lab's labctl.log.

/** Vagrant's machine states, as `vagrant status --machine-readable` prints them. */
export type VmState =
  | 'not_created'
  | 'running'
  | 'poweroff'
  | 'shutoff'
  | 'shutting_down'
  | 'crashed'
  | 'pmsuspended'
  | 'saved'
  | 'aborted'
  | 'paused'
  | 'preparing'
  | 'unknown';

export type { SshTarget } from '../core/ssh-target.js';

const VAGRANT_HINT = 'run `labctl doctor` to check Vagrant and the provider; vagrant\'s output is in the lab log';

// labctl pins its box and works offline: Vagrant's version and box-update checks would only
// stall on a machine without internet.
export const VAGRANT_ENV = { VAGRANT_CHECKPOINT_DISABLE: '1', VAGRANT_BOX_UPDATE_CHECK_DISABLE: '1' } as const;

function vagrant(paths: LabPaths, args: string[], opts: { stream?: boolean; abortHint?: string; logOutput?: boolean } = {}) {
  // Vagrant only ever runs in a lab directory, and that directory must lie inside LABCTL_HOME.
  assertInsideHome(paths.dir);
  return run('vagrant', args, {
    cwd: paths.dir,
    stream: opts.stream ?? false,
    env: VAGRANT_ENV,
    hint: `${VAGRANT_HINT} (${paths.log})`,
    log: labCallLog(paths),
    // The lifecycle commands' progress is what the log is read for when they fail or hang.
    logOutput: opts.logOutput ?? true,
    processGroup: true,
    signal: interruptSignal(),
    ...(opts.abortHint === undefined ? {} : { abortHint: opts.abortHint }),
  });
}

// Each lifecycle command first ends the lab's shared SSH connection, which would outlive the VM it
// leads to (core/ssh-control.ts).

export async function up(paths: LabPaths, provider: Provider, stream: boolean, abortHint?: string): Promise<void> {
  await closeSshMaster(paths);
  await vagrant(paths, ['up', '--provider', provider, '--no-provision'], { stream, ...(abortHint === undefined ? {} : { abortHint }) });
}

export async function halt(paths: LabPaths, stream: boolean): Promise<void> {
  await closeSshMaster(paths);
  await vagrant(paths, ['halt'], { stream });
}

export async function reload(paths: LabPaths, stream: boolean): Promise<void> {
  await closeSshMaster(paths);
  await vagrant(paths, ['reload', '--no-provision'], { stream });
}

export async function destroy(paths: LabPaths, stream: boolean): Promise<void> {
  await closeSshMaster(paths);
  await vagrant(paths, ['destroy', '--force'], { stream });
}

export async function status(paths: LabPaths): Promise<VmState> {
  assertInsideHome(paths.dir);
  const r = await run('vagrant', ['status', '--machine-readable'], { cwd: paths.dir, env: VAGRANT_ENV, log: labCallLog(paths), okCodes: ANY_EXIT_CODE });
  if (r.code !== 0) return 'unknown';
  return parseMachineState(r.stdout);
}

/** The states in which the VM answers SSH. */
export const RUNNING_STATES: readonly VmState[] = ['running'];

/** `1700000000,default,state,running` → running. */
export function parseMachineState(output: string): VmState {
  for (const line of output.split('\n')) {
    const fields = line.split(',');
    if (fields[2] === 'state' && fields[3]) return fields[3] as VmState;
  }
  return 'unknown';
}

/**
 * Runs `vagrant ssh-config`, caches it for `labctl ssh`, and returns where to connect. When the VM
 * is not running, vagrant's own message is about its internals; the user gets the lab's state and
 * the command that fixes it instead.
 */
export async function refreshSshConfig(paths: LabPaths): Promise<SshTarget> {
  let r;
  try {
    r = await vagrant(paths, ['ssh-config'], { logOutput: false });
  } catch (error) {
    if (error instanceof AbortedError || !(error instanceof ExternalCommandError)) throw error;
    throw await notRunningError(paths, error);
  }
  await writeFile(paths.sshConfig, `${r.stdout}\n`, { mode: 0o600 });
  return parseSshConfig(r.stdout);
}

/**
 * The SSH target from the lab's cached ssh-config, asking vagrant (seconds) only when there is none.
 * For loops that must stay fast (deploy); a stale one shows as an SSH failure, and `up` refreshes it.
 */
export async function cachedSshTarget(paths: LabPaths): Promise<SshTarget> {
  const text = await readFile(paths.sshConfig, 'utf8').catch(() => '');
  return text.trim() === '' ? refreshSshConfig(paths) : parseSshConfig(text);
}

/** The error for "the VM cannot be reached": which state it is in, and what to run. */
export async function notRunningError(paths: LabPaths, cause?: unknown): Promise<LabctlError> {
  const labName = paths.name;
  const state = await status(paths).catch(() => 'unknown' as const);
  if (state === 'not_created') {
    return new NotFoundError(`lab "${labName}" has no VM (never created, or removed outside labctl)`, {
      hint: `run \`labctl create ${labName} --login …\` again to make it, or \`labctl destroy ${labName} --force\` to remove the lab`,
      cause,
    });
  }
  if (state === 'running') {
    return new ExternalCommandError(['vagrant', 'ssh-config'], undefined, String((cause as Error | undefined)?.message ?? ''), {
      hint: `the VM runs but vagrant cannot describe it; see ${paths.log}, or \`labctl reboot ${labName}\``,
      cause,
    });
  }
  return new NotFoundError(`lab "${labName}" is not running (VM state: ${state})`, { hint: `start it with \`labctl up ${labName}\``, cause });
}

export function parseSshConfig(text: string): SshTarget {
  const get = (key: string): string | undefined => {
    const m = new RegExp(`^\\s*${key}\\s+(.+)$`, 'mi').exec(text);
    return m?.[1]?.trim().replace(/^"(.*)"$/, '$1');
  };
  const host = get('HostName');
  const port = Number(get('Port') ?? '22');
  const username = get('User');
  const privateKeyPath = get('IdentityFile');
  if (!host || !username || !privateKeyPath || !Number.isInteger(port)) {
    throw new ExternalCommandError(['vagrant', 'ssh-config'], 0, text, {
      hint: 'its output lacks HostName, User or IdentityFile: check that the VM is running with `labctl status`, then `labctl up`',
    });
  }
  const proxyLine = get('ProxyCommand');
  if (proxyLine === undefined) return { host, port, username, privateKeyPath };
  const proxyCommand = parseProxyCommand(proxyLine);
  if (typeof proxyCommand === 'string') {
    throw new ExternalCommandError(['vagrant', 'ssh-config'], 0, text, { hint: `${proxyCommand}; set the libvirt host in the lab's libvirt_uri instead of a custom proxy_command` });
  }
  return { host, port, username, privateKeyPath, proxyCommand };
}

export { sshConfigHostAlias } from '../core/ssh-control.js';

export async function validate(dir: string, provider: Provider, ignoreProvider: boolean): Promise<void> {
  await run('vagrant', ['validate', ...(ignoreProvider ? ['--ignore-provider'] : [])], {
    cwd: dir,
    env: { ...VAGRANT_ENV, VAGRANT_DEFAULT_PROVIDER: provider },
    hint: 'the rendered Vagrantfile is invalid; please report this as a labctl bug',
  });
}

/** `vagrant --version` outside any lab; undefined when vagrant is not installed. */
export function vagrantVersion(): Promise<RunResult | undefined> {
  return hasProgram('vagrant', ['--version'], { env: VAGRANT_ENV });
}

/** `vagrant plugin list`; undefined when vagrant is not installed. */
export function pluginList(): Promise<RunResult | undefined> {
  return hasProgram('vagrant', ['plugin', 'list'], { env: VAGRANT_ENV });
}

// `vagrant box add|list|remove` for the boxes labctl builds. VAGRANT_HOME decides which store they
// go to: it must be the one `vagrant up` will use.

export const VAGRANT_BOX_ADD_TIMEOUT_MS = 10 * 60_000;
export const VAGRANT_BOX_LIST_TIMEOUT_MS = 60_000;
const VAGRANT_INSTALL_HINT = 'install it (Debian: apt-get install vagrant vagrant-libvirt)';

export interface BoxEntry {
  name: string;
  provider: string;
  version: string;
}

export interface VagrantStoreOptions {
  /** Defaults to the caller's environment (VAGRANT_HOME or ~/.vagrant.d). */
  vagrantHome?: string | undefined;
  /** Receives each line vagrant prints (a box add reports its progress). */
  log?: LogLine;
}

function storeEnv(opts: VagrantStoreOptions): Record<string, string> {
  return opts.vagrantHome === undefined ? { ...VAGRANT_ENV } : { ...VAGRANT_ENV, VAGRANT_HOME: opts.vagrantHome };
}

/** Parses `vagrant box list --machine-readable` (timestamp,target,type,data…). Pure. */
export function parseBoxList(output: string): BoxEntry[] {
  const boxes: BoxEntry[] = [];
  let current: Partial<BoxEntry> = {};
  for (const line of output.split('\n')) {
    const [, , type, ...data] = line.split(',');
    const value = data.join(',').trim();
    if (type === 'box-name') current = { name: value };
    else if (type === 'box-provider') current.provider = value;
    else if (type === 'box-version') {
      current.version = value;
      if (current.name !== undefined && current.provider !== undefined) boxes.push(current as BoxEntry);
      current = {};
    }
  }
  return boxes;
}

export async function listBoxes(opts: VagrantStoreOptions = {}): Promise<BoxEntry[]> {
  const r = await run('vagrant', ['box', 'list', '--machine-readable'], {
    onOutput: opts.log,
    timeoutMs: VAGRANT_BOX_LIST_TIMEOUT_MS,
    env: storeEnv(opts),
    missingHint: VAGRANT_INSTALL_HINT,
  });
  return parseBoxList(r.stdout);
}

export async function removeBox(name: string, opts: VagrantStoreOptions & { provider?: string } = {}): Promise<void> {
  await run('vagrant', ['box', 'remove', '--force', '--all', '--provider', opts.provider ?? 'libvirt', name], {
    onOutput: opts.log,
    timeoutMs: VAGRANT_BOX_LIST_TIMEOUT_MS,
    env: storeEnv(opts),
    missingHint: VAGRANT_INSTALL_HINT,
    hint: 'see `vagrant box list`; a box still used by a running VM can only be removed after `labctl destroy`',
  });
}

export async function addBox(name: string, boxFile: string, opts: VagrantStoreOptions & { log: LogLine; signal?: AbortSignal | undefined }): Promise<void> {
  await run('vagrant', ['box', 'add', '--force', '--name', name, boxFile], {
    onOutput: opts.log,
    timeoutMs: VAGRANT_BOX_ADD_TIMEOUT_MS,
    env: storeEnv(opts),
    signal: opts.signal,
    missingHint: VAGRANT_INSTALL_HINT,
    hint: `check free space under ${opts.vagrantHome ?? 'VAGRANT_HOME'}`,
  });
}

/**
 * The `labctl_build` id recorded in an added box's metadata.json, or undefined. Lets a rebuilt box
 * replace an older add while an unchanged one is not extracted again.
 */
export async function addedBuildId(name: string, vagrantHome: string, provider = 'libvirt'): Promise<string | undefined> {
  // Vagrant stores "labctl/trixie" as boxes/labctl-VAGRANTSLASH-trixie/<version>/<provider>/.
  const file = join(vagrantHome, 'boxes', name.replaceAll('/', '-VAGRANTSLASH-'), '0', provider, 'metadata.json');
  try {
    const meta = JSON.parse(await readFile(file, 'utf8')) as { labctl_build?: unknown };
    return typeof meta.labctl_build === 'string' ? meta.labctl_build : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
