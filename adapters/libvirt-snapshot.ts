import { readFile } from 'node:fs/promises';
import { ExternalCommandError } from '../core/errors.js';
import type { LabPaths } from '../core/paths.js';
import { labCallLog } from '../core/lab-log.js';
import { machineIdPath } from './provider-state.js';
import { ANY_EXIT_CODE, run } from './run.js';

// A class lab's "as created" point (issue 18: `class reset` brings a lab back to the moment its
// create finished). libvirt keeps it: an internal snapshot of the running domain (disk and memory,
// in the lab's qcow2), made and reverted by the daemon that runs the VM, on whichever host that is.

/** The snapshot `class create` takes when a lab's create has finished. */
export const CREATED_SNAPSHOT = 'labctl-created';
/** Saving a 2 GiB guest's memory under software emulation takes tens of seconds. */
export const SNAPSHOT_TIMEOUT_MS = 600_000;
const VIRSH_QUERY_TIMEOUT_MS = 60_000;

/** The lab's libvirt domain (its UUID, as vagrant-libvirt records it), or undefined when it has none. */
export async function labDomain(paths: LabPaths): Promise<string | undefined> {
  const id = (await readFile(machineIdPath(paths, 'libvirt'), 'utf8').catch(() => '')).trim();
  // The id becomes a virsh argument: only what a UUID is made of.
  return /^[A-Fa-f0-9-]{1,80}$/.test(id) ? id : undefined;
}

export async function hasSnapshot(uri: string, domain: string, paths: LabPaths): Promise<boolean> {
  const r = await run('virsh', ['-c', uri, 'snapshot-list', domain, '--name'], { timeoutMs: VIRSH_QUERY_TIMEOUT_MS, okCodes: ANY_EXIT_CODE, log: labCallLog(paths) });
  if (r.code !== 0) throw new ExternalCommandError(['virsh', '-c', uri, 'snapshot-list', domain, '--name'], r.code, r.stderr, { hint: `check that ${uri} answers (\`virsh -c ${uri} list\`)` });
  return r.stdout.split('\n').some((line) => line.trim() === CREATED_SNAPSHOT);
}

/** Takes the "as created" snapshot of a running domain (disk and memory), replacing none. */
export async function takeCreatedSnapshot(uri: string, domain: string, paths: LabPaths): Promise<void> {
  await run('virsh', ['-c', uri, 'snapshot-create-as', domain, '--name', CREATED_SNAPSHOT, '--description', 'labctl class create: the lab as create left it', '--atomic'], {
    timeoutMs: SNAPSHOT_TIMEOUT_MS,
    log: labCallLog(paths),
    hint: `libvirt could not snapshot the lab's VM; its disk must be qcow2 (vagrant-libvirt's default) — see the lab's labctl.log`,
  });
}

/** Brings the domain back to the "as created" snapshot, running. */
export async function revertToCreated(uri: string, domain: string, paths: LabPaths): Promise<void> {
  await run('virsh', ['-c', uri, 'snapshot-revert', domain, CREATED_SNAPSHOT, '--running', '--force'], {
    timeoutMs: SNAPSHOT_TIMEOUT_MS,
    log: labCallLog(paths),
    hint: `see the lab's labctl.log; \`virsh -c ${uri} snapshot-list ${domain}\` shows the lab's snapshots`,
  });
}

/** Removes the snapshot's metadata and data, so that vagrant-libvirt can undefine the domain. */
export async function deleteCreatedSnapshot(uri: string, domain: string, paths: LabPaths): Promise<void> {
  await run('virsh', ['-c', uri, 'snapshot-delete', domain, CREATED_SNAPSHOT], { timeoutMs: SNAPSHOT_TIMEOUT_MS, okCodes: ANY_EXIT_CODE, log: labCallLog(paths) });
}
