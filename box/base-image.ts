import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BASE_IMAGE_FILES, BASE_IMAGE_PRUNE, BASE_IMAGE_RECIPE } from './base-image-files.js';
import { BASE_IMAGE_SUITE } from './guest-files.js';
import { run, writeFileAsRoot, type Log } from './exec.js';

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

/** The container conventions of base-image-files.ts applied to a debootstrapped root. */
async function slimRoot(root: string, opts: Pick<BaseTarballOptions, 'log' | 'signal'>): Promise<void> {
  const quiet = { log: opts.log, privileged: true, timeoutMs: 5 * 60_000, signal: opts.signal };
  for (const dir of BASE_IMAGE_PRUNE.emptied) {
    if (existsSync(join(root, dir))) await run(['find', join(root, dir), '-mindepth', '1', '-delete'], quiet);
  }
  await run(['rm', '-rf', '--one-file-system', '--', ...BASE_IMAGE_PRUNE.removed.map((p) => join(root, p))], quiet);
  const doc = join(root, 'usr/share/doc');
  await run(['find', doc, '-mindepth', '1', '!', '-type', 'd', '!', '-name', 'copyright', '-delete'], quiet);
  await run(['find', doc, '-mindepth', '1', '-type', 'd', '-empty', '-delete'], quiet);
  await run(['find', join(root, 'usr/share/locale'), '-mindepth', '1', '-maxdepth', '1', '!', '-name', 'locale.alias', '-exec', 'rm', '-rf', '{}', '+'], quiet);
  for (const file of BASE_IMAGE_FILES) await writeFileAsRoot(join(root, file.path), file.content, file.mode, opts);
}

/** debootstrap (minbase) → slimmed for containers (base-image-files.ts) → one tar of the tree, owners numeric. */
export async function debootstrapBaseTarball(opts: BaseTarballOptions): Promise<void> {
  const { log, signal } = opts;
  const root = join(opts.workDir, `base-${BASE_IMAGE_SUITE}`);
  const argv = ['debootstrap', '--variant=minbase', `--cache-dir=${opts.debCacheDir}`, BASE_IMAGE_SUITE, root];
  if (opts.mirror !== undefined) argv.push(opts.mirror);
  await mkdir(opts.debCacheDir, { recursive: true });
  try {
    await run(argv, { log, privileged: true, timeoutMs: DEBOOTSTRAP_TIMEOUT_MS, signal });
    await slimRoot(root, opts);
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

/**
 * `<cacheDir>/debian-bookworm-r2.tar`: the cache file every lab of this host shares. The recipe is
 * in the name, so a tarball made by an older labctl is never taken for the current one.
 */
export function hostBaseImagePath(cacheDir: string): string {
  return join(cacheDir, `debian-${BASE_IMAGE_SUITE}-r${BASE_IMAGE_RECIPE}.tar`);
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
