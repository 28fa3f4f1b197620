import { describe, expect, it } from 'vitest';
import type { LabConfig } from '../../core/config.js';
import { LabctlError, RemoteCommandError } from '../../core/errors.js';
import { SECRET_FILES } from '../../core/secrets.js';
import type { ProvisionContext } from '../../provision/context.js';
import { DEFAULT_TIMEOUTS } from '../../provision/context.js';
import { guestPaths } from '../../core/guest-paths.js';
import { guestHostsBlock } from '../../provision/guest-hosts.js';
import { sha256 } from '../../provision/manifest.js';
import { hintForRemoteFailure, isPermanentConnectError, writeRemoteFile, type Connection } from '../../adapters/guest.js';
import { PROVISION_STEPS } from '../../provision/steps.js';
import { baseImageStep } from '../../provision/steps/base-image.js';
import { configureAptStep } from '../../provision/steps/configure-apt.js';
import { createUserStep } from '../../provision/steps/create-user.js';
import { guestHostsStep } from '../../provision/steps/guest-hosts.js';
import { installDockerStep } from '../../provision/steps/install-docker.js';
import { probeSiteStep } from '../../provision/steps/probe-site.js';
import { staleFiles, writeSecretsStep } from '../../provision/steps/write-secrets.js';

// Skip decisions without SSH: the guest is a fake that answers each remote command from a table
// (the fake stands in for the SSH adapter only; the real sshd path is the integration test's).

type Answer = { stdout?: string; code?: number };
type Guest = (argv: readonly string[]) => Answer | undefined;

function config(over: Partial<LabConfig> = {}): LabConfig {
  return {
    name: 'lab', login: 'jdoe', domain: 'jdoe.42.fr', provider: 'libvirt', ip: '192.168.56.10', memory: 2048, cpus: 2,
    box: 'debian/trixie64', box_version: undefined, apt_mirror: undefined, apt_proxy: undefined, libvirt_driver: 'qemu',
    bonus: false, base_image: 'auto', docker_source: 'debian', ...over,
  };
}

interface Write {
  path: string;
  content: string;
  mode: string;
  owner: string;
}

function fakeCtx(guest: Guest, over: Partial<LabConfig> = {}, calls: string[][] = [], writes: Write[] = []): ProvisionContext {
  const answer = (argv: readonly string[], okCodes: readonly number[] = [0]) => {
    calls.push([...argv]);
    const a = guest(argv) ?? {};
    const code = a.code ?? 0;
    if (!okCodes.includes(code)) throw new RemoteCommandError(argv.join(' '), code, a.stdout ?? '');
    return { stdout: a.stdout ?? '', stderr: '', code };
  };
  const secrets = new Map(SECRET_FILES.map((n) => [n, Buffer.from(`pw-${n}\n`)]));
  return {
    config: config(over),
    paths: { name: 'x', dir: '/x', config: '/x/lab.json', vagrantfile: '/x/Vagrantfile', secrets: '/x/secrets', sshConfig: '/x/ssh-config', log: '/x/log', sshControl: undefined },
    target: { host: '127.0.0.1', port: 2222, username: 'vagrant', privateKeyPath: '/x/key' },
    composeDir: '/c',
    guest: guestPaths('jdoe'),
    local: { manifest: [], envFile: 'LOGIN=jdoe\n', secrets, projectHash: 'h' },
    timeouts: DEFAULT_TIMEOUTS,
    probeUrl: false,
    hostBaseImage: undefined,
    makeTarget: undefined,
    pushed: undefined,
    readyServices: undefined,
    conn: undefined,
    signal: undefined,
    url: undefined,
    exec: async (argv, opts = {}) => answer(argv, opts.okCodes),
    test: async (argv) => answer(argv, Array.from({ length: 256 }, (_, i) => i)).code === 0,
    writeFile: async (path, content, o) => {
      writes.push({ path, content: content.toString(), ...o });
    },
    connection: () => {
      throw new Error('this fake has no SSH connection');
    },
    progress: () => {},
    log: () => {},
  };
}

const has = (argv: readonly string[], ...words: string[]) => words.every((w) => argv.includes(w));

describe('the runbook', () => {
  it('lists the steps in the contract order, each with a title, skip and run', () => {
    expect(PROVISION_STEPS.map((s) => s.title)).toEqual([
      'Wait for SSH',
      'Configure apt (mirror, proxy)',
      'Install Docker Engine, Compose v2 and build tools',
      'Create the login user and docker group membership',
      'Map the lab domain to 127.0.0.1 in the guest',
      'Stop the previous project',
      'Create the volume directories',
      'Push the compose project',
      'Write secrets and srcs/.env (0600)',
      'Ensure the debian:bookworm base image',
      'Build and start the stack (make)',
      'Wait until every service is healthy',
      'Probe the site from the host',
    ]);
  });
});

describe('skip decisions', () => {
  it('apt: skips without mirror/proxy, but removes a proxy file left from an older config', async () => {
    expect(await configureAptStep.skip(fakeCtx(() => ({ stdout: '' })))).toBe('no apt_mirror or apt_proxy configured');
    const stale = fakeCtx((argv) => (argv.includes('/etc/apt/apt.conf.d/90labctl-proxy') ? { stdout: 'Acquire::http::Proxy "x";\n' } : { stdout: '' }));
    expect(await configureAptStep.skip(stale)).toBe(false);
  });

  it('apt: runs when the mirror is not in the sources yet, skips once it is', async () => {
    const mirror = 'http://mirror.example.test/debian';
    const sources = (uri: string): Guest => (argv) => {
      if (argv[0] === 'sh' && String(argv[2]).includes('debian.sources')) return { stdout: '/etc/apt/sources.list.d/debian.sources\0' };
      if (argv[0] === 'cat' && argv.includes('/etc/apt/sources.list.d/debian.sources')) return { stdout: `Types: deb\nURIs: ${uri}\nSuites: trixie\n` };
      return { stdout: '' };
    };
    expect(await configureAptStep.skip(fakeCtx(sources('http://archive.example.org/debian'), { apt_mirror: mirror }))).toBe(false);
    expect(await configureAptStep.skip(fakeCtx(sources(mirror), { apt_mirror: mirror }))).toMatch(/already uses/);
  });

  it('docker: skips only when compose, the daemon and the build tools all answer', async () => {
    const guest = (daemon: boolean, tools: boolean): Guest => (argv) => {
      if (has(argv, 'compose', 'version')) return { stdout: '2.26.1\n' };
      if (has(argv, 'info')) return daemon ? { stdout: '26.1.5\n' } : { code: 1, stdout: '' };
      if (has(argv, 'make', 'openssl')) return { code: tools ? 0 : 1 };
      return {};
    };
    expect(await installDockerStep.skip(fakeCtx(guest(true, true)))).toBe('Docker 26.1.5, Compose 2.26.1, make, openssl already installed');
    expect(await installDockerStep.skip(fakeCtx(guest(false, true)))).toBe(false);
    expect(await installDockerStep.skip(fakeCtx(guest(true, false)))).toBe(false);
  });

  it('docker: the Docker repository needs its URL from the environment, never a built-in host', async () => {
    const saved = process.env.LABCTL_DOCKER_APT_URL;
    delete process.env.LABCTL_DOCKER_APT_URL;
    try {
      await expect(installDockerStep.run(fakeCtx(() => ({}), { docker_source: 'docker' }))).rejects.toThrow(/LABCTL_DOCKER_APT_URL/);
    } finally {
      if (saved !== undefined) process.env.LABCTL_DOCKER_APT_URL = saved;
    }
  });

  it('user: runs until both users are in group docker', async () => {
    const groups = (login: string, ssh: string): Guest => (argv) => {
      if (has(argv, 'id', 'jdoe')) return login === '' ? { code: 1 } : { stdout: `${login}\n` };
      if (has(argv, 'id', 'vagrant')) return { stdout: `${ssh}\n` };
      return {};
    };
    expect(await createUserStep.skip(fakeCtx(groups('jdoe docker', 'vagrant sudo docker')))).toMatch(/jdoe and vagrant are in group docker/);
    expect(await createUserStep.skip(fakeCtx(groups('jdoe docker', 'vagrant sudo')))).toBe(false);
    expect(await createUserStep.skip(fakeCtx(groups('', 'vagrant docker')))).toBe(false);
    const calls: string[][] = [];
    await createUserStep.run(fakeCtx(groups('', 'vagrant'), {}, calls));
    expect(calls).toContainEqual(['useradd', '--create-home', '--home-dir', '/home/jdoe', '--shell', '/bin/bash', '--user-group', '--', 'jdoe']);
    expect(calls).toContainEqual(['usermod', '-aG', 'docker', '--', 'vagrant']);
  });

  it('hosts: skips when the block is already there', async () => {
    const current = `127.0.0.1 localhost\n${guestHostsBlock('jdoe.42.fr')}`;
    expect(await guestHostsStep.skip(fakeCtx((argv) => (argv[0] === 'cat' ? { stdout: current } : {})))).toMatch(/already maps/);
    expect(await guestHostsStep.skip(fakeCtx((argv) => (argv[0] === 'cat' ? { stdout: '127.0.0.1 localhost\n' } : {})))).toBe(false);
  });

  it('secrets: stale when missing, different, not 0600 or not owned by the login', () => {
    const wanted = new Map([['secrets/a.txt', Buffer.from('A')], ['srcs/.env', Buffer.from('E')]]);
    const good = `600:jdoe ${sha256('A')} secrets/a.txt\x00600:jdoe ${sha256('E')} srcs/.env\0`;
    expect(staleFiles(wanted, good, 'jdoe')).toEqual([]);
    expect(staleFiles(wanted, `644:jdoe ${sha256('A')} secrets/a.txt\x00600:jdoe ${sha256('E')} srcs/.env\0`, 'jdoe')).toEqual(['secrets/a.txt']);
    expect(staleFiles(wanted, `600:root ${sha256('A')} secrets/a.txt\0`, 'jdoe')).toEqual(['secrets/a.txt', 'srcs/.env']);
    expect(staleFiles(wanted, `600:jdoe ${sha256('B')} secrets/a.txt\x00600:jdoe ${sha256('E')} srcs/.env\0`, 'jdoe')).toEqual(['secrets/a.txt']);
  });

  it('secrets: writes every stale file 0600 for the login, contents never in argv', async () => {
    const calls: string[][] = [];
    const writes: Write[] = [];
    await writeSecretsStep.run(fakeCtx(() => ({ stdout: '' }), {}, calls, writes));
    expect(writes.map((w) => w.path)).toEqual([...SECRET_FILES.map((n) => `/home/jdoe/inception/secrets/${n}`), '/home/jdoe/inception/srcs/.env']);
    for (const w of writes) expect(w).toMatchObject({ mode: '600', owner: 'jdoe:jdoe' });
    for (const n of SECRET_FILES) expect(calls.flat().join(' ')).not.toContain(`pw-${n}`);
  });

  it('writeRemoteFile sends the content on stdin, never in the command line', async () => {
    const commands: string[] = [];
    const stdin: string[] = [];
    // A stand-in for the connection: records the command string and drains stdin.
    const conn = {
      execCommand: async (cmd: string, o: { stdin?: AsyncIterable<Buffer> }) => {
        commands.push(cmd);
        if (o.stdin) for await (const c of o.stdin) stdin.push(c.toString());
        return { stdout: '', stderr: '', code: 0, signal: null };
      },
    } as unknown as Connection;
    await writeRemoteFile(conn, '/home/jdoe/inception/secrets/db_password.txt', 's3cr3t-value', { mode: '600', owner: 'jdoe:jdoe' });
    expect(commands.join(' ')).not.toContain('s3cr3t-value');
    expect(commands[0]).toContain(`'/home/jdoe/inception/secrets/db_password.txt' '600' 'jdoe:jdoe'`);
    expect(stdin.join('')).toBe('s3cr3t-value');
  });

  it('base image: auto falls back to a local build when the pull fails; pull mode does not', async () => {
    // The registry is unreachable here by design; the failing pull is this fake's answer.
    const guest: Guest = (argv) => (has(argv, 'docker', 'pull') ? { code: 1, stdout: 'dial tcp: lookup registry: no such host' } : {});
    const calls: string[][] = [];
    await baseImageStep.run(fakeCtx(guest, { base_image: 'auto' }, calls));
    expect(calls).toContainEqual(['bash', '/home/jdoe/inception/srcs/requirements/tools/build-base-image.sh', '--suite', 'bookworm', '--tag', 'debian:bookworm']);
    await expect(baseImageStep.run(fakeCtx(guest, { base_image: 'pull' }))).rejects.toThrow(LabctlError);
    const local: string[][] = [];
    await baseImageStep.run(fakeCtx(guest, { base_image: 'local' }, local));
    expect(local.some((c) => has(c, 'docker', 'pull'))).toBe(false);
    expect(await baseImageStep.skip(fakeCtx(() => ({})))).toBe('debian:bookworm is present');
  });

  it('base image: host uploads the host-built tarball, imports it with the shell as CMD, and removes the upload', async () => {
    // The connection is a stand-in that records uploads; the real upload and import are the VM
    // e2e's (create --base-image host).
    const calls: string[][] = [];
    const uploads: string[][] = [];
    const connection = { putFile: async (local: string, remote: string) => void uploads.push([local, remote]) } as unknown as ReturnType<ProvisionContext['connection']>;
    const ctx = { ...fakeCtx(() => ({}), { base_image: 'host' }, calls), hostBaseImage: async () => '/cache/debian-bookworm.tar', connection: () => connection };
    await baseImageStep.run(ctx);
    expect(uploads).toHaveLength(1);
    const [local, remote = ''] = uploads[0] ?? [];
    expect(local).toBe('/cache/debian-bookworm.tar');
    expect(calls).toContainEqual(['docker', 'import', '--change', 'CMD ["bash"]', remote, 'debian:bookworm']);
    expect(calls.at(-1)).toEqual(['rm', '-f', remote]);
    expect(calls.some((c) => has(c, 'docker', 'pull'))).toBe(false);
    // Without the host's builder (a caller that did not wire it), a clear error, not a pull.
    await expect(baseImageStep.run(fakeCtx(() => ({}), { base_image: 'host' }))).rejects.toThrow(/base_image host/);
  });

  it('probe: skipped unless requested', async () => {
    expect(await probeSiteStep.skip(fakeCtx(() => ({})))).toBe('probe not requested');
  });
});

describe('error mapping', () => {
  it('gives the next command for well-known remote failures', () => {
    expect(hintForRemoteFailure(['sudo', '-n', 'true'], 'sudo: a password is required')).toMatch(/passwordless sudo/);
    expect(hintForRemoteFailure(['apt-get'], 'E: Could not get lock /var/lib/dpkg/lock-frontend')).toMatch(/apt run holds the lock/);
    expect(hintForRemoteFailure(['apt-get'], 'Temporary failure resolving')).toMatch(/apt_mirror or apt_proxy/);
    expect(hintForRemoteFailure(['docker'], 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock')).toMatch(/Docker engine/);
    expect(hintForRemoteFailure(['true'], 'fine')).toBeUndefined();
    // The line compose printed before make's own "Error 1" is the one that says what failed.
    const make = hintForRemoteFailure(['flock', 'make', '-C', '/p'], ' Container srcs-web-1  Waiting\ncontainer srcs-web-1 has no healthcheck configured\nmake: *** [Makefile:24: all] Error 1\n');
    expect(make).toMatch(/\(last output: container srcs-web-1 has no healthcheck configured\)/);
    expect(hintForRemoteFailure(['make'], 'make: *** [Makefile:1: all] Error 2')).not.toMatch(/last output/);
  });

  it('treats authentication failures as permanent and network errors as retryable', () => {
    expect(isPermanentConnectError(new Error('All configured authentication methods failed'))).toBe(true);
    expect(isPermanentConnectError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:22'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isPermanentConnectError(new Error('Timed out while waiting for handshake'))).toBe(false);
  });

  it('RemoteCommandError carries command, exit code and the output tail', () => {
    const e = new RemoteCommandError('make -C /home/jdoe/inception', 2, 'line1\nline2\nmake: *** [all] Error 1');
    expect(e.message).toBe('remote command failed (exit 2): make -C /home/jdoe/inception: make: *** [all] Error 1');
    expect(e.details).toContain('line1');
  });
});
