import { dirname } from 'node:path';
import { run as runProgram, type RunOptions as ProgramOptions } from '../adapters/run.js';

// Box building's view of adapters/run.ts (the one process runner): argv arrays with the program
// first, every call bounded, each output line handed to the build's log as progress, and the
// Debian package to install named when a program is missing.

export { isRoot } from '../adapters/run.js';
export type Log = (line: string) => void;

export type RunOptions = Pick<ProgramOptions, 'privileged' | 'signal' | 'cwd' | 'env' | 'input' | 'hint'> & {
  /** Receives each output line (the build's progress); the call itself is not logged here. */
  log: Log;
  timeoutMs: number;
};

function split(argv: readonly string[]): [string, string[]] {
  const [file, ...args] = argv;
  if (file === undefined) throw new TypeError('run: empty argv');
  return [file, args];
}

/** Runs `argv`; resolves to stdout, throws the runner's typed error otherwise. */
export async function run(argv: readonly string[], options: RunOptions): Promise<string> {
  const [file, args] = split(argv);
  const { log, ...rest } = options;
  return (await runProgram(file, args, { ...rest, onOutput: log, missingHint: installHint(file) })).stdout;
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
  sudo: 'sudo',
  tar: 'tar',
};

/** The fix for a missing build tool: the Debian package that has it. */
function installHint(program: string): string {
  return `install it (Debian: apt-get install ${PACKAGE_OF[program] ?? program})`;
}
