import { chmod, chown, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { gitCommitOf, gitFilesOf } from '../../adapters/git.js';
import { run } from '../../adapters/run.js';
import { HostNotReadyError } from '../../core/errors.js';
import { buildLocalManifest } from '../../provision/manifest.js';
import { tempDir } from '../helpers/temp.js';

// Real git in throwaway repositories. The machine's own git configuration (a global excludesFile,
// safe.directory, init.defaultBranch) must not change what these repositories look like, so git
// reads no global or system file while this file runs; nothing is ever written to them.

beforeAll(() => {
  vi.stubEnv('GIT_CONFIG_GLOBAL', '/dev/null');
  vi.stubEnv('GIT_CONFIG_NOSYSTEM', '1');
});
afterAll(() => {
  vi.unstubAllEnvs();
});

const IDENTITY = ['-c', 'user.name=labctl test', '-c', 'user.email=test@labctl.invalid', '-c', 'commit.gpgsign=false'];

async function git(dir: string, ...args: string[]): Promise<string> {
  return (await run('git', [...IDENTITY, '-C', dir, ...args], { timeoutMs: 30_000 })).stdout;
}

async function put(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

async function newRepo(prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  await git(dir, 'init', '-q');
  return dir;
}

const SPACE = 'docs/my notes.txt';
const UNICODE = 'srcs/réquirements/ñginx-配置.conf';

describe('a project that is a git repository', () => {
  it('is pushed as git sees it: tracked and untracked-not-ignored files, never secrets/ or srcs/.env', async () => {
    const repo = await newRepo('labctl-git-');
    await put(repo, {
      '.gitignore': '*.log\nbuild/\n',
      Makefile: 'all:\n',
      'README.md': '# by {{LOGIN}}\n',
      'srcs/compose.yaml': 'services: {}\n',
      'srcs/tools/run.sh': '#!/bin/sh\n',
      'gone.txt': 'deleted after the commit\n',
      // Committed by mistake: the push must not carry them even so.
      'secrets/db_password.txt': 'hunter2\n',
      'srcs/.env': 'DOMAIN=x\n',
      [SPACE]: 'space\n',
      [UNICODE]: 'unicode\n',
    });
    await chmod(join(repo, 'srcs/tools/run.sh'), 0o755);
    await symlink('Makefile', join(repo, 'link-to-makefile'));
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-q', '-m', 'first');
    await rm(join(repo, 'gone.txt'));
    await put(repo, { 'untracked.txt': 'new\n', 'debug.log': 'ignored\n', 'build/out.bin': 'ignored dir\n', 'srcs/nouveau-été.txt': 'untracked unicode\n' });

    const manifest = await buildLocalManifest(repo, 'jdoe');
    expect(manifest.map((e) => e.path)).toEqual(['.gitignore', 'Makefile', 'README.md', SPACE, 'srcs/compose.yaml', 'srcs/nouveau-été.txt', UNICODE, 'srcs/tools/run.sh', 'untracked.txt'].sort());
    expect(manifest.find((e) => e.path === 'srcs/tools/run.sh')?.mode).toBe('755');
    expect(manifest.find((e) => e.path === 'README.md')?.content.toString()).toBe('# by jdoe\n');
    expect(manifest.find((e) => e.path === UNICODE)?.content.toString()).toBe('unicode\n');
    // gitFilesOf itself still lists the committed secrets: the exclusion is the manifest's.
    const listed = await gitFilesOf(repo);
    expect(listed).toContain('secrets/db_password.txt');
    expect(listed).toContain('srcs/.env');
    expect(listed).not.toContain('gone.txt');
    expect(listed).not.toContain('link-to-makefile');
  });

  it('a project in a subfolder of a repository gets paths relative to the project', async () => {
    const repo = await newRepo('labctl-git-sub-');
    await put(repo, {
      '.gitignore': 'inception/srcs/*.tmp\n',
      'top.txt': 'outside the project\n',
      'inception/Makefile': 'all:\n',
      'inception/srcs/compose.yaml': 'services: {}\n',
      'inception/srcs/scratch.tmp': 'ignored by the parent .gitignore\n',
      'other/file.txt': 'sibling\n',
    });
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-q', '-m', 'first');
    await put(repo, { 'inception/srcs/new.conf': 'untracked\n' });

    const project = join(repo, 'inception');
    expect(await gitFilesOf(project)).toEqual(['Makefile', 'srcs/compose.yaml', 'srcs/new.conf']);
    expect((await buildLocalManifest(project, 'jdoe')).map((e) => e.path)).toEqual(['Makefile', 'srcs/compose.yaml', 'srcs/new.conf']);
  });

  it('a project the repository around it ignores (an npm install under node_modules/) is walked instead', async () => {
    const repo = await newRepo('labctl-git-ign-');
    await put(repo, { '.gitignore': 'node_modules/\n', 'package.json': '{}\n', 'node_modules/labctl/compose/Makefile': 'all:\n', 'node_modules/labctl/compose/srcs/compose.yaml': 'services: {}\n' });
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-q', '-m', 'first');

    const project = join(repo, 'node_modules/labctl/compose');
    expect(await gitFilesOf(project)).toBeUndefined();
    expect((await buildLocalManifest(project, 'jdoe')).map((e) => e.path)).toEqual(['Makefile', 'srcs/compose.yaml']);
  });

  it('substituteLogin: false pushes *.md byte for byte', async () => {
    const repo = await newRepo('labctl-git-md-');
    const readme = '# {{LOGIN}}\r\ncafé {{LOGIN}}\n';
    await put(repo, { 'README.md': readme, 'docs/USER_DOC.md': '{{LOGIN}}' });
    const manifest = await buildLocalManifest(repo, 'jdoe', { substituteLogin: false });
    expect(manifest.find((e) => e.path === 'README.md')?.content.equals(await readFile(join(repo, 'README.md')))).toBe(true);
    expect(manifest.find((e) => e.path === 'docs/USER_DOC.md')?.content.toString()).toBe('{{LOGIN}}');
  });

  it('gitCommitOf gives HEAD and says dirty after an edit or a new file', async () => {
    const repo = await newRepo('labctl-git-head-');
    expect(await gitCommitOf(repo)).toBeUndefined(); // no commit yet
    await put(repo, { Makefile: 'all:\n', 'srcs/compose.yaml': 'services: {}\n' });
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-q', '-m', 'first');
    const head = (await git(repo, 'rev-parse', 'HEAD')).trim();
    expect(head).toMatch(/^[0-9a-f]{40,64}$/);
    expect(await gitCommitOf(repo)).toEqual({ commit: head, dirty: false });
    await put(repo, { Makefile: 'all: up\n' });
    expect(await gitCommitOf(repo)).toEqual({ commit: head, dirty: true });
    await git(repo, 'checkout', '-q', '--', 'Makefile');
    await put(repo, { 'srcs/new file.txt': 'untracked\n' });
    expect(await gitCommitOf(repo)).toEqual({ commit: head, dirty: true });
  });

  it('gitCommitOf looks only at the project: a change elsewhere in the repository is not dirt', async () => {
    const repo = await newRepo('labctl-git-headsub-');
    await put(repo, { 'inception/Makefile': 'all:\n', 'notes.txt': 'x\n' });
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-q', '-m', 'first');
    await put(repo, { 'notes.txt': 'edited\n' });
    expect(await gitCommitOf(join(repo, 'inception'))).toEqual({ commit: (await git(repo, 'rev-parse', 'HEAD')).trim(), dirty: false });
  });

  // A repository owned by someone else is a fault that can be made for real only as root.
  it.skipIf(process.getuid?.() !== 0)('a repository git refuses to read (another owner) is an error, not a walk that would push ignored files', async () => {
    const repo = await newRepo('labctl-git-owner-');
    await put(repo, { '.gitignore': '*.log\n', Makefile: 'all:\n', 'debug.log': 'ignored\n' });
    await chown(repo, 65534, 65534);
    await expect(gitFilesOf(repo)).rejects.toBeInstanceOf(HostNotReadyError);
    await chown(repo, 0, 0);
  });
});

describe('a project outside git', () => {
  it('is every regular file except secrets/, srcs/.env and .git', async () => {
    const dir = await tempDir('labctl-plain-');
    await put(dir, {
      Makefile: 'all:\n',
      'README.md': 'by {{LOGIN}}\n',
      'secrets/db_password.txt': 'hunter2\n',
      'srcs/.env': 'DOMAIN=x\n',
      'srcs/.env.example': 'DOMAIN=\n',
      'srcs/debug.log': 'no ignore rules here\n',
      // A stray .git folder that is no repository: never pushed either.
      '.git/config': '[core]\n',
      [SPACE]: 'space\n',
      [UNICODE]: 'unicode\n',
    });
    expect(await gitFilesOf(dir)).toBeUndefined();
    expect(await gitCommitOf(dir)).toBeUndefined();
    const manifest = await buildLocalManifest(dir, 'jdoe');
    expect(manifest.map((e) => e.path)).toEqual(['Makefile', 'README.md', SPACE, 'srcs/.env.example', 'srcs/debug.log', UNICODE].sort());
    expect(manifest.find((e) => e.path === 'README.md')?.content.toString()).toBe('by jdoe\n');
    const verbatim = await buildLocalManifest(dir, 'jdoe', { substituteLogin: false });
    expect(verbatim.find((e) => e.path === 'README.md')?.content.toString()).toBe('by {{LOGIN}}\n');
  });
});
