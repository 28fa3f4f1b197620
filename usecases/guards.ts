import { NotFoundError } from '../core/errors.js';
import type { Lab } from '../core/state.js';
import * as vagrant from '../adapters/vagrant.js';

/** The VM's state, or a NotFoundError saying how to get a VM when there is none. */
export async function requireVm(lab: Lab, verb: string): Promise<vagrant.VmState> {
  const state = await vagrant.status(lab.paths);
  if (state === 'not_created') {
    throw new NotFoundError(`lab "${lab.config.name}" has no VM to ${verb} (never created, or removed outside labctl)`, {
      hint: `\`labctl create ${lab.config.name} --login ${lab.config.login}\` makes it, \`labctl destroy ${lab.config.name} --force\` removes the lab`,
    });
  }
  return state;
}
