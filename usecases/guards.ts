import { NotFoundError } from '../core/errors.js';
import { createUnfinished, labStateFrom, type LabState } from '../core/lab-state.js';
import type { Lab } from '../core/state.js';
import type * as vagrant from '../adapters/vagrant.js';
import { vmState } from '../adapters/provider-state.js';

export interface LabStateReading {
  state: LabState;
  /** The provider's own word (`poweroff`, `shutoff` …), for messages and `status --json`. */
  vm: vagrant.VmState;
}

/** Where the lab is in its life: the provider's VM state and whether a create is unfinished. */
export async function readLabState(lab: Lab): Promise<LabStateReading> {
  const [vm, unfinished] = await Promise.all([vmState(lab.paths, lab.config.provider, process.env, lab.config.libvirt_uri), createUnfinished(lab.paths)]);
  return { state: labStateFrom(vm, unfinished), vm };
}

/** The lab's state, or a NotFoundError saying how to get a VM when there is none. */
export async function requireVm(lab: Lab, verb: string): Promise<LabStateReading> {
  const reading = await readLabState(lab);
  if (reading.state === 'absent') {
    throw new NotFoundError(`lab "${lab.config.name}" has no VM to ${verb} (never created, or removed outside labctl)`, {
      hint: `\`labctl create ${lab.config.name} --login ${lab.config.login}\` makes it, \`labctl destroy ${lab.config.name} --force\` removes the lab`,
    });
  }
  return reading;
}
