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

/**
 * --env-file and --secrets-dir: only with --project (labctl's own project gets generated ones),
 * stored absolute, a regular file and a directory. ConfigError naming the flag's field otherwise.
 */
export async function checkProjectInputs(
  opts: { project: string | undefined; envFile: string | undefined; secretsDir: string | undefined },
  cwd: string,
): Promise<{ envFile?: string; secretsDir?: string }> {
  const out: { envFile?: string; secretsDir?: string } = {};
  for (const [field, value, want] of [['env_file', opts.envFile, 'file'], ['secrets_dir', opts.secretsDir, 'directory']] as const) {
    if (value === undefined) continue;
    if (opts.project === undefined) {
      throw new ConfigError(field, "only applies to a student's own project", `add --project DIR, or leave --${field.replace('_', '-')} out: labctl makes the built-in project's ${field === 'env_file' ? 'srcs/.env' : 'secrets'} itself`);
    }
    const path = isAbsolute(value) ? resolve(value) : resolve(cwd, value);
    const info = await stat(path).catch(() => undefined);
    const ok = want === 'file' ? info?.isFile() : info?.isDirectory();
    if (!ok) throw new ConfigError(field, `${path} is not a ${want}`, want === 'file' ? 'pass the .env file your project reads, e.g. --env-file ~/inception-secrets/.env' : 'pass the folder holding your secret files, e.g. --secrets-dir ~/inception-secrets');
    if (field === 'env_file') out.envFile = path;
    else out.secretsDir = path;
  }
  return out;
}
