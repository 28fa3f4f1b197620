import { Readable } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import { AbortedError, LabctlError, NotFoundError, RemoteCommandError, TimeoutError, tail } from '../lib/errors.js';
import { commandLine, displayCommand, wrapArgv, type PrivilegeOptions } from './quote.js';

// The SSH adapter: connecting, running argv arrays, writing files. It takes no decisions about
// provisioning; steps call it. Everything here is reused by `labctl status` and `labctl logs`.

/** Where `vagrant ssh-config` says the guest listens. */
export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKeyPath: string;
}

export type Connection = NodeSSH;

/** Total time to wait for the guest's sshd to accept our key (a VM may still be booting). */
export const SSH_READY_TIMEOUT_MS = 180_000;
/** One connection attempt; short so that a dropped SYN is retried soon. */
export const SSH_ATTEMPT_TIMEOUT_MS = 10_000;
export const SSH_RETRY_INTERVAL_MS = 1_000;
/** Default bound for one remote command; long steps (apt, make) pass their own. */
export const REMOTE_COMMAND_TIMEOUT_MS = 120_000;
/** Lines of output kept in a RemoteCommandError. */
export const ERROR_OUTPUT_LINES = 20;

export const SSH_UNREACHABLE_HINT = 'VM not booted / wrong IP / firewall — run `labctl status`, `labctl up`';

/** One connection attempt. Host keys are not verified, as with `vagrant ssh-config`'s StrictHostKeyChecking no: the guest is a fresh VM on a host-only network. */
export async function connect(target: SshTarget, readyTimeoutMs = SSH_ATTEMPT_TIMEOUT_MS): Promise<Connection> {
  const ssh = new NodeSSH();
  await ssh.connect({
    host: target.host,
    port: target.port,
    username: target.username,
    privateKeyPath: target.privateKeyPath,
    readyTimeout: readyTimeoutMs,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 4,
  });
  return ssh;
}

/** True for failures that retrying cannot fix (wrong key, missing key file). */
export function isPermanentConnectError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (
    /All configured authentication methods failed/i.test(message) ||
    /Cannot parse privateKey|Unsupported key format|Encrypted private OpenSSH key/i.test(message) ||
    (code === 'ENOENT' && /privateKey|\.key|id_|private/i.test(message))
  );
}

export interface WaitForSshOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called after each failed attempt, e.g. to update a progress line. */
  onAttempt?: (attempt: number, error: unknown) => void;
}

/** Retries `connect` until sshd accepts the key or `timeoutMs` runs out. */
export async function waitForSsh(target: SshTarget, opts: WaitForSshOptions = {}): Promise<Connection> {
  const timeoutMs = opts.timeoutMs ?? SSH_READY_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(opts.signal);
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    try {
      return await connect(target, Math.min(SSH_ATTEMPT_TIMEOUT_MS, Math.max(remaining, 1_000)));
    } catch (error) {
      lastError = error;
      if (isPermanentConnectError(error)) {
        throw new LabctlError(`SSH to ${target.username}@${target.host}:${target.port} was refused: ${errorText(error)}`, {
          hint: `the key ${target.privateKeyPath} was not accepted — run \`labctl up\` to refresh the cached \`vagrant ssh-config\``,
          cause: error,
        });
      }
      opts.onAttempt?.(attempt, error);
    }
    await sleep(Math.min(SSH_RETRY_INTERVAL_MS, Math.max(0, deadline - Date.now())), opts.signal);
  }
  throw new TimeoutError(
    `SSH on ${target.host}:${target.port} did not answer within ${Math.round(timeoutMs / 1000)} s (last error: ${errorText(lastError)})`,
    { hint: SSH_UNREACHABLE_HINT, cause: lastError },
  );
}

export interface RemoteExecOptions extends PrivilegeOptions {
  /** Bytes for the command's stdin: the only way secrets travel (never argv, never logged). */
  stdin?: string | Buffer;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
  /** Exit codes that count as success (default: only 0). */
  okCodes?: readonly number[];
  /** Live output, e.g. for the verbose renderer. */
  onOutput?: (chunk: string) => void;
  /** Receives one line per command for the lab's log file: argv and exit code, never stdin. */
  log?: ((line: string) => void) | undefined;
}

export interface RemoteResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Runs argv on the guest. Each argument is single-quoted for the remote shell, so spaces,
 * quotes, `$`, `;` and newlines arrive unchanged. A non-zero exit (outside okCodes) becomes a
 * RemoteCommandError with the command, its exit code and the last lines of its output.
 */
export async function remoteExec(conn: Connection, argv: readonly string[], opts: RemoteExecOptions = {}): Promise<RemoteResult> {
  const full = wrapArgv(argv, opts);
  const shown = displayCommand(full);
  const timeoutMs = opts.timeoutMs ?? REMOTE_COMMAND_TIMEOUT_MS;
  throwIfAborted(opts.signal);
  const started = Date.now();
  let channel: ClientChannel | undefined;
  let stopReason: 'timeout' | 'abort' | undefined;
  let wakeUp: () => void = () => {};
  const stopped = new Promise<undefined>((resolve) => (wakeUp = () => resolve(undefined)));
  const stop = (reason: 'timeout' | 'abort') => {
    stopReason = reason;
    if (channel) stopChannel(channel);
    wakeUp();
  };
  const timer = setTimeout(() => stop('timeout'), timeoutMs);
  const onAbort = () => stop('abort');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const running = conn.execCommand(commandLine(full), {
    ...(opts.stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(opts.stdin)]) }),
    noTrim: true,
    onChannel: (c) => {
      channel = c;
      if (stopReason !== undefined) stopChannel(c);
    },
    ...(opts.onOutput ? { onStdout: (b: Buffer) => opts.onOutput?.(b.toString()), onStderr: (b: Buffer) => opts.onOutput?.(b.toString()) } : {}),
  });
  // sshd answers a channel close only once the remote process has exited, so a stopped command
  // is not awaited: the caller gets control back at once, and the late result is dropped here.
  running.catch(() => undefined);
  let response;
  try {
    response = await Promise.race([running, stopped]);
  } catch (error) {
    throw new RemoteCommandError(shown, null, errorText(error), { hint: 'the SSH connection dropped — run `labctl status`, then `labctl provision` again', cause: error });
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const ms = Date.now() - started;
  if (stopReason === 'abort') {
    opts.log?.(`ssh ${shown} → aborted after ${ms} ms`);
    throw abortedError();
  }
  if (stopReason === 'timeout' || response === undefined) {
    opts.log?.(`ssh ${shown} → timed out after ${ms} ms`);
    throw new TimeoutError(`remote command did not finish within ${Math.round(timeoutMs / 1000)} s: ${shown}`, {
      hint: 'the guest may be slow or stuck — run `labctl ssh` to look, then `labctl provision` again',
    });
  }
  const code = response.code;
  opts.log?.(`ssh ${shown} → exit ${code ?? `signal ${response.signal ?? '?'}`} in ${ms} ms`);
  if (code === null || !(opts.okCodes ?? [0]).includes(code)) {
    const output = [response.stdout, response.stderr].filter((s) => s.trim() !== '').join('\n');
    throw new RemoteCommandError(shown, code, tail(output, ERROR_OUTPUT_LINES), { hint: hintForRemoteFailure(full, output) });
  }
  return { stdout: response.stdout, stderr: response.stderr, code };
}

/**
 * Asks sshd to deliver SIGTERM to the command (sudo relays it), then closes the channel. Without
 * a pty nothing else would stop it: a remote process outlives its channel.
 */
function stopChannel(channel: ClientChannel): void {
  try {
    channel.signal('TERM');
  } catch {
    // Older servers reject signal requests; closing the channel below is all that is left.
  }
  channel.close();
}

/** True when the command exits 0; other exit codes are an answer, not an error. */
export async function remoteSucceeds(conn: Connection, argv: readonly string[], opts: RemoteExecOptions = {}): Promise<boolean> {
  const r = await remoteExec(conn, argv, { ...opts, okCodes: ANY_EXIT_CODE });
  return r.code === 0;
}

/** Maps well-known failure texts to the next thing to try. */
export function hintForRemoteFailure(argv: readonly string[], output: string): string | undefined {
  if (argv[0] === 'sudo' && /a password is required|a terminal is required|may not run sudo/i.test(output)) {
    return 'the SSH user needs passwordless sudo in the guest (Vagrant boxes have it) — check the box, or run `labctl destroy` and `labctl create`';
  }
  if (/Could not get lock|Unable to acquire the dpkg frontend lock/i.test(output)) {
    return 'another apt run holds the lock in the guest (unattended upgrades after boot) — wait a minute and run `labctl provision` again';
  }
  if (/Temporary failure resolving|Could not resolve|Failed to fetch/i.test(output)) {
    return 'the guest cannot reach the Debian mirror — set apt_mirror or apt_proxy (`labctl create --apt-mirror URL`) and run `labctl provision`';
  }
  if (/Cannot connect to the Docker daemon|docker\.sock/i.test(output)) {
    return 'the Docker engine in the guest does not answer — run `labctl ssh -- sudo systemctl status docker`';
  }
  if (/No space left on device/i.test(output)) {
    return 'the guest disk is full — run `labctl ssh -- docker system prune`, or recreate the lab with a larger box';
  }
  if (argv.includes('make')) {
    return 'building or starting the stack failed — rerun with --verbose for the full output, see `labctl logs`, then `labctl provision`';
  }
  return undefined;
}

/** Opens SFTP, runs `fn`, always closes it. */
export async function withSftp<T>(conn: Connection, fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
  const sftp = await conn.requestSFTP();
  try {
    return await fn(sftp);
  } finally {
    sftp.end();
  }
}

export function sftpWriteFile(sftp: SFTPWrapper, path: string, data: Buffer, mode: number): Promise<void> {
  return new Promise((resolve, reject) => {
    sftp.writeFile(path, data, { mode }, (error) => (error ? reject(error) : resolve()));
  });
}

// Installs stdin at "$1" with mode "$2" and owner "$3", atomically: written next to the target,
// then renamed, so a crash never leaves a half-written file (secrets, .env).
const INSTALL_FROM_STDIN = 'set -eu; umask 077; tmp="$1.labctl-tmp.$$"; cat > "$tmp"; chown "$3" "$tmp"; chmod "$2" "$tmp"; mv -f -- "$tmp" "$1"';

/** Writes content to a root-owned path via stdin (content never appears in argv or logs). */
export async function writeRemoteFile(
  conn: Connection,
  path: string,
  content: string | Buffer,
  opts: { mode: string; owner: string; signal?: AbortSignal | undefined; log?: (line: string) => void },
): Promise<void> {
  await remoteExec(conn, ['sh', '-c', INSTALL_FROM_STDIN, 'sh', path, opts.mode, opts.owner], { sudo: true, stdin: content, signal: opts.signal, log: opts.log });
}

export function abortedError(): AbortedError {
  return new AbortedError('provisioning was interrupted', {
    hint: 'every step checks before it acts: run `labctl provision` to continue where it stopped',
  });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError();
}

/** Sleeps, waking early (and throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function errorText(error: unknown): string {
  if (error === undefined) return 'none';
  const e = error as NodeJS.ErrnoException;
  return e instanceof Error ? `${e.code ? `${e.code} ` : ''}${e.message}` : String(error);
}

export function missingKeyError(path: string): NotFoundError {
  return new NotFoundError(`SSH key ${path} does not exist`, { hint: 'run `labctl up` so that labctl caches `vagrant ssh-config` again' });
}

/** For `okCodes` when the exit code is the answer (probes such as `docker info`). */
export const ANY_EXIT_CODE: readonly number[] = Array.from({ length: 256 }, (_, i) => i);

/** The last non-empty line of a chunk of command output, for a one-line progress display. */
export function lastOutputLine(chunk: string): string {
  const lines = chunk.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines[lines.length - 1] ?? '';
}
