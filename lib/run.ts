import { execa } from 'execa';
import { AbortedError, ExternalCommandError, NotFoundError, TimeoutError } from './errors.js';

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
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Grace period between SIGTERM and SIGKILL when a command outlives its timeout. */
const FORCE_KILL_AFTER_MS = 10_000;

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
  const inherit = opts.interactive === true || opts.stream === true;
  const forward = function* (line: unknown) {
    opts.log?.(String(line));
    yield line;
  };
  const output = inherit ? 'inherit' : opts.log ? ([forward, 'pipe'] as const) : 'pipe';
  const r = await execa(program, rest, {
    cwd: opts.cwd,
    env: opts.env,
    reject: false,
    timeout: opts.timeoutMs,
    forceKillAfterDelay: FORCE_KILL_AFTER_MS,
    cancelSignal: opts.signal,
    stdin: opts.interactive ? 'inherit' : opts.input === undefined ? 'ignore' : 'pipe',
    ...(opts.input === undefined ? {} : { input: opts.input }),
    stdout: output,
    stderr: output,
    stripFinalNewline: true,
  });
  const argv = [program, ...rest];
  if (r.timedOut) {
    throw new TimeoutError(`\`${argv.join(' ')}\` did not finish within ${Math.round((opts.timeoutMs ?? 0) / 1000)} s`, {
      hint: opts.hint ?? 'the machine may be overloaded; retry, or read the log for the last step it reached',
      details: `${String(r.stdout ?? '')}\n${String(r.stderr ?? '')}`,
    });
  }
  if (r.isCanceled) throw new AbortedError(`interrupted: ${argv.join(' ')}`, { hint: 'run the same command again to continue' });
  if (r.failed && r.exitCode === undefined) {
    if ((r.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new NotFoundError(`\`${program}\` is not installed or not on PATH`, { hint: opts.missingHint ?? 'run `labctl doctor` to see what is missing' });
    }
    throw new ExternalCommandError(argv, undefined, String(r.message), { cause: r.cause, ...(opts.hint === undefined ? {} : { hint: opts.hint }) });
  }
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
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
