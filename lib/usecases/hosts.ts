import { readFile } from 'node:fs/promises';
import { ConflictError, ExternalCommandError, LabctlError, NotFoundError } from '../errors.js';
import { addHostsEntry, blockEntries, canWrite, removeHostsEntry, type HostsEntry } from '../hosts.js';
import { hostsFilePath } from '../paths.js';
import { runUnchecked } from '../run.js';

export interface HostsResult {
  path: string;
  changed: boolean;
  line: string;
}

/** Refuses to map a domain that another lab's block already maps. */
async function checkDomainFree(path: string, entry: HostsEntry): Promise<void> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new NotFoundError(`hosts file ${path} does not exist`, { hint: 'create it, or point LABCTL_HOSTS_FILE at the right file' });
    throw error;
  });
  const clash = blockEntries(text).find((e) => e.domain === entry.domain && e.name !== entry.name);
  if (clash) {
    throw new ConflictError(`${entry.domain} is already mapped to ${clash.ip} by lab "${clash.name}"`, {
      hint: `run \`labctl hosts remove --login ${entry.domain.replace(/\.42\.fr$/, '')} --name ${clash.name}\` or destroy that lab`,
    });
  }
}

export async function hostsAdd(entry: HostsEntry, env: NodeJS.ProcessEnv = process.env): Promise<HostsResult> {
  const path = hostsFilePath(env);
  await checkDomainFree(path, entry);
  const changed = await withPermissionHint(path, () => addHostsEntry(path, entry));
  return { path, changed, line: `${entry.ip} ${entry.domain}` };
}

export async function hostsRemove(name: string, env: NodeJS.ProcessEnv = process.env): Promise<HostsResult> {
  const path = hostsFilePath(env);
  const changed = await withPermissionHint(path, () => removeHostsEntry(path, name));
  return { path, changed, line: '' };
}

async function withPermissionHint<T>(path: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new LabctlError(`cannot write ${path} (permission denied)`, { hint: 'run the same command with sudo', cause: error });
    }
    throw error;
  }
}

export interface EnsureHostsOptions {
  entry: HostsEntry;
  login: string;
  env: NodeJS.ProcessEnv;
  /** Called before sudo may prompt for a password. */
  onSudo: (command: string) => void;
  /** Never prompt (--yes, CI): sudo must work without a password or the step fails with the fix. */
  nonInteractive: boolean;
}

/**
 * Adds the lab's hosts entry; when the file is not writable, re-runs `labctl hosts add` through
 * sudo, once, before any long work starts, so the password prompt never interrupts a run.
 */
export async function ensureHostsEntry(opts: EnsureHostsOptions): Promise<HostsResult> {
  const path = hostsFilePath(opts.env);
  if (await canWrite(path)) return hostsAdd(opts.entry, opts.env);
  await checkDomainFree(path, opts.entry);
  const argv = [process.execPath, ...process.execArgv, cliEntry(), 'hosts', 'add', '--login', opts.login, '--ip', opts.entry.ip, '--name', opts.entry.name];
  opts.onSudo(`sudo ${argv.join(' ')}`);
  // Interactive on purpose: sudo may ask for the password on this terminal, once.
  const r = await runUnchecked('sudo', [...(opts.nonInteractive ? ['-n'] : []), '--preserve-env=LABCTL_HOSTS_FILE', ...argv], { interactive: true });
  if (r.exitCode !== 0) {
    throw new ExternalCommandError(['sudo', ...argv], r.exitCode, '', {
      hint: `add the line yourself (\`${opts.entry.ip} ${opts.entry.domain}\` in ${path}) and re-run with --no-hosts`,
    });
  }
  return { path, changed: true, line: `${opts.entry.ip} ${opts.entry.domain}` };
}

function cliEntry(): string {
  const entry = process.argv[1];
  if (!entry) throw new LabctlError('cannot tell how labctl was started, so it cannot re-run itself through sudo', { hint: 'use --no-hosts' });
  return entry;
}
