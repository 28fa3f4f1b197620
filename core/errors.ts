// Every failure labctl knows about is one of these classes. cli/main.ts is the only place that
// turns them into a one-line message and an exit code; nothing else calls process.exit.
// The table is docs/users.md's "Exit codes" (test/integration/exit-codes.test.ts provokes each).
// 1 means "the answer is no" (a failed check, a doctor problem), as for test runners and linters,
// so `labctl check && …` reads naturally; a labctl bug gets 70, sysexits' EX_SOFTWARE, so that a
// script never mistakes a crash for a failing grade.

export const ExitCode = {
  ok: 0,
  checkFailed: 1,
  usage: 2,
  config: 3,
  conflict: 4,
  notFound: 5,
  external: 6,
  remote: 7,
  timeout: 8,
  internal: 70,
  aborted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class: `message` is the one line the user sees; `hint` is the fix, printed after it. */
export class LabctlError extends Error {
  readonly exitCode: ExitCode = ExitCode.internal;
  readonly hint: string | undefined;
  /** Extra lines shown only with --verbose (command output, stderr excerpts). */
  readonly details: string | undefined;

  constructor(message: string, options: { hint?: string; details?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
    this.details = options.details;
  }
}

/** A configuration field is missing or invalid. The message names the field. */
export class ConfigError extends LabctlError {
  override readonly exitCode = ExitCode.config;
  constructor(
    readonly field: string,
    problem: string,
    fix: string,
  ) {
    super(`${field}: ${problem}`, { hint: fix });
  }
}

/** Bad command-line usage that yargs itself did not catch. */
export class UsageError extends LabctlError {
  override readonly exitCode = ExitCode.usage;
}

/** The request collides with another lab (same name, same IP) or with existing state. */
export class ConflictError extends LabctlError {
  override readonly exitCode = ExitCode.conflict;
}

/** A lab, box or file the command needs does not exist. */
export class NotFoundError extends LabctlError {
  override readonly exitCode = ExitCode.notFound;
}

/** A host program (vagrant, ssh, sudo, VBoxManage …) failed or is missing. */
export class ExternalCommandError extends LabctlError {
  override readonly exitCode = ExitCode.external;
  constructor(
    readonly command: readonly string[],
    readonly code: number | undefined,
    readonly output: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(`\`${command.join(' ')}\` failed${code === undefined ? '' : ` with exit code ${code}`}${lastLine(output)}`, {
      ...options,
      details: tail(output, 40),
    });
  }
}

/** The machine cannot run the command yet: a tool is there but fails (libvirt refuses the connection). */
export class HostNotReadyError extends LabctlError {
  override readonly exitCode = ExitCode.external;
}

/** A command run inside the VM over SSH failed. */
export class RemoteCommandError extends LabctlError {
  override readonly exitCode = ExitCode.remote;
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly output: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(`remote command failed (exit ${code ?? 'signal'}): ${command}${lastLine(output)}`, {
      ...options,
      details: tail(output, 40),
    });
  }
}

/** A bounded wait ran out. The message says what was awaited and for how long. */
export class TimeoutError extends LabctlError {
  override readonly exitCode = ExitCode.timeout;
}

/** A grade or a probe said no: failed checks, doctor problems. The report was already printed. */
export class CheckFailedError extends LabctlError {
  override readonly exitCode = ExitCode.checkFailed;
}

/**
 * The machine's files are not as labctl needs them (a folder where a file must be, a path that
 * cannot be written). The message names the path; the hint says what to change.
 */
export class EnvironmentError extends LabctlError {
  override readonly exitCode = ExitCode.config;
}

/** A project handed to `check --static` cannot be read as a compose project (its shape, its size). */
export class InvalidProjectError extends LabctlError {
  override readonly exitCode = ExitCode.config;
}

/** A lab's state (lab.json) is unreadable or of the wrong shape; the lab shows as broken. */
export class BrokenLabError extends LabctlError {
  override readonly exitCode = ExitCode.config;
}

/** The user declined a confirmation prompt or interrupted the run. */
export class AbortedError extends LabctlError {
  override readonly exitCode = ExitCode.aborted;
}

export function tail(text: string, lines: number): string {
  const all = text.trimEnd().split('\n');
  return all.slice(Math.max(0, all.length - lines)).join('\n');
}

function lastLine(output: string): string {
  const line = tail(output, 1).trim();
  return line ? `: ${line.length > 200 ? `${line.slice(0, 200)}…` : line}` : '';
}

/** A child program (ssh) ended with this status; labctl exits with it and prints nothing more. */
export class ChildExitError extends LabctlError {
  constructor(readonly childExitCode: number) {
    super(`child exited with ${childExitCode}`);
  }
}

const FS_PROBLEMS: Record<string, (path: string) => [string, string]> = {
  EISDIR: (p) => [`${p} is a directory where labctl needs a file`, `move it away, or point labctl at a file`],
  ENOTDIR: (p) => [`${p}: a part of this path is a file where labctl needs a directory`, 'move that file away, or choose another path (e.g. another LABCTL_HOME)'],
  EACCES: (p) => [`${p}: permission denied`, 'check its owner and mode (ls -ld), run as the right user, or choose another path'],
  EPERM: (p) => [`${p}: operation not permitted`, 'check its owner, mode and attributes (ls -ld, lsattr), or choose another path'],
  EROFS: (p) => [`${p} is on a read-only file system`, 'choose a writable path (e.g. LABCTL_HOME on your home disk)'],
  ENOSPC: (p) => [`no space left on the device of ${p}`, 'free disk space (`labctl doctor` shows what is free), then run the command again'],
  ENAMETOOLONG: (p) => [`${shorten(p)}: the path is too long`, 'use a shorter name or path'],
  ELOOP: (p) => [`${p}: too many levels of symbolic links`, 'fix the symbolic link'],
  ENOENT: (p) => [`${p} does not exist`, 'create it, or check the path you gave'],
  EEXIST: (p) => [`${p} already exists`, 'move it away, or choose another name'],
};

/**
 * A Node.js file-system error (it carries `code` and `path`) as the one-line error the user needs,
 * so that an environment problem is never reported as an internal error. Others pass through.
 */
export function fromSystemError(error: unknown): unknown {
  if (error instanceof LabctlError || !(error instanceof Error)) return error;
  const { code, path } = error as NodeJS.ErrnoException;
  const problem = code === undefined || path === undefined ? undefined : FS_PROBLEMS[code];
  if (!problem || path === undefined) return error;
  const [message, hint] = problem(path);
  return code === 'ENOENT' ? new NotFoundError(message, { hint, cause: error }) : new EnvironmentError(message, { hint, cause: error });
}

/** Long user input (a 5,000-character name) is cut in messages so that the line stays one line. */
export function shorten(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}
