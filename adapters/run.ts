import { execa, type ResultPromise } from 'execa';
import { Duplex } from 'node:stream';
import { AbortedError, ExternalCommandError, NotFoundError, TimeoutError, tail } from '../core/errors.js';
import { forceSignal, interruptible } from '../core/interrupt.js';
import type { LogLine } from '../core/lab-log.js';
import { displayCommand } from '../core/quote.js';

// The one seam through which labctl runs host programs: argv arrays, an explicit cwd, bounded
// when asked, and every failure turned into a typed error that carries the command and its output.
// Guest commands (adapters/guest.ts remoteExec) keep the same contract: `{ code, stdout, stderr }`,
// `okCodes`, `timeoutMs`, `signal`, and one `log` line per call in the shape of callLine().

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Show the program's output live (vagrant up) instead of capturing it. */
  stream?: boolean;
  /** Hand the terminal to the program (ssh, sudo's password prompt). */
  interactive?: boolean;
  /** Receives each output line as it comes (long builds that report progress). */
  onOutput?: (line: string) => void;
  /**
   * The call log (the lab's labctl.log): one line per call, `argv → outcome`, plus the last lines
   * of stderr when it failed. Never stdin, never the output of a successful call.
   */
  log?: LogLine | undefined;
  /**
   * Also copy every output line into `log`, after a `$ argv` line: vagrant's lifecycle commands,
   * whose progress is what the lab log is read for when they fail or hang.
   */
  logOutput?: boolean;
  /** Exit codes that count as success (default: only 0); ANY_EXIT_CODE when the code is the answer. */
  okCodes?: readonly number[];
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
  /** Needs root (loop devices, mounts, chroot): goes through `sudo -n` when we are not root. */
  privileged?: boolean;
  /** Written to the program's stdin; never logged (secrets travel this way). */
  input?: string | Uint8Array;
  /** The fix shown when the command fails. */
  hint?: string;
  /** The fix shown when the program is not installed. */
  missingHint?: string;
  /**
   * Run in a process group of its own (vagrant): an abort forwards SIGINT to the whole group, so
   * vagrant and the programs it started clean up, bounded by `interruptGraceMs`, then SIGKILL.
   * A second Ctrl-C (core/interrupt.ts forceSignal) kills the group at once.
   */
  processGroup?: boolean;
  interruptGraceMs?: number;
  /** Say this when an abort stops the program (what the user can do next). */
  abortHint?: string;
}

/** What a host program or a guest command answered: the same shape on both sides. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** For `okCodes` when the exit code is the answer (probes such as `docker info`, `vagrant status`). */
export const ANY_EXIT_CODE: readonly number[] = Array.from({ length: 256 }, (_, i) => i);

/** Grace period between SIGTERM and SIGKILL when a command outlives its timeout. */
const FORCE_KILL_AFTER_MS = 10_000;
/** How long a process group gets to clean up after Ctrl-C (vagrant tidies its machine state). */
export const INTERRUPT_GRACE_MS = 60_000;
/** Lines of streamed output kept for the error message and --verbose details. */
const STREAMED_TAIL_LINES = 40;
/** Lines of a failed call's stderr copied into the call log, below its line. */
export const LOGGED_STDERR_LINES = 5;

/**
 * The one shape of a call's line in labctl.log, for host programs and guest commands alike:
 * `vagrant status --machine-readable → exit 0 in 812 ms`, `ssh sudo -n -- docker info → timed out after 120000 ms`.
 */
export function callLine(command: string, outcome: string): string {
  return `${command} → ${outcome}`;
}

/** A failed call's last stderr lines, indented under its call line. */
export function loggedStderr(stderr: string): string[] {
  const text = tail(stderr, LOGGED_STDERR_LINES);
  return text.trim() === '' ? [] : text.split('\n').map((l) => `  ${l}`);
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** `argv` as it must run for a privileged step: unchanged as root, else through non-interactive sudo. */
export function asRoot(argv: readonly string[]): string[] {
  return isRoot() ? [...argv] : ['sudo', '-n', '--', ...argv];
}

/**
 * Runs a host program. An exit code outside `okCodes` (default: 0) is an ExternalCommandError; a
 * timeout a TimeoutError, an abort an AbortedError, a missing program a NotFoundError.
 */
export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [program = file, ...rest] = opts.privileged ? asRoot([file, ...args]) : [file, ...args];
  const argv = [program, ...rest];
  const shown = displayCommand(argv);
  const log = opts.log;
  const logOutput = log !== undefined && opts.logOutput === true;
  if (logOutput) log(`$ ${shown}`);
  // Streamed lines are not captured, but the last few are kept: a failure's message names its cause.
  const streamedTail: string[] = [];
  const forward = function* (line: unknown) {
    const text = String(line);
    opts.onOutput?.(text);
    if (logOutput) log(`  ${text}`);
    // Streamed and logged: the user sees the line on stderr (stdout is for labctl's results).
    if (opts.stream === true) {
      process.stderr.write(`${text}\n`);
      streamedTail.push(text);
      if (streamedTail.length > STREAMED_TAIL_LINES) streamedTail.shift();
    } else yield line;
  };
  const transformed = opts.onOutput !== undefined || logOutput;
  const inherit = opts.interactive === true || (opts.stream === true && !transformed);
  const output = inherit ? 'inherit' : transformed ? ([forward, 'pipe'] as const) : 'pipe';
  const group = opts.processGroup === true;
  const started = Date.now();
  const child = execa(program, rest, {
    cwd: opts.cwd,
    env: opts.env,
    reject: false,
    timeout: opts.timeoutMs,
    forceKillAfterDelay: FORCE_KILL_AFTER_MS,
    // A process group gets its signals from stopGroupOnAbort, not from execa's single kill.
    ...(group ? { detached: true } : { cancelSignal: opts.signal }),
    stdin: opts.interactive ? 'inherit' : opts.input === undefined ? 'ignore' : 'pipe',
    ...(opts.input === undefined ? {} : { input: opts.input }),
    stdout: output,
    stderr: output,
    stripFinalNewline: true,
  });
  const stopGroup = group ? stopGroupOnAbort(child, opts) : undefined;
  const wait = () => child.finally(() => stopGroup?.());
  const r = opts.signal === undefined ? await wait() : await interruptible(wait);
  const ms = Date.now() - started;
  const stdout = String(r.stdout ?? '');
  const stderr = String(r.stderr ?? '');
  if (r.timedOut) {
    log?.(callLine(shown, `timed out after ${ms} ms`));
    throw new TimeoutError(`\`${argv.join(' ')}\` did not finish within ${Math.round((opts.timeoutMs ?? 0) / 1000)} s`, {
      hint: opts.hint ?? 'the machine may be overloaded; retry, or read the log for the last step it reached',
      details: `${stdout}\n${stderr}`,
    });
  }
  if (r.isCanceled || (group && opts.signal?.aborted === true)) {
    log?.(callLine(shown, `aborted after ${ms} ms`));
    throw new AbortedError(`interrupted: ${argv.join(' ')}`, { hint: opts.abortHint ?? 'run the same command again to continue' });
  }
  if (r.failed && r.exitCode === undefined) {
    if ((r.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      log?.(callLine(shown, 'not found'));
      throw new NotFoundError(`\`${program}\` is not installed or not on PATH`, { hint: opts.missingHint ?? 'run `labctl doctor` to see what is missing' });
    }
    log?.(callLine(shown, `failed after ${ms} ms: ${String(r.shortMessage ?? r.message).split('\n')[0] ?? ''}`));
    throw new ExternalCommandError(argv, undefined, String(r.message), { cause: r.cause, ...(opts.hint === undefined ? {} : { hint: opts.hint }) });
  }
  const code = r.exitCode ?? 1;
  const ok = (opts.okCodes ?? [0]).includes(code);
  if (log !== undefined) {
    log(callLine(shown, `exit ${code} in ${ms} ms`));
    // A logged output already holds stderr; otherwise its tail says why the call failed.
    if (!ok && !logOutput) for (const line of loggedStderr(stderr)) log(line);
  }
  const result = { code, stdout: stdout || streamedTail.join('\n'), stderr };
  if (!ok) {
    throw new ExternalCommandError(argv, code, `${result.stdout}\n${result.stderr}`, opts.hint === undefined ? {} : { hint: opts.hint });
  }
  return result;
}

/**
 * On abort, SIGINT to the child's whole group (as a terminal's Ctrl-C would), SIGKILL after the
 * grace period or on a second Ctrl-C. Returns the function that removes the listeners.
 */
function stopGroupOnAbort(child: ResultPromise, opts: RunOptions): () => void {
  const timers: NodeJS.Timeout[] = [];
  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is already gone, which is what we want.
    }
  };
  const onAbort = () => {
    signalGroup('SIGINT');
    timers.push(setTimeout(() => signalGroup('SIGKILL'), opts.interruptGraceMs ?? INTERRUPT_GRACE_MS));
  };
  const onForce = () => signalGroup('SIGKILL');
  const force = forceSignal();
  // Once the leader has gone after an interrupt, whatever it left in its group (a child holding
  // the output pipe open) would keep labctl waiting: it goes too.
  child.once('exit', () => {
    if (opts.signal?.aborted) signalGroup('SIGKILL');
  });
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  force.addEventListener('abort', onForce, { once: true });
  return () => {
    for (const t of timers) clearTimeout(t);
    opts.signal?.removeEventListener('abort', onAbort);
    force.removeEventListener('abort', onForce);
  };
}

/** The program's answer to `versionArgs` (any exit code), or undefined when it is not installed. */
export async function hasProgram(file: string, versionArgs: readonly string[] = ['--version'], opts: Pick<RunOptions, 'env'> = {}): Promise<RunResult | undefined> {
  try {
    return await run(file, versionArgs, { ...opts, timeoutMs: 20_000, okCodes: ANY_EXIT_CODE });
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/** A program whose stdin and stdout are one byte stream (an SSH ProxyCommand), and how to stop it. */
export interface PipeProcess {
  stream: Duplex;
  /** The last lines the program wrote on stderr, for the error when the stream fails. */
  stderrTail(): string;
  stop(): void;
}

/**
 * Starts a long-lived program as a byte pipe: its stdout is read and its stdin written through
 * `stream`. The caller stops it; it also ends when its stdin closes (ssh -W does).
 */
export function startPipe(file: string, args: readonly string[], opts: Pick<RunOptions, 'env'> = {}): PipeProcess {
  const child = execa(file, args, { env: opts.env, reject: false, buffer: false, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', forceKillAfterDelay: FORCE_KILL_AFTER_MS });
  const stderr: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr.push(chunk);
    if (stderr.length > STREAMED_TAIL_LINES) stderr.shift();
  });
  if (child.stdout === null || child.stdin === null) throw new TypeError('startPipe: no stdio pipes');
  const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
  // The child's end surfaces as the stream's end; its exit status is not the caller's concern.
  void child.catch(() => undefined);
  return {
    stream,
    stderrTail: () => tail(stderr.join(''), LOGGED_STDERR_LINES),
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}
