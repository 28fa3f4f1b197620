import type { LabStatus } from './lifecycle.js';
import { labStatus } from './lifecycle.js';
import { readLabOrBroken, isBroken, loadLab, scanLabs, type BrokenLab, type Lab } from '../core/state.js';
import { refreshSshConfig } from '../adapters/vagrant.js';

export interface ServiceStatus {
  name: string;
  state: string;
  health: string | undefined;
}

export interface LabStatusWithServices extends LabStatus {
  services?: ServiceStatus[];
  servicesError?: string;
}

// Per-service state comes from `docker compose ps` in the VM, only when the VM runs.
async function withServices(status: LabStatus, name: string, env: NodeJS.ProcessEnv): Promise<LabStatusWithServices> {
  if (status.state !== 'running') return status;
  const lab = await loadLab(name, env);
  try {
    const { connect, composePs } = await import('../provision/index.js');
    const conn = await connect(await refreshSshConfig(lab.paths));
    try {
      return { ...status, services: await composePs(conn, lab.config) };
    } finally {
      conn.dispose();
    }
  } catch (error) {
    return { ...status, servicesError: (error as Error).message.split('\n')[0] ?? 'unknown error' };
  }
}

function brokenStatus(b: BrokenLab): LabStatusWithServices {
  return { name: b.name, login: '', provider: '', ip: '', url: '', bonusEndpoints: [], state: 'broken', dir: b.paths.dir, problem: b.problem };
}

/** One row per lab; a broken lab is a row saying so, never an error that hides the others. */
export async function statusOf(name: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<LabStatusWithServices[]> {
  let labs: (Lab | BrokenLab)[];
  if (name !== undefined) {
    const one = await readLabOrBroken(name, env);
    if (one === undefined) await loadLab(name, env); // throws the "no lab named" error
    labs = one === undefined ? [] : [one];
  } else {
    const all = await scanLabs(env);
    labs = [...all.labs, ...all.broken].sort((a, b) => labName(a).localeCompare(labName(b)));
  }
  return Promise.all(labs.map(async (lab) => (isBroken(lab) ? brokenStatus(lab) : withServices(await labStatus(lab), lab.config.name, env))));
}

function labName(lab: Lab | BrokenLab): string {
  return isBroken(lab) ? lab.name : lab.config.name;
}


export async function streamLabLogs(name: string, opts: { service: string | undefined; follow: boolean; tail: string }, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const lab = await loadLab(name, env);
  const { connect, streamComposeLogs } = await import('../provision/index.js');
  const conn = await connect(await refreshSshConfig(lab.paths));
  try {
    await streamComposeLogs(conn, lab.config, opts);
  } finally {
    conn.dispose();
  }
}
