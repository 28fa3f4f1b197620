import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runsOwnProject, type LabConfig } from '../core/config.js';
import { NotFoundError } from '../core/errors.js';
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
  const hashed = new Map<string, Buffer | string>([['make target', makeArgs(config, makeTarget).join(' ')]]);
  return { manifest, envFile: '', secrets: new Map(), projectHash: projectHash(manifest, hashed) };
}
