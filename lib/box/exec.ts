import { dirname } from 'node:path';
import { execa } from 'execa';
import { ExternalCommandError, TimeoutError } from '../errors.js';

// The one place where box building runs host programs: argv arrays only, every call bounded by a
// timeout, every output line forwarded to the caller's log, failures turned into typed errors.

export type Log = (line: string) => void;

export interface RunOptions {
  log: Log;
  timeoutMs: number;
  /** Needs root (loop devices, mounts, chroot): goes through `sudo -n` when we are not root. */
  privileged?: boolean;
  signal?: AbortSignal | undefined;
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Written to the program's stdin. */
  input?: string;
  /** The fix shown when the command fails. */
  hint?: string;
}

/** Grace period between SIGTERM and SIGKILL when a command outlives its timeout. */
const FORCE_KILL_AFTER_MS = 10_000;

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** `argv` as it must be run: unchanged as root, else through non-interactive sudo. */
export function asRoot(argv: readonly string[]): string[] {
  return isRoot() ? [...argv] : ['sudo', '-n', '--', ...argv];
}

/** Runs `argv`, logging each output line; resolves to stdout, throws a typed error otherwise. */
export async function run(argv: readonly string[], options: RunOptions): Promise<string> {
  const full = options.privileged === true ? asRoot(argv) : [...argv];
  const [file, ...args] = full;
  if (file === undefined) throw new TypeError('run: empty argv');
  const forward = function* (line: unknown) {
    options.log(String(line));
    yield line;
  };
  const result = await execa(file, args, {
    reject: false,
    all: true,
    timeout: options.timeoutMs,
    forceKillAfterDelay: FORCE_KILL_AFTER_MS,
    cancelSignal: options.signal,
    cwd: options.cwd,
    env: options.env,
    input: options.input,
    stdout: [forward, 'pipe'],
    stderr: [forward, 'pipe'],
  });
  if (result.timedOut) {
    throw new TimeoutError(`\`${full.join(' ')}\` did not finish within ${Math.round(options.timeoutMs / 1000)} s`, {
      hint: options.hint ?? 'the machine may be overloaded; retry, or look at the log for the last step it reached',
      details: String(result.all ?? ''),
    });
  }
  if (result.failed) {
    const missing = (result.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    throw new ExternalCommandError(full, result.exitCode, String(result.all ?? result.message), {
      hint: missing
        ? `\`${file}\` is not installed; install it (Debian: apt-get install ${debianPackageFor(file)})`
        : options.hint,
      cause: result.cause,
    });
  }
  return String(result.stdout ?? '');
}

/** Like `run`, but a failure is returned as `false` instead of thrown (for checks and cleanup). */
export async function tryRun(argv: readonly string[], options: RunOptions): Promise<boolean> {
  try {
    await run(argv, options);
    return true;
  } catch (error) {
    options.log(`(ignored) ${(error as Error).message}`);
    return false;
  }
}

/**
 * Writes `content` to `path` (parents created) as root with `mode`. `dd` reads the already-open
 * stdin: execa's stdin is a socket, which `install /dev/stdin` cannot open.
 */
export async function writeFileAsRoot(path: string, content: string, mode: string, opts: Pick<RunOptions, 'log' | 'signal'>): Promise<void> {
  const quiet = { log: opts.log, privileged: true, timeoutMs: 30_000, signal: opts.signal };
  await run(['mkdir', '-p', dirname(path)], quiet);
  await run(['dd', `of=${path}`, 'status=none'], { ...quiet, input: content });
  await run(['chmod', mode, path], quiet);
}

const PACKAGE_OF: Record<string, string> = {
  debootstrap: 'debootstrap',
  sfdisk: 'fdisk',
  'qemu-img': 'qemu-utils',
  'mkfs.ext4': 'e2fsprogs',
  losetup: 'mount',
  partx: 'util-linux',
  vagrant: 'vagrant vagrant-libvirt',
  sudo: 'sudo',
  tar: 'tar',
};

function debianPackageFor(program: string): string {
  return PACKAGE_OF[program] ?? program;
}
