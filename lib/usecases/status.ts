import type { LabStatus } from './lifecycle.js';
import { labStatus } from './lifecycle.js';
import { listLabs, loadLab } from '../state.js';
import { refreshSshConfig } from '../vagrant.js';

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
    const { connect, composePs } = await import('../../provision/index.js');
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

export async function statusOf(name: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<LabStatusWithServices[]> {
  const labs = name ? [await loadLab(name, env)] : await listLabs(env);
  return Promise.all(labs.map(async (lab) => withServices(await labStatus(lab), lab.config.name, env)));
}

export async function streamLabLogs(name: string, opts: { service: string | undefined; follow: boolean; tail: string }, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const lab = await loadLab(name, env);
  const { connect, streamComposeLogs } = await import('../../provision/index.js');
  const conn = await connect(await refreshSshConfig(lab.paths));
  try {
    await streamComposeLogs(conn, lab.config, opts);
  } finally {
    conn.dispose();
  }
}
