import { ConfigError, TimeoutError } from '../../core/errors.js';
import type { ProvisionContext, ProvisionStep } from '../context.js';
import { pollUntil } from '../../core/poll.js';
import { ANY_EXIT_CODE, lastOutputLine } from '../../adapters/guest.js';

// L03: Docker Engine + the Compose v2 plugin. Debian 13's docker.io only *recommends* docker-cli,
// and docker-cli only recommends docker-buildx (without it `docker build` falls back to the legacy
// builder, which refuses RUN --mount): both are named, since recommends are not installed (below).
// docker-compose is the v2 plugin there. The project's Makefile (M01) needs make, and openssl for
// the self-signed certificate it creates next to the secrets.
export const BUILD_TOOLS = ['make', 'openssl'] as const;
export const DEBIAN_PACKAGES = ['docker.io', 'docker-cli', 'docker-buildx', 'docker-compose', ...BUILD_TOOLS] as const;
export const DOCKER_REPO_PACKAGES = ['docker-ce', 'docker-ce-cli', 'containerd.io', 'docker-buildx-plugin', 'docker-compose-plugin', ...BUILD_TOOLS] as const;
/**
 * docker.io recommends git, criu, needrestart, xz-utils and dbus-user-session, which bring perl and
 * python3: half of the install's packages, and none used by a lab (measured in an emulated guest:
 * 142 packages with them). The baked box installs the same way. dpkg's fsync after every file is
 * most of an install's time on an emulated disk; a crash mid-install is mended by running
 * provisioning again, which this step is made for.
 */
export const DOCKER_INSTALL_OPTIONS = ['--no-install-recommends', '-o', 'Dpkg::Options::=--force-unsafe-io'] as const;
/** Docker's own apt repository is opt-in and its URL comes from the user, never from labctl. */
export const DOCKER_APT_URL_ENV = 'LABCTL_DOCKER_APT_URL';
const DOCKER_POLL_INTERVAL_MS = 1_000;

const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };

export function aptGet(ctx: ProvisionContext, args: readonly string[]) {
  // A fresh VM often runs apt itself right after boot: wait for its lock instead of failing.
  return ctx.exec(['apt-get', '-o', 'DPkg::Lock::Timeout=300', '-q', ...args], {
    sudo: true,
    env: APT_ENV,
    timeoutMs: ctx.timeouts.aptMs,
    onOutput: (chunk) => ctx.progress(lastOutputLine(chunk)),
  });
}

export async function dockerState(ctx: ProvisionContext): Promise<{ compose: string | undefined; engine: string | undefined; tools: boolean }> {
  const compose = await ctx.exec(['docker', 'compose', 'version', '--short'], { sudo: true, okCodes: ANY_EXIT_CODE });
  const engine = await ctx.exec(['docker', 'info', '--format', '{{.ServerVersion}}'], { sudo: true, okCodes: ANY_EXIT_CODE });
  // `command -v` is a shell builtin: one sh answers for every tool.
  const tools = await ctx.test(['sh', '-c', 'for t; do command -v "$t" >/dev/null || exit 1; done', 'sh', ...BUILD_TOOLS]);
  return {
    compose: compose.code === 0 ? compose.stdout.trim() : undefined,
    engine: engine.code === 0 && engine.stdout.trim() !== '' ? engine.stdout.trim() : undefined,
    tools,
  };
}

// systemd in a VM; the init script where there is none (containers, minimal guests).
const START_DOCKER = 'if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then systemctl enable --now docker; else service docker start; fi';

async function addDockerRepository(ctx: ProvisionContext): Promise<void> {
  const url = process.env[DOCKER_APT_URL_ENV]?.replace(/\/+$/, '');
  if (!url) {
    throw new ConfigError('docker_source', `"docker" needs the URL of Docker's apt repository in ${DOCKER_APT_URL_ENV}`, `export ${DOCKER_APT_URL_ENV}=<the base URL from Docker's "Install on Debian" page>, or use --docker-source debian`);
  }
  await aptGet(ctx, ['update']);
  await aptGet(ctx, ['install', '-y', 'ca-certificates', 'curl']);
  await ctx.exec(['install', '-d', '-m', '0755', '/etc/apt/keyrings'], { sudo: true });
  await ctx.exec(['curl', '-fsSL', '-o', '/etc/apt/keyrings/docker.asc', `${url}/linux/debian/gpg`], { sudo: true, timeoutMs: 120_000 });
  const codename = (await ctx.exec(['sh', '-c', '. /etc/os-release && printf %s "$VERSION_CODENAME"'])).stdout.trim();
  const sources = `Types: deb\nURIs: ${url}/linux/debian\nSuites: ${codename}\nComponents: stable\nSigned-By: /etc/apt/keyrings/docker.asc\n`;
  await ctx.writeFile('/etc/apt/sources.list.d/docker.sources', sources, { mode: '644', owner: 'root:root' });
}

export const installDockerStep: ProvisionStep = {
  title: 'Install Docker Engine, Compose v2 and build tools',
  skip: async (ctx) => {
    const s = await dockerState(ctx);
    return s.compose && s.engine && s.tools ? `Docker ${s.engine}, Compose ${s.compose}, ${BUILD_TOOLS.join(', ')} already installed` : false;
  },
  run: async (ctx) => {
    const fromDocker = ctx.config.docker_source === 'docker';
    if (fromDocker) await addDockerRepository(ctx);
    await aptGet(ctx, ['update']);
    await aptGet(ctx, ['install', '-y', ...DOCKER_INSTALL_OPTIONS, ...(fromDocker ? DOCKER_REPO_PACKAGES : DEBIAN_PACKAGES)]);
    if ((await dockerState(ctx)).engine === undefined) await ctx.exec(['sh', '-c', START_DOCKER], { sudo: true });
    await pollUntil(async () => ((await dockerState(ctx)).engine === undefined ? undefined : true), {
      timeoutMs: ctx.timeouts.dockerReadyMs,
      intervalMs: DOCKER_POLL_INTERVAL_MS,
      signal: ctx.signal,
      // dockerState takes any exit code as its answer: what it throws (SSH gone, an abort) is not the engine starting.
      stopOn: () => true,
      onTimeout: () => {
        throw new TimeoutError(`the Docker engine in the guest did not answer within ${ctx.timeouts.dockerReadyMs / 1000} s after installing`, {
          hint: 'look at `labctl ssh -- sudo journalctl -u docker`, then run `labctl provision` again',
        });
      },
    });
  },
};
