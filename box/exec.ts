import { dirname } from 'node:path';
import { run as runProgram } from '../adapters/run.js';

// Box building's view of adapters/run.ts: argv arrays with the program first, every call bounded and
// logged line by line, and the Debian package to install named when a program is missing.

export { isRoot } from '../adapters/run.js';
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

function split(argv: readonly string[]): [string, string[]] {
  const [file, ...args] = argv;
  if (file === undefined) throw new TypeError('run: empty argv');
  return [file, args];
}

function withPackageHint(file: string, options: RunOptions) {
  return { ...options, missingHint: `install it (Debian: apt-get install ${debianPackageFor(file)})` };
}

/** Runs `argv`, logging each output line; resolves to stdout, throws a typed error otherwise. */
export async function run(argv: readonly string[], options: RunOptions): Promise<string> {
  const [file, args] = split(argv);
  return (await runProgram(file, args, withPackageHint(file, options))).stdout;
}

/** Like `run`, but any failure is logged and returned as `false` (checks and cleanup must go on). */
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
