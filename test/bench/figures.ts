import { z } from 'zod';
import type { ImageBuild } from './buildkit.js';
import type { Phase, StageRow } from './lab-parsers.js';

// The bench's figures (the goals tables of issues 17 and 18) and the JSON file that keeps them
// (docs/benchmarks.json). That file is the source of truth: a run re-measures the groups it was
// asked for and keeps every other figure with the date and run it was measured in; the markdown
// and the SVG are rendered from it. The goals are the issue's; the baselines are either measured
// in the same run (vagrant ssh, vagrant status, node -e 0, the first lab's create) or the
// `baselines` kept in the file (earlier measurements, with their date and source).

/** The groups a run can measure (`--only a,b` / `--skip a,b`); `vagrant` is the plain-vagrant stage table. */
export const GROUPS = ['startup', 'create', 'ssh', 'status', 'memory', 'deploy', 'second', 'bonus', 'baked', 'vagrant', 'class'] as const;
export type Group = (typeof GROUPS)[number];
/** Groups measured on the mandatory lab: they create it first (and so measure `create`). */
export const FIRST_LAB_GROUPS: readonly Group[] = ['create', 'ssh', 'status', 'memory', 'deploy', 'second'];
/** Groups run in the e2e harness (its namespace, libvirt and LABCTL_HOME); `class` has a classroom of its own. */
export const HARNESS_GROUPS: readonly Group[] = GROUPS.filter((g) => g !== 'startup' && g !== 'class');

/**
 * atMost: value ≤ goal. ratioAtMost: value ÷ baseline ≤ goal. speedupAtLeast: baseline ÷ value ≥ goal.
 */
export type GoalKind = 'atMost' | 'ratioAtMost' | 'speedupAtLeast';

export interface FigureDef {
  id: string;
  group: Group;
  label: string;
  unit: 's' | 'ms' | 'MiB';
  goal: { kind: GoalKind; value: number };
  /** Where the baseline comes from: the file's `baselines[key]`, or measured in the run. */
  baseline: { kept: string } | { measured: string } | undefined;
}

export const FIGURES: readonly FigureDef[] = [
  { id: 'create', group: 'create', label: '`create` mandatory, plain box, cold host caches', unit: 's', goal: { kind: 'atMost', value: 600 }, baseline: { kept: 'create' } },
  { id: 'bonus', group: 'bonus', label: '`create --bonus`, plain box', unit: 's', goal: { kind: 'atMost', value: 720 }, baseline: { kept: 'bonus' } },
  { id: 'baked', group: 'baked', label: '`create` from a baked box (mandatory)', unit: 's', goal: { kind: 'atMost', value: 300 }, baseline: { kept: 'baked' } },
  { id: 'second', group: 'second', label: 'a second lab on the same host (warm host caches)', unit: 's', goal: { kind: 'ratioAtMost', value: 0.6 }, baseline: { measured: "the first lab's create" } },
  { id: 'deploy-change', group: 'deploy', label: '`deploy` after a one-line nginx.conf change', unit: 's', goal: { kind: 'atMost', value: 60 }, baseline: undefined },
  { id: 'deploy-nothing', group: 'deploy', label: '`deploy`, nothing changed', unit: 's', goal: { kind: 'atMost', value: 5 }, baseline: undefined },
  { id: 'ssh', group: 'ssh', label: '`labctl ssh -- true` (warm, median)', unit: 's', goal: { kind: 'speedupAtLeast', value: 6 }, baseline: { measured: '`vagrant ssh -c true`' } },
  { id: 'status', group: 'status', label: '`labctl status` (median)', unit: 's', goal: { kind: 'speedupAtLeast', value: 3 }, baseline: { measured: '`vagrant status`' } },
  { id: 'startup-help', group: 'startup', label: '`labctl --help` (median)', unit: 'ms', goal: { kind: 'ratioAtMost', value: 2 }, baseline: { measured: '`node -e 0`' } },
  { id: 'startup-version', group: 'startup', label: '`labctl --version` (median)', unit: 'ms', goal: { kind: 'ratioAtMost', value: 2 }, baseline: { measured: '`node -e 0`' } },
  { id: 'memory', group: 'memory', label: 'mandatory stack memory in the VM (sum of `docker stats` MEM USAGE)', unit: 'MiB', goal: { kind: 'atMost', value: 400 }, baseline: { kept: 'memory' } },
  // Issue 18. 1.5× and not 3×: the classroom's two hosts are namespaces on this machine, so the
  // three emulated VMs share its two cores (2× at best), and each host's first create goes alone
  // until its domain exists (the box upload). On two real hosts, host 1 running 2 at once, the
  // class takes about one create's time.
  { id: 'class', group: 'class', label: '`class create`: 3 labs on 2 hosts (capacities 2 and 1)', unit: 's', goal: { kind: 'speedupAtLeast', value: 1.5 }, baseline: { measured: '3 sequential `labctl create` on one host' } },
];

const baselineSchema = z.object({
  label: z.string(),
  value: z.number(),
  unit: z.string(),
  /** When the baseline was measured (YYYY-MM-DD), if known. */
  measured: z.string().optional(),
  source: z.string(),
});
export type Baseline = z.infer<typeof baselineSchema>;

const figureSchema = z.object({
  id: z.string(),
  label: z.string(),
  unit: z.string(),
  /** Undefined: the measurement failed (the note says how). */
  value: z.number().optional(),
  baseline: baselineSchema.optional(),
  /** value ÷ baseline. */
  ratio: z.number().optional(),
  goal: z.object({ kind: z.enum(['atMost', 'ratioAtMost', 'speedupAtLeast']), value: z.number(), text: z.string() }),
  met: z.boolean().optional(),
  measured: z.string(),
  run: z.string(),
  note: z.string(),
});
export type Figure = z.infer<typeof figureSchema>;

const stageRowSchema = z.object({ name: z.string(), seconds: z.number().optional(), note: z.string() });
const imageSchema = z.object({
  image: z.string(),
  seconds: z.number(),
  wallSeconds: z.number().optional(),
  steps: z.array(z.object({ label: z.string(), seconds: z.number().optional(), state: z.enum(['done', 'cached', 'error', 'canceled', 'unfinished']) })),
});

/** What one create left: its steps, `vagrant up`'s phases, the image builds of its `make`. */
const createRecordSchema = z.object({
  /** The figure it belongs to: create, bonus, baked or second. */
  id: z.string(),
  measured: z.string(),
  run: z.string(),
  stages: z.array(stageRowSchema),
  vagrantUp: z.array(z.object({ phase: z.string(), seconds: z.number() })),
  images: z.array(imageSchema),
  /** Why a part is missing (no make.log, log lines without time). */
  note: z.string(),
});
export type CreateRecord = z.infer<typeof createRecordSchema>;

const runSchema = z.object({ id: z.string(), date: z.string(), command: z.string(), host: z.string(), groups: z.array(z.string()) });
export type RunInfo = z.infer<typeof runSchema>;

export const benchFileSchema = z.object({
  version: z.literal(1),
  /** Earlier measurements the goals are compared with; never written by the bench. */
  baselines: z.record(z.string(), baselineSchema),
  figures: z.array(figureSchema),
  creates: z.array(createRecordSchema),
  /** The plain-vagrant stages (group `vagrant`) and the box build, from the last run that measured them. */
  stages: z.object({ measured: z.string(), run: z.string(), rows: z.array(stageRowSchema) }).optional(),
  runs: z.array(runSchema),
});
export type BenchFile = z.infer<typeof benchFileSchema>;

export function emptyBenchFile(): BenchFile {
  return { version: 1, baselines: {}, figures: [], creates: [], runs: [] };
}

export function parseBenchFile(text: string): BenchFile {
  return benchFileSchema.parse(JSON.parse(text));
}

export function goalText(def: Pick<FigureDef, 'unit' | 'goal'>): string {
  const { kind, value } = def.goal;
  if (kind === 'atMost') return `≤ ${value} ${def.unit}`;
  if (kind === 'ratioAtMost') return value < 1 ? `≤ ${Math.round(value * 100)} % of the baseline` : `≤ ${value}× the baseline`;
  return `≥ ${value}× faster`;
}

/** Whether the goal is met; undefined when the value, or a baseline the goal needs, is missing. */
export function goalMet(kind: GoalKind, goal: number, value: number | undefined, baseline: number | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (kind === 'atMost') return value <= goal;
  if (baseline === undefined || baseline <= 0 || value <= 0) return undefined;
  return kind === 'ratioAtMost' ? value / baseline <= goal : baseline / value >= goal;
}

export interface Measurement {
  id: string;
  value: number | undefined;
  note: string;
  /** For a baseline measured in the same run (`measured` in FigureDef). */
  baseline?: { value: number | undefined; label?: string };
}

/** A measurement of this run → a figure: baseline, ratio, goal and verdict attached. */
export function toFigure(m: Measurement, file: BenchFile, run: RunInfo): Figure {
  const def = FIGURES.find((f) => f.id === m.id);
  if (def === undefined) throw new Error(`unknown figure ${m.id}`);
  let baseline: Baseline | undefined;
  if (def.baseline !== undefined && 'kept' in def.baseline) baseline = file.baselines[def.baseline.kept];
  else if (def.baseline !== undefined && m.baseline?.value !== undefined) {
    baseline = { label: m.baseline.label ?? def.baseline.measured, value: m.baseline.value, unit: def.unit, measured: run.date, source: `measured in run ${run.id}` };
  }
  const ratio = m.value !== undefined && baseline !== undefined && baseline.value > 0 ? m.value / baseline.value : undefined;
  const met = goalMet(def.goal.kind, def.goal.value, m.value, baseline?.value);
  return {
    id: def.id,
    label: def.label,
    unit: def.unit,
    ...(m.value === undefined ? {} : { value: m.value }),
    ...(baseline === undefined ? {} : { baseline }),
    ...(ratio === undefined ? {} : { ratio }),
    goal: { ...def.goal, text: goalText(def) },
    ...(met === undefined ? {} : { met }),
    measured: run.date,
    run: run.id,
    note: m.note,
  };
}

/**
 * The file after a run: this run's figures and create records replace those of the same id, every
 * other one is kept as it was (with its older date), in FIGURES' order.
 */
export function mergeRun(file: BenchFile, run: RunInfo, figures: Figure[], creates: CreateRecord[], stages: BenchFile['stages']): BenchFile {
  const byId = new Map(file.figures.map((f) => [f.id, f]));
  for (const f of figures) byId.set(f.id, f);
  const order = (id: string) => {
    const i = FIGURES.findIndex((f) => f.id === id);
    return i === -1 ? FIGURES.length : i;
  };
  const createsById = new Map(file.creates.map((c) => [c.id, c]));
  for (const c of creates) createsById.set(c.id, c);
  return {
    ...file,
    figures: [...byId.values()].sort((a, b) => order(a.id) - order(b.id)),
    creates: [...createsById.values()].sort((a, b) => order(a.id) - order(b.id)),
    ...(stages === undefined ? {} : { stages }),
    runs: [...file.runs.filter((r) => r.id !== run.id), run],
  };
}

/** `--only a,b` / `--skip a,b` → the groups to measure; default all. Unknown names are an error. */
export function parseGroups(argv: readonly string[]): Set<Group> {
  const list = (flag: string): Group[] | undefined => {
    const i = argv.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
    if (i === -1) return undefined;
    const arg = argv[i] ?? '';
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a comma-separated list of groups: ${GROUPS.join(',')}`);
    const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const unknown = names.filter((n) => !(GROUPS as readonly string[]).includes(n));
    if (unknown.length > 0) throw new Error(`unknown bench group(s) ${unknown.join(', ')}; groups: ${GROUPS.join(',')}`);
    return names as Group[];
  };
  const only = list('--only');
  const skip = list('--skip') ?? [];
  // --no-labctl (the bench's older flag): only the plain-vagrant stages.
  const base = only ?? (argv.includes('--no-labctl') ? ['vagrant' as const] : [...GROUPS]);
  return new Set(base.filter((g) => !skip.includes(g)));
}

export function median(samples: readonly number[]): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export type { ImageBuild, Phase, StageRow };
