import { LabctlError, NotFoundError } from '../../core/errors.js';
import type { ProvisionContext, ProvisionStep } from '../context.js';
import { ANY_EXIT_CODE, lastOutputLine } from '../../adapters/guest.js';
import { aptGet } from './install-docker.js';

// M03: the only image not built from the project is the base, the penultimate stable Debian.
// `auto` pulls it and, where the registry is unreachable (offline rooms, rate limits), builds it
// in the guest from Debian packages with the compose project's own script.
export const BASE_IMAGE = 'debian:bookworm';
export const BASE_SUITE = 'bookworm';
export const BUILD_SCRIPT = 'srcs/requirements/tools/build-base-image.sh';

async function pull(ctx: ProvisionContext): Promise<{ ok: boolean; output: string }> {
  const r = await ctx.exec(['docker', 'pull', BASE_IMAGE], { sudo: true, okCodes: ANY_EXIT_CODE, timeoutMs: ctx.timeouts.pullMs });
  return { ok: r.code === 0, output: `${r.stdout}\n${r.stderr}` };
}

async function buildLocally(ctx: ProvisionContext): Promise<void> {
  const script = `${ctx.guest.project}/${BUILD_SCRIPT}`;
  if (!(await ctx.test(['test', '-f', script], { sudo: true }))) {
    throw new NotFoundError(`${script} is missing in the guest, so ${BASE_IMAGE} cannot be built locally`, {
      hint: 'the compose project must provide it; check compose/ and run `labctl provision` again',
    });
  }
  if (!(await ctx.test(['sh', '-c', 'command -v debootstrap || test -x /usr/sbin/debootstrap']))) {
    await aptGet(ctx, ['install', '-y', 'debootstrap']);
  }
  const mirror = ctx.config.apt_mirror === undefined ? [] : ['--mirror', ctx.config.apt_mirror];
  await ctx.exec(['bash', script, '--suite', BASE_SUITE, '--tag', BASE_IMAGE, ...mirror], {
    sudo: true,
    cwd: ctx.guest.project,
    timeoutMs: ctx.timeouts.baseImageBuildMs,
    onOutput: (chunk) => ctx.progress(lastOutputLine(chunk)),
  });
}

export const baseImageStep: ProvisionStep = {
  title: `Ensure the ${BASE_IMAGE} base image`,
  skip: async (ctx) => ((await ctx.test(['docker', 'image', 'inspect', BASE_IMAGE], { sudo: true })) ? `${BASE_IMAGE} is present` : false),
  run: async (ctx) => {
    const mode = ctx.config.base_image;
    if (mode === 'local') return buildLocally(ctx);
    ctx.progress(`docker pull ${BASE_IMAGE}`);
    const pulled = await pull(ctx);
    if (pulled.ok) return;
    if (mode === 'pull') {
      throw new LabctlError(`docker pull ${BASE_IMAGE} failed in the guest: ${lastOutputLine(pulled.output)}`, {
        hint: 'the guest cannot reach the registry — use base_image auto or local (`labctl create --base-image local`) to build it from Debian packages',
      });
    }
    ctx.progress(`pull failed (${lastOutputLine(pulled.output)}); building ${BASE_IMAGE} with debootstrap`);
    await buildLocally(ctx);
  },
};
