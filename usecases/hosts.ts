import { readFile } from 'node:fs/promises';
import { ConflictError, ExternalCommandError, LabctlError, NotFoundError } from '../core/errors.js';
import { addBlock, blockEntries, canWrite, editHostsFile, parseBlocks, removeBlock, type HostsEntry } from '../core/hosts-file.js';
import { DEFAULT_LAB_NAME, domainFor, validateIp, validateName } from '../core/config.js';
import { hostsFilePath } from '../core/paths.js';
import { ANY_EXIT_CODE, run } from '../adapters/run.js';

export interface HostsResult {
  path: string;
  changed: boolean;
  line: string;
}

/** Refuses to map a domain that another lab's block already maps (and a file with a malformed block). */
function checkDomainFree(text: string, entry: HostsEntry, path: string): void {
  parseBlocks(text, path);
  const clash = blockEntries(text).find((e) => e.domain === entry.domain && e.name !== entry.name);
  if (clash) {
    throw new ConflictError(`${entry.domain} is already mapped to ${clash.ip} by lab "${clash.name}"`, {
      hint: `run \`labctl hosts remove --login ${entry.domain.replace(/\.42\.fr$/, '')} --name ${clash.name}\` or destroy that lab`,
    });
  }
}

const missing = (path: string): NotFoundError =>
  new NotFoundError(`hosts file ${path} does not exist`, { hint: 'create it, or point LABCTL_HOSTS_FILE at the right file' });

export async function hostsAdd(entry: HostsEntry, env: NodeJS.ProcessEnv = process.env): Promise<HostsResult> {
  const path = hostsFilePath(env);
  // The conflict check runs inside the edit, under the lock: checked apart, two labs could both
  // see the domain free and both write it.
  const edit = (text: string): string => {
    checkDomainFree(text, entry, path);
    return addBlock(text, entry, path);
  };
  const changed = await withFileErrors(path, () => editHostsFile(path, edit), () => {
    throw missing(path);
  });
  return { path, changed, line: `${entry.ip} ${entry.domain}` };
}

/** `labctl hosts add [lab] --login L --ip IP`: the flags checked like create's, then the block written. */
export async function hostsAddFromArgs(args: { lab: string | undefined; login: string | undefined; ip: string | undefined }, env: NodeJS.ProcessEnv = process.env): Promise<HostsResult> {
  const login = validateName(args.login ?? '', 'login');
  const name = validateName(args.lab ?? DEFAULT_LAB_NAME, 'name');
  const ip = validateIp(args.ip ?? '', 'libvirt');
  return hostsAdd({ name, ip, domain: domainFor(login) }, env);
}

/** `labctl hosts remove [lab]`: the lab's block, whatever it maps. */
export async function hostsRemoveFromArgs(args: { lab: string | undefined; login: string | undefined }, env: NodeJS.ProcessEnv = process.env): Promise<{ name: string; result: HostsResult }> {
  if (args.login !== undefined) validateName(args.login, 'login');
  const name = validateName(args.lab ?? DEFAULT_LAB_NAME, 'name');
  return { name, result: await hostsRemove(name, env) };
}

export async function hostsRemove(name: string, env: NodeJS.ProcessEnv = process.env): Promise<HostsResult> {
  const path = hostsFilePath(env);
  // No hosts file means no block: destroy finishes (ENOENT is "already gone").
  const changed = await withFileErrors(path, () => editHostsFile(path, (text) => removeBlock(text, name, path)), () => false);
  return { path, changed, line: '' };
}

async function withFileErrors<T>(path: string, action: () => Promise<T>, onMissing: () => T): Promise<T> {
  try {
    return await action();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return onMissing();
    if (code === 'EACCES' || code === 'EPERM') {
      throw new LabctlError(`cannot write ${path} (permission denied)`, { hint: 'run the same command with sudo', cause: error });
    }
    if (code === 'EISDIR') throw new NotFoundError(`hosts file ${path} is a directory`, { hint: 'point LABCTL_HOSTS_FILE at a file', cause: error });
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
  // Checked here only to fail before sudo asks for a password; the sudo'd labctl checks again
  // under the lock.
  const text = await readFile(path, 'latin1').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw missing(path);
    if (error.code === 'EISDIR') throw new NotFoundError(`hosts file ${path} is a directory`, { hint: 'point LABCTL_HOSTS_FILE at a file', cause: error });
    throw error;
  });
  checkDomainFree(text, opts.entry, path);
  const argv = [process.execPath, ...process.execArgv, cliEntry(), 'hosts', 'add', '--login', opts.login, '--ip', opts.entry.ip, '--name', opts.entry.name];
  opts.onSudo(`sudo ${argv.join(' ')}`);
  // Interactive on purpose: sudo may ask for the password on this terminal, once.
  const r = await run('sudo', [...(opts.nonInteractive ? ['-n'] : []), '--preserve-env=LABCTL_HOSTS_FILE', ...argv], { interactive: true, okCodes: ANY_EXIT_CODE });
  if (r.code !== 0) {
    throw new ExternalCommandError(['sudo', ...argv], r.code, '', {
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
