import { readFile } from 'node:fs/promises';
import { ChildExitError, ExternalCommandError, NotFoundError } from '../core/errors.js';
import { commandLine } from '../core/quote.js';
import { loadLab, resolveLabName } from '../core/state.js';
import { ANY_EXIT_CODE, run } from '../adapters/run.js';
import * as vagrant from '../adapters/vagrant.js';
import { readLabState } from './guards.js';

/**
 * What ssh sends as the remote command. sshd hands one string to the login shell, so several
 * words are quoted one by one and arrive as the same argv (`-- docker ps --format '{{.Names}} x'`);
 * a single word is left as written, which is how a pipeline travels (`-- 'docker ps | grep x'`).
 */
export function remoteCommand(command: readonly string[]): string[] {
  if (command.length <= 1) return [...command];
  return [commandLine(command)];
}

/** argv for the system ssh using the cached ssh-config (much faster than `vagrant ssh`). */
export async function sshArgv(name: string, command: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const lab = await loadLab(name, env);
  const text = await readFile(lab.paths.sshConfig, 'utf8').catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    await vagrant.refreshSshConfig(lab.paths);
    return readFile(lab.paths.sshConfig, 'utf8');
  });
  if (!text.trim()) throw new NotFoundError(`no SSH settings for lab "${name}"`, { hint: `run \`labctl up ${name}\`` });
  // -t only for an interactive shell: a command's output must stay byte-exact for pipes.
  return ['-F', lab.paths.sshConfig, ...(command.length > 0 ? [] : ['-t']), vagrant.sshConfigHostAlias(text), ...remoteCommand(command)];
}

/**
 * Why `labctl ssh` could not reach the VM (ssh exited 255): the lab's state and the fix. Asked only
 * after a failure, so that a working `labctl ssh` never pays for `vagrant status`.
 */
export async function sshUnreachable(name: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Error> {
  const lab = await loadLab(name, env);
  const { state } = await readLabState(lab);
  if (state !== 'running' && state !== 'creating') return vagrant.notRunningError(lab.paths);
  return new ExternalCommandError(['ssh', ...argv], 255, '', { hint: `the VM runs but SSH failed; \`labctl up ${name}\` refreshes the SSH settings, \`labctl reboot ${name}\` restarts it` });
}

/** `labctl ssh [name] [-- command…]`: the terminal is ssh's; the remote exit status is ours. */
export async function sshIntoLab(name: string | undefined, command: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const resolved = await resolveLabName(name, env);
  const argv = await sshArgv(resolved, command, env);
  const r = await run('ssh', argv, { interactive: true, okCodes: ANY_EXIT_CODE });
  // ssh uses 255 for its own failures; anything else is the remote command's answer.
  if (r.code === 255) throw await sshUnreachable(resolved, argv, env);
  if (r.code !== 0) throw new ChildExitError(r.code);
}
