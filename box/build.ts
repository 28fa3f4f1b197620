import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, EnvironmentError } from '../core/errors.js';
import { convertToQcow2, makeBootableRawDisk } from './disk.js';
import { isRoot, run, type Log } from './exec.js';
import { boxMetadata, boxName, boxVagrantfile } from './guest-files.js';
import { bakeBaseImage, bakeDocker, configureRootfs, debootstrap, scrubRootfs, vagrantInsecurePublicKey } from './rootfs.js';
import { addBox, addedBuildId } from '../adapters/vagrant.js';

// `labctl box build`: a Vagrant box for vagrant-libvirt made locally from debootstrap, for machines
// that cannot reach Vagrant Cloud. The runbook is buildBox() below; the steps live in rootfs.ts
// (debootstrap + Vagrant conventions), disk.ts (raw disk, GRUB, qcow2) and adapters/vagrant.ts (box add).

/** Bump when the recipe changes: cached boxes from an older recipe are rebuilt. */
export const BOX_RECIPE_VERSION = 3;
export const TAR_TIMEOUT_MS = 10 * 60_000;

export interface BuildBoxOptions {
  suite: 'trixie' | (string & {});
  provider: 'libvirt';
  bake: boolean;
  /** A Debian mirror URL for debootstrap; its default mirror otherwise. */
  mirror?: string | undefined;
  /** The Vagrant store to add the box to; the caller's environment's when undefined. */
  vagrantHome?: string | undefined;
  /** Where built boxes are cached and reused, normally `$LABCTL_HOME/boxes`. */
  outDir: string;
  /** Rebuild even when a cached box of the current recipe exists. */
  force?: boolean;
  log: Log;
  signal?: AbortSignal | undefined;
}

export interface BuiltBox {
  /** The name to put in a Vagrantfile: `labctl/trixie` or `labctl/trixie-baked`. */
  name: string;
  boxFile: string;
  buildId: string;
  /** True when a cached box of the same recipe was reused instead of built. */
  reused: boolean;
  /** False when the store already held this very build. */
  added: boolean;
}

interface BuildRecord {
  recipe: number;
  buildId: string;
  suite: string;
  bake: boolean;
  mirror: string | null;
  builtAt: string;
  seconds: number;
}

export async function buildBox(opts: BuildBoxOptions): Promise<BuiltBox> {
  const name = boxName(opts.suite, opts.bake);
  const { key, boxFile, recordFile } = cachedBoxPaths(opts.outDir, opts.suite, opts.bake, opts.provider);
  await mkdir(opts.outDir, { recursive: true });

  let record = await readRecord(recordFile);
  const reused = opts.force !== true && record !== undefined && record.recipe === BOX_RECIPE_VERSION && (record.mirror ?? undefined) === opts.mirror;
  if (reused && record !== undefined) {
    opts.log(`reusing ${boxFile} (built ${record.builtAt})`);
  } else {
    record = await buildFresh(opts, key, boxFile);
    await writeFile(recordFile, `${JSON.stringify(record, null, 2)}\n`);
  }

  const store = opts.vagrantHome ?? process.env.VAGRANT_HOME ?? join(process.env.HOME ?? '/root', '.vagrant.d');
  const already = (await addedBuildId(name, store)) === record.buildId;
  if (already) opts.log(`${name} (build ${record.buildId}) is already in ${store}`);
  else await addBox(name, boxFile, { vagrantHome: opts.vagrantHome, log: opts.log, signal: opts.signal });
  return { name, boxFile, buildId: record.buildId, reused, added: !already };
}

/** Where the cached box of (suite, bake) lives under `outDir`. Pure. */
export function cachedBoxPaths(outDir: string, suite: string, bake: boolean, provider = 'libvirt') {
  const key = `${suite}${bake ? '-baked' : ''}-${provider}`;
  const boxFile = join(outDir, `${key}.box`);
  return { key, boxFile, recordFile: `${boxFile}.json` };
}

/**
 * Deletes labctl's cached copy of a box it built (`labctl/<suite>[-baked]`); returns false for a
 * name labctl does not build. Removing it from Vagrant's store is adapters/vagrant.ts removeBox().
 */
export async function removeCachedBox(outDir: string, name: string): Promise<boolean> {
  const m = /^labctl\/([a-z0-9]+?)(-baked)?$/.exec(name);
  if (m?.[1] === undefined) return false;
  const { boxFile, recordFile } = cachedBoxPaths(outDir, m[1], m[2] !== undefined);
  await rm(boxFile, { force: true });
  await rm(recordFile, { force: true });
  return true;
}

async function readRecord(file: string): Promise<BuildRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as BuildRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function buildFresh(opts: BuildBoxOptions, key: string, boxFile: string): Promise<BuildRecord> {
  const started = Date.now();
  const { log, signal } = opts;
  if (!isRoot()) log('building a box needs root (debootstrap, chroot, loop devices, mount): privileged steps run through `sudo -n`');
  const lock = await takeLock(join(opts.outDir, `${key}.lock`));
  const workDir = join(opts.outDir, `.work-${key}-${process.pid}`);
  const rootfs = join(workDir, 'rootfs');
  const boxDir = join(workDir, 'box');
  const buildId = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
  try {
    await mkdir(boxDir, { recursive: true });
    const common = { suite: opts.suite, dir: rootfs, debCacheDir: join(opts.outDir, '.debs', opts.suite), mirror: opts.mirror, bake: opts.bake, log, signal };
    await mkdir(common.debCacheDir, { recursive: true });

    log(`[box] debootstrap ${opts.suite}`);
    await debootstrap(common);
    log('[box] configure the guest for Vagrant');
    await configureRootfs({ ...common, publicKey: await vagrantInsecurePublicKey(log) });
    if (opts.bake) {
      log('[box] bake Docker, Compose and make into the image');
      await bakeDocker(common);
      log('[box] bake the debian:bookworm base image (imported on first boot)');
      const baseDebCacheDir = join(opts.outDir, '.debs', 'base-image');
      await mkdir(baseDebCacheDir, { recursive: true });
      await bakeBaseImage({ ...common, workDir, baseDebCacheDir });
    }
    await scrubRootfs(rootfs, log);

    log('[box] raw disk, ext4, GRUB');
    const raw = await makeBootableRawDisk({ rootfs, workDir, log, signal });
    log('[box] qcow2');
    const virtualSize = await convertToQcow2(raw, join(boxDir, 'box.img'), log, signal);
    await writeFile(join(boxDir, 'metadata.json'), boxMetadata(buildId, virtualSize));
    await writeFile(join(boxDir, 'Vagrantfile'), boxVagrantfile());

    log('[box] archive');
    const partial = `${boxFile}.partial`;
    await run(['tar', '--create', '--file', partial, '--directory', boxDir, 'metadata.json', 'Vagrantfile', 'box.img'], {
      log,
      privileged: true,
      timeoutMs: TAR_TIMEOUT_MS,
      signal,
    });
    await rename(partial, boxFile);
  } catch (error) {
    // Report the step that failed, not a cleanup problem it may have caused.
    await rm(`${boxFile}.partial`, { force: true });
    await removeWorkDir(workDir, log).catch((cleanup: unknown) => log(`cleanup after the failure: ${(cleanup as Error).message}`));
    await lock.release();
    throw error;
  }
  try {
    await removeWorkDir(workDir, log);
  } finally {
    await lock.release();
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  log(`[box] built ${boxFile} in ${seconds} s`);
  return { recipe: BOX_RECIPE_VERSION, buildId, suite: opts.suite, bake: opts.bake, mirror: opts.mirror ?? null, builtAt: new Date().toISOString(), seconds };
}

/**
 * The work dir holds a root-owned rootfs; it is deleted only when nothing is mounted below it (a
 * bind-mounted /dev or /proc left by a failed step would otherwise be emptied by rm -r).
 */
async function removeWorkDir(workDir: string, log: Log): Promise<void> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  const busy = mounts.split('\n').filter((l) => (l.split(' ')[4] ?? '').startsWith(`${workDir}/`));
  if (busy.length > 0) {
    throw new EnvironmentError(`left ${workDir} in place: ${busy.length} file systems are still mounted below it`, {
      hint: `unmount them (findmnt -R ${workDir}), then delete the directory`,
    });
  }
  await run(['rm', '-rf', '--one-file-system', workDir], { log, privileged: true, timeoutMs: 5 * 60_000 });
}

/** One builder per box at a time; a lock left by a dead process is taken over. */
async function takeLock(path: string): Promise<{ release: () => Promise<void> }> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number((await readFile(path, 'utf8')).trim());
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
        throw new ConflictError(`another box build (pid ${pid}) is running`, { hint: `wait for it, or remove ${path} if that process is gone` });
      }
      await rm(path, { force: true });
    }
  }
  throw new ConflictError(`could not take the build lock ${path}`, { hint: `remove ${path} and retry` });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
