import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { CONFIG_FIELDS, type LabConfig } from './config.js';
import { ConflictError, LabctlError, NotFoundError } from './errors.js';
import { labctlHome, labPaths, type LabPaths } from './paths.js';
import { ensureSecrets } from './secrets.js';

// Lab state lives in $LABCTL_HOME/<name>/: lab.json (the resolved config), the rendered Vagrantfile,
// secrets/ (0600) and the cached ssh-config. Later commands need only the lab's name.

export const DEFAULT_LAB_NAME = 'inception';
/** Settings whose change would need a new VM; a re-run of create with other values is a conflict. */
const IDENTITY_FIELDS = ['login', 'provider', 'ip', 'box'] as const satisfies readonly (keyof LabConfig)[];

export interface Lab {
  config: LabConfig;
  paths: LabPaths;
}

export async function readLab(name: string, env: NodeJS.ProcessEnv = process.env): Promise<Lab | undefined> {
  const paths = labPaths(name, env);
  let text: string;
  try {
    text = await readFile(paths.config, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return { config: JSON.parse(text) as LabConfig, paths };
  } catch (error) {
    throw new LabctlError(`${paths.config} is not valid JSON`, { hint: `fix or delete it, then run \`labctl create --name ${name}\``, cause: error });
  }
}

export async function loadLab(name: string, env: NodeJS.ProcessEnv = process.env): Promise<Lab> {
  const lab = await readLab(name, env);
  if (!lab) {
    throw new NotFoundError(`no lab named "${name}" in ${labctlHome(env)}`, { hint: 'run `labctl list` to see your labs, or `labctl create --login <you>`' });
  }
  return lab;
}

export async function listLabs(env: NodeJS.ProcessEnv = process.env): Promise<Lab[]> {
  let names: string[];
  try {
    names = (await readdir(labctlHome(env), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const labs = await Promise.all(names.sort().map((n) => readLab(n, env)));
  return labs.filter((l): l is Lab => l !== undefined);
}

/** The lab a command means when none is named: the only lab there is, else "inception". */
export async function resolveLabName(name: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (name) return name;
  const labs = await listLabs(env);
  return labs.length === 1 && labs[0] ? labs[0].config.name : DEFAULT_LAB_NAME;
}

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

/** Writes lab.json, the Vagrantfile and any missing secrets. Existing secrets are kept. */
export async function writeLab(config: LabConfig, vagrantfile: string, env: NodeJS.ProcessEnv = process.env): Promise<Lab> {
  const paths = labPaths(config.name, env);
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await writeFile(paths.config, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await writeFile(paths.vagrantfile, vagrantfile);
  await ensureSecrets(paths.secrets);
  return { config, paths };
}

export async function removeLabDir(paths: LabPaths): Promise<void> {
  await rm(paths.dir, { recursive: true, force: true });
}
