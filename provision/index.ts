import { Listr, ListrLogger, PRESET_TIMER, ProcessOutput } from 'listr2';
import type { LabConfig } from '../core/config.js';
import { labLog } from '../core/lab-log.js';
import type { Renderer } from '../core/renderer.js';
import { LabctlError } from '../core/errors.js';
import type { LabPaths } from '../core/paths.js';
import { DEFAULT_TIMEOUTS, type ProvisionContext, type ProvisionStep, type ProvisionTimeouts } from './context.js';
import { guestPaths } from '../core/guest-paths.js';
import { prepareLocalInputs } from './local-inputs.js';
import { abortedError, throwIfAborted } from '../core/poll.js';
import { remoteExec, remoteSucceeds, writeRemoteFile, type SshTarget } from '../adapters/guest.js';
import { PROVISION_STEPS } from './steps.js';

// The provisioning runbook's runner: `labctl create` and `labctl provision` call runProvisioning.


export interface ProvisionOptions {
  config: LabConfig;
  paths: LabPaths;
  ssh: SshTarget;
  renderer: Renderer;
  /** The compose project to push (the package's compose/). */
  composeDir: string;
  signal?: AbortSignal;
  /** Probe https://<domain> from the host at the end (needs the VM's IP to be reachable). */
  probeUrl?: boolean;
  /** `make`'s goal (deploy --target); default: makeArgs(config). */
  makeTarget?: string;
  /** base_image host: called only when the guest lacks the base image (the use case builds it). */
  hostBaseImage?: () => Promise<string>;
  /** Shorter bounds for tests; defaults are DEFAULT_TIMEOUTS. */
  timeouts?: Partial<ProvisionTimeouts>;
  /** Where the renderer writes (default: this process's stdout/stderr). */
  output?: NodeJS.WritableStream;
  /** Called as each step starts and ends, e.g. for a JSON progress stream. */
  onStep?: (event: StepEvent) => void;
  /** Another runbook (tests); defaults to PROVISION_STEPS. */
  steps?: readonly ProvisionStep[];
}

export interface StepEvent {
  title: string;
  phase: 'start' | 'ran' | 'skipped' | 'failed';
}

export interface StepReport {
  title: string;
  status: 'ran' | 'skipped';
  reason?: string;
  ms: number;
}

export interface ProvisionReport {
  steps: StepReport[];
  totalMs: number;
  url: string;
  /** Where the lab's generated passwords are (the CLI prints this path, never the passwords). */
  credentialsDir: string;
  /** What the push step changed in the guest's copy of the project. */
  pushed: { uploaded: string[]; removed: string[] };
}

/** Progress updates per step at most this often: apt and make print hundreds of lines. */
const PROGRESS_INTERVAL_MS = 500;

export async function runProvisioning(opts: ProvisionOptions): Promise<ProvisionReport> {
  const started = Date.now();
  throwIfAborted(opts.signal);
  const log = labLog(opts.paths.log);
  log(`provision ${opts.config.name}: start (${opts.ssh.username}@${opts.ssh.host}:${opts.ssh.port})`);
  const local = await prepareLocalInputs(opts.config, opts.paths.secrets, opts.composeDir, opts.makeTarget);

  // The listr2 task wrapper of the running step: only its output line and skip() are used.
  let current: { output: string } | undefined;
  let lastProgress = 0;
  const ctx: ProvisionContext = {
    config: opts.config,
    paths: opts.paths,
    target: opts.ssh,
    composeDir: opts.composeDir,
    guest: guestPaths(opts.config.login),
    local,
    timeouts: { ...DEFAULT_TIMEOUTS, ...opts.timeouts },
    probeUrl: opts.probeUrl ?? false,
    hostBaseImage: opts.hostBaseImage,
    makeTarget: opts.makeTarget,
    pushed: undefined,
    readyServices: undefined,
    conn: undefined,
    signal: opts.signal,
    url: undefined,
    log,
    exec: (argv, execOpts = {}) => remoteExec(requireConn(ctx), argv, { signal: opts.signal, log, ...execOpts }),
    test: (argv, execOpts = {}) => remoteSucceeds(requireConn(ctx), argv, { signal: opts.signal, log, ...execOpts }),
    writeFile: (path, content, fileOpts) => writeRemoteFile(requireConn(ctx), path, content, { ...fileOpts, signal: opts.signal, log }),
    connection: () => requireConn(ctx),
    progress: (text) => {
      const now = Date.now();
      if (current === undefined || text === '' || now - lastProgress < PROGRESS_INTERVAL_MS) return;
      lastProgress = now;
      current.output = text;
    },
  };

  const reports: StepReport[] = [];
  const steps = opts.steps ?? PROVISION_STEPS;
  const output = opts.output === undefined ? undefined : new ProcessOutput(opts.output as NodeJS.WriteStream, opts.output as NodeJS.WriteStream);
  const logger = output === undefined ? undefined : new ListrLogger({ processOutput: output });
  const list = new Listr<ProvisionContext>(
    steps.map((step) => ({
      title: step.title,
      task: async (_c: ProvisionContext, task: { output: string; skip(message: string): void }) => {
        throwIfAborted(opts.signal);
        current = task;
        lastProgress = 0;
        const t0 = Date.now();
        opts.onStep?.({ title: step.title, phase: 'start' });
        try {
          const reason = await step.skip(ctx);
          if (reason !== false) {
            reports.push({ title: step.title, status: 'skipped', reason, ms: Date.now() - t0 });
            log(`step "${step.title}": skipped (${reason})`);
            opts.onStep?.({ title: step.title, phase: 'skipped' });
            // The verbose renderer prints the skip message alone; the others print it beside the title.
            task.skip(opts.renderer === 'verbose' ? `${step.title}: ${reason}` : reason);
            return;
          }
          await step.run(ctx);
          reports.push({ title: step.title, status: 'ran', ms: Date.now() - t0 });
          log(`step "${step.title}": ran in ${Date.now() - t0} ms`);
          opts.onStep?.({ title: step.title, phase: 'ran' });
        } catch (error) {
          log(`step "${step.title}": failed after ${Date.now() - t0} ms: ${error instanceof Error ? error.message : String(error)}`);
          opts.onStep?.({ title: step.title, phase: 'failed' });
          throw opts.signal?.aborted ? abortedError() : error;
        }
      },
    })),
    {
      ctx,
      renderer: opts.renderer,
      fallbackRenderer: 'simple',
      exitOnError: true,
      // The CLI owns SIGINT: it aborts opts.signal, which stops the running remote command at once.
      registerSignalListeners: false,
      collectErrors: false,
      rendererOptions: { ...(logger ? { logger } : {}), collapseSkips: false, showSkipMessage: true, timer: PRESET_TIMER },
      fallbackRendererOptions: { ...(logger ? { logger } : {}), timer: PRESET_TIMER },
    } as ConstructorParameters<typeof Listr<ProvisionContext>>[1],
  );

  try {
    await list.run();
  } finally {
    ctx.conn?.dispose();
  }
  const totalMs = Date.now() - started;
  log(`provision ${opts.config.name}: done in ${totalMs} ms`);
  return { steps: reports, totalMs, url: ctx.url ?? `https://${opts.config.domain}/`, credentialsDir: opts.paths.secrets, pushed: ctx.pushed ?? { uploaded: [], removed: [] } };
}

function requireConn(ctx: ProvisionContext) {
  if (ctx.conn === undefined) throw new LabctlError('internal: a step ran a remote command before the SSH step connected');
  return ctx.conn;
}
