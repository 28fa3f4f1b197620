// Remote commands travel to sshd as one string that the login shell parses. Each argument is
// wrapped in single quotes, inside which POSIX shells give no character a special meaning — not
// `$`, backquote, `;`, `\`, or a newline — so the only character to handle is the single quote
// itself: close the quote, emit an escaped quote, reopen (`'` → `'\''`).

/** Quotes one argument for a POSIX shell. */
export function shQuote(arg: string): string {
  if (arg.includes('\0')) {
    // A NUL cannot cross an exec boundary at all; failing here beats a silently truncated argument.
    throw new TypeError('a remote command argument cannot contain a NUL byte');
  }
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Joins an argv array into the single command string an SSH exec request carries. */
export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError('a remote command needs at least the program name');
  return argv.map(shQuote).join(' ');
}

/** A readable rendering for messages and logs: bare words stay bare, everything else is quoted. */
export function displayCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : shQuote(a))).join(' ');
}

export interface PrivilegeOptions {
  /** Run as root through `sudo -n` (never prompts: a missing NOPASSWD rule fails fast). */
  sudo?: boolean;
  /** Run as this user through `sudo -n -u <user> -H`; implies sudo. */
  user?: string;
  /** Working directory, applied with `env -C` so no shell `cd` string is needed. */
  cwd?: string;
  /** Environment variables set for the command with `env NAME=value`. */
  env?: Record<string, string>;
}

/** Wraps argv with sudo/env/cwd prefixes; pure, so the exact remote argv is unit-tested. */
export function wrapArgv(argv: readonly string[], opts: PrivilegeOptions = {}): string[] {
  const envAssignments = Object.entries(opts.env ?? {}).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new TypeError(`invalid environment variable name: ${k}`);
    return `${k}=${v}`;
  });
  const inner = [...argv];
  const needsEnv = envAssignments.length > 0 || opts.cwd !== undefined;
  const withEnv = needsEnv ? ['env', ...(opts.cwd === undefined ? [] : ['-C', opts.cwd]), ...envAssignments, ...inner] : inner;
  if (opts.user !== undefined) return ['sudo', '-n', '-H', '-u', opts.user, '--', ...withEnv];
  if (opts.sudo) return ['sudo', '-n', '--', ...withEnv];
  return withEnv;
}
