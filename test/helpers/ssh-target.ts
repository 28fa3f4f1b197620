import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../../core/paths.js';
import type { SshTarget } from '../../adapters/guest.js';
import { ensureDockerd, type DockerdHandle } from './dockerd.js';

// A throwaway Debian 13 guest for provisioning tests: a privileged container running sshd and
// Docker-in-Docker, reachable only on 127.0.0.1 through a published port. Its base image is
// debootstrapped locally by the compose project's own script (no registry pulls anywhere).

export const TRIXIE_IMAGE = 'labctl-test/trixie';
export const TARGET_IMAGE = 'labctl-test/ssh-target';
export const FIXTURE_DIR = join(packageRoot(), 'test', 'helpers', 'ssh-target');
export const TINY_COMPOSE_DIR = join(FIXTURE_DIR, 'tiny-compose');
export const BUILD_BASE_IMAGE_SCRIPT = join(packageRoot(), 'compose', 'srcs', 'requirements', 'tools', 'build-base-image.sh');

export const BASE_IMAGE_BUILD_TIMEOUT_MS = 1_200_000;
export const TARGET_IMAGE_BUILD_TIMEOUT_MS = 900_000;
export const INNER_DOCKER_READY_TIMEOUT_MS = 90_000;
const POLL_INTERVAL_MS = 500;

async function imageExists(tag: string): Promise<boolean> {
  return (await execa('docker', ['image', 'inspect', tag], { reject: false })).exitCode === 0;
}

/** Builds `tag` from Debian packages with compose/'s build-base-image.sh unless it exists. */
export async function ensureDebianImage(suite: string, tag: string): Promise<void> {
  if (await imageExists(tag)) return;
  await execa('bash', [BUILD_BASE_IMAGE_SCRIPT, '--suite', suite, '--tag', tag], { timeout: BASE_IMAGE_BUILD_TIMEOUT_MS });
}

/** The target image, rebuilt from the fixture Dockerfile (layer cache makes re-runs instant). */
export async function ensureTargetImage(): Promise<void> {
  await ensureDebianImage('trixie', TRIXIE_IMAGE);
  await execa('docker', ['build', '-q', '-t', TARGET_IMAGE, FIXTURE_DIR], { timeout: TARGET_IMAGE_BUILD_TIMEOUT_MS });
}

export interface SshTargetHandle {
  target: SshTarget;
  container: string;
  /** Host loopback port for each extra container port asked for (e.g. 443 for the site). */
  ports: Map<number, number>;
  /** Runs argv inside the target as root (for assertions only; provisioning goes through SSH). */
  exec(argv: string[], opts?: { input?: string | Buffer }): Promise<{ stdout: string; exitCode: number }>;
  /** Copies a host image into the target's Docker engine (docker save | docker load). */
  loadImage(tag: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a fresh target with a key generated now into a temp dir (never committed). */
export async function startSshTarget(name: string, opts: { extraPorts?: number[] } = {}): Promise<SshTargetHandle> {
  const keyDir = await mkdtemp(join(tmpdir(), 'labctl-ssh-key-'));
  const keyPath = join(keyDir, 'id_ed25519');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'labctl-test', '-f', keyPath]);
  const publicKey = (await readFile(`${keyPath}.pub`, 'utf8')).trim();
  const container = `labctl-test-${name}-${process.pid}`;
  const volume = `${container}-docker`;
  await execa('docker', ['rm', '-f', container], { reject: false });
  await execa('docker', ['volume', 'create', volume]);
  await execa('docker', [
    'run', '-d', '--privileged', '--init', '--name', container,
    '-p', '127.0.0.1:0:22',
    ...(opts.extraPorts ?? []).flatMap((p) => ['-p', `127.0.0.1:0:${p}`]),
    '-e', `AUTHORIZED_KEY=${publicKey}`,
    // overlay2 cannot sit on the container's own overlay root: give the inner engine a volume.
    '-v', `${volume}:/var/lib/docker`,
    TARGET_IMAGE,
  ]);
  const stop = async () => {
    await execa('docker', ['rm', '-f', '-v', container], { reject: false });
    await execa('docker', ['volume', 'rm', '-f', volume], { reject: false });
    await rm(keyDir, { recursive: true, force: true });
  };
  try {
    const port = await publishedPort(container, 22);
    const ports = new Map<number, number>();
    for (const p of opts.extraPorts ?? []) ports.set(p, await publishedPort(container, p));
    const exec: SshTargetHandle['exec'] = async (argv, opts = {}) => {
      const r = await execa('docker', ['exec', '-i', container, ...argv], { reject: false, ...(opts.input === undefined ? {} : { input: opts.input }) });
      return { stdout: r.stdout, exitCode: r.exitCode ?? -1 };
    };
    // `docker info --format` exits 0 with empty output while the daemon is still starting.
    await waitFor(async () => (await exec(['docker', 'version', '--format', '{{.Server.Version}}'])).exitCode === 0, INNER_DOCKER_READY_TIMEOUT_MS, `the Docker engine inside ${container}`);
    const loadImage = async (tag: string) => {
      const archive = join(keyDir, 'image.tar');
      await execa('docker', ['save', '-o', archive, tag]);
      await execa('docker', ['cp', archive, `${container}:/tmp/image.tar`]);
      await execa('docker', ['exec', container, 'sh', '-c', 'docker load -q -i /tmp/image.tar && rm -f /tmp/image.tar']);
      await rm(archive, { force: true });
    };
    return { target: { host: '127.0.0.1', port, username: 'vagrant', privateKeyPath: keyPath }, container, ports, exec, loadImage, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function publishedPort(container: string, containerPort: number): Promise<number> {
  const out = (await execa('docker', ['port', container, `${containerPort}/tcp`])).stdout;
  const m = /127\.0\.0\.1:(\d+)/.exec(out);
  if (!m) throw new Error(`no 127.0.0.1 port published for ${container}: ${out}`);
  return Number(m[1]);
}

/** A loopback port with nothing listening (bound, then released). */
export async function closedLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
  throw new Error(`${what} was not ready within ${timeoutMs} ms`);
}

/**
 * A lab-like guest for provisioning tests: the Docker engine on the host, the sshd + inner Docker
 * target started, and debian:bookworm already in the target's engine (what create's base image
 * step leaves), so a test builds only its project.
 */
export async function startBookwormTarget(name: string): Promise<{ dockerd: DockerdHandle; target: SshTargetHandle }> {
  const dockerd = await ensureDockerd();
  await ensureTargetImage();
  await ensureDebianImage('bookworm', 'debian:bookworm');
  const target = await startSshTarget(name);
  await target.loadImage('debian:bookworm');
  return { dockerd, target };
}
