import { stat } from 'node:fs/promises';
import { Listr } from 'listr2';
import type { ClassSpec } from '../core/class-file.js';
import type { ClassPlan, PlannedLab } from '../core/class-plan.js';
import { createUnfinished } from '../core/lab-state.js';
import { labPaths } from '../core/paths.js';
import type { Renderer } from '../core/renderer.js';
import { readLab } from '../core/state.js';
import { machineIdPath, vmState } from '../adapters/provider-state.js';
import { hasSnapshot, labDomain, takeCreatedSnapshot } from '../adapters/libvirt-snapshot.js';
import { planClassFile } from './class-plan.js';
import { childError, limiter, runLabctl } from './class-run.js';

// `labctl class create FILE`: every student's lab, spread over the hosts as the plan says, each an
// ordinary `labctl create` (its own state dir, lock and log) run as a child process, N at a time per
// host. A failure is that student's alone; a re-run skips the labs that are ready and resumes the
// others as `labctl create` resumes. When a lab's create has finished, libvirt snapshots it
// ("labctl-created"), the point `class reset` goes back to.

/** One create under software emulation takes 10–20 minutes here; three side by side on two cores, more. */
export const CLASS_CREATE_TIMEOUT_MS = 90 * 60_000;
/** vagrant-libvirt uploads the box into a host's pool once; others wait until the first domain exists. */
const BOX_GATE_POLL_MS = 2_000;

export type StudentOutcomeKind = 'ready' | 'created' | 'resumed' | 'failed' | 'unplaced';

export interface StudentOutcome {
  login: string;
  host: string | undefined;
  ip: string | undefined;
  domain: string | undefined;
  outcome: StudentOutcomeKind;
  seconds: number | undefined;
  error?: string;
}

export interface ClassCreateReport {
  className: string;
  students: StudentOutcome[];
  seconds: number;
}

export interface ClassCreateOptions {
  /** Labs created at once on each host; default: the host's capacity in the plan. */
  parallel?: number | undefined;
  renderer: Renderer;
  signal?: AbortSignal;
}

export async function createClass(file: string, opts: ClassCreateOptions, env: NodeJS.ProcessEnv = process.env): Promise<ClassCreateReport> {
  const started = Date.now();
  const { spec, plan } = await planClassFile(file, env);
  const outcomes = new Map<string, StudentOutcome>();
  for (const login of plan.unplaced) {
    outcomes.set(login, { login, host: undefined, ip: undefined, domain: undefined, outcome: 'unplaced', seconds: undefined, error: 'no place left on any host (capacity or addresses)' });
  }
  const lanes = new Map(plan.hosts.map((h) => [h.host, limiter(opts.parallel ?? Math.max(1, h.capacity))]));
  const gates = new Map<string, Promise<void>>();

  const list = new Listr(
    plan.labs.map((lab) => ({
      title: `${lab.login} → ${lab.host} ${lab.ip}`,
      task: async (_: unknown, task: { title: string; output: string }) => {
        const onLine = (line: string) => {
          const step = progressLine(line);
          if (step !== undefined) task.output = step;
        };
        const outcome = await createOne(spec, plan, lab, { lane: lanes.get(lab.host) ?? limiter(1), gates, env, signal: opts.signal, onLine });
        outcomes.set(lab.login, outcome);
        const took = outcome.seconds === undefined ? '' : ` in ${Math.round(outcome.seconds)} s`;
        task.title = `${lab.login} → ${lab.host} ${lab.ip}: ${outcome.outcome}${took}`;
        if (outcome.outcome === 'failed') throw new Error(`${lab.login}: ${outcome.error ?? 'failed'}`);
      },
    })),
    { concurrent: true, exitOnError: false, renderer: opts.renderer, rendererOptions: { collapseErrors: false } } as ConstructorParameters<typeof Listr>[1],
  );
  await list.run().catch(() => undefined);
  const students = spec.roster.map((s) => outcomes.get(s.login) ?? { login: s.login, host: undefined, ip: undefined, domain: undefined, outcome: 'failed' as const, seconds: undefined, error: 'not attempted' });
  return { className: spec.name, students, seconds: (Date.now() - started) / 1000 };
}

interface CreateContext {
  lane: <R>(work: () => Promise<R>) => Promise<R>;
  gates: Map<string, Promise<void>>;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal | undefined;
  onLine: (line: string) => void;
}

async function createOne(spec: ClassSpec, plan: ClassPlan, lab: PlannedLab, ctx: CreateContext): Promise<StudentOutcome> {
  const base = { login: lab.login, host: lab.host, ip: lab.ip, domain: lab.domain };
  const hostPlan = plan.hosts.find((h) => h.host === lab.host);
  if (hostPlan?.factsError !== undefined) {
    return { ...base, outcome: 'failed', seconds: undefined, error: `host ${lab.host} (${lab.uri}) cannot be reached: ${hostPlan.factsError}` };
  }
  const paths = labPaths(lab.lab, ctx.env);
  const existing = await readLab(lab.lab, ctx.env).catch(() => undefined);
  if (existing !== undefined && (await isReady(lab, paths, ctx.env))) return { ...base, outcome: 'ready', seconds: undefined };

  return ctx.lane(async () => {
    // The first create on a host opens its gate (no await between looking and setting it).
    const gate = ctx.gates.get(lab.host);
    let openGate: (() => void) | undefined;
    if (gate === undefined) ctx.gates.set(lab.host, new Promise<void>((resolve) => (openGate = resolve)));
    else await gate;
    const started = Date.now();
    const child = runLabctl(createArgs(spec, lab), { env: ctx.env, timeoutMs: CLASS_CREATE_TIMEOUT_MS, signal: ctx.signal, onLine: ctx.onLine });
    if (openGate !== undefined) void boxUploaded(paths, child).then(openGate);
    const r = await child;
    if (!r.ok) return { ...base, outcome: 'failed', seconds: r.seconds, error: childError(r) };
    try {
      const domain = await labDomain(paths);
      if (domain === undefined) throw new Error('the lab has no libvirt domain id after create');
      ctx.onLine('❯ snapshot labctl-created (for class reset)');
      if (!(await hasSnapshot(lab.uri, domain, paths))) await takeCreatedSnapshot(lab.uri, domain, paths);
    } catch (error) {
      return { ...base, outcome: 'failed', seconds: (Date.now() - started) / 1000, error: `created, but no reset point: ${(error as Error).message.split('\n')[0] ?? ''}` };
    }
    return { ...base, outcome: existing === undefined ? 'created' : 'resumed', seconds: (Date.now() - started) / 1000 };
  });
}

/**
 * What of a child create's output becomes its student's progress line: its steps as they start,
 * end or are skipped (listr2's ❯ ✔ ✖ ↓), not every line of `vagrant up` and `make`, which a class
 * of 30 would turn into thousands of lines without a terminal. The whole output is in the lab's log.
 */
export function progressLine(line: string): string | undefined {
  const text = line.trim();
  return /^[❯✔✖↓] /.test(text) ? text : undefined;
}

/** Created, running, and snapshotted: nothing to do. */
async function isReady(lab: PlannedLab, paths: ReturnType<typeof labPaths>, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (await createUnfinished(paths)) return false;
  if ((await vmState(paths, 'libvirt', env, lab.uri).catch(() => 'unknown')) !== 'running') return false;
  const domain = await labDomain(paths);
  return domain !== undefined && (await hasSnapshot(lab.uri, domain, paths).catch(() => false));
}

/** Resolves once the first lab's domain exists on its host (the box is in the pool then), or its create ended. */
async function boxUploaded(paths: ReturnType<typeof labPaths>, child: Promise<unknown>): Promise<void> {
  let ended = false;
  void child.finally(() => (ended = true));
  const deadline = Date.now() + CLASS_CREATE_TIMEOUT_MS;
  while (!ended && Date.now() < deadline) {
    if (await stat(machineIdPath(paths, 'libvirt')).then(() => true, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, BOX_GATE_POLL_MS));
  }
}

/** The `labctl create` line for one student: the class's settings, the plan's host and address. */
export function createArgs(spec: ClassSpec, lab: PlannedLab): string[] {
  const s = spec.settings;
  return [
    'create',
    lab.lab,
    '--login',
    lab.login,
    '--provider',
    'libvirt',
    '--libvirt-uri',
    lab.uri,
    '--ip',
    lab.ip,
    ...(lab.bridge === undefined ? [] : ['--bridge', lab.bridge]),
    ...(s.box === undefined ? [] : ['--box', s.box]),
    ...(s.project === undefined ? [] : ['--project', s.project]),
    ...(s.bonus ? ['--bonus'] : []),
    ...(s.aptProxy === undefined ? [] : ['--apt-proxy', s.aptProxy]),
    ...(s.memoryMiB === undefined ? [] : ['--memory', String(s.memoryMiB)]),
    ...(s.cpus === undefined ? [] : ['--cpus', String(s.cpus)]),
    ...(s.libvirtDriver === undefined ? [] : ['--libvirt-driver', s.libvirtDriver]),
    '--yes',
    '--quiet',
  ];
}
