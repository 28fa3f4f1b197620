import { buildBox, removeCachedBox, type BuiltBox } from '../box/build.js';
import { listBoxes, removeBox, type BoxEntry } from '../adapters/vagrant.js';
import { parseHttpUrl } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { boxCacheDir } from '../core/paths.js';

/**
 * Debian suites a box can be built from. The guest runbook is written for trixie; bookworm is the
 * previous stable, forky and sid are for trying what comes next.
 */
export const BOX_SUITES = ['bookworm', 'trixie', 'forky', 'sid'] as const;

export { boxCacheDir } from '../core/paths.js';

export interface BuildLabBoxOptions {
  /** Only libvirt: said here so that `--provider virtualbox` gets a clear error. */
  provider?: string;
  suite: string;
  bake: boolean;
  mirror: string | undefined;
  force: boolean;
  log: (line: string) => void;
}

export async function buildLabBox(opts: BuildLabBoxOptions, env: NodeJS.ProcessEnv = process.env): Promise<BuiltBox> {
  if (opts.provider !== undefined && opts.provider !== 'libvirt') {
    throw new ConfigError('provider', `labctl builds libvirt boxes only, not "${opts.provider.slice(0, 40)}"`, 'use --provider libvirt (VirtualBox users: the default box debian/trixie64)');
  }
  if (!(BOX_SUITES as readonly string[]).includes(opts.suite)) {
    throw new ConfigError('suite', `"${opts.suite.slice(0, 40)}" is not a Debian suite labctl builds`, `use --suite ${BOX_SUITES.join('|')} (default trixie)`);
  }
  const mirror = opts.mirror === undefined ? undefined : parseHttpUrl(opts.mirror, 'mirror');
  return buildBox({ suite: opts.suite, provider: 'libvirt', bake: opts.bake, mirror, force: opts.force, outDir: boxCacheDir(env), log: opts.log });
}

export async function removeLabBox(name: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await removeBox(name);
  await removeCachedBox(boxCacheDir(env), name);
}

/** `labctl box list`: every box Vagrant has (labctl's own are labctl/*). */
export async function listLabBoxes(): Promise<BoxEntry[]> {
  return listBoxes();
}
