import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runsOwnProject, type LabConfig } from '../core/config.js';
import { ConfigError, NotFoundError } from '../core/errors.js';
import { SECRET_FILES } from '../core/secrets.js';
import type { LocalInputs } from './context.js';
import { envValues, renderEnvFile } from './env-file.js';
import { buildLocalManifest, projectHash } from './manifest.js';
import { makeArgs } from './steps/make-stack.js';

/** Everything the host contributes, gathered before the first SSH step. The use case has made the secrets (core/secrets.ts ensureSecrets). */
export async function prepareLocalInputs(config: LabConfig, secretsDir: string, composeDir: string, makeTarget?: string): Promise<LocalInputs> {
  if (runsOwnProject(config)) return ownProjectInputs(config, composeDir, makeTarget);
  const info = await stat(join(composeDir, 'Makefile')).catch(() => undefined);
  if (!info?.isFile()) {
    throw new NotFoundError(`${composeDir} is not a compose project (no Makefile)`, { hint: 'reinstall labctl (`npm install`), or pass the directory that holds Makefile and srcs/' });
  }
  const secrets = new Map<string, Buffer>();
  for (const name of SECRET_FILES) {
    const content = await readFile(join(secretsDir, name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
      throw new NotFoundError(`the lab's secret ${join(secretsDir, name)} is missing`, { hint: '`labctl provision` makes the missing ones again' });
    });
    secrets.set(name, content);
  }
  const manifest = await buildLocalManifest(composeDir, config.login);
  const envFile = renderEnvFile(envValues(config));
  // The make target is part of what make consumes: switching bonus on or off must run make again.
  const hashed = new Map<string, Buffer | string>([['srcs/.env', envFile], ['make target', makeArgs(config, makeTarget).join(' ')], ...[...secrets].map(([n, c]) => [`secrets/${n}`, c] as const)]);
  return { manifest, envFile, secrets, projectHash: projectHash(manifest, hashed) };
}

/**
 * A student's own project: its srcs/.env and secrets/ are the student's (its make makes them, or
 * the student puts them there), so labctl sends none of its own; the files go byte for byte.
 */
async function ownProjectInputs(config: LabConfig, projectDir: string, makeTarget: string | undefined): Promise<LocalInputs> {
  const manifest = await buildLocalManifest(projectDir, config.login, { substituteLogin: false });
  const secrets = config.secrets_dir === undefined ? new Map<string, Buffer>() : await readSecretsDir(config.secrets_dir);
  const ownEnvFile = config.env_file === undefined ? undefined : await readFile(config.env_file);
  const hashed = new Map<string, Buffer | string>([
    ['make target', makeArgs(config, makeTarget).join(' ')],
    ...(ownEnvFile === undefined ? [] : [['srcs/.env', ownEnvFile] as const]),
    ...[...secrets].map(([n, c]) => [`secrets/${n}`, c] as const),
  ]);
  return { manifest, envFile: '', secrets, projectHash: projectHash(manifest, hashed), ...(ownEnvFile === undefined ? {} : { ownEnvFile }) };
}

/** Bounds on --secrets-dir: a folder of a few small files, not a home directory by mistake. */
const MAX_SECRET_FILES = 64;
const MAX_SECRET_BYTES = 1_048_576;
const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The regular files directly in `dir`, by name; anything else there is an error naming it. */
async function readSecretsDir(dir: string): Promise<Map<string, Buffer>> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = entries.filter((e) => e.isFile());
  const bad = files.find((e) => !SECRET_NAME.test(e.name));
  if (bad) throw new ConfigError('secrets_dir', `${join(dir, bad.name)}: "${bad.name}" is not a plain file name`, 'name secret files with letters, digits, dot, dash and underscore');
  if (files.length > MAX_SECRET_FILES) throw new ConfigError('secrets_dir', `${dir} holds ${files.length} files (at most ${MAX_SECRET_FILES})`, 'pass the folder that holds only your secret files');
  const out = new Map<string, Buffer>();
  for (const f of files.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, f.name);
    if ((await stat(path)).size > MAX_SECRET_BYTES) throw new ConfigError('secrets_dir', `${path} is over 1 MiB`, 'a secret is a password or a key: pass the folder that holds only those');
    out.set(f.name, await readFile(path));
  }
  return out;
}
