import { ensureHostBaseImage } from '../box/base-image.js';
import type { LabConfig } from '../core/config.js';
import { labLog } from '../core/lab-log.js';
import { baseImageCacheDir, builtinProjectDir, type LabPaths } from '../core/paths.js';
import { interruptible } from '../core/interrupt.js';
import { markCreateFinished } from '../core/lab-state.js';
import { ensureSecrets } from '../core/secrets.js';
import { loadLab, resolveLabName, withLabLock, type Lab } from '../core/state.js';
import type { SshTarget } from '../adapters/guest.js';
import { refreshSshConfig } from '../adapters/vagrant.js';
import type { Renderer } from '../core/renderer.js';
import { runProvisioning, type StepEvent } from '../provision/index.js';
import type { ProvisionStep, ProvisionTimeouts } from '../provision/context.js';
import type { Reporter } from './reporter.js';

export interface ProvisionOptions {
  renderer: Renderer;
  probeUrl: boolean;
  reporter: Reporter;
  signal?: AbortSignal;
  /** A part of the runbook (deploy's); default: all of it. */
  steps?: readonly ProvisionStep[];
  makeTarget?: string;
  timeouts?: Partial<ProvisionTimeouts>;
  onStep?: (event: StepEvent) => void;
}

export interface ProvisionSummary {
  steps: { title: string; status: 'ran' | 'skipped'; reason?: string; ms: number }[];
  totalMs: number;
  pushed: { uploaded: string[]; removed: string[] };
}

/** Runs the provisioning runbook (provision/) against the lab's VM over SSH. */
export async function provisionLab(lab: Lab, opts: ProvisionOptions, ssh?: SshTarget): Promise<ProvisionSummary> {
  const target = ssh ?? (await refreshSshConfig(lab.paths));
  return interruptible(() => runProvisioning({
    config: lab.config,
    paths: lab.paths,
    ssh: target,
    renderer: opts.renderer,
    composeDir: lab.config.project ?? builtinProjectDir(),
    probeUrl: opts.probeUrl,
    ...(opts.steps ? { steps: opts.steps } : {}),
    ...(opts.makeTarget === undefined ? {} : { makeTarget: opts.makeTarget }),
    ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
    ...(opts.onStep ? { onStep: opts.onStep } : {}),
    ...(lab.config.base_image === 'host' ? { hostBaseImage: () => hostBaseImage(lab.config, lab.paths, opts.signal) } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  }));
}

/** base_image host: the host's cached tarball, made with debootstrap the first time. */
async function hostBaseImage(config: LabConfig, paths: LabPaths, signal: AbortSignal | undefined): Promise<string> {
  const log = labLog(paths.log);
  const image = await ensureHostBaseImage({ cacheDir: baseImageCacheDir(), mirror: config.apt_mirror, log: (line) => log(`[base image] ${line}`), signal });
  log(`base image: ${image.built ? 'built' : 'reused'} ${image.path} (${Math.round(image.bytes / 1_048_576)} MiB)`);
  return image.path;
}

/** `labctl provision [name]`: the lab's own run, under its lock (create holds it already). */
export async function reprovisionLab(name: string | undefined, opts: ProvisionOptions, env: NodeJS.ProcessEnv = process.env): Promise<ProvisionSummary> {
  const resolved = await resolveLabName(name, env);
  const lab = await loadLab(resolved, env);
  return withLabLock(resolved, async () => {
    // create made them; a secret deleted since is made again, as create would.
    await ensureSecrets(lab.paths.secrets);
    const summary = await provisionLab(lab, opts);
    // A create that stopped after its VM came up is finished by this run: the lab is whole now.
    await markCreateFinished(lab.paths);
    return summary;
  }, env);
}
