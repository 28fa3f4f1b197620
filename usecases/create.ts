import { BAKED_BOX, DEFAULTS, labUrl, type LabConfig } from '../core/config.js';
import { AbortedError, ExternalCommandError } from '../core/errors.js';
import { appendLabLog } from '../core/lab-log.js';
import { markCreateFinished, markCreateStarted } from '../core/lab-state.js';
import { hostsFilePath } from '../core/paths.js';
import { renderVagrantfile } from '../core/vagrantfile.js';
import { brokenError, changedSettings, checkConflicts, readLabOrBroken, isBroken, removeLabDir, scanLabs, withLabLock, writeLab, type Lab } from '../core/state.js';
import type { SshTarget } from '../adapters/guest.js';
import { preflight, preflightError } from '../adapters/host-probes.js';
import * as vagrant from '../adapters/vagrant.js';
import { configFromInput, type ConfigInput } from './config-input.js';
import { ensureHostsEntry } from './hosts.js';
import { provisionLab, type ProvisionOptions, type ProvisionSummary } from './provision.js';
import type { Reporter } from './reporter.js';

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

/** What the steps of one `create` learn and pass on; each field is set by exactly one step. */
export interface CreateRun {
  readonly opts: CreateOptions;
  readonly reporter: Reporter;
  config?: LabConfig;
  /** Set by "lab state": the lab was already there (a resumed create). */
  existed: boolean;
  lab?: Lab;
  hostsWritten: boolean;
  ssh?: SshTarget;
  provisioned?: ProvisionSummary;
}

/**
 * One step of `create`, in the shape of a provisioning step (provision/context.ts): `skip` says
 * why it need not run (or false), `run` does it. `undo` takes it back when a later step fails
 * before the VM exists: until then a failed create leaves no trace; from `vagrant up` on, what is
 * there is kept for a resumed create (or `destroy`).
 */
export interface CreateStep {
  title: string;
  /** Runs under the lab's lock (everything that reads or writes the lab). */
  locked: boolean;
  skip(run: CreateRun): string | false;
  run(run: CreateRun): Promise<void>;
  undo?(run: CreateRun): Promise<void>;
  /** From this step on, a failure keeps what exists (the lab is resumable). */
  keepsOnFailure?: boolean;
}

const never = (): false => false;

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: a create step needs ${what}, which an earlier step sets`);
  return value;
}

export const CREATE_STEPS: readonly CreateStep[] = [
  {
    title: 'settings',
    locked: false,
    skip: never,
    run: async (r) => {
      r.config = await configFromInput(r.opts);
      if (r.config.box === BAKED_BOX) r.reporter.info(`Box ${BAKED_BOX}: Docker, Compose and debian:bookworm are already inside (--box ${DEFAULTS.box} for the plain one).`);
    },
  },
  {
    // Pure and quick, and it names the fix at once; checked again under the lock.
    title: 'conflicts with other labs',
    locked: false,
    skip: never,
    run: async (r) => checkConflicts(need(r.config, 'the settings'), (await scanLabs(r.opts.env)).labs),
  },
  {
    // What create needs from the machine is checked before anything is written (doctor's probes).
    title: 'preflight',
    locked: false,
    skip: never,
    run: async (r) => {
      const config = need(r.config, 'the settings');
      // A lab on another machine's libvirt is checked against that machine's daemon, as vagrant-libvirt will reach it.
      const env = config.libvirt_uri === undefined ? r.opts.env : { ...r.opts.env, LIBVIRT_DEFAULT_URI: config.libvirt_uri };
      const problem = preflightError(await preflight({ provider: config.provider, hosts: r.opts.hosts, env }));
      if (problem) throw problem;
    },
  },
  {
    title: 'lab state',
    locked: true,
    skip: never,
    run: async (r) => {
      const config = need(r.config, 'the settings');
      checkConflicts(config, (await scanLabs(r.opts.env)).labs);
      const previous = await readLabOrBroken(config.name, r.opts.env);
      if (previous && isBroken(previous)) throw brokenError(previous);
      r.existed = previous !== undefined;
      if (previous) {
        r.reporter.info(`Lab "${config.name}" exists: resuming with its state and secrets.`);
        // Settings not given again fall back to their defaults: say so, since e.g. a missing --bonus
        // removes the bonus services at provisioning.
        const changes = changedSettings(previous.config, config);
        if (changes.length > 0) r.reporter.warn(`this run changes the lab's settings: ${changes.join(', ')} (give the same flags again to keep them)`);
      }
      const lab = await writeLab(config, renderVagrantfile(config), r.opts.env);
      r.lab = lab;
      await markCreateStarted(lab.paths);
      if (lab.secrets.tightened.length > 0) r.reporter.warn(`tightened ${lab.secrets.tightened.map((f) => `secrets/${f}`).join(', ')} to mode 0600 (they were readable by others)`);
    },
    // Nothing but state was made yet: a brand-new lab leaves no trace behind.
    undo: async (r) => {
      if (!r.existed && r.lab) await removeLabDir(r.lab.paths);
    },
  },
  {
    title: 'hosts entry',
    locked: true,
    skip: (r) => (r.opts.hosts ? false : '--no-hosts'),
    run: async (r) => {
      const config = need(r.config, 'the settings');
      const result = await ensureHostsEntry({
        entry: { name: config.name, ip: config.ip, domain: config.domain },
        login: config.login,
        env: r.opts.env,
        nonInteractive: r.opts.yes,
        onSudo: (cmd) => r.reporter.info(`${hostsFilePath(r.opts.env)} is not writable; asking sudo once: ${cmd}`),
      });
      r.hostsWritten = true;
      r.reporter.info(result.changed ? `Added "${hostsLine(config)}" to ${result.path}.` : `${result.path} already maps ${config.domain}.`);
    },
  },
  {
    title: 'vagrant up',
    locked: true,
    keepsOnFailure: true,
    skip: never,
    run: async (r) => {
      const config = need(r.config, 'the settings');
      const lab = need(r.lab, 'the lab state');
      r.reporter.info(`Starting the VM (vagrant up --provider ${config.provider}${config.provider === 'libvirt' ? `, driver ${config.libvirt_driver}` : ''}); this takes minutes…`);
      const next = `\`labctl create ${config.name} --login ${config.login}\` resumes it, \`labctl destroy ${config.name}\` removes it`;
      try {
        await vagrant.up(lab.paths, config.provider, r.reporter.streamTools, next);
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
    },
  },
  {
    // Asked once: provisioning gets this target instead of asking vagrant again.
    title: 'ssh target',
    locked: true,
    skip: never,
    run: async (r) => {
      r.ssh = await vagrant.refreshSshConfig(need(r.lab, 'the lab state').paths);
    },
  },
  {
    title: 'provisioning',
    locked: true,
    skip: (r) => (r.opts.provision ? false : '--no-provision'),
    run: async (r) => {
      r.provisioned = await provisionLab(need(r.lab, 'the lab state'), { ...r.opts.provisionOptions, reporter: r.reporter }, need(r.ssh, 'the SSH target'));
    },
  },
];

function hostsLine(config: LabConfig): string {
  return `${config.ip} ${config.domain}`;
}

/**
 * Runs steps in order, the `locked` ones under the lab's lock. A failure before a
 * `keepsOnFailure` step undoes the steps done so far, newest first.
 */
export async function runCreateSteps(steps: readonly CreateStep[], r: CreateRun): Promise<void> {
  const done: CreateStep[] = [];
  let keeping = false;
  const runOne = async (step: CreateStep): Promise<void> => {
    const reason = step.skip(r);
    const log = (line: string): void => {
      if (r.lab) appendLabLog(r.lab.paths.log, `create ${r.lab.config.name}: ${line}`);
    };
    if (reason !== false) {
      log(`step "${step.title}": skipped (${reason})`);
      return;
    }
    if (step.keepsOnFailure) keeping = true;
    const t0 = Date.now();
    try {
      await step.run(r);
    } catch (error) {
      log(`step "${step.title}": failed after ${Date.now() - t0} ms: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      throw error;
    }
    log(`step "${step.title}": ran in ${Date.now() - t0} ms`);
    done.push(step);
  };
  const runAll = async (list: readonly CreateStep[]): Promise<void> => {
    try {
      for (const step of list) await runOne(step);
    } catch (error) {
      // Undone here, still under the lock when the failing step held it.
      if (!keeping) for (const step of done.reverse()) await step.undo?.(r);
      throw error;
    }
  };
  const firstLocked = steps.findIndex((s) => s.locked);
  const before = firstLocked === -1 ? steps : steps.slice(0, firstLocked);
  const after = firstLocked === -1 ? [] : steps.slice(firstLocked);
  await runAll(before);
  if (after.length > 0) await withLabLock(need(r.config, 'the settings').name, () => runAll(after), r.opts.env);
}

/** `labctl create`: settings → conflicts → preflight → state → hosts → vagrant up → SSH target → provisioning. Resumable. */
export async function createLab(opts: CreateOptions, reporter: Reporter): Promise<CreateResult> {
  const r: CreateRun = { opts, reporter, existed: false, hostsWritten: false };
  await runCreateSteps(CREATE_STEPS, r);
  const config = need(r.config, 'the settings');
  await markCreateFinished(need(r.lab, 'the lab state').paths);
  if (!opts.provision) reporter.info('VM is up; provisioning skipped (--no-provision). Run `labctl provision` to install the stack.');
  if (!r.hostsWritten) reporter.warn(`Add this line to your hosts file to reach the site: ${hostsLine(config)}`);
  return { lab: need(r.lab, 'the lab state'), url: labUrl(config), hostsLine: hostsLine(config), hostsWritten: r.hostsWritten, provisioned: r.provisioned };
}
