import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix, relative, sep } from 'node:path';
import { PassThrough } from 'node:stream';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabConfig } from '../../core/config.js';
import { targetLabConfig } from '../helpers/lab-config.js';
import { guestPaths } from '../../core/guest-paths.js';
import { packageRoot, labPaths, type LabPaths } from '../../core/paths.js';
import { ensureSecrets } from '../../core/secrets.js';
import { composePs, parseComposePs, waitUntilReady } from '../../adapters/compose.js';
import { TimeoutError } from '../../core/errors.js';
import { connect, remoteExec } from '../../adapters/guest.js';
import { runProvisioning, type ProvisionReport } from '../../provision/index.js';
import { readDeployRecord } from '../../core/deploy-record.js';
import { writeLab } from '../../core/state.js';
import { deployLab, validateMakeTarget, watchAndDeploy } from '../../usecases/deploy.js';
import { DEPLOY_STEPS, PROVISION_STEPS } from '../../provision/steps.js';
import type { DockerdHandle } from '../helpers/dockerd.js';
import { startBookwormTarget, type SshTargetHandle } from '../helpers/ssh-target.js';

// A student's own Inception project (LabConfig.project) provisioned over SSH into the same
// sshd + Docker-in-Docker target as provision.test.ts (see there for what the container cannot do
// like a VM). The project is test/fixtures/tiny-other: srcs/compose.yaml, a service named front,
// no container names, and a Makefile whose default goal makes its own secrets/ and srcs/.env.
// labctl must push the project's files as git sees them, leave secrets/ and srcs/.env to that
// make, and find the stack through compose's own file discovery in <project>/srcs.

const LOGIN = 'jdoe';
const HOST_CANARY = 'host-only-canary-must-not-be-pushed';
const FIXTURE = join(packageRoot(), 'test', 'fixtures', 'tiny-other');
const MAKE_TITLE = 'Build and start the stack (make)';
/** A make with nothing to build: compose rebuilds from its layer cache and finds front up. */
const QUICK_MAKE_MS = 60_000;
/** Sorted: compose lists independent services in no fixed order. */
const BOTH_HEALTHY = [
  { name: 'back', state: 'running', health: 'healthy' },
  { name: 'front', state: 'running', health: 'healthy' },
];

function labConfig(project: string): LabConfig {
  return targetLabConfig({ name: 'itest-own', login: LOGIN, project });
}

/** Every regular file under dir, as POSIX paths relative to it, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (d.isFile()) out.push(relative(dir, join(d.parentPath, d.name)).split(sep).join(posix.sep));
  }
  return out.sort();
}

describe("provisioning a student's own project (sshd + Docker-in-Docker target)", () => {
  let dockerd: DockerdHandle;
  let target: SshTargetHandle;
  let home: string;
  let paths: LabPaths;
  let project: string;
  const guest = guestPaths(LOGIN);

  function run(): Promise<ProvisionReport> {
    const output = new PassThrough();
    output.resume();
    return runProvisioning({ config: labConfig(project), paths, ssh: target.target, renderer: 'simple', composeDir: project, output });
  }

  async function guestFile(path: string): Promise<string> {
    const r = await target.exec(['cat', `${guest.project}/${path}`]);
    expect(r.exitCode, `${guest.project}/${path} should exist in the guest`).toBe(0);
    return r.stdout;
  }

  beforeAll(async () => {
    ({ dockerd, target } = await startBookwormTarget('own-project'));
    home = await mkdtemp(join(tmpdir(), 'labctl-own-project-'));
    paths = labPaths('itest-own', { LABCTL_HOME: home });
    // create makes the lab's own secrets before provisioning; with a project they must go unused.
    await ensureSecrets(paths.secrets);
    project = join(home, 'project');
    await cp(FIXTURE, project, { recursive: true });
    // A student's project is a git checkout: the push follows git, and the canaries below are
    // untracked files that the project's .gitignore keeps out.
    const git = (args: string[]) => execa('git', ['-C', project, '-c', 'user.name=labctl test', '-c', 'user.email=labctl-test@example.invalid', ...args]);
    await git(['init', '-q']);
    await git(['add', '.']);
    await git(['commit', '-q', '-m', 'fixture']);
    // What the student made on their own machine by running make there: never for the guest.
    await mkdir(join(project, 'secrets'), { recursive: true });
    await writeFile(join(project, 'secrets', 'app_pw'), `${HOST_CANARY}\n`);
    await writeFile(join(project, 'srcs', '.env'), `LOGIN=${HOST_CANARY}\nFRONT_PORT=8080\n`);
  }, 1_800_000);

  afterAll(async () => {
    await target?.stop();
    if (home) await rm(home, { recursive: true, force: true });
    await dockerd?.stop();
  });

  it("first run pushes the project, leaves secrets/ and srcs/.env to the project's make, and brings front up healthy", async () => {
    const report = await run();
    expect(report.steps.map((s) => s.title)).toEqual(PROVISION_STEPS.map((s) => s.title));
    for (const s of report.steps) {
      expect(['ran', 'skipped']).toContain(s.status);
      if (s.status === 'skipped') expect(s.reason, `reason for skipping "${s.title}"`).toBeTruthy();
    }
    const writeSecrets = report.steps.find((s) => /secrets/i.test(s.title));
    expect(writeSecrets).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/own/) });
    expect(report.steps.find((s) => s.title === MAKE_TITLE)?.status).toBe('ran');

    // Every fixture file arrives byte for byte (the .md too: nothing is substituted in a student's project).
    // Compared by hash: execa drops the final newline of what `cat` prints.
    for (const path of await filesUnder(FIXTURE)) {
      const hash = createHash('sha256').update(await readFile(join(FIXTURE, path))).digest('hex');
      expect((await target.exec(['sha256sum', '--', `${guest.project}/${path}`])).stdout.split(' ')[0], path).toBe(hash);
    }
    expect((await target.exec(['test', '-x', `${guest.project}/scripts/write-env.sh`])).exitCode).toBe(0);

    // secrets/ and srcs/.env are what the project's make generated in the guest.
    expect((await guestFile('secrets/app_pw')).trim()).toMatch(/^[0-9a-f]{48}$/);
    const env = await guestFile('srcs/.env');
    expect(env).toContain(`LOGIN=${LOGIN}\n`);
    expect(env).not.toContain(HOST_CANARY);
    expect((await target.exec(['grep', '-rl', HOST_CANARY, guest.project])).stdout).toBe('');
    // None of labctl's own secrets were written into the project either.
    expect((await target.exec(['ls', '-A', `${guest.project}/secrets`])).stdout.trim().split('\n')).toEqual(['app_pw']);

    expect((await target.exec(['test', '-d', guest.data])).exitCode).toBe(0);
    // front writes this only after reading its secret: the volume, the secret and LOGIN all arrived.
    expect((await target.exec(['cat', `${guest.data}/app/ready`])).stdout).toBe(`${LOGIN} secret-bytes=48`);

    const conn = await connect(target.target);
    try {
      // Compose asked directly, with its own file discovery in <project>/srcs: the ground truth.
      const ps = await remoteExec(conn, ['docker', 'compose', 'ps', '--all', '--format', 'json'], { sudo: true, cwd: `${guest.project}/srcs` });
      expect(parseComposePs(ps.stdout).sort((a, b) => a.Service.localeCompare(b.Service))).toEqual([
        { Service: 'back', State: 'running', Health: 'healthy' },
        { Service: 'front', State: 'running', Health: 'healthy' },
      ]);
      // And as labctl's status and health wait see it.
      expect((await composePs(conn, labConfig(project))).sort((a, b) => a.name.localeCompare(b.name))).toEqual(BOTH_HEALTHY);
    } finally {
      conn.dispose();
    }
  }, 600_000);

  it('second run is idempotent: only the SSH wait (and at most a quick make) runs, the generated secrets stay', async () => {
    const before = (await target.exec(['sha256sum', `${guest.project}/secrets/app_pw`, `${guest.project}/srcs/.env`])).stdout;
    const report = await run();
    const ran = report.steps.filter((s) => s.status === 'ran');
    expect(ran.map((s) => s.title).filter((t) => t !== MAKE_TITLE)).toEqual(['Wait for SSH']);
    for (const s of ran) if (s.title === MAKE_TITLE) expect(s.ms).toBeLessThan(QUICK_MAKE_MS);
    for (const s of report.steps.filter((s) => s.status === 'skipped')) expect(s.reason, `reason for skipping "${s.title}"`).toBeTruthy();
    expect((await target.exec(['sha256sum', `${guest.project}/secrets/app_pw`, `${guest.project}/srcs/.env`])).stdout).toBe(before);
    const conn = await connect(target.target);
    try {
      expect((await composePs(conn, labConfig(project))).sort((a, b) => a.name.localeCompare(b.name))).toEqual(BOTH_HEALTHY);
    } finally {
      conn.dispose();
    }
  }, 600_000);

  // labctl deploy on the same guest: the lab as create leaves it (lab.json, cached ssh-config).
  describe('labctl deploy', () => {
    const env = () => ({ LABCTL_HOME: home });
    const quiet = { info: () => {}, warn: () => {}, streamTools: false };
    // No probe: the lab IP of this config is not an address this test may touch.
    const deploy = (target?: string) => deployLab('itest-own', { renderer: 'simple', reporter: quiet, probe: false, ...(target ? { target } : {}) }, env());
    const containerId = async (service: string) => (await target.exec(['sh', '-c', 'cd "$1" && docker compose ps -q "$2"', 'sh', `${guest.project}/srcs`, service])).stdout.trim();

    beforeAll(async () => {
      await writeLab(labConfig(project), '# not used: deploy reads the cached ssh-config\n', env());
      const { host, port, username, privateKeyPath } = target.target;
      await writeFile(paths.sshConfig, [`Host default`, `  HostName ${host}`, `  Port ${port}`, `  User ${username}`, `  IdentityFile ${privateKeyPath}`, ''].join('\n'), { mode: 0o600 });
    });

    it('with nothing changed pushes nothing and skips make, in seconds', async () => {
      const summary = await deploy();
      expect(summary.pushed).toEqual({ uploaded: [], removed: [] });
      expect(summary.steps.find((s) => s.title === MAKE_TITLE)).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/nothing changed/) });
      expect(summary.steps.map((s) => s.title)).not.toContain('Install Docker Engine, Compose v2 and build tools');
      expect(summary.totalMs).toBeLessThan(30_000);
    }, 120_000);

    it('after a one-file edit pushes that file, rebuilds and recreates only its service, and records the deploy', async () => {
      const front = await containerId('front');
      const back = await containerId('back');
      expect(front).not.toBe('');
      const file = join(project, 'srcs', 'back', 'answer.pl');
      await writeFile(file, (await readFile(file, 'utf8')).replace('back revision 1', 'back revision 2'));
      const summary = await deploy();
      expect(summary.pushed).toEqual({ uploaded: ['srcs/back/answer.pl'], removed: [] });
      expect(summary.steps.find((s) => s.title === MAKE_TITLE)?.status).toBe('ran');
      expect(await containerId('front')).toBe(front);
      const newBack = await containerId('back');
      expect(newBack).not.toBe(back);
      const answer = await target.exec(['docker', 'exec', newBack, 'perl', '-MIO::Socket::INET', '-e', 'my $c = IO::Socket::INET->new(q(127.0.0.1:8081)) or die; print scalar <$c>']);
      expect(answer.stdout).toBe('back revision 2');
      const record = await readDeployRecord(paths);
      expect(record).toMatchObject({ uploaded: 1, removed: 0, commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    }, 600_000);

    it('--watch deploys once, then again after a save, and stops on abort (Ctrl-C)', async () => {
      const controller = new AbortController();
      const outcomes: { trigger: string | undefined; uploaded: string[]; error?: string }[] = [];
      let watching = 0;
      const file = join(project, 'srcs', 'back', 'answer.pl');
      const done = watchAndDeploy('itest-own', {
        renderer: 'simple',
        reporter: quiet,
        probe: false,
        signal: controller.signal,
        debounceMs: 200,
        // A failed deploy is recorded, never thrown: the watch reports it and goes on.
        onDeploy: (outcome, trigger) => outcomes.push('error' in outcome ? { trigger, uploaded: [], error: String(outcome.error) } : { trigger, uploaded: outcome.summary.pushed.uploaded }),
        onWatching: () => {
          watching += 1;
        },
      }, env());
      const until = async (what: string, ok: () => boolean) => {
        for (let i = 0; i < 600 && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
        expect(ok(), what).toBe(true);
      };
      await until('the first deploy and the watch start', () => watching >= 1);
      expect(outcomes).toEqual([{ trigger: undefined, uploaded: [] }]);
      await writeFile(file, (await readFile(file, 'utf8')).replace('back revision 2', 'back revision 3'));
      await until('a deploy after the save', () => outcomes.length >= 2);
      expect(outcomes[1]).toEqual({ trigger: 'srcs/back/answer.pl', uploaded: ['srcs/back/answer.pl'] });
      controller.abort();
      await done;
    }, 600_000);

    it('--secrets-dir and --env-file push the host copies byte for byte, 0600, and make runs again with them', async () => {
      const dir = join(home, 'my-secrets');
      await mkdir(dir, { recursive: true });
      const pw = 'pushed-from-the-host-0123456789';
      await writeFile(join(dir, 'app_pw'), pw);
      const envFile = join(home, 'my.env');
      await writeFile(envFile, `LOGIN=${LOGIN}\nFRONT_PORT=8080\n# pushed by labctl\n`);
      const output = new PassThrough();
      output.resume();
      const report = await runProvisioning({ config: { ...labConfig(project), secrets_dir: dir, env_file: envFile }, paths, ssh: target.target, renderer: 'simple', composeDir: project, output, steps: DEPLOY_STEPS });
      expect(report.steps.find((s) => /secrets/i.test(s.title))?.status).toBe('ran');
      expect(report.steps.find((s) => s.title === MAKE_TITLE)?.status).toBe('ran');
      const stat = await target.exec(['stat', '-c', '%a %U', `${guest.project}/secrets/app_pw`, `${guest.project}/srcs/.env`]);
      expect(stat.stdout.split('\n')).toEqual([`600 ${LOGIN}`, `600 ${LOGIN}`]);
      expect((await target.exec(['cat', `${guest.project}/secrets/app_pw`])).stdout).toBe(pw);
      expect(await guestFile('srcs/.env')).toContain('# pushed by labctl');
      // A running container keeps the secret it was started with (compose binds the file and does
      // not recreate a service for a changed secret): the student's `make re` brings the new one.
    }, 600_000);

    it('a service that does not get healthy: the wait times out naming it and quoting its last log line', async () => {
      // back answers with a line its healthcheck rejects, started without make's --wait.
      const inGuest = `${guest.project}/srcs/back/answer.pl`;
      await target.exec(['sed', '-i', 's/back revision [0-9]*/broken revision/', inGuest]);
      const up = await target.exec(['sh', '-c', 'cd "$1" && docker compose up -d --build back 2>&1', 'sh', `${guest.project}/srcs`]);
      expect(up.exitCode, up.stdout).toBe(0);
      const conn = await connect(target.target);
      try {
        const wait = waitUntilReady(conn, labConfig(project), { timeoutMs: 8_000 });
        await expect(wait).rejects.toThrow(TimeoutError);
        await expect(wait).rejects.toThrow(/back's last log line: back: listening on 8081 \(broken revision\)/);
      } finally {
        conn.dispose();
      }
    }, 300_000);

    it('refuses a make goal that is not a name, before anything runs', () => {
      expect(() => validateMakeTarget('all; rm -rf /')).toThrow(/--target/);
      expect(validateMakeTarget('re')).toBe('re');
    });
  });

  // create --project on a lab that ran another project: the old stack must give up its containers,
  // and its .env, secrets and data must not be taken for the new project's (nothing deleted).
  it('switching the lab to another project stops the old stack and moves its folder and data aside', async () => {
    const before = (await target.exec(['docker', 'ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
    expect(before.length).toBeGreaterThan(0);
    const oldSecret = await guestFile('secrets/app_pw');
    const other = join(home, 'another-project');
    await cp(FIXTURE, other, { recursive: true });
    const output = new PassThrough();
    output.resume();
    const report = await runProvisioning({ config: labConfig(other), paths, ssh: target.target, renderer: 'simple', composeDir: other, output, steps: DEPLOY_STEPS });
    expect(report.steps.find((s) => s.title === 'Stop the previous project')?.status).toBe('ran');
    expect(report.steps.find((s) => s.title === MAKE_TITLE)?.status).toBe('ran');
    // None of the old containers is left; the new project's are up.
    const after = (await target.exec(['docker', 'ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
    expect(after.filter((id) => before.includes(id))).toEqual([]);
    const conn = await connect(target.target);
    try {
      expect((await composePs(conn, labConfig(other))).map((s) => `${s.name} ${s.state} ${s.health}`).sort()).toEqual(['back running healthy', 'front running healthy']);
    } finally {
      conn.dispose();
    }
    const moved = (await target.exec(['sh', '-c', `ls -d ${guest.home}/previous-projects/*/inception/Makefile ${guest.home}/previous-projects/*/data`])).stdout.trim().split('\n');
    expect(moved).toHaveLength(2);
    const kept = (await target.exec(['sh', '-c', `cat ${guest.home}/previous-projects/*/inception/secrets/app_pw`])).stdout;
    expect(kept).toBe(oldSecret);
    // The new project's make made its own secret, not the old one's.
    expect(await guestFile('secrets/app_pw')).not.toBe(oldSecret);
    expect((await target.exec(['cat', `${guest.state}/project`])).stdout.trim()).toBe(`project ${other}`);
    // Deploying the same project again stops nothing.
    const again = await runProvisioning({ config: labConfig(other), paths, ssh: target.target, renderer: 'simple', composeDir: other, output, steps: DEPLOY_STEPS });
    expect(again.steps.find((s) => s.title === 'Stop the previous project')).toMatchObject({ status: 'skipped' });
  }, 900_000);
});
