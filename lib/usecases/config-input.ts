import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { mergeSources, resolveConfig, type LabConfig, type RawConfig } from '../config.js';
import { probeHostFacts } from '../doctor.js';

/** Reads `.env` in the working directory (LABCTL_* keys); a missing file is no error. */
export async function readDotenv(cwd: string): Promise<Record<string, string>> {
  try {
    return parseDotenv(await readFile(join(cwd, '.env'), 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
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
  // A provisional pass with a permissive provider: field errors surface before any probe.
  resolveConfig({ ...raw, provider: raw.provider ?? 'libvirt' }, { usableProvider: 'libvirt', hardwareVirtualization: false });
  return resolveConfig(raw, await probeHostFacts(raw.provider === undefined));
}
