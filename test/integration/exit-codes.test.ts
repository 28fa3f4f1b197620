import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../core/errors.js';
import { CLI, labctl } from '../helpers/cli.js';
import { writeFakeTools } from '../helpers/fake-tools.js';
import { tempDir } from '../helpers/temp.js';

// docs/users.md's exit-code table is core/errors.ts's ExitCode: each code is provoked here through
// the built binary. 7 (a command in the VM failed) and 8 (a bounded wait ran out) need a guest;
// test/integration/provision.test.ts provokes their error classes against a real sshd.

let bin: string;
let root: string;
let env: Record<string, string>;

beforeAll(async () => {
  root = await tempDir('labctl-exit-');
  bin = await writeFakeTools(root);
  await writeFile(join(root, 'hosts'), '127.0.0.1 localhost\n');
  env = { LABCTL_HOME: join(root, 'home'), LABCTL_HOSTS_FILE: join(root, 'hosts'), FAKE_LOG: join(root, 'fake.log'), LIBVIRT_DEFAULT_URI: '' };
});

const withFakes = () => ({ ...env, PATH: `${bin}:${process.env.PATH ?? ''}` });

describe('every exit code of docs/users.md, provoked', () => {
  it('documents exactly the codes the code uses', async () => {
    const doc = await readFile(join(import.meta.dirname, '..', '..', 'docs', 'users.md'), 'utf8');
    const table = doc.slice(doc.indexOf('## Exit codes'));
    const documented = [...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    expect(documented.sort((a, b) => a - b)).toEqual(Object.values(ExitCode).sort((a, b) => a - b));
  });

  it('0 ok', async () => expect((await labctl(['--version'])).exitCode).toBe(ExitCode.ok));

  it('1 check failed', async () => {
    const p = join(root, 'proj');
    await mkdir(join(p, 'srcs'), { recursive: true });
    await writeFile(join(p, 'Makefile'), 'all:\n\ttrue\n');
    await writeFile(join(p, 'srcs', 'docker-compose.yml'), 'services: {}\n');
    expect((await labctl(['check', '--static', p])).exitCode).toBe(ExitCode.checkFailed);
  });

  it('2 usage', async () => expect((await labctl(['create', '--no-such-flag'])).exitCode).toBe(ExitCode.usage));
  it('3 config', async () => expect((await labctl(['render', '--login', 'John'])).exitCode).toBe(ExitCode.config));

  it('4 conflict', async () => {
    const home = await tempDir('labctl-exit-home-');
    const e = { ...withFakes(), LABCTL_HOME: home };
    expect((await labctl(['create', 'one', '--login', 'jdoe', '--provider', 'libvirt', '--no-provision', '--no-hosts', '--yes'], { env: e })).exitCode).toBe(ExitCode.ok);
    expect((await labctl(['create', 'two', '--login', 'jdoe2', '--provider', 'libvirt', '--no-provision', '--no-hosts', '--yes'], { env: e })).exitCode).toBe(ExitCode.conflict);
  });

  it('5 not found', async () => expect((await labctl(['status', 'nosuchlab'], { env })).exitCode).toBe(ExitCode.notFound));

  it('6 external tool failed', async () => {
    const r = await labctl(['create', '--login', 'jdoe', '--provider', 'libvirt', '--no-hosts', '--yes'], { env: { ...withFakes(), LABCTL_HOME: await tempDir('labctl-exit-home-'), FAKE_VAGRANT_UP: 'fail' } });
    expect(r.exitCode).toBe(ExitCode.external);
  });

  it('70 internal: a labctl bug is never mistaken for a failed grade', async () => {
    // A bug cannot be caused on purpose in correct code: this preload makes readdir throw a
    // TypeError (as a bug would) before labctl lists its labs.
    const preload = join(root, 'bug.mjs');
    await writeFile(preload, "import fs from 'node:fs'; fs.promises.readdir = async () => { throw new TypeError('simulated bug'); };\n");
    const r = await runCli(['status'], { NODE_OPTIONS: `--import ${preload}` });
    expect(r.code).toBe(ExitCode.internal);
    expect(r.stderr).toMatch(/^labctl: internal error: simulated bug\n {2}\(run again with --verbose for details, and please report it\)/);
  });

  it('130 interrupted: Ctrl-C during vagrant up reaches vagrant, which cleans up; labctl says what next', async () => {
    const home = await tempDir('labctl-exit-home-');
    const log = join(home, 'fake.log');
    const child = spawn(process.execPath, [CLI, 'create', '--login', 'jdoe', '--provider', 'libvirt', '--no-hosts', '--yes'], {
      env: { ...process.env, ...withFakes(), LABCTL_HOME: join(home, 'labs'), FAKE_LOG: log, FAKE_VAGRANT_UP: 'hang' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Wait (bounded) until the fake vagrant is running, then interrupt labctl only, as a
    // terminal does for a background process group: labctl must forward the signal itself.
    for (let i = 0; i < 200 && !(existsSync(log) && (await readFile(log, 'utf8')).includes('vagrant up')); i++) await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    expect(code).toBe(ExitCode.aborted);
    expect(Date.now() - started).toBeLessThan(10_000);
    const calls = await readFile(log, 'utf8');
    expect(calls).toContain('vagrant got INT');
    expect(calls).not.toContain('vagrant ssh-config');
    expect(stderr).toMatch(/labctl: interrupted while starting the VM of lab "inception"\n {2}fix: `labctl create inception --login jdoe` resumes it, `labctl destroy inception` removes it/);
  });

  it('130 interrupted: SIGTERM while nothing long runs ends labctl at once', async () => {
    const preload = join(root, 'stall.mjs');
    // Keeps labctl busy in a file read that no abort reaches, as a slow disk would.
    await writeFile(preload, "import fs from 'node:fs'; const real = fs.promises.readdir; fs.promises.readdir = async (...a) => { await new Promise((r) => setTimeout(r, 30000)); return real(...a); };\n");
    const child = spawn(process.execPath, [CLI, 'status'], { env: { ...process.env, ...env, NODE_OPTIONS: `--import ${preload}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 1500));
    const started = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(ExitCode.aborted);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

function runCli(args: string[], extraEnv: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}
