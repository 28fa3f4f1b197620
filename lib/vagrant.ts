import { writeFile } from 'node:fs/promises';
import type { Provider } from './config.js';
import { LabctlError } from './errors.js';
import type { LabPaths } from './paths.js';
import { run, runUnchecked } from './run.js';

// Thin adapter over the vagrant CLI: argv arrays, cwd = the lab's directory, no decisions.

/** Vagrant's machine states, as `vagrant status --machine-readable` prints them. */
export type VmState = 'not_created' | 'running' | 'poweroff' | 'shutoff' | 'saved' | 'aborted' | 'paused' | 'preparing' | 'unknown';

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKeyPath: string;
}

const VAGRANT_HINT = 'run `labctl doctor` to check Vagrant and the provider; the lab log is in the lab directory';

// labctl pins its box and works offline: Vagrant's version and box-update checks would only
// stall on a machine without internet.
export const VAGRANT_ENV = { VAGRANT_CHECKPOINT_DISABLE: '1', VAGRANT_BOX_UPDATE_CHECK_DISABLE: '1' } as const;

function vagrant(paths: LabPaths, args: string[], opts: { stream?: boolean } = {}) {
  return run('vagrant', args, { cwd: paths.dir, stream: opts.stream ?? false, env: VAGRANT_ENV, hint: VAGRANT_HINT });
}

export async function up(paths: LabPaths, provider: Provider, stream: boolean): Promise<void> {
  await vagrant(paths, ['up', '--provider', provider, '--no-provision'], { stream });
}

export async function halt(paths: LabPaths, stream: boolean): Promise<void> {
  await vagrant(paths, ['halt'], { stream });
}

export async function reload(paths: LabPaths, stream: boolean): Promise<void> {
  await vagrant(paths, ['reload', '--no-provision'], { stream });
}

export async function destroy(paths: LabPaths, stream: boolean): Promise<void> {
  await vagrant(paths, ['destroy', '--force'], { stream });
}

export async function status(paths: LabPaths): Promise<VmState> {
  const r = await runUnchecked('vagrant', ['status', '--machine-readable'], { cwd: paths.dir, env: VAGRANT_ENV });
  if (r.exitCode !== 0) return 'unknown';
  return parseMachineState(r.stdout);
}

/** `1700000000,default,state,running` → running. */
export function parseMachineState(output: string): VmState {
  for (const line of output.split('\n')) {
    const fields = line.split(',');
    if (fields[2] === 'state' && fields[3]) return fields[3] as VmState;
  }
  return 'unknown';
}

/** Runs `vagrant ssh-config`, caches it for `labctl ssh`, and returns where to connect. */
export async function refreshSshConfig(paths: LabPaths): Promise<SshTarget> {
  const r = await vagrant(paths, ['ssh-config']);
  await writeFile(paths.sshConfig, `${r.stdout}\n`, { mode: 0o600 });
  return parseSshConfig(r.stdout);
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
    throw new LabctlError('could not read the VM\'s SSH settings from `vagrant ssh-config`', {
      hint: 'check that the VM is running with `labctl status`, then `labctl up`',
      details: text,
    });
  }
  return { host, port, username, privateKeyPath };
}

/** The alias under which `vagrant ssh-config` lists the machine (first `Host` line). */
export function sshConfigHostAlias(text: string): string {
  return /^Host\s+(\S+)/m.exec(text)?.[1] ?? 'default';
}

export async function validate(dir: string, provider: Provider, ignoreProvider: boolean): Promise<void> {
  await run('vagrant', ['validate', ...(ignoreProvider ? ['--ignore-provider'] : [])], {
    cwd: dir,
    env: { ...VAGRANT_ENV, VAGRANT_DEFAULT_PROVIDER: provider },
    hint: 'the rendered Vagrantfile is invalid; please report this as a labctl bug',
  });
}
