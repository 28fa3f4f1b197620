import { runsOwnProject } from '../../core/config.js';
import type { ProvisionContext, ProvisionStep } from '../context.js';

// M07: the named volumes bind to these directories. Checks run through sudo: Debian 13 creates
// home directories 0700, so the SSH user cannot even see inside /home/<login>. Only missing ones are created: an existing
// mariadb directory belongs to the container's mysql user, and resetting its owner would break it.

/** compose/'s two volume folders; a student's project gets the data folder and makes its own inside. */
function dataDirs(ctx: ProvisionContext): string[] {
  if (runsOwnProject(ctx.config)) return [ctx.guest.data];
  return [ctx.guest.data, `${ctx.guest.data}/mariadb`, `${ctx.guest.data}/wordpress`];
}

/** One guest command for all of them (each is a sudo round trip, seconds under emulation). */
async function missingDirs(ctx: ProvisionContext): Promise<string[]> {
  const r = await ctx.exec(['sh', '-c', 'for d; do [ -d "$d" ] || printf "%s\\0" "$d"; done', 'sh', ...dataDirs(ctx)], { sudo: true });
  return r.stdout.split('\0').filter((d) => d !== '');
}

export const dataDirsStep: ProvisionStep = {
  title: 'Create the volume directories',
  skip: async (ctx) => {
    const dirs = dataDirs(ctx);
    return (await missingDirs(ctx)).length === 0 ? `${dirs.join(', ')} ${dirs.length === 1 ? 'exists' : 'exist'}` : false;
  },
  run: async (ctx) => {
    const login = ctx.config.login;
    for (const dir of await missingDirs(ctx)) {
      await ctx.exec(['install', '-d', '-o', login, '-g', login, '-m', '0755', dir], { sudo: true });
    }
  },
};
