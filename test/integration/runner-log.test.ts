import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../adapters/run.js';
import { AbortedError, ExternalCommandError, TimeoutError } from '../../core/errors.js';
import { labLog } from '../../core/lab-log.js';
import { labctl } from '../helpers/cli.js';
import { writeFakeTools } from '../helpers/fake-tools.js';
import { tempDir } from '../helpers/temp.js';

// Issue 14, "one runner": host programs answer `{ code, stdout, stderr }`, accept `okCodes`, stop
// on `timeoutMs` and `signal` with the typed errors, and leave one line per call in the log. The
// first part runs real programs (sh, sleep); the second runs the built CLI against the fake
// vagrant of test/helpers/fake-tools.ts, since a real one needs a hypervisor.

const FAILING = ['-c', 'echo out; echo err >&2; exit 3'];

/** The log's lines without their timestamps. */
async function logLines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^\S+ /, ''));
}

describe('adapters/run.ts with real programs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('labctl-runner-');
  });

  it('an accepted exit code is a result: { code, stdout, stderr }, one log line, no output in it', async () => {
    const log = join(dir, 'accepted.log');
    const r = await run('sh', FAILING, { okCodes: [0, 3], log: labLog(log) });
    expect(r).toEqual({ code: 3, stdout: 'out', stderr: 'err' });
    const lines = await logLines(log);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^sh -c 'echo out; echo err >&2; exit 3' → exit 3 in \d+ ms$/);
  });

  it('any other exit code is an ExternalCommandError; the log gets the line and stderr, never stdout', async () => {
    const log = join(dir, 'failed.log');
    const error = await run('sh', FAILING, { log: labLog(log) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalCommandError);
    expect((error as ExternalCommandError).code).toBe(3);
    expect((error as ExternalCommandError).command).toEqual(['sh', ...FAILING]);
    const lines = await logLines(log);
    expect(lines[0]).toMatch(/ → exit 3 in \d+ ms$/);
    expect(lines.slice(1)).toEqual(['  err']);
    expect(lines.join('\n')).not.toMatch(/^\s*out$/m);
  });

  it('stdin is never logged', async () => {
    const log = join(dir, 'stdin.log');
    const r = await run('cat', [], { input: 'not-for-the-log', log: labLog(log) });
    expect(r.stdout).toBe('not-for-the-log');
    expect(await readFile(log, 'utf8')).not.toContain('not-for-the-log');
  });

  it('timeoutMs stops `sleep 30` with a TimeoutError, logged as timed out', async () => {
    const log = join(dir, 'timeout.log');
    const started = Date.now();
    const error = await run('sleep', ['30'], { timeoutMs: 500, log: labLog(log) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await logLines(log)).toEqual([expect.stringMatching(/^sleep 30 → timed out after \d+ ms$/)]);
  });

  it('an abort stops `sleep 30` with an AbortedError, logged as aborted', async () => {
    const log = join(dir, 'abort.log');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    const error = await run('sleep', ['30'], { signal: controller.signal, log: labLog(log) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await logLines(log)).toEqual([expect.stringMatching(/^sleep 30 → aborted after \d+ ms$/)]);
  });

  it('an abort reaches a process group too (as for vagrant), and a signal aborted before the start stops at once', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    await expect(run('sh', ['-c', 'sleep 30'], { processGroup: true, interruptGraceMs: 2_000, signal: controller.signal })).rejects.toBeInstanceOf(AbortedError);
    await expect(run('sleep', ['30'], { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('logOutput copies the output lines under a `$ argv` line (vagrant lifecycle commands)', async () => {
    const log = join(dir, 'output.log');
    await run('sh', ['-c', 'echo progress'], { log: labLog(log), logOutput: true });
    expect(await logLines(log)).toEqual(["$ sh -c 'echo progress'", '  progress', expect.stringMatching(/^sh -c 'echo progress' → exit 0 in \d+ ms$/)]);
  });
});

describe('the built CLI logs every vagrant call of every command in the lab log', () => {
  let env: Record<string, string>;
  let home: string;

  beforeAll(async () => {
    const root = await tempDir('labctl-runner-cli-');
    const bin = await writeFakeTools(root);
    home = join(root, 'home');
    await writeFile(join(root, 'hosts'), '127.0.0.1 localhost\n');
    env = { LABCTL_HOME: home, LABCTL_HOSTS_FILE: join(root, 'hosts'), LIBVIRT_DEFAULT_URI: '', PATH: `${bin}:${process.env.PATH ?? ''}` };
    const created = await labctl(['create', 'one', '--login', 'jdoe', '--provider', 'libvirt', '--no-provision', '--no-hosts', '--yes'], { env });
    expect(created.exitCode, created.stderr).toBe(0);
  });

  const lab = () => join(home, 'one');
  const vagrantLines = async () => (await logLines(join(lab(), 'labctl.log'))).filter((l) => /^vagrant .* → /.test(l));

  /** Runs a command and returns the vagrant lines it added to the lab log. */
  async function linesOf(args: string[]): Promise<{ lines: string[]; exitCode: number; stderr: string }> {
    const before = (await vagrantLines()).length;
    const r = await labctl(args, { env });
    return { lines: (await vagrantLines()).slice(before), exitCode: r.exitCode, stderr: r.stderr };
  }

  async function statusWith(extra: Record<string, string>): Promise<{ lines: string[]; exitCode: number; stdout: string }> {
    const before = (await vagrantLines()).length;
    const r = await labctl(['status', 'one', '--json'], { env: { ...env, ...extra } });
    return { lines: (await vagrantLines()).slice(before), exitCode: r.exitCode, stdout: r.stdout };
  }

  it('create: vagrant up, then the SSH target asked once; its steps are logged', async () => {
    const lines = await vagrantLines();
    expect(lines.filter((l) => l.startsWith('vagrant ssh-config'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('vagrant up'))).toHaveLength(1);
    const text = await readFile(join(lab(), 'labctl.log'), 'utf8');
    expect(text).toMatch(/create one: step "vagrant up": ran in \d+ ms/);
    expect(text).toMatch(/create one: step "provisioning": skipped \(--no-provision\)/);
  });

  it('up: vagrant up and vagrant ssh-config', async () => {
    // The fake's ssh-config names a key that does not exist: up stops before the stack wait,
    // after both vagrant calls.
    const { lines, stderr } = await linesOf(['up', 'one']);
    expect(lines, stderr).toEqual([
      expect.stringMatching(/^vagrant up --provider libvirt --no-provision → exit 0 in \d+ ms$/),
      expect.stringMatching(/^vagrant ssh-config → exit 0 in \d+ ms$/),
    ]);
  });

  it('status: vagrant status when virsh cannot tell, and no ssh-config (the cached one is used), exit 0', async () => {
    // The fake virsh knows no domain: the state falls back to vagrant (adapters/provider-state.ts).
    const { lines, exitCode, stderr } = await linesOf(['status', 'one']);
    expect(exitCode, stderr).toBe(0);
    expect(lines).toContainEqual(expect.stringMatching(/^vagrant status --machine-readable → exit 0 in \d+ ms$/));
    expect(lines.filter((l) => l.startsWith('vagrant ssh-config'))).toEqual([]);
    const text = await readFile(join(lab(), 'labctl.log'), 'utf8');
    expect(text).toMatch(/^\S+ virsh -c qemu:\/\/\/system domstate fake-\d+ → exit \d+ in \d+ ms$/m);
  });

  it('status: the state straight from virsh when it answers, without vagrant', async () => {
    // A fake virsh stands in for a libvirt domain: no libvirtd runs in the tests.
    const { lines, exitCode, stdout } = await statusWith({ FAKE_VIRSH_DOMSTATE: 'shut off' });
    expect(exitCode).toBe(0);
    expect(lines).toEqual([]);
    expect(JSON.parse(stdout)).toMatchObject([{ name: 'one', state: 'stopped', vm: 'shutoff' }]);
  });

  it('halt: vagrant status, then vagrant halt', async () => {
    const { lines, exitCode, stderr } = await linesOf(['halt', 'one']);
    expect(exitCode, stderr).toBe(0);
    expect(lines).toContainEqual(expect.stringMatching(/^vagrant status --machine-readable → exit 0 in \d+ ms$/));
    expect(lines.at(-1)).toMatch(/^vagrant halt → exit 0 in \d+ ms$/);
  });

  it('the output of a successful query is not logged (vagrant status, ssh-config)', async () => {
    const text = await readFile(join(lab(), 'labctl.log'), 'utf8');
    expect(text).not.toContain('default,state,');
    expect(text).not.toContain('IdentityFile');
  });

  it('destroy --yes: the lab directory goes, and its log does not bring it back', async () => {
    const r = await labctl(['destroy', 'one', '--yes'], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(lab())).toBe(false);
    // The lab's log is kept, destroy's own vagrant call in it.
    const kept = await readFile(join(home, 'destroyed.log'), 'utf8');
    expect(kept).toMatch(/^=== lab one destroyed /m);
    expect(kept).toMatch(/^\S+ vagrant destroy .*→ exit 0/m);
  });
});
