import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabConfig } from '../core/config.js';
import { NotFoundError } from '../core/errors.js';
import { ensureSecrets, SECRET_FILES } from '../core/secrets.js';
import type { LocalInputs } from './context.js';
import { envValues, renderEnvFile } from './env-file.js';
import { buildLocalManifest, projectHash } from './manifest.js';
import { makeTarget } from './steps/make-stack.js';

/** Everything the host contributes, gathered before the first SSH step. */
export async function prepareLocalInputs(config: LabConfig, secretsDir: string, composeDir: string): Promise<LocalInputs> {
  const info = await stat(join(composeDir, 'Makefile')).catch(() => undefined);
  if (!info?.isFile()) {
    throw new NotFoundError(`${composeDir} is not a compose project (no Makefile)`, { hint: 'reinstall labctl (`npm install`), or pass the directory that holds Makefile and srcs/' });
  }
  await ensureSecrets(secretsDir);
  const secrets = new Map<string, Buffer>();
  for (const name of SECRET_FILES) secrets.set(name, await readFile(join(secretsDir, name)));
  const manifest = await buildLocalManifest(composeDir, config.login);
  const envFile = renderEnvFile(envValues(config));
  // The make target is part of what make consumes: switching bonus on or off must run make again.
  const hashed = new Map<string, Buffer | string>([['srcs/.env', envFile], ['make target', makeTarget(config)], ...[...secrets].map(([n, c]) => [`secrets/${n}`, c] as const)]);
  return { manifest, envFile, secrets, projectHash: projectHash(manifest, hashed) };
}
