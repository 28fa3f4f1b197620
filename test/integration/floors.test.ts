import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp.js';

// The floor rules (.dependency-cruiser.cjs, docs/contributing.md) run on a copy of the code with
// one violation planted at a time: each must fail the same command `npm test` runs.

const root = resolve(import.meta.dirname, '..', '..');
const FOLDERS = ['cli', 'usecases', 'provision', 'check', 'box', 'layers', 'adapters', 'core'];
const exec = promisify(execFile);

async function copyTree(): Promise<string> {
  const dir = await tempDir('labctl-floors-');
  for (const f of FOLDERS) await cp(join(root, f), join(dir, f), { recursive: true });
  for (const f of ['.dependency-cruiser.cjs', 'tsconfig.json', 'package.json']) await cp(join(root, f), join(dir, f));
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

async function cruise(dir: string): Promise<{ code: number; out: string }> {
  try {
    const r = await exec(join(root, 'node_modules', '.bin', 'depcruise'), [...FOLDERS, '--config', '.dependency-cruiser.cjs'], { cwd: dir, timeout: 60_000 });
    return { code: 0, out: r.stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: e.stdout ?? '' };
  }
}

async function append(dir: string, file: string, line: string): Promise<void> {
  await writeFile(join(dir, file), `${line}\n${await readFile(join(dir, file), 'utf8')}`);
}

describe('the floors hold (npm run lint:floors)', () => {
  it('the tree as committed has no violation', async () => {
    const r = await cruise(root);
    expect(r.out).toMatch(/no dependency violations found/);
    expect(r.code).toBe(0);
  });

  it.each([
    ['core imports a use case', 'core/errors.ts', "import '../usecases/status.js';", 'no-upward-from-core'],
    ['an adapter imports a feature', 'adapters/run.ts', "import '../check/types.js';", 'no-upward-from-adapters'],
    ['a feature imports a use case (lazily)', 'provision/steps.ts', "export const later = () => import('../usecases/provision.js');", 'no-upward-from-provision-check-box-layers'],
    ['check imports provision', 'check/types.ts', "import '../provision/steps.js';", 'features-apart'],
    ['a command skips its use case', 'cli/commands/status.ts', "import '../../adapters/vagrant.js';", 'cli-calls-use-cases'],
  ])('%s: fails', async (_what, file, line, rule) => {
    const dir = await copyTree();
    await append(dir, file, line);
    const r = await cruise(dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain(`error ${rule}:`);
  });

  it('a cycle inside one floor fails', async () => {
    const dir = await copyTree();
    await mkdir(join(dir, 'core'), { recursive: true });
    await writeFile(join(dir, 'core', 'planted-a.ts'), "import { b } from './planted-b.js';\nexport const a = (): number => b() + 1;\n");
    await writeFile(join(dir, 'core', 'planted-b.ts'), "import { a } from './planted-a.js';\nexport const b = (): number => a() - 1;\n");
    const r = await cruise(dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('error no-cycle:');
  });
});
