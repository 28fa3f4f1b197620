import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, type Log } from '../box/exec.js';

// `vagrant box add|list|remove` for the boxes labctl builds. VAGRANT_HOME decides which store they
// go to: it must be the one `vagrant up` will use.

export const VAGRANT_BOX_ADD_TIMEOUT_MS = 10 * 60_000;
export const VAGRANT_BOX_LIST_TIMEOUT_MS = 60_000;

export interface BoxEntry {
  name: string;
  provider: string;
  version: string;
}

export interface VagrantStoreOptions {
  /** Defaults to the caller's environment (VAGRANT_HOME or ~/.vagrant.d). */
  vagrantHome?: string | undefined;
  log?: Log;
}

function envFor(opts: VagrantStoreOptions): Record<string, string> | undefined {
  return opts.vagrantHome === undefined ? undefined : { VAGRANT_HOME: opts.vagrantHome };
}

/** Parses `vagrant box list --machine-readable` (timestamp,target,type,data…). Pure. */
export function parseBoxList(output: string): BoxEntry[] {
  const boxes: BoxEntry[] = [];
  let current: Partial<BoxEntry> = {};
  for (const line of output.split('\n')) {
    const [, , type, ...data] = line.split(',');
    const value = data.join(',').trim();
    if (type === 'box-name') current = { name: value };
    else if (type === 'box-provider') current.provider = value;
    else if (type === 'box-version') {
      current.version = value;
      if (current.name !== undefined && current.provider !== undefined) boxes.push(current as BoxEntry);
      current = {};
    }
  }
  return boxes;
}

export async function listBoxes(opts: VagrantStoreOptions = {}): Promise<BoxEntry[]> {
  const out = await run(['vagrant', 'box', 'list', '--machine-readable'], {
    log: opts.log ?? (() => {}),
    timeoutMs: VAGRANT_BOX_LIST_TIMEOUT_MS,
    env: envFor(opts),
  });
  return parseBoxList(out);
}

export async function removeBox(name: string, opts: VagrantStoreOptions & { provider?: string } = {}): Promise<void> {
  await run(['vagrant', 'box', 'remove', '--force', '--all', '--provider', opts.provider ?? 'libvirt', name], {
    log: opts.log ?? (() => {}),
    timeoutMs: VAGRANT_BOX_LIST_TIMEOUT_MS,
    env: envFor(opts),
    hint: 'see `vagrant box list`; a box still used by a running VM can only be removed after `labctl destroy`',
  });
}

export async function addBox(name: string, boxFile: string, opts: VagrantStoreOptions & { log: Log; signal?: AbortSignal | undefined }): Promise<void> {
  await run(['vagrant', 'box', 'add', '--force', '--name', name, boxFile], {
    log: opts.log,
    timeoutMs: VAGRANT_BOX_ADD_TIMEOUT_MS,
    env: envFor(opts),
    signal: opts.signal,
    hint: `check free space under ${opts.vagrantHome ?? 'VAGRANT_HOME'}`,
  });
}

/**
 * The `labctl_build` id recorded in an added box's metadata.json, or undefined. Lets a rebuilt box
 * replace an older add while an unchanged one is not extracted again.
 */
export async function addedBuildId(name: string, vagrantHome: string, provider = 'libvirt'): Promise<string | undefined> {
  // Vagrant stores "labctl/trixie" as boxes/labctl-VAGRANTSLASH-trixie/<version>/<provider>/.
  const file = join(vagrantHome, 'boxes', name.replaceAll('/', '-VAGRANTSLASH-'), '0', provider, 'metadata.json');
  try {
    const meta = JSON.parse(await readFile(file, 'utf8')) as { labctl_build?: unknown };
    return typeof meta.labctl_build === 'string' ? meta.labctl_build : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
