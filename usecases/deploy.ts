import { watch } from 'node:fs';
import { ConfigError } from '../core/errors.js';
import { writeDeployRecord } from '../core/deploy-record.js';
import { builtinProjectDir } from '../core/paths.js';
import { ensureSecrets } from '../core/secrets.js';
import { loadLab, resolveLabName, withLabLock } from '../core/state.js';
import { gitCommitOf } from '../adapters/git.js';
import * as vagrant from '../adapters/vagrant.js';
import type { Renderer } from '../core/renderer.js';
import { DEPLOY_STEPS } from '../provision/steps.js';
import { waitForSshStep } from '../provision/steps/wait-for-ssh.js';
import { provisionLab, type ProvisionSummary } from './provision.js';
import type { Reporter } from './reporter.js';

/** A lab that is up answers SSH at once; a halted one should not keep a student waiting minutes. */
export const DEPLOY_SSH_READY_MS = 20_000;

/** A make goal as Makefiles name them; anything else is refused before it reaches the guest's shell. */
const MAKE_GOAL = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

export interface DeployOptions {
  renderer: Renderer;
  reporter: Reporter;
  /** make's goal; default: the project's default goal (labctl's compose/: all, or bonus). */
  target?: string | undefined;
  /** Probe https://<login>.42.fr at the end (default true); false for a project without 443 yet. */
  probe?: boolean;
  signal?: AbortSignal;
}

export interface DeploySummary extends ProvisionSummary {
  project: string;
  commit?: string;
}

export function validateMakeTarget(target: string): string {
  if (!MAKE_GOAL.test(target)) {
    throw new ConfigError('--target', `"${target.slice(0, 60)}" is not a make goal name`, "name a goal of the project's Makefile (e.g. --target all), or leave --target out for its default goal");
  }
  return target;
}

/**
 * `labctl deploy [name]`: the edit→deploy loop. Pushes what changed, runs the project's make when
 * anything make reads changed (or the stack is not up), waits for health, probes the site.
 */
export async function deployLab(name: string | undefined, opts: DeployOptions, env: NodeJS.ProcessEnv = process.env): Promise<DeploySummary> {
  const target = opts.target === undefined ? undefined : validateMakeTarget(opts.target);
  const resolved = await resolveLabName(name, env);
  const lab = await loadLab(resolved, env);
  return withLabLock(resolved, async () => {
    if (lab.config.project === undefined) await ensureSecrets(lab.paths.secrets);
    let failedStep: string | undefined;
    let summary: ProvisionSummary;
    try {
      summary = await provisionLab(
        lab,
        {
          renderer: opts.renderer,
          reporter: opts.reporter,
          probeUrl: opts.probe ?? true,
          steps: DEPLOY_STEPS,
          ...(target === undefined ? {} : { makeTarget: target }),
          timeouts: { sshReadyMs: DEPLOY_SSH_READY_MS },
          onStep: (event) => {
            if (event.phase === 'failed') failedStep = event.title;
          },
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
        await vagrant.cachedSshTarget(lab.paths),
      );
    } catch (error) {
      // Unreachable: say whether the VM is down (and how to start it) rather than "SSH timed out".
      if (failedStep === waitForSshStep.title) throw await vagrant.notRunningError(lab.paths, error);
      throw error;
    }
    const project = lab.config.project ?? 'compose/ (built in)';
    const git = lab.config.project === undefined ? undefined : await gitCommitOf(lab.config.project).catch(() => undefined);
    await writeDeployRecord(lab.paths, {
      at: new Date().toISOString(),
      ms: summary.totalMs,
      uploaded: summary.pushed.uploaded.length,
      removed: summary.pushed.removed.length,
      ...(git ? { commit: git.commit } : {}),
    });
    return { ...summary, project, ...(git ? { commit: git.commit } : {}) };
  }, env);
}

/** Quiet time after the last file event before a deploy starts: an editor's save is several events. */
export const WATCH_DEBOUNCE_MS = 800;

export type DeployOutcome = { summary: DeploySummary } | { error: unknown };

export interface WatchOptions extends DeployOptions {
  /** Stops the watch (Ctrl-C); a deploy in flight is stopped too. */
  signal: AbortSignal;
  debounceMs?: number;
  onDeploy: (outcome: DeployOutcome, trigger: string | undefined) => void;
  onWatching: (dir: string) => void;
}

/** Changes git keeps for itself: they never change what is pushed. */
function ignoredPath(file: string): boolean {
  return file === '.git' || file.startsWith(`.git/`) || file.includes('/.git/');
}

/**
 * `labctl deploy --watch`: one deploy now, then one after each burst of file changes in the
 * project, until the signal aborts. A failed deploy is reported and the watch goes on; changes
 * made during a deploy start one more deploy after it.
 */
export async function watchAndDeploy(name: string | undefined, opts: WatchOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const resolved = await resolveLabName(name, env);
  const lab = await loadLab(resolved, env);
  const dir = lab.config.project ?? builtinProjectDir();
  const once = async (trigger: string | undefined) => {
    try {
      opts.onDeploy({ summary: await deployLab(resolved, opts, env) }, trigger);
    } catch (error) {
      if (opts.signal.aborted) return;
      opts.onDeploy({ error }, trigger);
    }
  };
  await once(undefined);
  if (opts.signal.aborted) return;

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let pending: string | undefined;
  const start = (trigger: string) => {
    if (running) {
      pending = trigger;
      return;
    }
    running = once(trigger).finally(() => {
      running = undefined;
      if (pending !== undefined && !opts.signal.aborted) {
        const next = pending;
        pending = undefined;
        start(next);
      } else {
        opts.onWatching(dir);
      }
    });
  };
  await new Promise<void>((resolve, reject) => {
    const watcher = watch(dir, { recursive: true, signal: opts.signal }, (_event, file) => {
      const rel = file === null ? '' : String(file);
      if (ignoredPath(rel)) return;
      clearTimeout(timer);
      timer = setTimeout(() => start(rel), opts.debounceMs ?? WATCH_DEBOUNCE_MS);
    });
    watcher.on('error', (error: NodeJS.ErrnoException) => {
      if (error.name === 'AbortError') return;
      reject(new ConfigError('--watch', `cannot watch ${dir}: ${error.message}`, 'raise fs.inotify.max_user_watches, or run labctl deploy after each edit'));
    });
    watcher.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    opts.onWatching(dir);
  });
  await running;
}
