import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BASE_IMAGE_SUITE } from './guest-files.js';
import { run, type Log } from './exec.js';

// The debian:bookworm base (M03) as a root filesystem tarball for `docker import`, made with
// debootstrap on the host. Under software emulation the same debootstrap in the guest takes
// minutes; on the host it is one short run, and the tarball is kept for every later lab.

export const DEBOOTSTRAP_TIMEOUT_MS = 20 * 60_000;
const TAR_TIMEOUT_MS = 10 * 60_000;


export interface BaseTarballOptions {
  /** Scratch directory for the root filesystem; removed afterwards. */
  workDir: string;
  /** debootstrap's .deb cache, kept between builds. */
  debCacheDir: string;
  /** Where the tarball goes (parents created). */
  tarball: string;
  mirror?: string | undefined;
  log: Log;
  signal?: AbortSignal | undefined;
}

/** debootstrap (minbase) → apt caches and lists dropped → one tar of the tree, owners numeric. */
export async function debootstrapBaseTarball(opts: BaseTarballOptions): Promise<void> {
  const { log, signal } = opts;
  const root = join(opts.workDir, `base-${BASE_IMAGE_SUITE}`);
  const argv = ['debootstrap', '--variant=minbase', `--cache-dir=${opts.debCacheDir}`, BASE_IMAGE_SUITE, root];
  if (opts.mirror !== undefined) argv.push(opts.mirror);
  await mkdir(opts.debCacheDir, { recursive: true });
  try {
    await run(argv, { log, privileged: true, timeoutMs: DEBOOTSTRAP_TIMEOUT_MS, signal });
    await run(['sh', '-c', 'rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*', 'clean', root], { log, privileged: true, timeoutMs: 60_000, signal });
    await run(['mkdir', '-p', dirname(opts.tarball)], { log, privileged: true, timeoutMs: 30_000, signal });
    await run(['tar', '--create', '--numeric-owner', '--file', opts.tarball, '--directory', root, '.'], { log, privileged: true, timeoutMs: TAR_TIMEOUT_MS, signal });
  } finally {
    await run(['rm', '-rf', '--one-file-system', root], { log, privileged: true, timeoutMs: 5 * 60_000 }).catch(() => undefined);
  }
}

export interface HostBaseImage {
  path: string;
  bytes: number;
  /** False when an earlier lab's tarball was reused. */
  built: boolean;
}

/** `<cacheDir>/debian-bookworm.tar`: the cache file every lab of this host shares. */
export function hostBaseImagePath(cacheDir: string): string {
  return join(cacheDir, `debian-${BASE_IMAGE_SUITE}.tar`);
}

/**
 * The host's cached base tarball, built first when missing. Concurrent labs may both build; each
 * writes its own temporary file and renames it into place, so a reader only ever sees a whole one.
 */
export async function ensureHostBaseImage(opts: { cacheDir: string; mirror?: string | undefined; log: Log; signal?: AbortSignal | undefined }): Promise<HostBaseImage> {
  const path = hostBaseImagePath(opts.cacheDir);
  if (existsSync(path)) return { path, bytes: (await stat(path)).size, built: false };
  await mkdir(opts.cacheDir, { recursive: true });
  const unique = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const partial = `${path}.partial-${unique}`;
  const workDir = join(opts.cacheDir, `.work-${unique}`);
  await mkdir(workDir);
  try {
    await debootstrapBaseTarball({ workDir, debCacheDir: join(opts.cacheDir, '.debs'), tarball: partial, mirror: opts.mirror, log: opts.log, signal: opts.signal });
    await rename(partial, path);
  } finally {
    await rm(partial, { force: true }).catch(() => undefined);
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }
  return { path, bytes: (await stat(path)).size, built: true };
}
