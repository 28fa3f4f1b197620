import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Provider } from '../core/config.js';
import { labCallLog } from '../core/lab-log.js';
import type { LabPaths } from '../core/paths.js';
import { libvirtUri } from './host-probes.js';
import { ANY_EXIT_CODE, run } from './run.js';
import * as vagrant from './vagrant.js';

// The VM's state straight from the provider's own tool (tens of milliseconds) instead of
// `vagrant status` (seconds: Ruby, the plugins, the Vagrantfile). vagrant-libvirt and VirtualBox
// record the machine's id where vagrant keeps its machines; without one, or when the tool cannot
// answer, vagrant is asked as before, so the answer is always vagrant's word for the state.

/** A local virsh or VBoxManage answers well within this; a hung one must not hang `labctl status`. */
export const PROVIDER_STATE_TIMEOUT_MS = 10_000;

/** Where vagrant (run in the lab directory, machine "default") records the provider's id for the VM. */
export function machineIdPath(paths: Pick<LabPaths, 'dir'>, provider: Provider): string {
  return join(paths.dir, '.vagrant', 'machines', 'default', provider, 'id');
}

/**
 * `virsh domstate` words → vagrant-libvirt's (it reads the same libvirt state through fog, which
 * spells them nostate, running, blocked, paused, shutting-down, shutoff, crashed, pmsuspended).
 */
const VIRSH_STATES: Readonly<Record<string, vagrant.VmState>> = {
  running: 'running',
  paused: 'paused',
  'in shutdown': 'shutting_down',
  'shut off': 'shutoff',
  crashed: 'crashed',
  pmsuspended: 'pmsuspended',
};

/** `virsh domstate` output → vagrant's word; undefined for the rare ones (idle, no state) left to vagrant. */
export function parseVirshDomstate(output: string): vagrant.VmState | undefined {
  const first = output.split('\n').map((l) => l.trim()).find((l) => l !== '');
  // `--reason` adds "(booted)"; the word is what comes before it.
  const word = first?.replace(/\s*\(.*\)$/, '').toLowerCase();
  return word === undefined ? undefined : VIRSH_STATES[word];
}

/** Vagrant's VirtualBox provider reports VMState itself; these are the ones labctl knows. */
const VBOX_STATES: readonly vagrant.VmState[] = ['running', 'poweroff', 'saved', 'aborted', 'paused'];

/** `VBoxManage showvminfo --machinereadable` → VMState, undefined when absent or not one labctl knows. */
export function parseVBoxVmState(output: string): vagrant.VmState | undefined {
  const word = /^VMState="([^"]*)"\s*$/m.exec(output)?.[1];
  return VBOX_STATES.find((s) => s === word);
}

/** The state from the provider's tool, or undefined when it cannot tell (no id, tool missing or failing). */
export async function providerVmState(paths: LabPaths, provider: Provider, env: NodeJS.ProcessEnv = process.env, labUri?: string): Promise<vagrant.VmState | undefined> {
  const id = (await readFile(machineIdPath(paths, provider), 'utf8').catch(() => '')).trim();
  // Checked like destroy checks it: the id becomes an argument of virsh or VBoxManage.
  if (!/^[A-Za-z0-9-]{1,80}$/.test(id)) return undefined;
  const opts = { timeoutMs: PROVIDER_STATE_TIMEOUT_MS, okCodes: ANY_EXIT_CODE, log: labCallLog(paths) };
  try {
    if (provider === 'libvirt') {
      const r = await run('virsh', ['-c', labUri ?? libvirtUri(env), 'domstate', id], opts);
      return r.code === 0 ? parseVirshDomstate(r.stdout) : undefined;
    }
    const r = await run('VBoxManage', ['showvminfo', id, '--machinereadable'], opts);
    return r.code === 0 ? parseVBoxVmState(r.stdout) : undefined;
  } catch {
    return undefined; // Not installed, timed out: vagrant is asked instead.
  }
}

/** The VM's state in vagrant's words: from the provider's tool when it can tell, else `vagrant status`. */
export async function vmState(paths: LabPaths, provider: Provider, env: NodeJS.ProcessEnv = process.env, labUri?: string): Promise<vagrant.VmState> {
  return (await providerVmState(paths, provider, env, labUri)) ?? vagrant.status(paths);
}
