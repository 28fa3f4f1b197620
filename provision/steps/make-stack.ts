import { runsOwnProject, type LabConfig } from '../../core/config.js';
import { RemoteCommandError } from '../../core/errors.js';
import { allReady, composePs } from '../../adapters/compose.js';
import type { ProvisionContext, ProvisionStep } from '../context.js';
import { lastOutputLine } from '../../adapters/guest.js';
import { ensureStateDir } from './push-project.js';

// `make` = build + up (M01). It is skipped only when the stack is healthy *and* the guest's stamp
// says the last successful make saw exactly the files, .env and secrets of this run.

function stampPath(ctx: ProvisionContext): string {
  return `${ctx.guest.state}/make-stamp`;
}

async function stackReady(ctx: ProvisionContext): Promise<boolean> {
  try {
    const services = await composePs(ctx.connection(), ctx.config, { signal: ctx.signal, log: ctx.log });
    if (!allReady(services)) return false;
    ctx.readyServices = services;
    return true;
  } catch (error) {
    // No project or no containers yet is the normal first-run answer: not ready, so make runs.
    if (error instanceof RemoteCommandError) return false;
    throw error;
  }
}

/**
 * The make arguments: `make bonus` also starts the bonus services (and, in labctl's compose/,
 * switches WordPress's Redis cache and nginx's routes on). A student's own project without
 * --bonus gets its Makefile's default goal, whatever it is named. A goal asked for wins.
 */
export function makeArgs(config: Pick<LabConfig, 'bonus' | 'project'>, target?: string): string[] {
  if (target !== undefined) return [target];
  if (config.bonus) return ['bonus'];
  return runsOwnProject(config) ? [] : ['all'];
}

export const makeStackStep: ProvisionStep = {
  title: 'Build and start the stack (make)',
  skip: async (ctx) => {
    const stamp = (await ctx.exec(['sh', '-c', 'cat -- "$1" 2>/dev/null || true', 'sh', stampPath(ctx)], { sudo: true })).stdout.trim();
    if (stamp !== ctx.local.projectHash) return false;
    return (await stackReady(ctx)) ? 'nothing changed since the last make and every service is up' : false;
  },
  run: async (ctx) => {
    await ensureStateDir(ctx);
    const lockWaitS = Math.ceil(ctx.timeouts.makeMs / 1000);
    // flock: a make left running by an interrupted run finishes before this one starts, instead
    // of two `compose up` racing over the same containers.
    await ctx.exec(['flock', '-w', String(lockWaitS), `${ctx.guest.state}/make.lock`, 'make', '-C', ctx.guest.project, ...makeArgs(ctx.config, ctx.makeTarget)], {
      user: ctx.config.login,
      timeoutMs: ctx.timeouts.makeMs * 2,
      onOutput: (chunk) => ctx.progress(lastOutputLine(chunk)),
    });
    const login = ctx.config.login;
    await ctx.writeFile(stampPath(ctx), `${ctx.local.projectHash}\n`, { mode: '600', owner: `${login}:${login}` });
  },
};
