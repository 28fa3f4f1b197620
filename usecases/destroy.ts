import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { libvirtUri } from '../adapters/host-probes.js';
import { AbortedError, ExternalCommandError, NotFoundError } from '../core/errors.js';
import { destroyedLogPath, hostsFilePath, labPaths, type LabPaths } from '../core/paths.js';
import { ANY_EXIT_CODE, run } from '../adapters/run.js';
import { isBroken, readLabOrBroken, removeLabDir, withLabLock } from '../core/state.js';
import * as vagrant from '../adapters/vagrant.js';
import { closeSshMaster } from '../adapters/ssh-mux.js';
import { hostsRemove } from './hosts.js';
import type { Reporter } from './reporter.js';

// destroy removes the three things a lab is: its VM, its hosts block and its state directory. The
// lab is named by its directory (never by lab.json, which may be a copy of another lab's), so a
// broken lab can be removed too. Without --force the first failure stops, and nothing after it is
// touched; with --force every part is attempted and what could not be removed is listed.

export interface DestroyOptions {
  force: boolean;
}

export interface DestroyReport {
  name: string;
  removed: string[];
  /** What is still there, each with the command that removes it by hand. */
  leftovers: string[];
}

/** A machine vagrant created: `.vagrant/machines/<machine>/<provider>/id`. */
interface VagrantMachine {
  machine: string;
  provider: string;
  id: string;
}

async function vagrantMachines(paths: LabPaths): Promise<VagrantMachine[]> {
  const root = join(paths.dir, '.vagrant', 'machines');
  const out: VagrantMachine[] = [];
  for (const machine of await readdir(root).catch(() => [] as string[])) {
    for (const provider of await readdir(join(root, machine)).catch(() => [] as string[])) {
      const id = (await readFile(join(root, machine, provider, 'id'), 'utf8').catch(() => '')).trim();
      if (/^[A-Za-z0-9-]{1,80}$/.test(id)) out.push({ machine, provider, id });
    }
  }
  return out;
}

/** The provider's own tool, for when vagrant cannot remove the machine (broken Vagrantfile, plugin gone). */
async function removeWithProviderTool(m: VagrantMachine, env: NodeJS.ProcessEnv, labUri: string | undefined): Promise<string | undefined> {
  if (m.provider === 'libvirt') {
    const uri = labUri ?? libvirtUri(env);
    await run('virsh', ['-c', uri, 'destroy', m.id], { timeoutMs: 60_000, okCodes: ANY_EXIT_CODE });
    const r = await run('virsh', ['-c', uri, 'undefine', m.id, '--remove-all-storage', '--nvram', '--snapshots-metadata'], { timeoutMs: 120_000, okCodes: ANY_EXIT_CODE });
    if (r.code === 0 || /failed to get domain|Domain not found/i.test(r.stderr)) return undefined;
    return `libvirt domain ${m.id}: ${firstLine(r.stderr) || `virsh exited ${r.code}`}; remove it with \`virsh -c ${uri} undefine ${m.id} --remove-all-storage\``;
  }
  if (m.provider === 'virtualbox') {
    await run('VBoxManage', ['controlvm', m.id, 'poweroff'], { timeoutMs: 60_000, okCodes: ANY_EXIT_CODE });
    const r = await run('VBoxManage', ['unregistervm', m.id, '--delete'], { timeoutMs: 120_000, okCodes: ANY_EXIT_CODE });
    if (r.code === 0 || /Could not find a registered machine/i.test(r.stderr)) return undefined;
    return `VirtualBox VM ${m.id}: ${firstLine(r.stderr) || `VBoxManage exited ${r.code}`}; remove it with \`VBoxManage unregistervm ${m.id} --delete\``;
  }
  return `${m.provider} machine ${m.id}: labctl does not know this provider; remove it with the provider's own tool`;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? '';
}

async function removeVm(paths: LabPaths, opts: DestroyOptions, reporter: Reporter, env: NodeJS.ProcessEnv, report: DestroyReport, labUri: string | undefined): Promise<void> {
  const machines = await vagrantMachines(paths);
  // No machine id: vagrant never got as far as creating a VM (e.g. create failed at `vagrant up`).
  if (machines.length === 0) return;
  try {
    await vagrant.destroy(paths, reporter.streamTools);
    report.removed.push('VM');
    return;
  } catch (error) {
    if (error instanceof AbortedError || !opts.force) {
      if (error instanceof ExternalCommandError && !opts.force) {
        throw new ExternalCommandError(error.command, error.code, error.output, {
          hint: `nothing else was removed; \`labctl destroy ${report.name} --force\` removes what it can (the VM through the provider's own tool) and lists the rest`,
          cause: error,
        });
      }
      throw error;
    }
    reporter.warn(`vagrant could not destroy the VM (${(error as Error).message.split('\n')[0]}); trying the provider's own tool`);
  }
  for (const m of machines) {
    const leftover = await removeWithProviderTool(m, env, labUri).catch((error: Error) => `${m.provider} machine ${m.id}: ${error.message.split('\n')[0]}`);
    if (leftover) report.leftovers.push(leftover);
    else report.removed.push(`VM (${m.provider} ${m.id})`);
  }
}

async function removeHostsBlock(name: string, opts: DestroyOptions, env: NodeJS.ProcessEnv, report: DestroyReport): Promise<void> {
  try {
    const r = await hostsRemove(name, env);
    if (r.changed) report.removed.push(`hosts block in ${r.path}`);
  } catch (error) {
    const fix = `\`sudo labctl hosts remove ${name}\`, or delete the "# BEGIN labctl ${name}" … "# END labctl ${name}" lines of ${hostsFilePath(env)}`;
    if (!opts.force) {
      throw new ExternalCommandError(['hosts', 'remove', name], undefined, (error as Error).message, {
        hint: `${report.removed.length > 0 ? `${report.removed.join(', ')} removed; ` : ''}run ${fix}, then \`labctl destroy ${name}\` again`,
        cause: error,
      });
    }
    report.leftovers.push(`hosts block: ${(error as Error).message.split('\n')[0]}; remove it with ${fix}`);
  }
}

/** VM, then hosts block, then state directory: each step safe to repeat. */
/**
 * The lab's labctl.log (its vagrant, ssh and docker calls, destroy's own included) outlives the
 * lab: appended to $LABCTL_HOME/destroyed.log, the one place to look when a destroy went wrong.
 */
async function keepLabLog(paths: LabPaths, env: NodeJS.ProcessEnv): Promise<void> {
  const text = await readFile(paths.log, 'utf8').catch(() => '');
  if (text === '') return;
  await appendFile(destroyedLogPath(env), `=== lab ${paths.name} destroyed ${new Date().toISOString()}\n${text}`, { mode: 0o600 });
}

export async function destroyLab(name: string, opts: DestroyOptions, reporter: Reporter, env: NodeJS.ProcessEnv = process.env): Promise<DestroyReport> {
  const paths = labPaths(name, env);
  // Asked before locking: the lock would create LABCTL_HOME, and a typo must change nothing.
  if (!opts.force && (await readLabOrBroken(name, env)) === undefined) {
    throw new NotFoundError(`no lab named "${name}"`, { hint: 'run `labctl status` to see your labs' });
  }
  return withLabLock(
    name,
    async () => {
      const lab = await readLabOrBroken(name, env);
      const report: DestroyReport = { name, removed: [], leftovers: [] };
      if (lab === undefined) {
        if (!opts.force) throw new NotFoundError(`no lab named "${name}"`, { hint: 'run `labctl status` to see your labs' });
        // --force on a lab whose directory is gone still takes its hosts block away.
        await removeHostsBlock(name, opts, env, report);
        return report;
      }
      if (isBroken(lab)) reporter.warn(`lab "${name}" is broken (${lab.problem}); removing what exists`);
      await removeVm(paths, opts, reporter, env, report, isBroken(lab) ? undefined : lab.config.libvirt_uri);
      await removeHostsBlock(name, opts, env, report);
      await keepLabLog(paths, env);
      // vagrant.destroy closed it when there was a VM; a master left without one goes here.
      await closeSshMaster(paths);
      await removeLabDir(paths);
      report.removed.push(`state ${paths.dir}`);
      return report;
    },
    env,
  );
}
