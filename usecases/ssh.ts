import { lstat, readFile } from 'node:fs/promises';
import { ChildExitError, ExternalCommandError, NotFoundError } from '../core/errors.js';
import { resolveLabName } from '../core/lab-names.js';
import { commandLine } from '../core/quote.js';
import { labPaths, type LabPaths } from '../core/paths.js';
import { sshConfigHostAlias, sshControlOptions } from '../core/ssh-control.js';
import { sshOnTerminal } from '../adapters/ssh-client.js';

// `labctl ssh` is the command people type most, so its way to ssh touches nothing but the lab's
// directory and the cached ssh-config: no vagrant, no lab.json schema (zod), no execa. Anything
// unusual (no cached config, a broken or missing lab, ssh failing) takes the slow, exact path, whose
// modules are loaded only then.

/**
 * What ssh sends as the remote command. sshd hands one string to the login shell, so several
 * words are quoted one by one and arrive as the same argv (`-- docker ps --format '{{.Names}} x'`);
 * a single word is left as written, which is how a pipeline travels (`-- 'docker ps | grep x'`).
 */
export function remoteCommand(command: readonly string[]): string[] {
  if (command.length <= 1) return [...command];
  return [commandLine(command)];
}

/** The cached ssh-config, or undefined when the fast path cannot use it. */
async function cachedSshConfig(paths: LabPaths): Promise<string | undefined> {
  // A lab directory that is a link (or not there) is never read through: loadLab says what it is.
  const dir = await lstat(paths.dir).catch(() => undefined);
  if (!dir?.isDirectory()) return undefined;
  const text = await readFile(paths.sshConfig, 'utf8').catch(() => '');
  return text.trim() === '' ? undefined : text;
}

/** The slow path: the lab as loadLab reads it (broken, missing), then `vagrant ssh-config`. */
async function freshSshConfig(paths: LabPaths, env: NodeJS.ProcessEnv): Promise<string> {
  const [{ loadLab }, vagrant] = await Promise.all([import('../core/state.js'), import('../adapters/vagrant.js')]);
  const lab = await loadLab(paths.name, env);
  const text = await readFile(lab.paths.sshConfig, 'utf8').catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT' && error.code !== 'EISDIR') throw error;
    await vagrant.refreshSshConfig(lab.paths);
    return readFile(lab.paths.sshConfig, 'utf8');
  });
  if (!text.trim()) throw new NotFoundError(`no SSH settings for lab "${paths.name}"`, { hint: `run \`labctl up ${paths.name}\`` });
  return text;
}

/** argv for the system ssh: the cached ssh-config, the lab's shared connection. */
export async function sshArgv(name: string, command: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const paths = labPaths(name, env);
  const text = (await cachedSshConfig(paths)) ?? (await freshSshConfig(paths, env));
  // -t only for an interactive shell: a command's output must stay byte-exact for pipes.
  return ['-F', paths.sshConfig, ...sshControlOptions(paths), ...(command.length > 0 ? [] : ['-t']), sshConfigHostAlias(text), ...remoteCommand(command)];
}

/**
 * Why `labctl ssh` could not reach the VM (ssh exited 255): the lab's state and the fix. Asked only
 * after a failure, so that a working `labctl ssh` never pays for the provider's state.
 */
export async function sshUnreachable(name: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Error> {
  const [{ loadLab }, { readLabState }, vagrant] = await Promise.all([import('../core/state.js'), import('./guards.js'), import('../adapters/vagrant.js')]);
  const lab = await loadLab(name, env);
  const { state } = await readLabState(lab);
  if (state !== 'running' && state !== 'creating') return vagrant.notRunningError(lab.paths);
  return new ExternalCommandError(['ssh', ...argv], 255, '', { hint: `the VM runs but SSH failed; \`labctl up ${name}\` refreshes the SSH settings, \`labctl reboot ${name}\` restarts it` });
}

/** `labctl ssh [name] [-- command…]`: the terminal is ssh's; the remote exit status is ours. */
export async function sshIntoLab(name: string | undefined, command: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const resolved = await resolveLabName(name, env);
  const argv = await sshArgv(resolved, command, env);
  const code = await sshOnTerminal(argv);
  // ssh uses 255 for its own failures; anything else is the remote command's answer.
  if (code === 255) throw await sshUnreachable(resolved, argv, env);
  if (code !== 0) throw new ChildExitError(code);
}
