import { join } from 'node:path';
import { buildBox, removeCachedBox, type BuiltBox } from '../box/build.js';
import { removeBox } from '../box/vagrant-boxes.js';
import { labctlHome } from '../paths.js';

/** Built boxes are cached beside the labs and reused until the recipe changes. */
export function boxCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(labctlHome(env), 'boxes');
}

export interface BuildLabBoxOptions {
  suite: string;
  bake: boolean;
  mirror: string | undefined;
  force: boolean;
  log: (line: string) => void;
}

export async function buildLabBox(opts: BuildLabBoxOptions, env: NodeJS.ProcessEnv = process.env): Promise<BuiltBox> {
  return buildBox({ suite: opts.suite, provider: 'libvirt', bake: opts.bake, mirror: opts.mirror, force: opts.force, outDir: boxCacheDir(env), log: opts.log });
}

export async function removeLabBox(name: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await removeBox(name);
  await removeCachedBox(boxCacheDir(env), name);
}
