import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../core/errors.js';
import { writeLab } from '../../core/state.js';
import { labctl } from '../helpers/cli.js';
import { writeFakeTools } from '../helpers/fake-tools.js';
import { targetLabConfig } from '../helpers/lab-config.js';
import { tempDir } from '../helpers/temp.js';

// `labctl layers` refusing what it cannot do, through the built binary: one line naming the flag
// or the lab and the fix, the exit code of docs/users.md, and no VM touched when the request is
// wrong. The provider's answer (a stopped VM) comes from the fake vagrant of
// test/helpers/fake-tools.ts: there is no VM on this machine to stop.

describe('labctl layers: bad requests and labs it cannot read', () => {
  let env: Record<string, string>;
  let root: string;
  let fakeLog: string;

  beforeAll(async () => {
    root = await tempDir('labctl-layers-cli-');
    const bin = await writeFakeTools(root);
    fakeLog = join(root, 'fake.log');
    env = { LABCTL_HOME: join(root, 'home'), PATH: `${bin}:${process.env.PATH ?? ''}`, FAKE_LOG: fakeLog };
    await writeLab(targetLabConfig({ name: 'inception', login: 'jdoe' }), '# not used\n', { LABCTL_HOME: env.LABCTL_HOME });
  });

  const calls = async (): Promise<string> => readFile(fakeLog, 'utf8').catch(() => '');

  it('--help teaches: what it shows, the flags, examples', async () => {
    const r = await labctl(['layers', '--help'], { env });
    expect(r.exitCode).toBe(0);
    for (const text of ['--explain', '--measure', '--restart', '--json', '--html', 'Examples:', 'labctl layers --measure', 'restarts adminer or nginx']) expect(r.stdout).toContain(text);
  });

  it.each([
    ['--restart without --measure', ['layers', '--restart', 'nginx'], ExitCode.usage, /^labctl: --restart goes with --measure\n {2}fix: e\.g\. labctl layers --measure --restart nginx$/],
    ['--html without a file', ['layers', '--html', ''], ExitCode.usage, /^labctl: --html needs a file name\n/],
    ['an unknown lab', ['layers', 'nosuch'], ExitCode.notFound, /^labctl: no lab named "nosuch" in /],
    ['--html in a folder that does not exist', ['layers', '--html', '/nonexistent-labctl/x/layers.html'], ExitCode.notFound, /^labctl: --html: the folder \/nonexistent-labctl\/x does not exist\n {2}fix: create it first/],
  ])('%s: one line with the fix, its exit code, the VM untouched', async (_what, argv, code, stderr) => {
    await writeFile(fakeLog, '');
    const r = await labctl(argv, { env });
    expect(r.stderr).toMatch(stderr);
    expect(r.exitCode).toBe(code);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await calls()).toBe('');
  });

  it('--html naming a folder: exit 3, the path named', async () => {
    const folder = join(root, 'reports');
    await mkdir(folder);
    const r = await labctl(['layers', '--html', folder], { env });
    expect(r.stderr).toMatch(new RegExp(`^labctl: --html: ${folder} is a folder\\n {2}fix: name a file inside it`));
    expect(r.exitCode).toBe(ExitCode.config);
  });

  it('a stopped VM: exit 5, its state, and how to start it; nothing run in it', async () => {
    await writeFile(fakeLog, '');
    const r = await labctl(['layers'], { env: { ...env, FAKE_VAGRANT_STATE: 'poweroff' } });
    expect(r.stderr).toMatch(/^labctl: lab "inception" is not running \(VM state: poweroff\): its layers can only be read live\n {2}fix: start it with `labctl up inception`$/);
    expect(r.exitCode).toBe(ExitCode.notFound);
    expect(await calls()).not.toMatch(/ssh|ssh-config/);
  });
});
