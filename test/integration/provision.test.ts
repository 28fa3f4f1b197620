import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabConfig } from '../../core/config.js';
import { targetLabConfig } from '../helpers/lab-config.js';
import { AbortedError, RemoteCommandError, TimeoutError } from '../../core/errors.js';
import { labPaths, type LabPaths } from '../../core/paths.js';
import { SECRET_FILES } from '../../core/secrets.js';
import { writeLab } from '../../core/state.js';
import { composePs, streamComposeLogs } from '../../adapters/compose.js';
import { connect, remoteExec } from '../../adapters/guest.js';
import { runProvisioning, type ProvisionReport } from '../../provision/index.js';
import { probeSite } from '../../provision/probe.js';
import { labctl as labctlCli } from '../helpers/cli.js';
import type { DockerdHandle } from '../helpers/dockerd.js';
import { closedLoopbackPort, startBookwormTarget, TINY_COMPOSE_DIR, type SshTargetHandle } from '../helpers/ssh-target.js';
import { ensureSecrets } from '../../core/secrets.js';

// The provisioning pipeline against a real OpenSSH server in a throwaway Debian 13 container
// (Docker-in-Docker), reached on 127.0.0.1 only. What the container cannot do like a VM:
// - "Install Docker": Docker is preinstalled (starting it needs an init system); the step still
//   runs for real on the first run, because make and openssl are missing and come from apt.
// - The base image: the host's locally built debian:bookworm is loaded into the target, so the
//   base-image step finds it; building it in the guest is proven by provision-fullstack.test.ts.
// - The site probe needs the VM's host-only IP, which tests never contact: it is not requested
//   here, and probeSite itself is tested against a loopback port in provision-fullstack.
// The compose project is a tiny fixture with compose/'s layout and .env/secrets contract.

const LOGIN = 'jdoe';
const HOST_CANARY = 'host-only-canary-must-not-be-pushed';

function labConfig(): LabConfig {
  return targetLabConfig({ name: 'itest', login: LOGIN });
}

describe('provisioning over SSH (sshd + Docker-in-Docker target)', () => {
  let dockerd: DockerdHandle;
  let target: SshTargetHandle;
  let home: string;
  let paths: LabPaths;
  let composeDir: string;
  const captured: string[] = [];

  function run(extra: Partial<Parameters<typeof runProvisioning>[0]> = {}): Promise<ProvisionReport> {
    const output = new PassThrough();
    output.on('data', (chunk: Buffer) => captured.push(chunk.toString()));
    return runProvisioning({ config: labConfig(), paths, ssh: target.target, renderer: 'simple', composeDir, output, ...extra });
  }

  async function secretValues(): Promise<string[]> {
    return Promise.all(SECRET_FILES.map(async (name) => (await readFile(join(paths.secrets, name), 'utf8')).trim()));
  }

  beforeAll(async () => {
    ({ dockerd, target } = await startBookwormTarget('provision'));
    home = await mkdtemp(join(tmpdir(), 'labctl-provision-'));
    paths = labPaths('itest', { LABCTL_HOME: home });
    // create makes a lab's secrets before provisioning reads them; these tests skip create.
    await ensureSecrets(paths.secrets);
    composeDir = join(home, 'compose');
    await cp(TINY_COMPOSE_DIR, composeDir, { recursive: true });
    // A developer's own secrets and .env in the package's compose/ must never reach the guest.
    await mkdir(join(composeDir, 'secrets'), { recursive: true });
    await writeFile(join(composeDir, 'secrets', 'db_password.txt'), `${HOST_CANARY}\n`);
    await writeFile(join(composeDir, 'srcs', '.env'), `LOGIN=${HOST_CANARY}\n`);
  }, 1_800_000);

  afterAll(async () => {
    await target?.stop();
    if (home) await rm(home, { recursive: true, force: true });
    await dockerd?.stop();
  });

  it('fails within the bounded wait, naming the cause and the fix, when nothing listens', async () => {
    const port = await closedLoopbackPort();
    const timeoutMs = 3_000;
    const started = Date.now();
    const error = await runProvisioning({
      config: labConfig(),
      paths,
      ssh: { ...target.target, port },
      renderer: 'silent',
      composeDir,
      timeouts: { sshReadyMs: timeoutMs },
    }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toContain(`127.0.0.1:${port} did not answer within 3 s`);
    expect((error as TimeoutError).hint).toBe('VM not booted / wrong IP / firewall — run `labctl status`, `labctl up`');
    expect(elapsed).toBeLessThan(timeoutMs + 5_000);
  });

  it('gives up probing a site that does not answer within the bound, with a curl line to try', async () => {
    const port = await closedLoopbackPort();
    const started = Date.now();
    const error = await probeSite({ domain: 'jdoe.42.fr', address: '127.0.0.1', port, timeoutMs: 1_500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toMatch(/ECONNREFUSED/);
    expect((error as TimeoutError).hint).toContain(`curl -k --resolve jdoe.42.fr:${port}:127.0.0.1 https://jdoe.42.fr/`);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('passes odd arguments through the remote shell unchanged', async () => {
    const conn = await connect(target.target);
    try {
      const odd = ['two words', "it's", '"double"', '$HOME', '`id`', 'a;b', 'line1\nline2', '*', '', '\\', "'", '-n'];
      const r = await remoteExec(conn, ['printf', '%s\\0', ...odd]);
      expect(r.stdout.split('\0').slice(0, -1)).toEqual(odd);
    } finally {
      conn.dispose();
    }
  });

  it('maps a failing remote command to RemoteCommandError with command, exit code and output', async () => {
    const conn = await connect(target.target);
    try {
      const error = await remoteExec(conn, ['sh', '-c', 'echo first; echo "last words" >&2; exit 3']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteCommandError);
      const e = error as RemoteCommandError;
      expect(e.code).toBe(3);
      expect(e.command).toContain('echo first');
      expect(e.output).toContain('last words');
      expect(e.message).toMatch(/exit 3.*last words/);
    } finally {
      conn.dispose();
    }
  });

  it('labctl ssh -- cmd keeps each argument whole; a single argument is a shell command line', async () => {
    await writeLab(labConfig(), '# not used: labctl ssh reads the cached ssh-config\n', { LABCTL_HOME: home });
    const { host, port, username, privateKeyPath } = target.target;
    await writeFile(
      paths.sshConfig,
      [`Host default`, `  HostName ${host}`, `  Port ${port}`, `  User ${username}`, `  IdentityFile ${privateKeyPath}`, '  IdentitiesOnly yes', '  StrictHostKeyChecking no', '  UserKnownHostsFile /dev/null', '  LogLevel ERROR', ''].join('\n'),
      { mode: 0o600 },
    );
    const env = { LABCTL_HOME: home };
    const argv = await labctlCli(['ssh', 'itest', '--', 'printf', '%s|', 'two words', "it's", '$HOME', 'a;b', '{{.Names}} {{.Status}}'], { env });
    expect(argv.stderr).toBe('');
    expect(argv.stdout).toBe("two words|it's|$HOME|a;b|{{.Names}} {{.Status}}|");
    const pipeline = await labctlCli(['ssh', 'itest', '--', 'echo one | tr o 0'], { env });
    expect(pipeline.stdout).toBe('0ne'); // execa drops the final newline
    // The remote command's status is labctl's exit status.
    const failing = await labctlCli(['ssh', 'itest', '--', 'sh', '-c', 'exit 7'], { env });
    expect(failing.exitCode).toBe(7);
  });

  it('first run provisions the guest and brings the stack up healthy', async () => {
    const report = await run();
    const ran = report.steps.filter((s) => s.status === 'ran').map((s) => s.title);
    expect(ran).toEqual(
      expect.arrayContaining([
        'Wait for SSH',
        'Install Docker Engine, Compose v2 and build tools',
        'Create the login user and docker group membership',
        'Map the lab domain to 127.0.0.1 in the guest',
        'Create the volume directories',
        'Push the compose project',
        'Write secrets and srcs/.env (0600)',
        'Build and start the stack (make)',
      ]),
    );
    expect(report.url).toBe(`https://${LOGIN}.42.fr/`);
    expect(report.credentialsDir).toBe(paths.secrets);

    const conn = await connect(target.target);
    try {
      const services = await composePs(conn, labConfig());
      expect(services).toEqual([{ name: 'hello', state: 'running', health: 'healthy' }]);
    } finally {
      conn.dispose();
    }
    const guest = `/home/${LOGIN}`;
    expect((await target.exec(['cat', `${guest}/inception/README.md`])).stdout).toContain(`provisioned for ${LOGIN}.`);
    expect((await target.exec(['id', '-nG', LOGIN])).stdout.split(' ')).toContain('docker');
    expect((await target.exec(['id', '-nG', 'vagrant'])).stdout.split(' ')).toContain('docker');
    expect((await target.exec(['cat', '/etc/hosts'])).stdout).toContain(`127.0.0.1 ${LOGIN}.42.fr`);
    expect((await target.exec(['cat', `${guest}/data/wordpress/ready`])).stdout).toMatch(new RegExp(`^${LOGIN}\\.42\\.fr secret-bytes=\\d+`));
    expect((await target.exec(['test', '-d', `${guest}/data/mariadb`])).exitCode).toBe(0);
  }, 600_000);

  it('writes secrets and .env 0600 for the login, never pushes the host copies, never logs them', async () => {
    const guest = `/home/${LOGIN}/inception`;
    const files = [...SECRET_FILES.map((f) => `secrets/${f}`), 'srcs/.env'];
    const stat = await target.exec(['stat', '-c', '%a %U %n', ...files.map((f) => `${guest}/${f}`)]);
    expect(stat.stdout.trim().split('\n')).toEqual(files.map((f) => `600 ${LOGIN} ${guest}/${f}`));
    const secrets = await secretValues();
    expect((await target.exec(['cat', `${guest}/secrets/db_password.txt`])).stdout.trim()).toBe(secrets[SECRET_FILES.indexOf('db_password.txt')]);
    const env = (await target.exec(['cat', `${guest}/srcs/.env`])).stdout;
    expect(env).toContain(`LOGIN=${LOGIN}\n`);
    expect(env).toContain(`DATA_PATH=/home/${LOGIN}/data\n`);
    expect(env).not.toContain(HOST_CANARY);
    const everything = (await target.exec(['grep', '-rl', HOST_CANARY, guest])).stdout;
    expect(everything).toBe('');

    const logText = captured.join('') + (await readFile(paths.log, 'utf8'));
    expect(logText).toContain('Push the compose project');
    for (const secret of secrets) expect(logText).not.toContain(secret);
  });

  it('second run changes nothing: every step but the SSH wait is skipped', async () => {
    const report = await run();
    const skipped = report.steps.filter((s) => s.status === 'skipped');
    expect(report.steps.filter((s) => s.status === 'ran').map((s) => s.title)).toEqual(['Wait for SSH']);
    expect(skipped).toHaveLength(report.steps.length - 1);
    for (const s of skipped) expect(s.reason).toBeTruthy();
  });

  it('a run interrupted in the middle of make is completed by the next run', async () => {
    await writeFile(join(composeDir, 'README.md'), '*Changed for {{LOGIN}}.*\n');
    // Hold the guest's make lock so the interrupted run is certainly inside its make command when
    // the signal fires (make itself takes under a second for this fixture).
    const lock = `/home/${LOGIN}/.labctl/make.lock`;
    // The holder execs into sleep, keeping the locked descriptor: killing that one PID frees it.
    const holder = (await target.exec(['sh', '-c', '(exec 9>"$1"; flock 9; exec sleep 120) >/dev/null 2>&1 & echo $!', 'sh', lock])).stdout.trim();
    const controller = new AbortController();
    const interrupted = await run({
      signal: controller.signal,
      onStep: (e) => {
        if (e.title === 'Build and start the stack (make)' && e.phase === 'start') setTimeout(() => controller.abort(), 2_000);
      },
    }).catch((e: unknown) => e);
    expect(interrupted).toBeInstanceOf(AbortedError);
    expect(await readFile(paths.log, 'utf8')).toMatch(/flock -w \d+ \S+make\.lock make -C \S+ (?:all|bonus) → aborted after \d+ ms\n.*step "Build and start the stack \(make\)": failed/);
    await target.exec(['kill', holder]);

    const resumed = await run();
    const ran = resumed.steps.filter((s) => s.status === 'ran').map((s) => s.title);
    expect(ran).toEqual(['Wait for SSH', 'Build and start the stack (make)']);
    expect((await target.exec(['cat', `/home/${LOGIN}/inception/README.md`])).stdout).toBe(`*Changed for ${LOGIN}.*`);

    const again = await run();
    expect(again.steps.filter((s) => s.status === 'ran').map((s) => s.title)).toEqual(['Wait for SSH']);
  }, 600_000);

  it('streams compose logs for `labctl logs`', async () => {
    const conn = await connect(target.target);
    try {
      const out = new PassThrough();
      const chunks: string[] = [];
      out.on('data', (c: Buffer) => chunks.push(c.toString()));
      await streamComposeLogs(conn, labConfig(), { service: 'hello', follow: false, tail: 'all', stdout: out });
      // The fixture's entrypoint prints nothing, so compose prints nothing either; the call must
      // still succeed against the real project. A bogus service must fail with a typed error.
      expect(chunks.join('')).not.toContain('Error');
      await expect(streamComposeLogs(conn, labConfig(), { service: 'nope', follow: false, stdout: out })).rejects.toBeInstanceOf(RemoteCommandError);
    } finally {
      conn.dispose();
    }
  });
});
