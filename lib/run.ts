import { execa } from 'execa';
import { ExternalCommandError, NotFoundError } from './errors.js';

// The one seam through which labctl runs host programs: argv arrays, an explicit cwd, and every
// failure turned into an ExternalCommandError that carries the command and its output.

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Show the program's output live (vagrant up) instead of capturing it. */
  stream?: boolean;
  /** Hand the terminal to the program (ssh). */
  interactive?: boolean;
  timeoutMs?: number;
  input?: string;
  hint?: string;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const result = await runUnchecked(file, args, opts);
  if (result.exitCode !== 0) {
    throw new ExternalCommandError([file, ...args], result.exitCode, `${result.stdout}\n${result.stderr}`, opts.hint === undefined ? {} : { hint: opts.hint });
  }
  return result;
}

/** Like run(), but a non-zero exit is a result, not an error (probes, status checks). */
export async function runUnchecked(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  try {
    const r = await execa(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      reject: false,
      timeout: opts.timeoutMs,
      stdin: opts.interactive ? 'inherit' : opts.input === undefined ? 'ignore' : 'pipe',
      ...(opts.input === undefined ? {} : { input: opts.input }),
      stdout: opts.interactive || opts.stream ? 'inherit' : 'pipe',
      stderr: opts.interactive || opts.stream ? 'inherit' : 'pipe',
      stripFinalNewline: true,
    });
    if (r.failed && r.exitCode === undefined) {
      const code = (r.cause as NodeJS.ErrnoException | undefined)?.code;
      if (code === 'ENOENT') throw new NotFoundError(`\`${file}\` is not installed or not on PATH`, { hint: 'run `labctl doctor` to see what is missing' });
      throw new ExternalCommandError([file, ...args], undefined, r.timedOut ? `timed out after ${opts.timeoutMs} ms` : String(r.message), { cause: r.cause });
    }
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  } catch (error) {
    if (error instanceof NotFoundError || error instanceof ExternalCommandError) throw error;
    throw new ExternalCommandError([file, ...args], undefined, String(error), { cause: error });
  }
}

/** True when `file` can be started (found on PATH). */
export async function hasProgram(file: string, versionArgs: readonly string[] = ['--version']): Promise<RunResult | undefined> {
  try {
    return await runUnchecked(file, versionArgs, { timeoutMs: 20_000 });
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}
