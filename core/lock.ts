import fs from 'node:fs';
import { readFile, realpath, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { ConflictError } from './errors.js';

// An advisory lock on a file shared by every labctl process (hosts file, lab state): proper-lockfile
// makes `<real path>.lock` with mkdir, which is atomic on every local filesystem, and keeps its
// mtime fresh while the holder lives. A holder killed with SIGKILL leaves the directory behind; it
// counts as stale once its mtime is older than `staleMs`, and the next labctl takes it over. Any
// other exit (return, throw, SIGINT, SIGTERM) removes it: proper-lockfile hooks process exit.

/** A lock not refreshed for this long belongs to a dead process (proper-lockfile refreshes it every staleMs / 2). */
export const LOCK_STALE_MS = 10_000;
/** How long to wait for a live holder; longer than LOCK_STALE_MS, so one wait also outlasts a dead holder's lock. */
export const LOCK_WAIT_MS = 15_000;
const LOCK_RETRY_MIN_MS = 20;
const LOCK_RETRY_MAX_MS = 500;
const LOCK_MAX_ATTEMPTS = 200;

export interface FileLockOptions {
  staleMs?: number;
  waitMs?: number;
  /** What the user calls the file, for messages (default: its path). */
  what?: string;
  /**
   * Held for minutes (a lab during create): a refresh that came late on a loaded machine must not
   * turn finished work into an error, so a lost lock is reported to `onLost` instead of thrown.
   */
  onLost?: (message: string) => void;
}

// Who holds the lock, written inside the lock directory so that a waiter can name the holder.
const OWNER_FILE = 'owner';

// proper-lockfile removes its lock with rmdir (on release, on exit, and when it takes over a stale
// lock), which fails on a directory that still holds the owner file: removing the owner first keeps
// every one of those paths working.
const lockFs = {
  ...fs,
  rmdir(path: string, callback: (err: NodeJS.ErrnoException | null) => void): void {
    fs.unlink(join(path, OWNER_FILE), () => fs.rmdir(path, callback));
  },
  rmdirSync(path: string): void {
    try {
      fs.unlinkSync(join(path, OWNER_FILE));
    } catch {
      // no owner file: the holder died between mkdir and writing it
    }
    fs.rmdirSync(path);
  },
};

/** The path the lock is taken on: symlinks resolved, so every name of the file shares one lock. */
async function canonical(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    // A file that does not exist yet (lab state being created) is locked under its own name.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return resolve(path);
    throw error;
  }
}

async function describeHolder(lockPath: string): Promise<string> {
  const owner = await readFile(join(lockPath, OWNER_FILE), 'utf8').catch(() => '');
  if (owner.trim() !== '') return owner.trim();
  const info = await fs.promises.stat(lockPath).catch(() => undefined);
  return info ? `an unknown process, last seen ${info.mtime.toISOString()}` : 'a process that just released it';
}

/**
 * Runs fn while holding `<real path>.lock`. Waits, bounded in time and attempts, for another
 * holder; fails with a ConflictError naming the holder when the lock cannot be had.
 */
export async function withFileLock<T>(path: string, fn: (realPath: string) => Promise<T>, opts: FileLockOptions = {}): Promise<T> {
  const file = await canonical(path);
  const lockPath = `${file}.lock`;
  const what = opts.what ?? file;
  const staleMs = opts.staleMs ?? LOCK_STALE_MS;
  const deadline = Date.now() + (opts.waitMs ?? LOCK_WAIT_MS);
  let compromised: Error | undefined;
  let release: (() => Promise<void>) | undefined;
  for (let attempt = 0; release === undefined; attempt++) {
    try {
      release = await lockfile.lock(file, {
        stale: staleMs,
        realpath: false,
        retries: 0,
        fs: lockFs,
        // The default throws from a timer, which would crash labctl with a stack trace.
        onCompromised: (error) => {
          compromised = error;
        },
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      const delay = Math.min(LOCK_RETRY_MAX_MS, LOCK_RETRY_MIN_MS * 1.5 ** attempt) * (0.5 + Math.random());
      if (attempt + 1 >= LOCK_MAX_ATTEMPTS || Date.now() + delay > deadline) {
        throw new ConflictError(`another labctl is editing ${what} (lock held by ${await describeHolder(lockPath)})`, {
          hint: `retry, or remove ${lockPath} if no labctl runs`,
          cause: error,
        });
      }
      await sleep(delay);
    }
  }
  try {
    await writeOwner(lockPath);
    const result = await fn(file);
    if (compromised && opts.onLost) {
      opts.onLost(`the lock on ${what} went stale while labctl held it (${compromised.message}); another labctl may have changed it meanwhile`);
    } else if (compromised) {
      throw new ConflictError(`lost the lock on ${what} while editing it (${compromised.message})`, {
        hint: `check ${what}, then run the command again`,
        cause: compromised,
      });
    }
    return result;
  } finally {
    // A compromised lock is no longer proper-lockfile's to remove (not on release, not on exit): its
    // directory would hold off every other labctl until it goes stale, minutes for a lab.
    if (compromised) await removeIfStillOurs(lockPath);
    else await release().catch(() => undefined);
  }
}

function ownerLine(): string {
  return `pid ${process.pid} on ${hostname()} (labctl ${process.argv.slice(2, 4).join(' ')})`;
}

/**
 * Names the holder inside the lock directory. Adding a file changes the directory's mtime, which
 * proper-lockfile reads as "someone else took my lock" at its first refresh (staleMs / 2), so the
 * mtime it set is put back.
 */
async function writeOwner(lockPath: string): Promise<void> {
  const before = await stat(lockPath).catch(() => undefined);
  await writeFile(join(lockPath, OWNER_FILE), `${ownerLine()} since ${new Date().toISOString()}\n`).catch(() => undefined);
  if (before) await utimes(lockPath, before.atime, before.mtime).catch(() => undefined);
}

async function removeIfStillOurs(lockPath: string): Promise<void> {
  const owner = await readFile(join(lockPath, OWNER_FILE), 'utf8').catch(() => '');
  if (!owner.startsWith(`${ownerLine()} since `)) return;
  await rm(lockPath, { recursive: true, force: true }).catch(() => undefined);
}
