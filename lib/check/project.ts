import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { execa } from 'execa';
import { parse as parseYaml } from 'yaml';
import { NotFoundError, UsageError } from '../errors.js';

// A compose project as graders read it: the compose file (parsed with a YAML library, variables
// from srcs/.env interpolated), each service's Dockerfile, every script and the Makefile.

export interface ServiceSpec {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  restart?: string;
  ports?: (string | number | { published?: string | number; target?: number })[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  networks?: string[] | Record<string, unknown>;
  network_mode?: string;
  links?: unknown;
  secrets?: (string | { source: string })[];
  environment?: Record<string, string | number | null> | string[];
  entrypoint?: string | string[];
  command?: string | string[];
  healthcheck?: unknown;
  depends_on?: unknown;
  deploy?: { replicas?: number };
  profiles?: string[];
}

export interface ComposeSpec {
  services?: Record<string, ServiceSpec>;
  volumes?: Record<string, { driver?: string; driver_opts?: Record<string, string>; external?: boolean } | null>;
  networks?: Record<string, { driver?: string; external?: boolean } | null>;
  secrets?: Record<string, { file?: string; environment?: string }>;
}

export interface TextFile {
  /** Path relative to the project root. */
  path: string;
  text: string;
}

export interface Project {
  dir: string;
  composePath: string | undefined;
  /** The compose file as written (before interpolation). */
  composeText: string;
  compose: ComposeSpec;
  /** Variables from srcs/.env (or .env.example when there is no .env). */
  env: Record<string, string>;
  envSource: string | undefined;
  /** Build context → Dockerfile, by service name. */
  dockerfiles: Map<string, TextFile>;
  /** Every file under srcs/requirements (scripts, configs), and the Makefile. */
  files: TextFile[];
  makefile: TextFile | undefined;
  /** `git ls-files` of the project, or undefined when it is not in a git work tree. */
  tracked: string[] | undefined;
}

const MAX_FILE_BYTES = 512 * 1024;
const MAX_FILES = 2_000;

export async function loadProject(dirArg: string): Promise<Project> {
  const dir = resolve(dirArg);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new NotFoundError(`${dirArg} is not a directory`, { hint: 'give the root of a compose project (the folder with the Makefile and srcs/)' });

  const composePath = ['srcs/docker-compose.yml', 'srcs/docker-compose.yaml', 'srcs/compose.yml', 'srcs/compose.yaml'].find((p) => existsSync(join(dir, p)));
  const envSource = ['srcs/.env', 'srcs/.env.example'].find((p) => existsSync(join(dir, p)));
  const env = envSource ? parseDotenv(await readFile(join(dir, envSource), 'utf8')) : {};
  let compose: ComposeSpec = {};
  const composeText = composePath ? await readFile(join(dir, composePath), 'utf8') : '';
  if (composePath) {
    try {
      compose = interpolate(parseYaml(composeText) ?? {}, env) as ComposeSpec;
    } catch (error) {
      throw new UsageError(`${composePath} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, { hint: 'fix the compose file, then run the check again' });
    }
  }

  const dockerfiles = new Map<string, TextFile>();
  for (const [name, svc] of Object.entries(compose.services ?? {})) {
    const build = typeof svc.build === 'string' ? { context: svc.build } : svc.build;
    if (!build || !composePath) continue;
    const context = resolve(dir, 'srcs', build.context ?? '.');
    const file = join(context, build.dockerfile ?? 'Dockerfile');
    if (existsSync(file)) dockerfiles.set(name, { path: relative(dir, file), text: await readFile(file, 'utf8') });
  }

  const files = await readTree(dir, join(dir, 'srcs', 'requirements'));
  const makefile = existsSync(join(dir, 'Makefile')) ? { path: 'Makefile', text: await readFile(join(dir, 'Makefile'), 'utf8') } : undefined;
  return { dir, composePath, composeText, compose, env, envSource, dockerfiles, files, makefile, tracked: await gitTracked(dir) };
}

async function readTree(root: string, dir: string): Promise<TextFile[]> {
  const out: TextFile[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (out.length >= MAX_FILES) return;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && (await stat(p)).size <= MAX_FILE_BYTES) out.push({ path: relative(root, p), text: await readFile(p, 'utf8') });
    }
  };
  await walk(dir);
  return out;
}

async function gitTracked(dir: string): Promise<string[] | undefined> {
  const r = await execa('git', ['ls-files', '--full-name', '.'], { cwd: dir, reject: false }).catch(() => undefined);
  if (!r || r.exitCode !== 0) return undefined;
  const prefix = await execa('git', ['rev-parse', '--show-prefix'], { cwd: dir, reject: false });
  const p = String(prefix.stdout).trim();
  return String(r.stdout)
    .split('\n')
    .filter(Boolean)
    .map((f) => (p && f.startsWith(p) ? f.slice(p.length) : f));
}

/** Compose-style `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$VAR`, on every string. */
export function interpolate(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, braced?: string, op?: string, fallback?: string, bare?: string) => {
      if (m === '$$') return '$';
      const name = braced ?? bare ?? '';
      const v = env[name];
      if (op === ':-') return v === undefined || v === '' ? (fallback ?? '') : v;
      if (op === '-') return v === undefined ? (fallback ?? '') : v;
      return v ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  return value;
}
