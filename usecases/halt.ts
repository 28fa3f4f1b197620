import { loadLab, resolveLabName, withLabLock, type Lab } from '../core/state.js';
import * as vagrant from '../adapters/vagrant.js';
import { requireVm } from './guards.js';
import type { Reporter } from './reporter.js';

/** Idempotent: a VM that is already stopped is left alone, and the user is told so. */
export async function haltLab(name: string | undefined, reporter: Reporter, env: NodeJS.ProcessEnv = process.env): Promise<Lab> {
  const resolved = await resolveLabName(name, env);
  const lab = await loadLab(resolved, env);
  const { state, vm } = await requireVm(lab, 'halt');
  if (state === 'stopped') {
    reporter.info(`The VM of lab "${resolved}" was already stopped (${vm}).`);
    return lab;
  }
  await withLabLock(resolved, () => vagrant.halt(lab.paths, reporter.streamTools), env);
  return lab;
}
