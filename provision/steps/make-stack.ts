import { open } from 'node:fs/promises';
import { join } from 'node:path';
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

/**
 * BuildKit prints each Dockerfile step with its own duration (`#7 DONE 45.3s`) only in its plain
 * progress; the tty view is redrawn and lost. Compose and buildx read this variable.
 */
export const MAKE_ENV = { BUILDKIT_PROGRESS: 'plain' } as const;

/** The whole output of the lab's last make, kept on the host for the student and `npm run bench`. */
export const MAKE_LOG = 'make.log';

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
    const args = makeArgs(ctx.config, ctx.makeTarget);
    // The log is rewritten by each make: a failed build's every line stays there after the run.
    const log = await open(join(ctx.paths.dir, MAKE_LOG), 'w', 0o600);
    let writes = Promise.resolve();
    try {
      await log.write(`$ make ${args.join(' ')} (${new Date().toISOString()})\n`);
      await ctx.exec(['flock', '-w', String(lockWaitS), `${ctx.guest.state}/make.lock`, 'make', '-C', ctx.guest.project, ...args], {
        user: ctx.config.login,
        env: MAKE_ENV,
        timeoutMs: ctx.timeouts.makeMs * 2,
        onOutput: (chunk) => {
          writes = writes.then(() => log.write(chunk).then(() => undefined));
          ctx.progress(lastOutputLine(chunk));
        },
      });
    } finally {
      await writes.catch(() => undefined);
      await log.close();
    }
    const login = ctx.config.login;
    await ctx.writeFile(stampPath(ctx), `${ctx.local.projectHash}\n`, { mode: '600', owner: `${login}:${login}` });
  },
};
