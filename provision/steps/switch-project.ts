import { runsOwnProject, type LabConfig } from '../../core/config.js';
import type { ProvisionContext, ProvisionStep } from '../context.js';
import { ensureStateDir } from './push-project.js';

// A lab that gets another project (create --project on an existing lab, e.g. the student's own
// after labctl's reference): the old stack would keep 443 and its containers, and its srcs/.env,
// secrets/ and data would be read by the new project's make and database as if they were its own.
// So the old stack goes down and its folders are moved aside, never deleted (nothing lost).

/** What the guest records as the lab's project: the host path, or labctl's own compose/. */
export function projectId(config: Pick<LabConfig, 'project'>): string {
  return runsOwnProject(config) ? `project ${config.project}` : 'labctl compose/';
}

function recordPath(ctx: ProvisionContext): string {
  return `${ctx.guest.state}/project`;
}

/** Where the previous project's folders go: beside the data, dated, one folder per switch. */
export function previousDir(home: string, at: Date): string {
  return `${home}/previous-projects/${at.toISOString().replace(/[:.]/g, '-')}`;
}

async function recorded(ctx: ProvisionContext): Promise<string | undefined> {
  const r = await ctx.exec(['sh', '-c', 'cat -- "$1" 2>/dev/null || true', 'sh', recordPath(ctx)], { sudo: true });
  const text = r.stdout.trim();
  return text === '' ? undefined : text;
}

// Every container compose made for the project folder, whatever its project name and profiles:
// compose labels each with the folder of its compose file.
const REMOVE_CONTAINERS = 'ids=$(docker ps -aq --filter "label=com.docker.compose.project.working_dir=$1"); [ -z "$ids" ] || docker rm -f $ids >/dev/null';

// mv of whichever of the two folders exists, into a new dated folder that only root and the login read.
const MOVE_ASIDE = [
  'set -eu',
  'dest=$1; owner=$2; shift 2',
  'install -d -o "$owner" -g "$owner" -m 0700 "$(dirname -- "$dest")" "$dest"',
  'for dir; do [ ! -e "$dir" ] || mv -- "$dir" "$dest/"; done',
].join('\n');

export const switchProjectStep: ProvisionStep = {
  title: 'Stop the previous project',
  skip: async (ctx) => {
    const was = await recorded(ctx);
    if (was === undefined) return false;
    return was === projectId(ctx.config) ? `the lab already runs ${was === 'labctl compose/' ? "labctl's compose/" : 'this project'}` : false;
  },
  run: async (ctx) => {
    const now = projectId(ctx.config);
    const was = await recorded(ctx);
    // A first run, or a lab from before labctl recorded its project: nothing to compare with, so
    // the project folder (if any) is taken to be this project's.
    if (was !== undefined && was !== now) {
      const srcs = `${ctx.guest.project}/srcs`;
      ctx.progress(`stopping ${was}`);
      // down first (it also removes the networks); then whatever it could not reach (no .env, other profiles).
      await ctx.exec(['sh', '-c', 'cd "$1" 2>/dev/null && docker compose down --remove-orphans --timeout 20 || true', 'sh', srcs], { sudo: true, timeoutMs: 180_000 });
      await ctx.exec(['sh', '-c', REMOVE_CONTAINERS, 'sh', srcs], { sudo: true, timeoutMs: 180_000 });
      const dest = previousDir(ctx.guest.home, new Date());
      await ctx.exec(['sh', '-c', MOVE_ASIDE, 'sh', dest, ctx.config.login, ctx.guest.project, ctx.guest.data], { sudo: true });
      // The push list and the make stamp described the old project's files.
      await ctx.exec(['rm', '-f', '--', `${ctx.guest.state}/pushed-files`, `${ctx.guest.state}/make-stamp`], { sudo: true });
      ctx.log(`switched project: ${was} → ${now}; its folder and data moved to ${dest}`);
      ctx.progress(`${was} stopped; its files and data kept in ${dest}`);
    }
    const login = ctx.config.login;
    await ensureStateDir(ctx);
    await ctx.writeFile(recordPath(ctx), `${now}\n`, { mode: '600', owner: `${login}:${login}` });
  },
};
