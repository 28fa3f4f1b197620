import { appendFileSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';
import { AbortedError, ExternalCommandError, NotFoundError, TimeoutError } from '../core/errors.js';
import { forceSignal, interruptible } from '../core/interrupt.js';

// The one seam through which labctl runs host programs: argv arrays, an explicit cwd, bounded
// when asked, and every failure turned into a typed error that carries the command and its output.

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Show the program's output live (vagrant up) instead of capturing it. */
  stream?: boolean;
  /** Hand the terminal to the program (ssh, sudo's password prompt). */
  interactive?: boolean;
  /** Receives each output line as it comes (long builds that report progress). */
  log?: (line: string) => void;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
  /** Needs root (loop devices, mounts, chroot): goes through `sudo -n` when we are not root. */
  privileged?: boolean;
  input?: string;
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
  /** Append the command line, its output and its exit code to this file (the lab's labctl.log). */
  logFile?: string;
  /** Say this when an abort stops the program (what the user can do next). */
  abortHint?: string;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Grace period between SIGTERM and SIGKILL when a command outlives its timeout. */
const FORCE_KILL_AFTER_MS = 10_000;
/** How long a process group gets to clean up after Ctrl-C (vagrant tidies its machine state). */
export const INTERRUPT_GRACE_MS = 60_000;

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** `argv` as it must run for a privileged step: unchanged as root, else through non-interactive sudo. */
export function asRoot(argv: readonly string[]): string[] {
  return isRoot() ? [...argv] : ['sudo', '-n', '--', ...argv];
}

export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const result = await runUnchecked(file, args, opts);
  if (result.exitCode !== 0) {
    throw new ExternalCommandError(commandOf(file, args, opts), result.exitCode, `${result.stdout}\n${result.stderr}`, opts.hint === undefined ? {} : { hint: opts.hint });
  }
  return result;
}

/** Like run(), but a non-zero exit is a result, not an error (probes, status checks). */
export async function runUnchecked(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [program = file, ...rest] = commandOf(file, args, opts);
  const argv = [program, ...rest];
  const inherit = opts.interactive === true || (opts.stream === true && opts.logFile === undefined);
  const logLine = opts.logFile === undefined ? undefined : lineLogger(opts.logFile);
  logLine?.(`$ ${argv.join(' ')}`);
  // Streamed lines are not captured, but the last few are kept: a failure's message names its cause.
  const streamedTail: string[] = [];
  const forward = function* (line: unknown) {
    const text = String(line);
    opts.log?.(text);
    logLine?.(`  ${text}`);
    // Streamed and logged: the user sees the line on stderr (stdout is for labctl's results).
    if (opts.stream === true) {
      process.stderr.write(`${text}\n`);
      streamedTail.push(text);
      if (streamedTail.length > STREAMED_TAIL_LINES) streamedTail.shift();
    } else yield line;
  };
  const transformed = opts.log !== undefined || logLine !== undefined;
  const output = inherit ? 'inherit' : transformed ? ([forward, 'pipe'] as const) : 'pipe';
  const group = opts.processGroup === true;
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
  logLine?.(`  → exit ${r.exitCode ?? r.signal ?? '?'}`);
  if (r.timedOut) {
    throw new TimeoutError(`\`${argv.join(' ')}\` did not finish within ${Math.round((opts.timeoutMs ?? 0) / 1000)} s`, {
      hint: opts.hint ?? 'the machine may be overloaded; retry, or read the log for the last step it reached',
      details: `${String(r.stdout ?? '')}\n${String(r.stderr ?? '')}`,
    });
  }
  if (r.isCanceled || (group && opts.signal?.aborted === true)) {
    throw new AbortedError(`interrupted: ${argv.join(' ')}`, { hint: opts.abortHint ?? 'run the same command again to continue' });
  }
  if (r.failed && r.exitCode === undefined) {
    if ((r.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new NotFoundError(`\`${program}\` is not installed or not on PATH`, { hint: opts.missingHint ?? 'run `labctl doctor` to see what is missing' });
    }
    throw new ExternalCommandError(argv, undefined, String(r.message), { cause: r.cause, ...(opts.hint === undefined ? {} : { hint: opts.hint }) });
  }
  const streamed = streamedTail.join('\n');
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout ?? '') || streamed, stderr: String(r.stderr ?? '') };
}

/** Lines of streamed output kept for the error message and --verbose details. */
const STREAMED_TAIL_LINES = 40;

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

function lineLogger(file: string): (line: string) => void {
  return (line) => {
    try {
      appendFileSync(file, `${new Date().toISOString()} ${line}\n`, { mode: 0o600 });
    } catch {
      // The log is a help, never a reason to fail the command it describes.
    }
  };
}

function commandOf(file: string, args: readonly string[], opts: RunOptions): string[] {
  return opts.privileged ? asRoot([file, ...args]) : [file, ...args];
}

/** The program's answer to `versionArgs`, or undefined when it is not installed. */
export async function hasProgram(file: string, versionArgs: readonly string[] = ['--version']): Promise<RunResult | undefined> {
  try {
    return await runUnchecked(file, versionArgs, { timeoutMs: 20_000 });
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}
