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

async function missingDirs(ctx: ProvisionContext): Promise<string[]> {
  const missing: string[] = [];
  for (const dir of dataDirs(ctx)) if (!(await ctx.test(['test', '-d', dir], { sudo: true }))) missing.push(dir);
  return missing;
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
