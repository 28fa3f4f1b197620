// Every failure labctl knows about is one of these classes. cli/main.ts is the only place that
// turns them into a one-line message and an exit code; nothing else calls process.exit.

export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  config: 3,
  conflict: 4,
  notFound: 5,
  external: 6,
  remote: 7,
  timeout: 8,
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
