import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative } from 'node:path';

/**
 * Every entry under `root` as `path → kind, mode, content hash (or link target)`, so a test can
 * assert that a command left a tree exactly as it found it.
 */
export async function snapshotTree(root: string, skip: (rel: string) => boolean = () => false): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const path = join(dir, name);
      const rel = relative(root, path);
      if (skip(rel)) continue;
      const info = await lstat(path);
      const mode = (info.mode & 0o7777).toString(8);
      if (info.isSymbolicLink()) out[rel] = `link ${await readlink(path)}`;
      else if (info.isDirectory()) {
        out[rel] = `dir ${mode}`;
        await walk(path);
      } else if (info.isFile()) out[rel] = `file ${mode} ${createHash('sha256').update(await readFile(path)).digest('hex').slice(0, 16)}`;
      else out[rel] = `special ${mode}`;
    }
  };
  await walk(root);
  return out;
}
