import { mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../adapters/run.js';
import { withPushedCopy, type GuestRun, type PushedCopy } from '../../check/pushed-copy.js';
import { checkStatic } from '../../check/static.js';
import { tempDir } from '../helpers/temp.js';

// The guest side of withPushedCopy is a shell command; here it runs in this host's bash and tar
// (the same GNU tools as the Debian guest), without SSH in between.
const localGuest: GuestRun = async (argv, opts = {}) => {
  const r = await run(argv[0] ?? '', argv.slice(1), { okCodes: opts.okCodes ?? [0] });
  return { stdout: r.stdout, code: r.code };
};

describe('the project as pushed to the VM, copied back for the static rules', () => {
  it('brings every file but the contents of secrets/ and .git, keeps a link as a link, and removes the copy afterwards', async () => {
    const guest = await tempDir('labctl-guest-project-');
    const labDir = await tempDir('labctl-lab-');
    await mkdir(join(guest, 'srcs', 'requirements', 'nginx'), { recursive: true });
    await mkdir(join(guest, 'secrets'));
    await mkdir(join(guest, '.git'));
    await writeFile(join(guest, 'Makefile'), 'all:\n');
    await writeFile(join(guest, 'srcs', '.env'), 'LOGIN=someone\n');
    await writeFile(join(guest, 'srcs', 'requirements', 'nginx', 'Dockerfile'), 'FROM debian:bookworm\n');
    await writeFile(join(guest, 'secrets', 'db_root_pw'), 'never-leaves-the-vm\n');
    await writeFile(join(guest, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    await symlink('/etc/passwd', join(guest, 'srcs', 'outside'));
    let seen: PushedCopy | undefined;
    let files: string[] = [];
    let link = '';
    await withPushedCopy(localGuest, guest, labDir, async (copy) => {
      seen = copy;
      if (!('dir' in copy)) return;
      files = (await readdir(copy.dir, { recursive: true })).sort();
      link = await readlink(join(copy.dir, 'srcs', 'outside'));
      expect(await readFile(join(copy.dir, 'srcs', '.env'), 'utf8')).toBe('LOGIN=someone\n');
    });
    expect(seen).toHaveProperty('dir');
    expect(files).toEqual(['Makefile', 'secrets', 'srcs', 'srcs/.env', 'srcs/outside', 'srcs/requirements', 'srcs/requirements/nginx', 'srcs/requirements/nginx/Dockerfile']);
    expect(link).toBe('/etc/passwd');
    expect(await readdir(labDir)).toEqual([]);
  });

  it('says why there is no copy when the VM has no project yet', async () => {
    const labDir = await tempDir('labctl-lab-');
    const copy = await withPushedCopy(localGuest, join(labDir, 'missing'), labDir, async (c) => c);
    expect(copy).toEqual({ unavailable: `${join(labDir, 'missing')} does not exist in the VM (nothing deployed yet)` });
  });

  it('grades the copy but asks the host checkout what git tracks (gitDir)', async () => {
    const host = await tempDir('labctl-host-project-');
    await mkdir(join(host, 'srcs'), { recursive: true });
    await writeFile(join(host, 'srcs', '.env'), 'LOGIN=x\n');
    await run('git', ['-C', host, 'init', '-q']);
    await run('git', ['-C', host, 'add', 'srcs/.env']);
    const copy = await tempDir('labctl-copy-');
    const byCopy = (await checkStatic(copy)).find((r) => r.id === 'M12.secrets-untracked');
    const byHost = (await checkStatic(copy, { gitDir: host })).find((r) => r.id === 'M12.secrets-untracked');
    expect(byCopy?.verdict).toBe('skip');
    expect(byHost).toMatchObject({ verdict: 'fail', reason: '1 secret file(s) tracked by git' });
  });
});
