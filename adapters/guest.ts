import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { ExitCode, LabctlError, NotFoundError, RemoteCommandError, TimeoutError, tail } from '../core/errors.js';
import { abortedError, pollUntil, throwIfAborted } from '../core/poll.js';
import { commandLine, displayCommand, wrapArgv, type PrivilegeOptions } from '../core/quote.js';
import { expandProxyCommand, type SshTarget } from '../core/ssh-target.js';
import { labCallLog, type LogLine } from '../core/lab-log.js';
import type { LabPaths } from '../core/paths.js';
import { ANY_EXIT_CODE, callLine, loggedStderr, startPipe, type PipeProcess } from './run.js';
import { refreshSshConfig } from './vagrant.js';

// The SSH adapter: connecting, running argv arrays, writing files. It takes no decisions about
// provisioning; steps call it. Everything here is reused by `labctl status` and `labctl logs`.

export type { SshTarget } from '../core/ssh-target.js';

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

export const CONNECTION_LOST_HINT = 'the VM rebooted or stopped, or sshd went away — run `labctl status`, then try again';

/**
 * The SSH connection went away under labctl (a reboot resets it, a halt or a killed sshd closes
 * it). A command that was running gets this, and so does every later call on that connection.
 */
export class ConnectionLostError extends LabctlError {
  override readonly exitCode = ExitCode.remote;
}

/**
 * A NodeSSH that knows when its ssh2 client died. ssh2 emits 'error' on a reset (ECONNRESET,
 * keepalive timeout) and a client with no 'error' listener crashes the process (defect 16).
 */
class TrackedConnection extends NodeSSH {
  /** Set once, by the first of error/end/close/dispose; never cleared (a new connect is a new object). */
  lost: ConnectionLostError | undefined;
  private readonly waiters = new Set<(error: ConnectionLostError) => void>();

  constructor(readonly label: string) {
    super();
  }

  watch(client: Client): void {
    // Errors while connecting also reach node-ssh's own listener, which rejects connect().
    client.on('error', (error: Error) => this.markLost(`was lost: ${errorText(error)}`, error));
    client.on('end', () => this.markLost('was closed by the guest'));
    client.on('close', () => this.markLost('was closed'));
  }

  markLost(how: string, cause?: unknown): void {
    if (this.lost) return;
    this.lost = new ConnectionLostError(`SSH connection to ${this.label} ${how}`, { hint: CONNECTION_LOST_HINT, cause });
    for (const wake of this.waiters) wake(this.lost);
    this.waiters.clear();
  }

  /** Resolves (never rejects) when the connection is lost; `cancel` stops waiting. */
  whenLost(): { lost: Promise<ConnectionLostError>; cancel: () => void } {
    if (this.lost) return { lost: Promise.resolve(this.lost), cancel: () => {} };
    let wake: (error: ConnectionLostError) => void = () => {};
    const lost = new Promise<ConnectionLostError>((resolve) => (wake = resolve));
    this.waiters.add(wake);
    return { lost, cancel: () => this.waiters.delete(wake) };
  }

  override dispose(): void {
    this.markLost('was closed by labctl');
    super.dispose();
  }
}

/** The error a call on a lost connection gets: what it was doing, and why the link is gone. */
function lostError(conn: TrackedConnection, doing: string): ConnectionLostError {
  const lost = conn.lost as ConnectionLostError;
  return new ConnectionLostError(`${lost.message} (${doing})`, { hint: CONNECTION_LOST_HINT, cause: lost.cause ?? lost });
}

/** Whether `conn` is known to be dead: every later call on it fails at once with ConnectionLostError. */
export function connectionLost(conn: Connection): ConnectionLostError | undefined {
  return conn instanceof TrackedConnection ? conn.lost : undefined;
}

/** One connection attempt. Host keys are not verified, as with `vagrant ssh-config`'s StrictHostKeyChecking no: the guest is a fresh VM on a host-only network. */
export async function connect(target: SshTarget, readyTimeoutMs = SSH_ATTEMPT_TIMEOUT_MS): Promise<Connection> {
  let privateKey: string;
  try {
    privateKey = await readFile(target.privateKeyPath, 'utf8');
  } catch (error) {
    throw Object.assign(missingKeyError(target.privateKeyPath), { cause: error });
  }
  const ssh = new TrackedConnection(`${target.username}@${target.host}:${target.port}`);
  // A guest on another machine's libvirt is reached through that machine: its ProxyCommand (ssh -W)
  // carries the connection, as it does for `vagrant ssh`; it ends with the connection.
  const proxy = target.proxyCommand === undefined ? undefined : startProxy(target);
  // With the key given inline, node-ssh creates its ssh2 client before its first await, so the
  // listeners are on before any socket event can fire, connecting included.
  const connecting = ssh.connect({
    host: target.host,
    port: target.port,
    username: target.username,
    privateKey,
    readyTimeout: readyTimeoutMs,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 4,
    ...(proxy === undefined ? {} : { sock: proxy.stream }),
  });
  if (proxy !== undefined) {
    ssh.connection?.once('close', () => proxy.stop());
  }
  const client = ssh.connection;
  if (client) ssh.watch(client);
  try {
    await connecting;
  } catch (error) {
    ssh.dispose();
    proxy?.stop();
    const why = proxy?.stderrTail();
    if (why !== undefined && why !== '' && error instanceof Error) error.message += ` (through ${displayCommand(target.proxyCommand ?? [])}: ${why})`;
    throw error;
  }
  if (!client && ssh.connection) ssh.watch(ssh.connection);
  return ssh;
}

function startProxy(target: SshTarget): PipeProcess {
  const [file, ...args] = expandProxyCommand(target.proxyCommand ?? [], target);
  if (file === undefined) throw new TypeError('empty ProxyCommand');
  return startPipe(file, args);
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
  return pollUntil(
    async (attempt, remainingMs) => {
      try {
        return await connect(target, Math.min(SSH_ATTEMPT_TIMEOUT_MS, Math.max(remainingMs, 1_000)));
      } catch (error) {
        if (error instanceof NotFoundError) throw error;
        if (isPermanentConnectError(error)) {
          throw new LabctlError(`SSH to ${target.username}@${target.host}:${target.port} was refused: ${errorText(error)}`, {
            hint: `the key ${target.privateKeyPath} was not accepted — run \`labctl up\` to refresh the cached \`vagrant ssh-config\``,
            cause: error,
          });
        }
        opts.onAttempt?.(attempt, error);
        throw error;
      }
    },
    {
      timeoutMs,
      intervalMs: SSH_RETRY_INTERVAL_MS,
      signal: opts.signal,
      // The only LabctlErrors here are a missing key (from connect) and the refusal made above:
      // neither gets better by retrying, while ssh2's own errors (sshd not up yet) may.
      stopOn: (error) => error instanceof LabctlError,
      onTimeout: ({ error }) => {
        throw new TimeoutError(`SSH on ${target.host}:${target.port} did not answer within ${Math.round(timeoutMs / 1000)} s (last error: ${errorText(error)})`, {
          hint: SSH_UNREACHABLE_HINT,
          cause: error,
        });
      },
    },
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
  /**
   * The call log (the lab's labctl.log): one line per command in adapters/run.ts callLine's shape,
   * `ssh <argv> → outcome`, plus the last lines of stderr when it failed; never stdin or a
   * successful command's output.
   */
  log?: LogLine | undefined;
}

/** The same shape as a host program's result (adapters/run.ts RunResult). */
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
  const tracked = conn instanceof TrackedConnection ? conn : undefined;
  const logCall = (outcome: string) => opts.log?.(callLine(`ssh ${shown}`, outcome));
  if (tracked?.lost) {
    logCall('not run: connection lost');
    throw lostError(tracked, `not run: ${shown}`);
  }
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
  // ssh2 settles a dropped connection's channels as exits without a code: the loss is told apart
  // here, so that a reset reads as a lost connection and not as a command killed by a signal.
  const watch = tracked?.whenLost();
  let response;
  try {
    response = await Promise.race([running, stopped, ...(watch ? [watch.lost] : [])]);
  } catch (error) {
    if (tracked?.lost) {
      logCall(`connection lost after ${Date.now() - started} ms`);
      throw lostError(tracked, `while running: ${shown}`);
    }
    throw new RemoteCommandError(shown, null, errorText(error), { hint: 'the SSH connection dropped — run `labctl status`, then `labctl provision` again', cause: error });
  } finally {
    clearTimeout(timer);
    watch?.cancel();
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const ms = Date.now() - started;
  if (tracked?.lost && (response instanceof ConnectionLostError || (response !== undefined && response.code === null))) {
    logCall(`connection lost after ${ms} ms`);
    throw lostError(tracked, `while running: ${shown}`);
  }
  if (stopReason === 'abort') {
    logCall(`aborted after ${ms} ms`);
    throw abortedError();
  }
  if (stopReason === 'timeout' || response === undefined || response instanceof ConnectionLostError) {
    logCall(`timed out after ${ms} ms`);
    throw new TimeoutError(`remote command did not finish within ${Math.round(timeoutMs / 1000)} s: ${shown}`, {
      hint: 'the guest may be slow or stuck — run `labctl ssh` to look, then `labctl provision` again',
    });
  }
  const code = response.code;
  logCall(`exit ${code ?? `signal ${response.signal ?? '?'}`} in ${ms} ms`);
  if (code === null || !(opts.okCodes ?? [0]).includes(code)) {
    for (const line of loggedStderr(response.stderr)) opts.log?.(line);
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
  try {
    channel.close();
  } catch {
    // The connection is already gone, and the channel with it.
  }
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
    // make's own "*** Error 1" says nothing; the line before it (compose's, a build step's) does.
    const said = output.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^make(\[\d+\])?: /.test(l)).at(-1);
    return `building or starting the stack failed${said ? ` (last output: ${said.length > 200 ? `${said.slice(0, 200)}…` : said})` : ''} — rerun with --verbose for the full output, see \`labctl logs\`, fix, then \`labctl deploy\` or \`labctl provision\``;
  }
  return undefined;
}

/** Opens SFTP, runs `fn`, always closes it. */
export async function withSftp<T>(conn: Connection, fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
  const tracked = conn instanceof TrackedConnection ? conn : undefined;
  if (tracked?.lost) throw lostError(tracked, 'SFTP not opened');
  let sftp: SFTPWrapper | undefined;
  try {
    sftp = await conn.requestSFTP();
    return await fn(sftp);
  } catch (error) {
    if (tracked?.lost) throw lostError(tracked, 'during SFTP');
    throw error;
  } finally {
    try {
      sftp?.end();
    } catch {
      // The connection is already gone, and the SFTP channel with it.
    }
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

// They moved down to core/ with pollUntil; provision/ still imports them from here.

export function errorText(error: unknown): string {
  if (error === undefined) return 'none';
  const e = error as NodeJS.ErrnoException;
  return e instanceof Error ? `${e.code ? `${e.code} ` : ''}${e.message}` : String(error);
}

export function missingKeyError(path: string): NotFoundError {
  return new NotFoundError(`SSH key ${path} does not exist`, { hint: 'run `labctl up` so that labctl caches `vagrant ssh-config` again' });
}

export { ANY_EXIT_CODE } from './run.js';

/** The last non-empty line of a chunk of command output, for a one-line progress display. */
export function lastOutputLine(chunk: string): string {
  const lines = chunk.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines[lines.length - 1] ?? '';
}

/**
 * A connection to a lab's VM whose every command leaves its line in the lab's labctl.log, and
 * stops when the given signal aborts.
 */
export interface Guest {
  conn: Connection;
  /** For adapters that take a connection (compose.ts): pass these so that their commands log too. */
  callOptions: Pick<RemoteExecOptions, 'log' | 'signal'>;
  exec(argv: readonly string[], opts?: RemoteExecOptions): Promise<RemoteResult>;
  test(argv: readonly string[], opts?: RemoteExecOptions): Promise<boolean>;
  writeFile(path: string, content: string | Buffer, opts: { mode: string; owner: string }): Promise<void>;
}

export interface WithGuestOptions {
  /** Where to connect; `vagrant ssh-config` is asked when not given. */
  target?: SshTarget;
  signal?: AbortSignal | undefined;
}

/** `conn` with its calls logged to the lab's labctl.log (a connection made by waitForSsh, say). */
export function guestOf(conn: Connection, lab: { paths: LabPaths }, signal?: AbortSignal): Guest {
  const callOptions = { log: labCallLog(lab.paths), signal };
  return {
    conn,
    callOptions,
    exec: (argv, opts = {}) => remoteExec(conn, argv, { ...callOptions, ...opts }),
    test: (argv, opts = {}) => remoteSucceeds(conn, argv, { ...callOptions, ...opts }),
    writeFile: (path, content, opts) => writeRemoteFile(conn, path, content, { ...opts, ...callOptions }),
  };
}

/** Connects to the lab's VM, hands `fn` the Guest, and closes the connection however fn ends. */
export async function withGuest<T>(lab: { paths: LabPaths }, fn: (guest: Guest) => Promise<T>, opts: WithGuestOptions = {}): Promise<T> {
  const target = opts.target ?? (await refreshSshConfig(lab.paths));
  const conn = await connect(target);
  try {
    return await fn(guestOf(conn, lab, opts.signal));
  } finally {
    conn.dispose();
  }
}
