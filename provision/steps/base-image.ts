import { LabctlError, NotFoundError } from '../../core/errors.js';
import type { ProvisionContext, ProvisionStep } from '../context.js';
import { ANY_EXIT_CODE, lastOutputLine } from '../../adapters/guest.js';
import { aptGet } from './install-docker.js';

// M03: the only image not built from the project is the base, the penultimate stable Debian.
// `auto` pulls it and, where the registry is unreachable (offline rooms, rate limits), builds it
// in the guest from Debian packages with the compose project's own script. `host` builds it once on
// the host (debootstrap there is native speed) and imports the tarball, the way a baked box does.
export const BASE_IMAGE = 'debian:bookworm';
export const BASE_SUITE = 'bookworm';
export const BUILD_SCRIPT = 'srcs/requirements/tools/build-base-image.sh';
/** `docker import`'s --change: the shell as the command, as the official image has. */
export const BASE_IMAGE_IMPORT_CHANGE = 'CMD ["bash"]';

async function pull(ctx: ProvisionContext): Promise<{ ok: boolean; output: string }> {
  const r = await ctx.exec(['docker', 'pull', BASE_IMAGE], { sudo: true, okCodes: ANY_EXIT_CODE, timeoutMs: ctx.timeouts.pullMs });
  return { ok: r.code === 0, output: `${r.stdout}\n${r.stderr}` };
}

/** Uploads the host's tarball and imports it; the upload is removed whatever happens. */
async function importFromHost(ctx: ProvisionContext): Promise<void> {
  if (ctx.hostBaseImage === undefined) {
    throw new LabctlError('base_image host needs the host to build the base tarball, and this run cannot', {
      hint: 'run `labctl create` or `labctl provision`, or use base_image local',
    });
  }
  ctx.progress('debootstrap on the host (once per host; later labs reuse it)');
  const tarball = await ctx.hostBaseImage();
  const upload = `/tmp/labctl-base-${BASE_SUITE}-${Date.now()}.tar`;
  ctx.progress(`uploading ${tarball}`);
  try {
    await ctx.connection().putFile(tarball, upload);
    ctx.progress(`docker import ${BASE_IMAGE}`);
    await ctx.exec(['docker', 'import', '--change', BASE_IMAGE_IMPORT_CHANGE, upload, BASE_IMAGE], { sudo: true, timeoutMs: ctx.timeouts.pullMs });
  } finally {
    await ctx.exec(['rm', '-f', upload], { sudo: true, okCodes: ANY_EXIT_CODE }).catch(() => undefined);
  }
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
    if (mode === 'host') return importFromHost(ctx);
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
