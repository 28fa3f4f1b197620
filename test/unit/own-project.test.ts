import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig, runsOwnProject, type LabConfig } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { checkProjectLayout, COMPOSE_FILE_NAMES } from '../../core/project-layout.js';
import { composeArgv } from '../../adapters/compose.js';
import { prepareLocalInputs } from '../../provision/local-inputs.js';
import { makeArgs } from '../../provision/steps/make-stack.js';
import { tempDir } from '../helpers/temp.js';

// Issue 15, first slice: a lab that runs a student's own project (--project DIR).

const base = (): LabConfig => resolveConfig({ login: 'jdoe', provider: 'libvirt', libvirt_driver: 'qemu' }, { usableProvider: 'libvirt', hardwareVirtualization: false });

async function project(files: Record<string, string>): Promise<string> {
  const dir = await tempDir('labctl-own-');
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

describe('the Inception layout of --project (core/project-layout.ts)', () => {
  it.each(COMPOSE_FILE_NAMES)('accepts srcs/%s beside a Makefile, and gives the absolute root', async (name) => {
    const dir = await project({ Makefile: 'all:\n', [`srcs/${name}`]: 'services: {}\n' });
    expect(await checkProjectLayout(dir, '/')).toEqual({ root: dir, composeFile: `srcs/${name}` });
  });

  it('resolves a relative folder against the working directory', async () => {
    const dir = await project({ 'mine/Makefile': 'all:\n', 'mine/srcs/compose.yaml': 'services: {}\n' });
    expect((await checkProjectLayout('mine', dir)).root).toBe(join(dir, 'mine'));
  });

  it.each([
    ['no Makefile', { 'srcs/compose.yaml': '' }, /has no Makefile at its root/],
    ['the compose file at the root, not under srcs/', { Makefile: '', 'docker-compose.yml': '' }, /has no compose file under srcs\//],
    ['a directory named like the compose file', { Makefile: '', 'srcs/compose.yaml/x': '' }, /has no compose file under srcs\//],
  ])('refuses %s with a ConfigError on the field project', async (_what, files, message) => {
    const dir = await project(files);
    const error = await checkProjectLayout(dir, '/').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(message);
    expect((error as ConfigError).field).toBe('project');
  });
});

describe('provisioning a student\'s own project', () => {
  it('runs the Makefile\'s default goal (bonus with --bonus); labctl\'s compose/ keeps all', () => {
    expect(makeArgs({ bonus: false, project: '/p' })).toEqual([]);
    expect(makeArgs({ bonus: true, project: '/p' })).toEqual(['bonus']);
    expect(makeArgs({ bonus: false, project: undefined })).toEqual(['all']);
    expect(runsOwnProject({ project: '/p' })).toBe(true);
    expect(runsOwnProject({})).toBe(false);
  });

  it('lets compose find the project\'s own file (no -f) and applies no profile of labctl\'s', () => {
    expect(composeArgv({ login: 'jdoe', bonus: true, project: '/p' }, ['ps'])).toEqual(['docker', 'compose', 'ps']);
    expect(composeArgv({ login: 'jdoe', bonus: true }, ['ps'])).toEqual(['docker', 'compose', '-f', '/home/jdoe/inception/srcs/docker-compose.yml', '--profile', 'bonus', 'ps']);
  });

  it('sends none of labctl\'s secrets or .env, never the host\'s, and the files byte for byte', async () => {
    const dir = await project({
      Makefile: 'all:\n',
      'srcs/compose.yaml': 'services: {}\n',
      'README.md': 'by {{LOGIN}}\n',
      'secrets/db_pw': 'host-secret\n',
      'srcs/.env': 'PW=host-secret\n',
    });
    const inputs = await prepareLocalInputs({ ...base(), project: dir }, join(dir, 'no-lab-secrets-needed'), dir);
    expect(inputs.secrets.size).toBe(0);
    expect(inputs.envFile).toBe('');
    expect(inputs.manifest.map((e) => e.path)).toEqual(['Makefile', 'README.md', 'srcs/compose.yaml']);
    expect(inputs.manifest.find((e) => e.path === 'README.md')?.content.toString()).toBe('by {{LOGIN}}\n');
  });
});
