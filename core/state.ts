import { chmod, lstat, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { z } from 'zod';
import { BASE_IMAGE_MODES, CONFIG_FIELDS, DEFAULT_LAB_NAME, DOCKER_SOURCES, NAME_SHAPE, domainFor, parseLibvirtUri, PROVIDERS, type LabConfig } from './config.js';
import { BrokenLabError, ConflictError, EnvironmentError, NotFoundError, shorten } from './errors.js';
import { labCandidates } from './lab-names.js';
import { withFileLock } from './lock.js';
import { assertInsideHome, labctlHome, labPaths, type LabPaths } from './paths.js';
import { ensureSecrets, type SecretsReport } from './secrets.js';

// Lab state lives in $LABCTL_HOME/<name>/: lab.json (the resolved config), the rendered Vagrantfile,
// secrets/ (0600) and the cached ssh-config. Later commands need only the lab's name.

export { DEFAULT_LAB_NAME };
/** Settings whose change would need a new VM; a re-run of create with other values is a conflict. */
const IDENTITY_FIELDS = ['login', 'provider', 'ip', 'box'] as const satisfies readonly (keyof LabConfig)[];

export interface Lab {
  config: LabConfig;
  paths: LabPaths;
}

/** A lab directory whose lab.json cannot be used; it is listed as broken and can be destroyed. */
export interface BrokenLab {
  name: string;
  paths: LabPaths;
  problem: string;
}

// lab.json is read back as untrusted input: an edited, truncated or copied file must not drive
// vagrant, rm or the hosts file. The shape mirrors LabConfig; `name` must be the directory's own.
const labConfigSchema = z.object({
  name: z.string().regex(NAME_SHAPE),
  login: z.string().regex(NAME_SHAPE),
  domain: z.string(),
  provider: z.enum(PROVIDERS),
  ip: z.string().refine((v) => isIP(v) === 4, 'not an IPv4 address'),
  memory: z.number().int().positive(),
  cpus: z.number().int().positive(),
  box: z.string().regex(/^[A-Za-z0-9._/-]+$/),
  box_version: z.string().optional(),
  apt_mirror: z.string().optional(),
  apt_proxy: z.string().optional(),
  libvirt_driver: z.enum(['kvm', 'qemu']),
  bonus: z.boolean(),
  base_image: z.enum(BASE_IMAGE_MODES),
  docker_source: z.enum(DOCKER_SOURCES),
  // Absolute: a lab must not run another folder when labctl is started from elsewhere.
  project: z.string().startsWith('/').optional(),
  env_file: z.string().startsWith('/').optional(),
  secrets_dir: z.string().startsWith('/').optional(),
  libvirt_uri: z.string().refine(isLibvirtUri, 'not a qemu:// or qemu+ssh:// URI for /system').optional(),
  bridge: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,14}$/).optional(),
});

function isLibvirtUri(value: string): boolean {
  try {
    return parseLibvirtUri(value) === value;
  } catch {
    return false;
  }
}

/** The config in lab.json, checked; a string saying what is wrong otherwise. */
export function parseLabJson(text: string, dirName: string): LabConfig | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return 'lab.json is not valid JSON';
  }
  const parsed = labConfigSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `lab.json: ${issue?.path.join('.') || '(top level)'}: ${shorten(issue?.message ?? 'invalid', 80)}`;
  }
  const config = parsed.data;
  if (config.name !== dirName) return `lab.json names lab "${config.name}", but it is in the directory of lab "${dirName}" (a copied lab?)`;
  if (config.domain !== domainFor(config.login)) return `lab.json: domain ${shorten(config.domain)} does not match login ${config.login}`;
  return { ...config, box_version: config.box_version, apt_mirror: config.apt_mirror, apt_proxy: config.apt_proxy };
}

type LabRecord = { lab: Lab } | { broken: BrokenLab } | undefined;

async function readRecord(name: string, env: NodeJS.ProcessEnv): Promise<LabRecord> {
  const paths = labPaths(name, env);
  let text: string;
  try {
    const info = await lstat(paths.dir);
    if (!info.isDirectory()) {
      return { broken: { name, paths, problem: `${paths.dir} is ${info.isSymbolicLink() ? 'a symbolic link' : 'a file'}, not a lab directory` } };
    }
    text = await readFile(paths.config, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    return { broken: { name, paths, problem: `cannot read ${paths.config} (${code ?? (error as Error).message})` } };
  }
  const config = parseLabJson(text, name);
  return typeof config === 'string' ? { broken: { name, paths, problem: config } } : { lab: { config, paths } };
}

/** The lab, undefined when there is none; a BrokenLabError when its state cannot be used. */
export async function readLab(name: string, env: NodeJS.ProcessEnv = process.env): Promise<Lab | undefined> {
  const record = await readRecord(name, env);
  if (record === undefined) return undefined;
  if ('broken' in record) throw brokenError(record.broken);
  return record.lab;
}

export function brokenError(broken: BrokenLab): BrokenLabError {
  return new BrokenLabError(`lab "${broken.name}" is broken: ${broken.problem}`, {
    hint: `remove it with \`labctl destroy ${broken.name} --force\` (it removes what exists and says what it could not)`,
  });
}

/** A lab that may be broken: what destroy --force works from. */
export async function readLabOrBroken(name: string, env: NodeJS.ProcessEnv = process.env): Promise<Lab | BrokenLab | undefined> {
  const record = await readRecord(name, env);
  if (record === undefined) return undefined;
  return 'broken' in record ? record.broken : record.lab;
}

export function isBroken(lab: Lab | BrokenLab): lab is BrokenLab {
  return 'problem' in lab;
}

export async function loadLab(name: string, env: NodeJS.ProcessEnv = process.env): Promise<Lab> {
  const lab = await readLab(name, env);
  if (!lab) {
    throw new NotFoundError(`no lab named "${name}" in ${labctlHome(env)}`, { hint: 'run `labctl list` to see your labs, or `labctl create --login <you>`' });
  }
  return lab;
}

/** Every lab directory of LABCTL_HOME, readable or broken; other entries (locks, boxes) are skipped. */
export async function scanLabs(env: NodeJS.ProcessEnv = process.env): Promise<{ labs: Lab[]; broken: BrokenLab[] }> {
  const records = await Promise.all((await labCandidates(env)).map((n) => readRecord(n, env)));
  const labs: Lab[] = [];
  const broken: BrokenLab[] = [];
  for (const r of records) {
    if (r === undefined) continue;
    if ('broken' in r) broken.push(r.broken);
    else labs.push(r.lab);
  }
  return { labs, broken };
}

/** The readable labs (a broken one never blocks commands on the others). */
export async function listLabs(env: NodeJS.ProcessEnv = process.env): Promise<Lab[]> {
  return (await scanLabs(env)).labs;
}

export { resolveLabName } from './lab-names.js';

/**
 * What a re-run of create changes in an existing lab's settings, as "field old → new" (identity
 * fields are not listed: a change there is a conflict, see checkConflicts).
 */
export function changedSettings(before: LabConfig, after: LabConfig): string[] {
  const identity: readonly string[] = IDENTITY_FIELDS;
  return CONFIG_FIELDS.filter((f) => f !== 'name' && !identity.includes(f) && before[f] !== after[f]).map((f) => `${f} ${String(before[f])} → ${String(after[f])}`);
}

/**
 * Refuses a config whose name or IP belongs to another lab. Re-creating the same lab with the same
 * identity is allowed: create is resumable.
 */
export function checkConflicts(config: LabConfig, labs: readonly Lab[]): void {
  for (const other of labs) {
    if (other.config.name === config.name) {
      const changed = IDENTITY_FIELDS.filter((f) => other.config[f] !== config[f]);
      if (changed.length > 0) {
        const diff = changed.map((f) => `${f} ${String(other.config[f])} → ${String(config[f])}`).join(', ');
        throw new ConflictError(`lab "${config.name}" already exists with other settings (${diff})`, {
          hint: `keep its settings, choose another --name, or run \`labctl destroy ${config.name}\` first`,
        });
      }
    } else if (other.config.login === config.login) {
      // One login is one domain: two labs would fight over <login>.42.fr (with --no-hosts too).
      throw new ConflictError(`login ${config.login} already has lab "${other.config.name}" (${config.domain})`, {
        hint: `use that lab (\`labctl status ${other.config.name}\`), or run \`labctl destroy ${other.config.name}\` first`,
      });
    } else if (other.config.ip === config.ip) {
      throw new ConflictError(`ip ${config.ip} is already used by lab "${other.config.name}"`, {
        hint: `choose another --ip (e.g. ${suggestIp(labs)}) or run \`labctl destroy ${other.config.name}\``,
      });
    }
  }
}

function suggestIp(labs: readonly Lab[]): string {
  const used = new Set(labs.map((l) => l.config.ip));
  for (let last = 10; last < 255; last++) {
    const ip = `192.168.56.${last}`;
    if (!used.has(ip)) return ip;
  }
  return '192.168.57.10';
}

export interface WrittenLab extends Lab {
  secrets: SecretsReport;
}

/**
 * Writes lab.json and the Vagrantfile (each replaced whole: a crash leaves the old file or the new
 * one) and any missing secrets. Existing secrets are kept; loose modes are tightened to 0600.
 */
export async function writeLab(config: LabConfig, vagrantfile: string, env: NodeJS.ProcessEnv = process.env): Promise<WrittenLab> {
  const paths = labPaths(config.name, env);
  assertInsideHome(paths.dir, env);
  await mkdir(labctlHome(env), { recursive: true, mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST' || error.code === 'ENOTDIR') throw new EnvironmentError(`LABCTL_HOME ${labctlHome(env)} is not a directory`, { hint: 'move that file away, or set LABCTL_HOME to a directory' });
    throw error;
  });
  await mkdir(paths.dir, { recursive: true, mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST') throw new EnvironmentError(`${paths.dir} is a file, not a lab directory`, { hint: `move it away, or choose another lab name` });
    throw error;
  });
  await replaceFile(paths.config, `${JSON.stringify(config, null, 2)}\n`, 0o600);
  await replaceFile(paths.vagrantfile, vagrantfile, 0o644);
  const secrets = await ensureSecrets(paths.secrets);
  return { config, paths, secrets };
}

async function replaceFile(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.labctl-tmp-${process.pid}`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

/**
 * A lab lock is held for the whole of a create (many minutes, on a machine busy emulating a VM), so
 * it is refreshed every 30 s and counts as stale after two minutes without a refresh.
 */
export const LAB_LOCK_STALE_MS = 120_000;

/**
 * Runs `fn` while holding the lab's lock (`<name>.lock` beside its directory), so two labctl
 * processes never change one lab at once; a lock left by a killed labctl goes stale by itself.
 */
export async function withLabLock<T>(name: string, fn: () => Promise<T>, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const paths = labPaths(name, env);
  await mkdir(labctlHome(env), { recursive: true, mode: 0o700 });
  return withFileLock(paths.dir, fn, {
    what: `lab "${name}"`,
    staleMs: LAB_LOCK_STALE_MS,
    onLost: (message) => process.stderr.write(`warning: ${message}\n`),
  });
}

/** Removes the lab directory, after checking that it is one (inside LABCTL_HOME, not a link). */
export async function removeLabDir(paths: LabPaths): Promise<void> {
  assertInsideHome(paths.dir);
  await rm(paths.dir, { recursive: true, force: true });
}

