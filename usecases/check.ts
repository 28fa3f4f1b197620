import { LabctlError, UsageError } from '../core/errors.js';
import { resolveLabName } from '../core/state.js';
import { checkLive } from '../check/live.js';
import { checkStatic } from '../check/static.js';
import { summarize, type CheckResult, type CheckSummary } from '../check/types.js';

export type { CheckResult, CheckSummary };

export interface CheckOutcome {
  results: CheckResult[];
  summary: CheckSummary;
}

/** `labctl check --static DIR`: a project graded from its files alone. */
export async function checkProject(dir: string): Promise<CheckOutcome> {
  // Grading the current directory by accident (a forgotten argument) would grade the wrong thing.
  if (dir.trim() === '') throw new UsageError('--static needs the project folder', { hint: 'e.g. labctl check --static ~/inception (the folder with the Makefile and srcs/)' });
  const results = await checkStatic(dir);
  return { results, summary: summarize(results) };
}

export type ProjectOutcome = { dir: string } & (CheckOutcome | { error: string; hint: string | undefined });

/**
 * `labctl check --static DIR DIR…`: a class's projects, one after the other. A project that cannot
 * be read is an error row of its own; the others are graded all the same.
 */
export async function checkProjects(dirs: readonly string[]): Promise<ProjectOutcome[]> {
  const out: ProjectOutcome[] = [];
  for (const dir of dirs) {
    try {
      out.push({ dir, ...(await checkProject(dir)) });
    } catch (error) {
      if (!(error instanceof LabctlError)) throw error;
      out.push({ dir, error: error.message, hint: error.hint });
    }
  }
  return out;
}

/** `labctl check [name]`: the running lab, from the host and over SSH. */
export async function checkLab(name: string | undefined, opts: { destructive: boolean }, env: NodeJS.ProcessEnv = process.env): Promise<CheckOutcome> {
  const results = await checkLive(await resolveLabName(name, env), { destructive: opts.destructive, env });
  return { results, summary: summarize(results) };
}
