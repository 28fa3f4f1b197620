import { stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from './errors.js';

// An Inception project, as the subject lays it out (M01): a Makefile at the root and the compose
// file under srcs/. Compose accepts four names for that file; labctl accepts the same four.

export const COMPOSE_FILE_NAMES = ['docker-compose.yml', 'docker-compose.yaml', 'compose.yml', 'compose.yaml'] as const;

export interface ProjectLayout {
  /** Absolute path of the project root. */
  root: string;
  /** The compose file, relative to the root (`srcs/compose.yaml` …). */
  composeFile: string;
}

const isFile = (path: string): Promise<boolean> => stat(path).then((s) => s.isFile(), () => false);

/** `dir` (relative to `cwd`) checked as an Inception project; a ConfigError naming what is missing otherwise. */
export async function checkProjectLayout(dir: string, cwd: string): Promise<ProjectLayout> {
  const root = isAbsolute(dir) ? resolve(dir) : resolve(cwd, dir);
  const info = await stat(root).catch(() => undefined);
  const fix = 'pass the folder that holds the Makefile and srcs/ (the Inception layout), e.g. --project ~/inception';
  if (info === undefined) throw new ConfigError('project', `${root} does not exist`, fix);
  if (!info.isDirectory()) throw new ConfigError('project', `${root} is not a directory`, fix);
  if (!(await isFile(join(root, 'Makefile')))) throw new ConfigError('project', `${root} has no Makefile at its root`, fix);
  for (const name of COMPOSE_FILE_NAMES) {
    if (await isFile(join(root, 'srcs', name))) return { root, composeFile: `srcs/${name}` };
  }
  throw new ConfigError('project', `${root} has no compose file under srcs/ (${COMPOSE_FILE_NAMES.join(', ')})`, fix);
}
