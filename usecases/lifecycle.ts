import { readFile } from 'node:fs/promises';
import type { LabConfig } from '../core/config.js';
import { preflight, preflightError } from '../adapters/host-probes.js';
import { bonusEndpoints, type Endpoint } from '../core/endpoints.js';
import { AbortedError, ExternalCommandError, NotFoundError } from '../core/errors.js';
import { hostsFilePath } from '../core/paths.js';
import { renderVagrantfile } from '../core/vagrantfile.js';
import { brokenError, changedSettings, checkConflicts, loadLab, readLabOrBroken, isBroken, removeLabDir, scanLabs, withLabLock, writeLab, type Lab } from '../core/state.js';
import * as vagrant from '../adapters/vagrant.js';
import { configFromInput, type ConfigInput } from './config-input.js';
import { ensureHostsEntry } from './hosts.js';
import { provisionLab, type ProvisionOptions, type ProvisionSummary } from './provision.js';
import { commandLine } from '../core/quote.js';

/** How use cases talk to the user; the CLI decides where the lines go. */
export interface Reporter {
  info(line: string): void;
  warn(line: string): void;
  /** Stream vagrant's own output (false with --quiet). */
  streamTools: boolean;
}

export interface CreateOptions extends ConfigInput {
  hosts: boolean;
  /** Ask nothing (sudo -n); for scripts and CI. */
  yes: boolean;
  provision: boolean;
  provisionOptions: Omit<ProvisionOptions, 'reporter'>;
}

export interface CreateResult {
  lab: Lab;
  url: string;
  hostsLine: string;
  hostsWritten: boolean;
  provisioned: ProvisionSummary | undefined;
}

/** validate → preflight → write state → hosts entry → vagrant up → provisioning → URL. Resumable. */
export async function createLab(opts: CreateOptions, reporter: Reporter): Promise<CreateResult> {
  const config = await configFromInput(opts);
  // Conflicts first: they are pure and name the fix at once. Checked again under the lock.
  checkConflicts(config, (await scanLabs(opts.env)).labs);
  // What create needs from the machine is checked before anything is written (doctor's probes).
  const problem = preflightError(await preflight({ provider: config.provider, hosts: opts.hosts, env: opts.env }));
  if (problem) throw problem;
  return withLabLock(config.name, () => createLocked(config, opts, reporter), opts.env);
}

async function createLocked(config: LabConfig, opts: CreateOptions, reporter: Reporter): Promise<CreateResult> {
  const { labs } = await scanLabs(opts.env);
  checkConflicts(config, labs);
  const previous = await readLabOrBroken(config.name, opts.env);
  if (previous && isBroken(previous)) throw brokenError(previous);
  const existed = previous !== undefined;
  if (previous) {
    reporter.info(`Lab "${config.name}" exists: resuming with its state and secrets.`);
    // Settings not given again fall back to their defaults: say so, since e.g. a missing --bonus
    // removes the bonus services at provisioning.
    const changes = changedSettings(previous.config, config);
    if (changes.length > 0) reporter.warn(`this run changes the lab's settings: ${changes.join(', ')} (give the same flags again to keep them)`);
  }

  const lab = await writeLab(config, renderVagrantfile(config), opts.env);
  if (lab.secrets.tightened.length > 0) reporter.warn(`tightened ${lab.secrets.tightened.map((f) => `secrets/${f}`).join(', ')} to mode 0600 (they were readable by others)`);
  const hostsLine = `${config.ip} ${config.domain}`;
  let hostsWritten = false;
  try {
    if (opts.hosts) {
      const r = await ensureHostsEntry({
        entry: { name: config.name, ip: config.ip, domain: config.domain },
        login: config.login,
        env: opts.env,
        nonInteractive: opts.yes,
        onSudo: (cmd) => reporter.info(`${hostsFilePath(opts.env)} is not writable; asking sudo once: ${cmd}`),
      });
      hostsWritten = true;
      reporter.info(r.changed ? `Added "${hostsLine}" to ${r.path}.` : `${r.path} already maps ${config.domain}.`);
    }
  } catch (error) {
    // Nothing but state was made yet: a brand-new lab leaves no trace behind.
    if (!existed) await removeLabDir(lab.paths);
    throw error;
  }

  reporter.info(`Starting the VM (vagrant up --provider ${config.provider}${config.provider === 'libvirt' ? `, driver ${config.libvirt_driver}` : ''}); this takes minutes…`);
  const next = `\`labctl create ${config.name} --login ${config.login}\` resumes it, \`labctl destroy ${config.name}\` removes it`;
  try {
    await vagrant.up(lab.paths, config.provider, reporter.streamTools, next);
  } catch (error) {
    if (error instanceof AbortedError) throw new AbortedError(`interrupted while starting the VM of lab "${config.name}"`, { hint: next, cause: error });
    if (error instanceof ExternalCommandError) {
      throw new ExternalCommandError(error.command, error.code, error.output, {
        hint: `vagrant's output is in ${lab.paths.log}; fix the cause (\`labctl doctor\`), then ${next} (--force if it will not go)`,
        cause: error,
      });
    }
    throw error;
  }
  await vagrant.refreshSshConfig(lab.paths);

  let provisioned: ProvisionSummary | undefined;
  if (opts.provision) {
    provisioned = await provisionLab(lab, { ...opts.provisionOptions, reporter });
  } else {
    reporter.info('VM is up; provisioning skipped (--no-provision). Run `labctl provision` to install the stack.');
  }
  if (!hostsWritten) reporter.warn(`Add this line to your hosts file to reach the site: ${hostsLine}`);
  return { lab, url: labUrl(config), hostsLine, hostsWritten, provisioned };
}

export function labUrl(config: LabConfig): string {
  return `https://${config.domain}`;
}

/** After a boot the containers restart by themselves (M09); under emulation that takes minutes. */
export const STACK_READY_AFTER_BOOT_TIMEOUT_MS = 900_000;

/**
 * Waits until the stack in the VM is healthy again, so that `up` and `reboot` return a usable lab.
 * A lab that was never provisioned has no stack to wait for.
 */
async function waitForStack(lab: Lab, reporter: Reporter): Promise<void> {
  const ssh = await vagrant.refreshSshConfig(lab.paths);
  const { connect, guestPaths, remoteExec, waitUntilReady } = await import('../provision/index.js');
  const conn = await connect(ssh);
  try {
    const project = await remoteExec(conn, ['test', '-f', guestPaths(lab.config.login).composeFile], { sudo: true, okCodes: [0, 1] });
    if (project.code !== 0) {
      reporter.info('No stack in the VM yet: run `labctl provision` to install it.');
      return;
    }
    reporter.info('Waiting for the stack to be healthy…');
    await waitUntilReady(conn, lab.config, { timeoutMs: STACK_READY_AFTER_BOOT_TIMEOUT_MS });
  } finally {
    conn.dispose();
  }
}

export async function upLab(name: string, reporter: Reporter, env: NodeJS.ProcessEnv = process.env): Promise<Lab> {
  const lab = await loadLab(name, env);
  await withLabLock(name, () => vagrant.up(lab.paths, lab.config.provider, reporter.streamTools), env);
  await waitForStack(lab, reporter);
  return lab;
}

/** Idempotent: a VM that is already stopped is left alone, and the user is told so. */
export async function haltLab(name: string, reporter: Reporter, env: NodeJS.ProcessEnv = process.env): Promise<Lab> {
  const lab = await loadLab(name, env);
  const state = await requireVm(lab, 'halt');
  if (state === 'poweroff' || state === 'shutoff') {
    reporter.info(`The VM of lab "${name}" was already stopped (${state}).`);
    return lab;
  }
  await withLabLock(name, () => vagrant.halt(lab.paths, reporter.streamTools), env);
  return lab;
}

export async function rebootLab(name: string, reporter: Reporter, env: NodeJS.ProcessEnv = process.env): Promise<Lab> {
  const lab = await loadLab(name, env);
  await requireVm(lab, 'reboot');
  await withLabLock(name, () => vagrant.reload(lab.paths, reporter.streamTools), env);
  await waitForStack(lab, reporter);
  return lab;
}

/** The VM's state, or a NotFoundError saying how to get a VM when there is none. */
async function requireVm(lab: Lab, verb: string): Promise<vagrant.VmState> {
  const state = await vagrant.status(lab.paths);
  if (state === 'not_created') {
    throw new NotFoundError(`lab "${lab.config.name}" has no VM to ${verb} (never created, or removed outside labctl)`, {
      hint: `\`labctl create ${lab.config.name} --login ${lab.config.login}\` makes it, \`labctl destroy ${lab.config.name} --force\` removes the lab`,
    });
  }
  return state;
}


export interface LabStatus {
  name: string;
  login: string;
  provider: string;
  ip: string;
  url: string;
  /** Where each bonus service is reached; empty without --bonus. */
  bonusEndpoints: Endpoint[];
  /** Vagrant's machine state, or `broken` when the lab's state cannot be read (see `problem`). */
  state: vagrant.VmState | 'broken';
  dir: string;
  problem?: string;
}

export async function labStatus(lab: Lab): Promise<LabStatus> {
  return {
    name: lab.config.name,
    login: lab.config.login,
    provider: lab.config.provider,
    ip: lab.config.ip,
    url: labUrl(lab.config),
    bonusEndpoints: bonusEndpoints(lab.config),
    state: await vagrant.status(lab.paths),
    dir: lab.paths.dir,
  };
}


export async function renderLab(input: ConfigInput): Promise<string> {
  return renderVagrantfile(await configFromInput(input));
}

/**
 * What ssh sends as the remote command. sshd hands one string to the login shell, so several
 * words are quoted one by one and arrive as the same argv (`-- docker ps --format '{{.Names}} x'`);
 * a single word is left as written, which is how a pipeline travels (`-- 'docker ps | grep x'`).
 */
export function remoteCommand(command: readonly string[]): string[] {
  if (command.length <= 1) return [...command];
  return [commandLine(command)];
}

/** argv for the system ssh using the cached ssh-config (much faster than `vagrant ssh`). */
export async function sshArgv(name: string, command: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const lab = await loadLab(name, env);
  const text = await readFile(lab.paths.sshConfig, 'utf8').catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    await vagrant.refreshSshConfig(lab.paths);
    return readFile(lab.paths.sshConfig, 'utf8');
  });
  if (!text.trim()) throw new NotFoundError(`no SSH settings for lab "${name}"`, { hint: `run \`labctl up ${name}\`` });
  // -t only for an interactive shell: a command's output must stay byte-exact for pipes.
  return ['-F', lab.paths.sshConfig, ...(command.length > 0 ? [] : ['-t']), vagrant.sshConfigHostAlias(text), ...remoteCommand(command)];
}

/**
 * Why `labctl ssh` could not reach the VM (ssh exited 255): the lab's state and the fix. Asked only
 * after a failure, so that a working `labctl ssh` never pays for `vagrant status`.
 */
export async function sshUnreachable(name: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Error> {
  const lab = await loadLab(name, env);
  const state = await vagrant.status(lab.paths);
  if (state !== 'running') return vagrant.notRunningError(lab.paths);
  return new ExternalCommandError(['ssh', ...argv], 255, '', { hint: `the VM runs but SSH failed; \`labctl up ${name}\` refreshes the SSH settings, \`labctl reboot ${name}\` restarts it` });
}
