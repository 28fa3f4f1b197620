import { execFile } from 'node:child_process';
import { chmod, chown, link, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { renderBlock } from '../../core/hosts-file.js';
import { labctl } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

// The built binary, many at once, on a real file: issue 13, defect 3 (16 parallel adds kept 9
// entries, all exiting 0) and defect 5 (a rename-based writer turned a symlink into a plain file,
// split hard links, lost owner and xattrs). Loopback addresses are never contacted: the IPs are only
// text in the file.

const PARALLEL = 30;
const BIG_PARALLEL = 4;
const BIG_ROUNDS = 2;
const BIG_LINES = 270_000; // ~10 MB

const lab = (i: number) => ({ name: `lab${i}`, login: `user${i}`, ip: `192.168.56.${10 + i}` });

async function hostsFile(content: string | Buffer): Promise<{ dir: string; path: string; env: Record<string, string> }> {
  const dir = await tempDir('labctl-hosts-conc-');
  const path = join(dir, 'hosts');
  await writeFile(path, content);
  return { dir, path, env: { LABCTL_HOSTS_FILE: path, LABCTL_HOME: join(dir, 'home') } };
}

function add(i: number, env: Record<string, string>) {
  const l = lab(i);
  return labctl(['hosts', 'add', '--login', l.login, '--ip', l.ip, '--name', l.name], { env });
}

function remove(i: number, env: Record<string, string>) {
  const l = lab(i);
  return labctl(['hosts', 'remove', '--login', l.login, '--name', l.name], { env });
}

function expectAllOk(results: { exitCode: number; stderr: string }[]): void {
  expect(results.filter((r) => r.exitCode !== 0).map((r) => r.stderr)).toEqual([]);
}

describe('hosts file under concurrent labctl processes', () => {
  it(`${PARALLEL} parallel adds keep every block; ${PARALLEL} parallel removes give back the exact bytes`, async () => {
    const original = Buffer.from('127.0.0.1 localhost\r\n# caf\xe9 \xff\xfe\n::1 localhost\n', 'latin1');
    const { dir, path, env } = await hostsFile(original);
    const ids = [...Array(PARALLEL).keys()];
    const started = Date.now();
    expectAllOk(await Promise.all(ids.map((i) => add(i, env))));
    const addMs = Date.now() - started;
    const text = await readFile(path, 'latin1');
    for (const i of ids) expect(text).toContain(renderBlock({ name: lab(i).name, ip: lab(i).ip, domain: `${lab(i).login}.42.fr` }, false, '\r\n'));
    expect(text.match(/# BEGIN labctl /g)).toHaveLength(PARALLEL);
    expectAllOk(await Promise.all(ids.map((i) => remove(i, env))));
    expect((await readFile(path)).equals(original)).toBe(true);
    expect(await readdir(dir)).toEqual(['hosts']);
    console.log(`${PARALLEL} parallel adds took ${addMs} ms, then ${Date.now() - started - addMs} ms for the removes`);
  });

  it('two labs racing for one domain: exactly one wins, the other is refused', async () => {
    const { path, env } = await hostsFile('127.0.0.1 localhost\n');
    const results = await Promise.all([0, 1, 2, 3].map((i) => labctl(['hosts', 'add', '--login', 'same', '--ip', lab(i).ip, '--name', lab(i).name], { env })));
    expect(results.map((r) => r.exitCode).sort()).toEqual([0, 4, 4, 4]);
    expect((await readFile(path, 'utf8')).match(/same\.42\.fr/g)).toHaveLength(1);
  });

  it(`a ~10 MB file: ${BIG_PARALLEL} parallel adds, ${BIG_ROUNDS} rounds, lose nothing`, async () => {
    const original = `127.0.0.1 localhost\n${'10.1.2.3 padding-host-name-to-make-a-big-file.example\n'.repeat(BIG_LINES)}`;
    const { dir, path, env } = await hostsFile(original);
    expect((await stat(path)).size).toBeGreaterThan(9_000_000);
    for (let round = 0; round < BIG_ROUNDS; round++) {
      const ids = [...Array(BIG_PARALLEL).keys()].map((i) => i + round * BIG_PARALLEL);
      const started = Date.now();
      expectAllOk(await Promise.all(ids.map((i) => add(i, env))));
      const text = await readFile(path, 'utf8');
      expect(text.startsWith(original)).toBe(true);
      for (const i of ids) expect(text).toContain(`${lab(i).ip} ${lab(i).login}.42.fr\n`);
      expectAllOk(await Promise.all(ids.map((i) => remove(i, env))));
      expect(await readFile(path, 'utf8')).toBe(original);
      console.log(`10 MB round ${round}: ${BIG_PARALLEL} adds + removes in ${Date.now() - started} ms`);
    }
    expect(await readdir(dir)).toEqual(['hosts']);
  });
});

describe('a real hosts file keeps its identity', () => {
  it('a symlinked hosts file stays a link, and its target is edited', async () => {
    const { dir, path } = await hostsFile('127.0.0.1 localhost\n');
    const linkPath = join(dir, 'hosts-link');
    await symlink('hosts', linkPath);
    const env = { LABCTL_HOSTS_FILE: linkPath, LABCTL_HOME: join(dir, 'home') };
    expectAllOk([await add(1, env)]);
    expect(await readlink(linkPath)).toBe('hosts');
    expect(await readFile(path, 'utf8')).toContain('192.168.56.11 user1.42.fr');
    expectAllOk([await remove(1, env)]);
    expect(await readFile(path, 'utf8')).toBe('127.0.0.1 localhost\n');
    // The lock and the journal live beside the real file, and are gone.
    expect((await readdir(dir)).sort()).toEqual(['hosts', 'hosts-link']);
  });

  it('a hard-linked hosts file: both names see the change (same inode)', async () => {
    const { dir, path, env } = await hostsFile('127.0.0.1 localhost\n');
    const other = join(dir, 'hosts-hardlink');
    await link(path, other);
    const inode = (await stat(path)).ino;
    expectAllOk([await add(2, env)]);
    expect((await stat(path)).ino).toBe(inode);
    expect(await readFile(other, 'utf8')).toContain('192.168.56.12 user2.42.fr');
    expect((await stat(other)).nlink).toBe(2);
  });

  it('mode, owner and xattrs survive an add and a remove', async () => {
    const { path, env } = await hostsFile('127.0.0.1 localhost\n');
    await chmod(path, 0o640);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) await chown(path, 1234, 1234);
    else console.log('not root: owner row skipped (cannot chown to another user)');
    const setfattr = await promisify(execFile)('sh', ['-c', 'command -v setfattr']).then(() => true, () => false);
    if (setfattr) await execa('setfattr', ['-n', 'user.test', '-v', '1', path]);
    else console.log('setfattr not installed (Debian package attr): xattr row skipped');
    expectAllOk([await add(3, env)]);
    expectAllOk([await remove(3, env)]);
    const info = await stat(path);
    expect(info.mode & 0o7777).toBe(0o640);
    if (asRoot) expect([info.uid, info.gid]).toEqual([1234, 1234]);
    if (setfattr) expect((await execa('getfattr', ['--only-values', '-n', 'user.test', path])).stdout).toBe('1');
    expect(await readFile(path, 'utf8')).toBe('127.0.0.1 localhost\n');
  });

  it('a missing file: remove is a no-op, add names the path; a directory is named as such', async () => {
    const dir = await tempDir('labctl-hosts-conc-');
    const env = { LABCTL_HOSTS_FILE: join(dir, 'absent'), LABCTL_HOME: join(dir, 'home') };
    const removed = await remove(4, env);
    expect(removed.exitCode).toBe(0);
    const added = await add(4, env);
    expect(added.exitCode).toBe(5);
    expect(added.stderr).toContain(`hosts file ${join(dir, 'absent')} does not exist`);
    const asDir = await add(4, { ...env, LABCTL_HOSTS_FILE: dir });
    expect(asDir.exitCode).toBe(5);
    expect(asDir.stderr).toContain(`hosts file ${dir} is a directory`);
    expect(asDir.stderr).toContain('point LABCTL_HOSTS_FILE at a file');
    expect(asDir.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it('the orphan BEGIN of the issue: add and remove refuse, and nas.local stays', async () => {
    const original = '127.0.0.1 localhost\n# BEGIN labctl inception\n192.168.1.5 nas.local\n';
    const { path, env } = await hostsFile(original);
    const added = await labctl(['hosts', 'add', '--login', 'x', '--ip', '192.168.56.11', '--name', 'inception'], { env });
    const removed = await labctl(['hosts', 'remove', '--login', 'x', '--name', 'inception'], { env });
    for (const r of [added, removed]) {
      expect(r.exitCode).toBe(4);
      expect(r.stderr).toContain(`${path}:2: \`# BEGIN labctl inception\` has no matching \`# END labctl inception\``);
    }
    expect(await readFile(path, 'utf8')).toBe(original);
  });
});
