import { loadLab, resolveLabName, withLabLock, type Lab } from '../core/state.js';
import * as vagrant from '../adapters/vagrant.js';
import type { Reporter } from './reporter.js';
import { waitForStack } from './wait-for-stack.js';

/** `labctl up`: boots the VM (or leaves a running one alone) and waits for the stack. */
export async function upLab(name: string | undefined, reporter: Reporter, env: NodeJS.ProcessEnv = process.env): Promise<Lab> {
  const resolved = await resolveLabName(name, env);
  const lab = await loadLab(resolved, env);
  await withLabLock(resolved, () => vagrant.up(lab.paths, lab.config.provider, reporter.streamTools), env);
  await waitForStack(lab, reporter);
  return lab;
}
