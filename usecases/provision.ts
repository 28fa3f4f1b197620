import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';
import { interruptible } from '../core/interrupt.js';
import { loadLab, withLabLock, type Lab } from '../core/state.js';
import { refreshSshConfig } from '../adapters/vagrant.js';
import type { Reporter } from './lifecycle.js';

export type RendererChoice = 'default' | 'simple' | 'verbose' | 'silent';

export interface ProvisionOptions {
  renderer: RendererChoice;
  probeUrl: boolean;
  reporter: Reporter;
  signal?: AbortSignal;
}

export interface ProvisionSummary {
  steps: { title: string; status: 'ran' | 'skipped'; reason?: string; ms: number }[];
  totalMs: number;
}

/** The compose project labctl pushes into the VM. */
export function composeDir(): string {
  return join(packageRoot(), 'compose');
}

/** Runs the provisioning pipeline (provision/) against the lab's VM over SSH. */
export async function provisionLab(lab: Lab, opts: ProvisionOptions): Promise<ProvisionSummary> {
  const ssh = await refreshSshConfig(lab.paths);
  // Loaded lazily: node-ssh and listr2 are only needed by the commands that provision.
  const { runProvisioning } = await import('../provision/index.js');
  return interruptible(() => runProvisioning({
    config: lab.config,
    paths: lab.paths,
    ssh,
    renderer: opts.renderer,
    composeDir: composeDir(),
    probeUrl: opts.probeUrl,
    ...(opts.signal ? { signal: opts.signal } : {}),
  }));
}

/** `labctl provision [name]`: the lab's own run, under its lock (create holds it already). */
export async function reprovisionLab(name: string, opts: ProvisionOptions, env: NodeJS.ProcessEnv = process.env): Promise<ProvisionSummary> {
  const lab = await loadLab(name, env);
  return withLabLock(name, () => provisionLab(lab, opts), env);
}
