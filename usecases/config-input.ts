import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { mergeSources, resolveConfig, type LabConfig, type RawConfig } from '../core/config.js';
import { probeHostFacts } from '../adapters/host-probes.js';
import { EnvironmentError } from '../core/errors.js';
import { checkProjectInputs, checkProjectLayout } from '../core/project-layout.js';

/** Reads `.env` in the working directory (LABCTL_* keys); a missing file is no error. */
export async function readDotenv(cwd: string): Promise<Record<string, string>> {
  const path = join(cwd, '.env');
  try {
    return parseDotenv(await readFile(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    if (code === 'EISDIR') throw new EnvironmentError(`${path} is a directory; labctl reads settings from a .env file`, { hint: 'rename or remove that directory, or run labctl from another folder' });
    if (code === 'EACCES' || code === 'EPERM') throw new EnvironmentError(`cannot read ${path} (permission denied)`, { hint: `make it readable (chmod u+r ${path}) or remove it` });
    throw error;
  }
}

export interface ConfigInput {
  flags: RawConfig;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * flags > LABCTL_* environment > .env > defaults. Everything that does not depend on the host is
 * checked before the (slower) host probes run, so bad input fails at once.
 */
export async function configFromInput(input: ConfigInput): Promise<LabConfig> {
  const raw = mergeSources({ flags: input.flags, env: input.env, dotenv: await readDotenv(input.cwd) });
  // A provisional pass with a permissive provider: field errors (and a project that is not an
  // Inception layout) surface before any probe.
  const provisional = resolveConfig({ ...raw, provider: raw.provider ?? 'libvirt' }, { usableProvider: 'libvirt', hardwareVirtualization: false });
  // Stored absolute: the lab runs this folder whatever directory labctl is started from later.
  if (provisional.project !== undefined) raw.project = (await checkProjectLayout(provisional.project, input.cwd)).root;
  const inputs = await checkProjectInputs({ project: provisional.project, envFile: provisional.env_file, secretsDir: provisional.secrets_dir }, input.cwd);
  if (inputs.envFile !== undefined) raw.env_file = inputs.envFile;
  if (inputs.secretsDir !== undefined) raw.secrets_dir = inputs.secretsDir;
  return resolveConfig(raw, await probeHostFacts(raw.provider === undefined));
}
