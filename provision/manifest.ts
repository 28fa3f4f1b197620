import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { gitFilesOf } from '../adapters/git.js';

// "Only changed files on re-run": the host side hashes what it would push, the guest side hashes
// what it has, and the difference is uploaded. Hashing the guest's real files (not a cached list)
// means a file edited by hand in the VM is put back too.

export interface ManifestEntry {
  /** POSIX path relative to the project root. */
  path: string;
  sha256: string;
  /** '755' or '644': only the executable bit matters for a compose project. */
  mode: '755' | '644';
  content: Buffer;
}

export type RemoteManifest = Map<string, { sha256?: string; mode?: string }>;

/** The token that *.md files carry where the student's login belongs (README first line, M14). */
export const LOGIN_TOKEN = '{{LOGIN}}';

/**
 * Never pushed: the host's own secrets and .env (a developer may have generated some while
 * working on compose/). The lab's secrets and .env are written separately from $LABCTL_HOME.
 */
export function isExcludedFromPush(path: string): boolean {
  return path === 'srcs/.env' || path === 'secrets' || path.startsWith('secrets/') || path === '.git' || path.startsWith('.git/');
}

export function substituteLogin(path: string, content: Buffer, login: string): Buffer {
  if (!path.endsWith('.md')) return content;
  return Buffer.from(content.toString('utf8').replaceAll(LOGIN_TOKEN, login), 'utf8');
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface LocalManifestOptions {
  /**
   * Put the login in place of LOGIN_TOKEN in *.md files (default): labctl's own compose/ carries
   * the token. A student's own project is pushed byte for byte.
   */
  substituteLogin?: boolean;
}

/**
 * Reads a project into manifest entries (regular files only, sorted, exclusions applied): inside
 * a git work tree the files git sees (tracked, and untracked but not ignored), elsewhere every
 * file under `root`. The exclusions hold either way: a secret committed by mistake stays home.
 */
export async function buildLocalManifest(root: string, login: string, opts: LocalManifestOptions = {}): Promise<ManifestEntry[]> {
  const paths = (await gitFilesOf(root)) ?? (await walk(root)).map((abs) => relative(root, abs).split(sep).join(posix.sep));
  const entries: ManifestEntry[] = [];
  for (const path of paths) {
    if (isExcludedFromPush(path)) continue;
    const abs = join(root, ...path.split(posix.sep));
    const info = await stat(abs);
    const raw = await readFile(abs);
    const content = opts.substituteLogin === false ? raw : substituteLogin(path, raw, login);
    entries.push({ path, sha256: sha256(content), mode: (info.mode & 0o111) !== 0 ? '755' : '644', content });
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const abs = join(dir, d.name);
    if (d.isDirectory()) {
      if (d.name === '.git' || d.name === 'node_modules') continue;
      out.push(...(await walk(abs)));
    } else if (d.isFile()) {
      out.push(abs);
    }
  }
  return out;
}

/**
 * Parses the guest's `sha256sum -z` records ("<hash>  ./<path>\0") and `find -printf '%m %P\0'`
 * records ("<mode> <path>\0"). NUL separators keep odd file names intact.
 */
export function parseRemoteManifest(hashOutput: string, modeOutput: string): RemoteManifest {
  const manifest: RemoteManifest = new Map();
  for (const record of hashOutput.split('\0')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/s.exec(record.replace(/^\n/, ''));
    if (!m) continue;
    const path = m[2]!.replace(/^\.\//, '');
    manifest.set(path, { ...manifest.get(path), sha256: m[1]! });
  }
  for (const record of modeOutput.split('\0')) {
    const m = /^([0-7]{3,4}) (.+)$/s.exec(record.replace(/^\n/, ''));
    if (!m) continue;
    const path = m[2]!;
    manifest.set(path, { ...manifest.get(path), mode: m[1]!.slice(-3) });
  }
  return manifest;
}

export interface PushPlan {
  upload: ManifestEntry[];
  /** Files labctl pushed before that are gone from compose/ now; other guest files are left alone. */
  remove: string[];
}

export function planPush(local: readonly ManifestEntry[], remote: RemoteManifest, previouslyPushed: readonly string[]): PushPlan {
  const upload = local.filter((e) => {
    const r = remote.get(e.path);
    return r === undefined || r.sha256 !== e.sha256 || normalizeMode(r.mode) !== e.mode;
  });
  const localPaths = new Set(local.map((e) => e.path));
  const remove = previouslyPushed.filter((p) => !localPaths.has(p) && !isExcludedFromPush(p) && remote.has(p));
  return { upload, remove };
}

/** Only the executable bit is compared: a guest umask may turn 644 into 664 harmlessly. */
function normalizeMode(mode: string | undefined): '755' | '644' | undefined {
  if (mode === undefined) return undefined;
  return (parseInt(mode, 8) & 0o111) !== 0 ? '755' : '644';
}

/** One hash over everything `make` consumes: the pushed files, the .env and the secrets. */
export function projectHash(local: readonly ManifestEntry[], extra: ReadonlyMap<string, Buffer | string>): string {
  const h = createHash('sha256');
  for (const e of local) h.update(`${e.path}\0${e.mode}\0${e.sha256}\n`);
  for (const [name, data] of [...extra].sort(([a], [b]) => (a < b ? -1 : 1))) h.update(`${name}\0${sha256(data)}\n`);
  return h.digest('hex');
}
