import { access, readFile } from 'node:fs/promises';
import type { LabConfig } from '../config.js';
import { bonusEndpoints, type Endpoint } from '../endpoints.js';
import { LabctlError, NotFoundError } from '../errors.js';
import { hostsFilePath } from '../paths.js';
import { renderVagrantfile } from '../render.js';
import { changedSettings, checkConflicts, listLabs, loadLab, readLab, removeLabDir, writeLab, type Lab } from '../state.js';
import * as vagrant from '../vagrant.js';
import { configFromInput, type ConfigInput } from './config-input.js';
import { ensureHostsEntry, hostsRemove } from './hosts.js';
import { provisionLab, type ProvisionOptions, type ProvisionSummary } from './provision.js';
import { commandLine } from '../../provision/quote.js';

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

/** validate → write state → hosts entry → vagrant up → provisioning → URL. Resumable. */
export async function createLab(opts: CreateOptions, reporter: Reporter): Promise<CreateResult> {
  const config = await configFromInput(opts);
  checkConflicts(config, await listLabs(opts.env));
  const previous = await readLab(config.name, opts.env);
  const existed = previous !== undefined;
  if (previous) {
    reporter.info(`Lab "${config.name}" exists: resuming with its state and secrets.`);
    // Settings not given again fall back to their defaults: say so, since e.g. a missing --bonus
    // removes the bonus services at provisioning.
    const changes = changedSettings(previous.config, config);
    if (changes.length > 0) reporter.warn(`this run changes the lab's settings: ${changes.join(', ')} (give the same flags again to keep them)`);
  }

  const lab = await writeLab(config, renderVagrantfile(config), opts.env);
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
  await vagrant.up(lab.paths, config.provider, reporter.streamTools);
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
  const { connect, guestPaths, remoteExec, waitUntilReady } = await import('../../provision/index.js');
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
  await vagrant.up(lab.paths, lab.config.provider, reporter.streamTools);
  await waitForStack(lab, reporter);
  return lab;
}

export async function haltLab(name: string, reporter: Reporter, env: NodeJS.ProcessEnv = process.env): Promise<Lab> {
  const lab = await loadLab(name, env);
  await vagrant.halt(lab.paths, reporter.streamTools);
  return lab;
}

export async function rebootLab(name: string, reporter: Reporter, env: NodeJS.ProcessEnv = process.env): Promise<Lab> {
  const lab = await loadLab(name, env);
  await vagrant.reload(lab.paths, reporter.streamTools);
  await waitForStack(lab, reporter);
  return lab;
}

/** vagrant destroy -f, then the hosts block, then the lab directory: each step safe to repeat. */
export async function destroyLab(name: string, reporter: Reporter, env: NodeJS.ProcessEnv = process.env): Promise<Lab> {
  const lab = await loadLab(name, env);
  const hasVagrantState = await access(`${lab.paths.dir}/.vagrant`).then(
    () => true,
    () => false,
  );
  if (hasVagrantState) await vagrant.destroy(lab.paths, reporter.streamTools);
  try {
    const r = await hostsRemove(lab.config.name, env);
    if (r.changed) reporter.info(`Removed the labctl ${lab.config.name} block from ${r.path}.`);
  } catch (error) {
    throw new LabctlError(`the VM is gone but the hosts entry could not be removed: ${(error as Error).message}`, {
      hint: `run \`sudo labctl hosts remove --login ${lab.config.login} --name ${lab.config.name}\`, then \`labctl destroy ${name}\` again`,
      cause: error,
    });
  }
  await removeLabDir(lab.paths);
  return lab;
}

export interface LabStatus {
  name: string;
  login: string;
  provider: string;
  ip: string;
  url: string;
  /** Where each bonus service is reached; empty without --bonus. */
  bonusEndpoints: Endpoint[];
  state: vagrant.VmState;
  dir: string;
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
