import { lstat, readFile, rm, stat } from 'node:fs/promises';
import { NotFoundError, RemoteCommandError } from '../core/errors.js';
import { labCallLog } from '../core/lab-log.js';
import type { LabPaths } from '../core/paths.js';
import { commandLine, displayCommand, wrapArgv, type PrivilegeOptions } from '../core/quote.js';
import { sshConfigHostAlias, sshControlOptions } from '../core/ssh-control.js';
import { ANY_EXIT_CODE, run, type RunResult } from './run.js';

// Guest commands through the system ssh and the lab's shared connection (core/ssh-control.ts), for
// the quick readers (`labctl status`, `labctl logs`): once the master is up, a command costs one
// channel, not a TCP connection and key exchange as ssh2 would. Provisioning keeps adapters/guest.ts.

/** `ssh -O exit` talks to a local socket: a master that does not answer within this is hung. */
export const SSH_MASTER_EXIT_TIMEOUT_MS = 5_000;
/** One TCP connect to the guest when there is no master yet (as SSH_ATTEMPT_TIMEOUT_MS in guest.ts). */
export const SSH_CONNECT_TIMEOUT_S = 10;
/** Default bound for one quick guest command (status's `docker compose ps`). */
export const GUEST_QUERY_TIMEOUT_MS = 60_000;

export const NO_SSH_CONFIG_HINT = 'run `labctl up` so that labctl caches `vagrant ssh-config` again';

/**
 * Ends the lab's master connection, if one runs: before the VM halts, reboots, is recreated or goes,
 * so that no later ssh rides a connection to a dead VM. Bounded, and never an error: a master that
 * is gone already is what we want, and one that hangs dies with ControlPersist.
 */
export async function closeSshMaster(paths: LabPaths): Promise<void> {
  const socket = paths.sshControl;
  // A lab directory that is a link leads elsewhere: nothing of ours to close there.
  if (!(await lstat(paths.dir).then((d) => d.isDirectory(), () => false))) return;
  if (socket === undefined || !(await stat(socket).then((s) => s.isSocket(), () => false))) return;
  try {
    // -F /dev/null: only the socket matters to -O, and the host name is not checked by the master.
    await run('ssh', ['-F', '/dev/null', ...sshControlOptions(paths), '-O', 'exit', 'labctl-lab'], { timeoutMs: SSH_MASTER_EXIT_TIMEOUT_MS, okCodes: ANY_EXIT_CODE, log: labCallLog(paths) });
    // A master killed without cleaning up leaves its socket: ssh refused to connect and we remove it.
    await rm(socket, { force: true });
  } catch {
    // Timed out or ssh missing: the master ends by itself after ControlPersist.
  }
}

/** Whether a master answers on the lab's control socket (`ssh -O check`). */
export async function sshMasterRuns(paths: LabPaths): Promise<boolean> {
  if (paths.sshControl === undefined) return false;
  const r = await run('ssh', ['-F', '/dev/null', ...sshControlOptions(paths), '-O', 'check', 'labctl-lab'], { timeoutMs: SSH_MASTER_EXIT_TIMEOUT_MS, okCodes: ANY_EXIT_CODE }).catch(() => undefined);
  return r?.code === 0;
}

/** ssh's argv for one non-interactive guest command over the lab's shared connection. */
export async function guestSshArgv(paths: LabPaths, remote: readonly string[], opts: { stdin: boolean }): Promise<string[]> {
  const text = await readFile(paths.sshConfig, 'utf8').catch(() => '');
  if (text.trim() === '') throw new NotFoundError(`lab "${paths.name}" has no cached SSH settings (${paths.sshConfig})`, { hint: NO_SSH_CONFIG_HINT });
  return [
    '-F', paths.sshConfig,
    ...sshControlOptions(paths),
    // Never a password prompt, never a wait longer than one connect.
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${SSH_CONNECT_TIMEOUT_S}`,
    '-T',
    ...(opts.stdin ? [] : ['-n']),
    sshConfigHostAlias(text),
    commandLine(remote),
  ];
}

export interface GuestSshOptions extends PrivilegeOptions {
  timeoutMs?: number;
  okCodes?: readonly number[];
  /** Hand stdout and stderr to labctl's own (`labctl logs`) instead of capturing them. */
  toTerminal?: boolean;
  /** Written to the remote command's stdin (a script for `sh -s`): never on the command line, never logged. */
  input?: string;
}

/**
 * Runs argv on the guest, each argument quoted for the remote shell (as remoteExec does). ssh's
 * own failure (255) and a remote exit outside okCodes are RemoteCommandErrors, logged to labctl.log.
 */
export async function guestSsh(paths: LabPaths, argv: readonly string[], opts: GuestSshOptions = {}): Promise<RunResult> {
  const remote = wrapArgv(argv, opts);
  const sshArgs = await guestSshArgv(paths, remote, { stdin: opts.input !== undefined });
  const r = await run('ssh', sshArgs, {
    okCodes: ANY_EXIT_CODE,
    timeoutMs: opts.timeoutMs ?? GUEST_QUERY_TIMEOUT_MS,
    log: labCallLog(paths),
    ...(opts.toTerminal ? { interactive: true } : {}),
    ...(opts.input === undefined ? {} : { input: opts.input }),
  });
  if (r.code === 255) {
    throw new RemoteCommandError(displayCommand(remote), null, r.stderr.trim(), { hint: 'the VM cannot be reached over SSH — run `labctl status`, then `labctl up`' });
  }
  if (!(opts.okCodes ?? [0]).includes(r.code)) throw new RemoteCommandError(displayCommand(remote), r.code, r.stderr.trim());
  return r;
}
