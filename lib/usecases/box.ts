import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { buildBox, type BuiltBox } from '../box/build.js';
import { removeBox } from '../box/vagrant-boxes.js';
import { labctlHome } from '../paths.js';

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
  const outDir = boxCacheDir(env);
  if (opts.force) await rm(join(outDir, `${opts.suite}${opts.bake ? '-baked' : ''}-libvirt.box.json`), { force: true });
  return buildBox({ suite: opts.suite, provider: 'libvirt', bake: opts.bake, mirror: opts.mirror, outDir, log: opts.log });
}

export async function removeLabBox(name: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await removeBox(name);
  const m = /^labctl\/([a-z]+)(-baked)?$/.exec(name);
  if (m) {
    const key = `${m[1]}${m[2] ?? ''}-libvirt.box`;
    await rm(join(boxCacheDir(env), key), { force: true });
    await rm(join(boxCacheDir(env), `${key}.json`), { force: true });
  }
}
