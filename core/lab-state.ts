import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabPaths } from './paths.js';

// One word for where a lab is in its life, the same for every provider (as Lima's instance status
// is): the guards of every command and `status --json` speak it. The provider's own word stays
// beside it (`vm`), since `poweroff` vs `saved` still matters to someone fixing a VM by hand.

export const LAB_STATES = ['absent', 'creating', 'stopped', 'running', 'broken'] as const;
export type LabState = (typeof LAB_STATES)[number];

/** Provider words (VirtualBox, libvirt, as `vagrant status --machine-readable` prints them) → LabState. */
const FROM_PROVIDER: Readonly<Record<string, LabState>> = {
  running: 'running',
  // VirtualBox
  poweroff: 'stopped',
  saved: 'stopped',
  aborted: 'stopped',
  paused: 'stopped',
  // libvirt (vagrant-libvirt's words, which labctl also derives from `virsh domstate`)
  shutoff: 'stopped',
  shutting_down: 'stopped',
  pmsuspended: 'stopped',
  shutdown: 'stopped',
  crashed: 'stopped',
  suspended: 'stopped',
  not_created: 'absent',
  preparing: 'creating',
};

/**
 * The lab's state from the provider's word and whether a `create` is unfinished. A VM that
 * runs while create's marker is there is still `creating`: its stack may be half made.
 */
export function labStateFrom(vm: string, createUnfinished: boolean): LabState {
  const state = FROM_PROVIDER[vm] ?? 'broken';
  if (createUnfinished && state !== 'broken') return 'creating';
  return state;
}

const MARKER = 'create-unfinished';

function markerPath(paths: LabPaths): string {
  return join(paths.dir, MARKER);
}

/** Written when create writes the lab's state, removed when create has finished. */
export async function markCreateStarted(paths: LabPaths): Promise<void> {
  await writeFile(markerPath(paths), `${new Date().toISOString()}\n`, { mode: 0o600 });
}

export async function markCreateFinished(paths: LabPaths): Promise<void> {
  await rm(markerPath(paths), { force: true });
}

export async function createUnfinished(paths: LabPaths): Promise<boolean> {
  return stat(markerPath(paths)).then(() => true, () => false);
}
