import { labUrl } from '../core/config.js';
import { bonusEndpoints, type Endpoint } from '../core/endpoints.js';
import { readLabOrBroken, isBroken, loadLab, scanLabs, type BrokenLab, type Lab } from '../core/state.js';
import { composePsCommand, parseServicesThenPs, type ServiceStatus } from '../adapters/compose-query.js';
import { guestSsh } from '../adapters/ssh-mux.js';
import { cachedSshTarget, type VmState } from '../adapters/vagrant.js';
import { gitCommitOf } from '../adapters/git.js';
import { builtinProjectDir } from '../core/paths.js';
import { readDeployRecord, type DeployRecord } from '../core/deploy-record.js';
import type { LabState } from '../core/lab-state.js';
import { readLabState } from './guards.js';

export interface LabStatus {
  name: string;
  login: string;
  provider: string;
  ip: string;
  url: string;
  /** Where each bonus service is reached; empty without --bonus. */
  bonusEndpoints: Endpoint[];
  /** Where the lab is in its life (core/lab-state.ts); `broken` with `problem` when its state cannot be read. */
  state: LabState;
  /** The provider's own word for the VM (`running`, `poweroff`, `shutoff`, `not_created` …); absent for a broken lab. */
  vm?: VmState;
  dir: string;
  problem?: string;
  /** The project the lab runs: labctl's built-in compose/ or the student's own (--project). */
  project?: ProjectStatus;
  services?: ServiceStatus[];
  servicesError?: string;
}

export interface ProjectStatus {
  path: string;
  builtin: boolean;
  /** HEAD of the git repository the project is in, if it is in one. */
  commit?: string;
  /** Files differ from that commit. */
  dirty?: boolean;
  /** The last successful `labctl deploy`, if any. */
  lastDeploy?: DeployRecord;
}

async function projectStatus(lab: Lab): Promise<ProjectStatus> {
  const path = lab.config.project ?? builtinProjectDir();
  const git = lab.config.project === undefined ? undefined : await gitCommitOf(path).catch(() => undefined);
  const lastDeploy = await readDeployRecord(lab.paths);
  return { path, builtin: lab.config.project === undefined, ...(git ? { commit: git.commit, dirty: git.dirty } : {}), ...(lastDeploy ? { lastDeploy } : {}) };
}

async function labStatus(lab: Lab): Promise<LabStatus> {
  return {
    name: lab.config.name,
    login: lab.config.login,
    provider: lab.config.provider,
    ip: lab.config.ip,
    url: labUrl(lab.config),
    bonusEndpoints: bonusEndpoints(lab.config),
    ...(await readLabState(lab)),
    project: await projectStatus(lab),
    dir: lab.paths.dir,
  };
}

// Per-service state comes from `docker compose ps` in the VM, only when the VM runs, over the lab's
// shared SSH connection (adapters/ssh-mux.ts): no vagrant call, no handshake once the master is up.
async function withServices(status: LabStatus, lab: Lab): Promise<LabStatus> {
  if (status.vm !== 'running') return status;
  try {
    await cachedSshTarget(lab.paths); // asks vagrant only when nothing is cached
    const command = composePsCommand(lab.config);
    const r = await guestSsh(lab.paths, command.argv, command.opts);
    return { ...status, services: parseServicesThenPs(r.stdout) };
  } catch (error) {
    return { ...status, servicesError: (error as Error).message.split('\n')[0] ?? 'unknown error' };
  }
}

function brokenStatus(b: BrokenLab): LabStatus {
  return { name: b.name, login: '', provider: '', ip: '', url: '', bonusEndpoints: [], state: 'broken', dir: b.paths.dir, problem: b.problem };
}

/** One row per lab; a broken lab is a row saying so, never an error that hides the others. */
export async function statusOf(name: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<LabStatus[]> {
  let labs: (Lab | BrokenLab)[];
  if (name !== undefined) {
    const one = await readLabOrBroken(name, env);
    if (one === undefined) await loadLab(name, env); // throws the "no lab named" error
    labs = one === undefined ? [] : [one];
  } else {
    const all = await scanLabs(env);
    labs = [...all.labs, ...all.broken].sort((a, b) => labName(a).localeCompare(labName(b)));
  }
  return Promise.all(labs.map(async (lab) => (isBroken(lab) ? brokenStatus(lab) : withServices(await labStatus(lab), lab))));
}

function labName(lab: Lab | BrokenLab): string {
  return isBroken(lab) ? lab.name : lab.config.name;
}
