import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../adapters/run.js';

// The static part of a live check grades the project as it is in the VM (what make built from),
// not the host's working copy, which may hold edits that were never deployed. The guest's copy
// comes back as one gzip'd tar in base64 on stdout (through sudo: /home/<login> is 0700), and is
// unpacked into a folder of the lab's own that is removed afterwards.

/** A project larger than this (base64 text) is graded from the host copy instead. */
export const PUSHED_COPY_MAX_CHARS = 64 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 120_000;

// What secrets/ holds stays in the VM (the folder itself comes, M01 looks for it): the static
// rules never read the files, and the grader has no use for them.
const PACK = 'set -o pipefail; cd "$1" 2>/dev/null || { echo "no folder $1" >&2; exit 3; }; tar -czf - --exclude="./secrets/*" --exclude=./.git . | base64 -w0';

export type GuestRun = (argv: string[], opts?: { timeoutMs?: number; okCodes?: readonly number[] }) => Promise<{ stdout: string; code: number }>;

export type PushedCopy = { dir: string } | { unavailable: string };

/**
 * Runs fn on a host copy of the guest's `projectDir`, made under `parentDir`; fn gets why not when
 * there is no such copy (no project in the VM yet, or too large). The copy is always removed.
 */
export async function withPushedCopy<T>(exec: GuestRun, projectDir: string, parentDir: string, fn: (copy: PushedCopy) => Promise<T>): Promise<T> {
  const packed = await exec(['bash', '-c', PACK, 'bash', projectDir], { timeoutMs: FETCH_TIMEOUT_MS, okCodes: [0, 3] });
  if (packed.code === 3) return fn({ unavailable: `${projectDir} does not exist in the VM (nothing deployed yet)` });
  if (packed.stdout.length > PUSHED_COPY_MAX_CHARS) return fn({ unavailable: `${projectDir} in the VM is larger than ${PUSHED_COPY_MAX_CHARS / 1024 / 1024} MiB packed` });
  const dir = await mkdtemp(join(parentDir, 'pushed-copy-'));
  try {
    // GNU tar keeps members inside -C (no absolute or ../ names; symlinks made last), and as a
    // non-root user or with these flags it keeps no owner or mode from the archive.
    await run('tar', ['-xzf', '-', '-C', dir, '--no-same-owner', '--no-same-permissions'], { input: Buffer.from(packed.stdout, 'base64'), timeoutMs: FETCH_TIMEOUT_MS });
    return await fn({ dir });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
