import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp.js';

// The README's set-up, followed literally by a new user: `npm link` puts `labctl` on PATH (here
// into a private npm prefix, so the machine's own global folder is never touched), and then the
// commands the README and docs show run as printed, from any directory, not only the clone.

const ROOT = resolve(import.meta.dirname, '..', '..');
let bin: string;
let env: Record<string, string>;

beforeAll(async () => {
  const prefix = await tempDir('labctl-prefix-');
  const home = await tempDir('labctl-newcomer-');
  await writeFile(join(home, 'hosts'), '127.0.0.1 localhost\n');
  // --ignore-scripts: `npm test` has built dist/ already; the link only makes the command.
  await execa('npm', ['link', '--no-audit', '--no-fund', '--offline', '--ignore-scripts'], { cwd: ROOT, env: { npm_config_prefix: prefix } });
  bin = join(prefix, 'bin');
  env = { PATH: `${bin}:${process.env.PATH ?? ''}`, LABCTL_HOME: join(home, 'labs'), LABCTL_HOSTS_FILE: join(home, 'hosts'), LABCTL_LOGIN: '', LABCTL_PROVIDER: '' };
}, 120_000);

async function run(line: string, cwd: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  // Run through the user's shell, exactly as a line of the README would be typed.
  const r = await execa('sh', ['-c', line], { cwd, env, reject: false, timeout: 60_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe('the README, followed literally', () => {
  it('its set-up uses `npm link`, and `labctl` is then on PATH from anywhere', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('npm install && npm link && labctl create --login jdoe');
    const outside = await tempDir('labctl-elsewhere-');
    const r = await run('labctl --version', outside);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.each([
    ['labctl --help', 0, /labctl create/],
    ['labctl status', 0, /No labs yet/],
    ['labctl list', 0, /No labs yet/],
    ['labctl doctor --json > /dev/null; test $? -le 1', 0, /^$/],
    ['labctl render --login jdoe --provider libvirt', 0, /jdoe\.42\.fr/],
    ['labctl check --static compose', 0, /passed, 0 failed/],
    ['labctl completion', 0, /_labctl_yargs_completions/],
    ['labctl create --help', 0, /Examples:/],
    ['labctl destroy --help', 0, /--force/],
  ] as const)('%s', async (line, code, out) => {
    // From the clone, since `labctl check --static compose` names the clone's own project.
    const r = await run(line, ROOT);
    expect(r.exitCode, r.stderr).toBe(code);
    expect(r.stdout).toMatch(out);
  });

  it('the completion script completes the command word as `labctl`', async () => {
    const r = await run('labctl --get-yargs-completions labctl sta', ROOT);
    expect(r.stdout.split('\n')).toContain('status');
  });
});
