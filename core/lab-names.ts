import { lstat, readdir, stat } from 'node:fs/promises';
import { DEFAULT_LAB_NAME, NAME_SHAPE, RESERVED_LAB_NAMES } from './config.js';
import { EnvironmentError } from './errors.js';
import { labctlHome, labPaths } from './paths.js';

// Which labs LABCTL_HOME holds, from its directory entries alone: no lab.json is parsed here, so
// this module loads no schema library. `labctl ssh`, the command typed most, resolves its lab with
// it and nothing more; core/state.ts reads the labs it names.

/** The entries of LABCTL_HOME shaped like a lab (directories, or a file or link in a lab's place), sorted. */
export async function labCandidates(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const home = labctlHome(env);
  let names: string[];
  try {
    names = (await readdir(home, { withFileTypes: true })).filter((d) => d.isDirectory() || d.isSymbolicLink() || d.isFile()).map((d) => d.name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    if (code === 'ENOTDIR') throw new EnvironmentError(`LABCTL_HOME ${home} is not a directory (it, or a folder above it, is a file)`, { hint: 'move the file away, or set LABCTL_HOME to a directory' });
    throw error;
  }
  return names.filter((n) => NAME_SHAPE.test(n) && !RESERVED_LAB_NAMES.includes(n)).sort();
}

/**
 * Whether a candidate is a lab, readable or broken, as core/state.ts reads it: anything but a
 * directory in a lab's place is a broken lab; a directory is a lab unless it has no lab.json.
 */
async function isLab(name: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const paths = labPaths(name, env);
  const entry = await lstat(paths.dir).catch(() => undefined);
  if (entry === undefined || !entry.isDirectory()) return true;
  return stat(paths.config).then(
    () => true,
    (error: NodeJS.ErrnoException) => error.code !== 'ENOENT',
  );
}

/** The lab a command means when none is named: the only lab there is, else "inception". */
export async function resolveLabName(name: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (name !== undefined) {
    // The positional name is checked like --name: it becomes a path under LABCTL_HOME.
    labPaths(name, env);
    return name;
  }
  const candidates = await labCandidates(env);
  const counted = await Promise.all(candidates.map((n) => isLab(n, env)));
  const labs = candidates.filter((_, i) => counted[i]);
  return labs.length === 1 && labs[0] ? labs[0] : DEFAULT_LAB_NAME;
}
