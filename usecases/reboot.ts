import { loadLab, resolveLabName, withLabLock, type Lab } from '../core/state.js';
import * as vagrant from '../adapters/vagrant.js';
import { requireVm } from './guards.js';
import type { Reporter } from './reporter.js';
import { waitForStack } from './wait-for-stack.js';

export async function rebootLab(name: string | undefined, reporter: Reporter, env: NodeJS.ProcessEnv = process.env): Promise<Lab> {
  const resolved = await resolveLabName(name, env);
  const lab = await loadLab(resolved, env);
  await requireVm(lab, 'reboot');
  await withLabLock(resolved, () => vagrant.reload(lab.paths, reporter.streamTools), env);
  await waitForStack(lab, reporter);
  return lab;
}
