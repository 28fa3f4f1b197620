import { cpus } from 'node:os';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildBox } from '../../box/build.js';
import { resolveConfig } from '../../core/config.js';
import { packageRoot } from '../../core/paths.js';
import { renderVagrantfile } from '../../core/vagrantfile.js';
import { labctl, labctlBinary } from '../e2e/labctl.js';
import { E2E_CACHE_DIR, E2E_SUITE, setUpHarness, type Harness } from '../e2e/harness.js';
import { parseBuildkitPlain } from './buildkit.js';
import { classGroup, classGroupPreflight } from './class-group.js';
import {
  FIRST_LAB_GROUPS,
  HARNESS_GROUPS,
  emptyBenchFile,
  median,
  mergeRun,
  parseBenchFile,
  parseGroups,
  toFigure,
  type BenchFile,
  type CreateRecord,
  type Group,
  type Measurement,
  type RunInfo,
  type StageRow,
} from './figures.js';
import { parseDockerStatsMemory, provisioningSteps, vagrantUpPhases } from './lab-parsers.js';
import { goalsForTerminal, renderDocument, renderSvg } from './render.js';
import { interleavedMediansMs } from './startup-measure.js';

// `npm run bench [-- flags]`: issue 17's figures, each beside its baseline and goal, kept in
// docs/benchmarks.json (the source of truth) and rendered into docs/benchmarks.md (goals table,
// stages of each create, BuildKit step times) and docs/benchmarks.svg (bar chart). A run measures
// the groups it is asked for; every other figure keeps the value and date of the run that measured
// it. VM groups run inside the e2e harness's network namespace (root, libvirt; see test/e2e), but
// for `class`, which sets up a classroom of its own (test/helpers/class-hosts.ts) after them.
//
// Groups (a full run takes well over an hour under software emulation):
//   startup  labctl --help / --version beside `node -e 0` (no VM)
//   create   `labctl create` of the mandatory lab, first lab of the run: fresh LABCTL_HOME (no
//            base-image cache) and a fresh libvirt pool (box volume uploaded again)
//   ssh      `labctl ssh -- true` beside `vagrant ssh -c true`, medians after a warm-up call
//   status   `labctl status` beside `vagrant status` in the lab's directory, medians
//   memory   sum of `docker stats --no-stream` MEM USAGE of the mandatory stack
//   deploy   `labctl deploy` with nothing changed, then after a one-line nginx.conf edit
//   second   a second lab (own name, login, IP) once the first is halted: warm host caches
//   bonus    `labctl create --bonus` (its own lab, after the mandatory one if that ran)
//   baked    the baked box (built, or reused from the e2e cache), then `labctl create` with it
//   vagrant  plain vagrant on the box, no labctl: up, ssh, halt, up, destroy (after the labs, so
//            the box volume is already in the pool when a create ran before)
//   class    issue 18: `labctl class create` of 3 labs on 2 libvirt hosts (capacities 2 and 1, in
//            namespaces, reached by qemu+ssh) against the same 3 labs made one after the other
//            with `labctl create` on host 1; baked box, the small class-tiny project (class-group.ts)
// ssh, status, memory, deploy and second need the mandatory lab, so they create it and measure
// `create` with it.
//
// Flags:
//   --only g1,g2   measure these groups only (e.g. `--only startup`: no VM, no root)
//   --skip g1,g2   all groups but these
//   --no-labctl    same as `--only vagrant`
//   --rebuild-box  build the box from scratch instead of reusing the cached one
//   --base-image=MODE / --host-base-image   create's --base-image (default: labctl's own default)
//   --samples=N    samples per median for startup (default 21); ssh and status take 5
//   --render-only  measure nothing: re-render docs/benchmarks.md and .svg from the JSON

const DOCS = join(packageRoot(), 'docs');
const JSON_FILE = join(DOCS, 'benchmarks.json');
const MD_FILE = join(DOCS, 'benchmarks.md');
const SVG_FILE = join(DOCS, 'benchmarks.svg');

/** Each lab of a run: its own name, login (hosts entry) and IP, so that labs never collide. */
const LABS = {
  create: { name: 'inception', login: 'bench', ip: '192.168.56.10' },
  second: { name: 'second', login: 'bench2', ip: '192.168.56.11' },
  bonus: { name: 'bonus', login: 'bench3', ip: '192.168.56.12' },
  baked: { name: 'baked', login: 'bench4', ip: '192.168.56.13' },
  vagrant: { name: 'bench', login: 'bench', ip: '192.168.56.14' },
} as const;
const STAGE_TIMEOUT_MS = 30 * 60_000;
const CREATE_TIMEOUT_MS = 90 * 60_000;
const QUICK_TIMEOUT_MS = 2 * 60_000;
/** Samples per median of the SSH and status round trips, after one warm-up call. */
const ROUND_TRIP_SAMPLES = 5;
const STARTUP_SAMPLES = Number(flagValue('--samples') ?? 21);

function flagValue(name: string): string | undefined {
  const arg = process.argv.find((a) => a.startsWith(`${name}=`));
  return arg === undefined ? undefined : arg.slice(name.length + 1);
}

function baseImageFlag(): string[] {
  if (process.argv.includes('--host-base-image')) return ['--base-image', 'host'];
  const mode = flagValue('--base-image');
  return mode === undefined ? [] : ['--base-image', mode];
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--rebuild-box')) process.env.LABCTL_E2E_FORCE_BOX = '1';
  const groups = argv.includes('--render-only') ? new Set<Group>() : parseGroups(argv);
  const previousText = await readFile(JSON_FILE, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  const file: BenchFile = previousText === undefined ? emptyBenchFile() : parseBenchFile(previousText);
  const date = new Date().toISOString();
  const run: RunInfo = {
    id: date.replace(/[:.]/g, '-'),
    date,
    command: `npm run bench${argv.length === 0 ? '' : ` -- ${argv.join(' ')}`}`,
    host: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`,
    groups: [...groups],
  };
  const measurements: Measurement[] = [];
  const creates: CreateRecord[] = [];
  let stages: BenchFile['stages'];

  // Before an hour of other groups, not after.
  if (groups.has('class')) await classGroupPreflight();
  if (groups.has('startup')) measurements.push(...startupFigures());
  if (HARNESS_GROUPS.some((g) => groups.has(g))) {
    const h = await setUpHarness();
    const rows: StageRow[] = [{ name: 'box build', seconds: sec(h.timings.get('box build (or reuse)')), note: h.box.reused ? 'reused from cache' : 'debootstrap → qcow2 → vagrant box add' }];
    try {
      if (FIRST_LAB_GROUPS.some((g) => groups.has(g))) await firstLabGroups(h, groups, measurements, creates);
      if (groups.has('bonus')) await bonusGroup(h, measurements, creates);
      if (groups.has('baked')) await bakedGroup(h, measurements, creates, rows);
      if (groups.has('vagrant')) await plainVagrantStages(h, rows, creates.length > 0);
    } finally {
      await h.teardown();
    }
    // The plain-vagrant table is one run's: replaced only by a run that measured it.
    if (groups.has('vagrant')) stages = { measured: date, run: run.id, rows };
  }
  // The baked group has rebuilt the box already when --rebuild-box asked for it.
  if (groups.has('class')) measurements.push(await classGroup({ forceBox: process.env.LABCTL_E2E_FORCE_BOX === '1' && !groups.has('baked') }));

  const figures = measurements.map((m) => toFigure(m, file, run));
  const next = groups.size === 0 ? file : mergeRun(file, run, figures, creates.map((c) => ({ ...c, run: run.id })), stages);
  await mkdir(DOCS, { recursive: true });
  await writeFile(JSON_FILE, `${JSON.stringify(next, null, 2)}\n`);
  const previousDoc = await readFile(MD_FILE, 'utf8').catch(() => '');
  await writeFile(MD_FILE, renderDocument(next, previousDoc));
  await writeFile(SVG_FILE, renderSvg(next));
  console.log(`\n${goalsForTerminal(next)}\n`);
  console.log(`wrote ${JSON_FILE}, ${MD_FILE}, ${SVG_FILE}`);
}

/** Issue 17's start-up goal: --help and --version within 2× `node -e 0`, medians. */
function startupFigures(): Measurement[] {
  const env = { ...process.env, LABCTL_HOME: join(DOCS, '.no-such-labctl-home') };
  const [baseline, help, version] = interleavedMediansMs([['node', '-e', '0'], ['node', labctlBinary(), '--help'], ['node', labctlBinary(), '--version']], env, STARTUP_SAMPLES);
  const note = `medians of ${STARTUP_SAMPLES}, sampled in turns with the baseline`;
  return [
    { id: 'startup-help', value: help, note, baseline: { value: baseline } },
    { id: 'startup-version', value: version, note, baseline: { value: baseline } },
  ];
}

interface Created {
  seconds: number | undefined;
  record: CreateRecord;
}

/**
 * `labctl create` of one lab, timed, then what its files say: the steps (labctl.log), vagrant up's
 * phases (the times of its progress lines in labctl.log) and the image builds (make.log).
 */
async function createLab(h: Harness, id: 'create' | 'second' | 'bonus' | 'baked', box: string, bonus: boolean): Promise<Created> {
  const lab = LABS[id];
  const argv = ['create', lab.name, '--provider', 'libvirt', '--login', lab.login, '--ip', lab.ip, '--box', box, '--libvirt-driver', 'qemu', ...baseImageFlag(), '--yes', ...(bonus ? ['--bonus'] : [])];
  const started = Date.now();
  const r = await labctl(h, argv, { timeout: CREATE_TIMEOUT_MS });
  const seconds = r.exitCode === 0 ? (Date.now() - started) / 1000 : undefined;
  const labDir = join(h.env.LABCTL_HOME ?? '', lab.name);
  const log = await readFile(join(labDir, 'labctl.log'), 'utf8').catch(() => '');
  const notes: string[] = [];
  if (seconds === undefined) notes.push(`create FAILED (exit ${r.exitCode}); see ${h.logFile}`);
  const vagrantUp = vagrantUpPhases(log);
  if (vagrantUp.length === 0) notes.push('no timed `$ vagrant up` block in labctl.log: phases unknown');
  const makeLog = await readFile(join(labDir, 'make.log'), 'utf8').catch(() => undefined);
  if (makeLog === undefined) notes.push(`no ${lab.name}/make.log (labctl of this run does not save make's output): image build times unknown`);
  const images = makeLog === undefined ? [] : parseBuildkitPlain(makeLog);
  if (makeLog !== undefined && images.length === 0) notes.push('make.log has no BuildKit plain progress (BUILDKIT_PROGRESS=plain)');
  return {
    seconds,
    record: {
      id,
      measured: new Date().toISOString(),
      // Set by main once the run is recorded.
      run: '',
      stages: [{ name: `labctl create${bonus ? ' --bonus' : ''} (total)`, seconds, note: '' }, ...provisioningSteps(log)],
      vagrantUp,
      images,
      note: notes.join('; '),
    },
  };
}

async function firstLabGroups(h: Harness, groups: Set<Group>, out: Measurement[], creates: CreateRecord[]): Promise<void> {
  const first = await createLab(h, 'create', h.box.name, false);
  creates.push(first.record);
  out.push({ id: 'create', value: first.seconds, note: `first lab of the run${first.seconds === undefined ? '; FAILED' : ''}` });
  if (first.seconds === undefined) return;
  const lab = LABS.create;
  if (groups.has('ssh')) {
    const labctlSsh = await roundTrips(h, () => labctl(h, ['ssh', lab.name, '--', 'true'], { timeout: QUICK_TIMEOUT_MS }));
    const vagrantSsh = await roundTrips(h, () => inLabDir(h, lab.name, ['vagrant', 'ssh', '-c', 'true']));
    out.push({ id: 'ssh', value: labctlSsh, note: `medians of ${ROUND_TRIP_SAMPLES} after a warm-up call`, baseline: { value: vagrantSsh } });
  }
  if (groups.has('status')) {
    const labctlStatus = await roundTrips(h, () => labctl(h, ['status'], { timeout: QUICK_TIMEOUT_MS }));
    const vagrantStatus = await roundTrips(h, () => inLabDir(h, lab.name, ['vagrant', 'status']));
    out.push({ id: 'status', value: labctlStatus, note: `medians of ${ROUND_TRIP_SAMPLES} after a warm-up call; one lab running`, baseline: { value: vagrantStatus } });
  }
  if (groups.has('memory')) out.push(await memory(h, lab.name));
  if (groups.has('deploy')) {
    out.push({ id: 'deploy-nothing', ...(await timedLabctl(h, ['deploy', lab.name])), note: 'nothing pushed, make skipped, site probed' });
    await oneLineChange(async () => {
      out.push({ id: 'deploy-change', ...(await timedLabctl(h, ['deploy', lab.name])), note: '1 file pushed, nginx image rebuilt and recreated, site probed' });
    });
  }
  if (groups.has('second')) {
    // Halted, not destroyed: the host caches stay as a first lab leaves them, and its VM does not
    // take the two emulated cores from the second create.
    await labctl(h, ['halt', lab.name], { timeout: STAGE_TIMEOUT_MS });
    const second = await createLab(h, 'second', h.box.name, false);
    creates.push(second.record);
    out.push({ id: 'second', value: second.seconds, note: 'the first lab halted meanwhile', baseline: { value: first.seconds, label: `the first lab's create (this run)` } });
    await labctl(h, ['destroy', LABS.second.name, '--yes'], { timeout: STAGE_TIMEOUT_MS });
  }
  await labctl(h, ['destroy', lab.name, '--yes', '--force'], { timeout: STAGE_TIMEOUT_MS });
}

async function bonusGroup(h: Harness, out: Measurement[], creates: CreateRecord[]): Promise<void> {
  const c = await createLab(h, 'bonus', h.box.name, true);
  creates.push(c.record);
  out.push({ id: 'bonus', value: c.seconds, note: creates.length > 1 ? 'after the mandatory lab (host caches warm)' : 'first lab of the run (host caches cold)' });
  await labctl(h, ['destroy', LABS.bonus.name, '--yes', '--force'], { timeout: STAGE_TIMEOUT_MS });
}

/**
 * The baked box is built by the same code as `labctl box build --bake` (box/build.ts), into the e2e
 * cache where the harness keeps its boxes, so a rerun reuses it; its build time is a stage row.
 */
async function bakedGroup(h: Harness, out: Measurement[], creates: CreateRecord[], rows: StageRow[]): Promise<void> {
  let boxName: string;
  try {
    const baked = await h.timed('baked box build (or reuse)', () =>
      buildBox({ suite: E2E_SUITE, provider: 'libvirt', bake: true, outDir: join(E2E_CACHE_DIR, 'boxes'), vagrantHome: h.env.VAGRANT_HOME, force: process.env.LABCTL_E2E_FORCE_BOX === '1', log: h.log }),
    );
    boxName = baked.name;
    rows.push({ name: 'box build --bake', seconds: sec(h.timings.get('baked box build (or reuse)')), note: baked.reused ? 'reused from cache' : 'debootstrap + Docker + base image → qcow2 → vagrant box add' });
  } catch (error) {
    rows.push({ name: 'box build --bake', seconds: undefined, note: `FAILED: ${(error as Error).message.split('\n')[0] ?? ''}` });
    out.push({ id: 'baked', value: undefined, note: 'the baked box could not be built' });
    return;
  }
  const c = await createLab(h, 'baked', boxName, false);
  const built = rows.at(-1);
  creates.push({ ...c.record, note: [`box build --bake: ${built?.seconds?.toFixed(1) ?? '?'} s (${built?.note ?? ''})`, c.record.note].filter((n) => n !== '').join('; ') });
  out.push({ id: 'baked', value: c.seconds, note: `box ${boxName}` });
  await labctl(h, ['destroy', LABS.baked.name, '--yes', '--force'], { timeout: STAGE_TIMEOUT_MS });
}

/** Median seconds of ROUND_TRIP_SAMPLES calls after one warm-up call; undefined if any failed. */
async function roundTrips(h: Harness, call: () => Promise<{ exitCode?: number | undefined }>): Promise<number | undefined> {
  if ((await call()).exitCode !== 0) return undefined;
  const samples: number[] = [];
  for (let i = 0; i < ROUND_TRIP_SAMPLES; i++) {
    const started = Date.now();
    if ((await call()).exitCode !== 0) return undefined;
    samples.push((Date.now() - started) / 1000);
  }
  h.log(`round trips (s): ${samples.map((s) => s.toFixed(2)).join(' ')}`);
  return median(samples);
}

/** A vagrant command in a lab's directory, as labctl runs it (its cwd; VAGRANT_CWD said too). */
function inLabDir(h: Harness, name: string, argv: string[]) {
  const dir = join(h.env.LABCTL_HOME ?? '', name);
  return h.ns.exec(argv, { cwd: dir, env: { ...h.env, VAGRANT_CWD: dir }, timeout: QUICK_TIMEOUT_MS, reject: false });
}

async function timedLabctl(h: Harness, args: string[]): Promise<{ value: number | undefined }> {
  const started = Date.now();
  const r = await labctl(h, args, { timeout: STAGE_TIMEOUT_MS });
  return { value: r.exitCode === 0 ? (Date.now() - started) / 1000 : undefined };
}

async function memory(h: Harness, name: string): Promise<Measurement> {
  const r = await labctl(h, ['ssh', name, '--', 'sudo', 'docker', 'stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}'], { timeout: QUICK_TIMEOUT_MS });
  const containers = r.exitCode === 0 ? parseDockerStatsMemory(String(r.stdout)) : [];
  if (containers.length === 0) return { id: 'memory', value: undefined, note: `docker stats gave nothing readable (exit ${r.exitCode})` };
  const total = containers.reduce((sum, c) => sum + c.mib, 0);
  return { id: 'memory', value: total, note: containers.map((c) => `${c.name} ${c.mib.toFixed(1)}`).join(', ') };
}

/**
 * A student's smallest edit: one comment line in nginx.conf of the built-in compose/ (the lab's
 * project), put back afterwards whatever happens, so the checkout is left as it was.
 */
async function oneLineChange(fn: () => Promise<void>): Promise<void> {
  const file = join(packageRoot(), 'compose', 'srcs', 'requirements', 'nginx', 'conf', 'nginx.conf');
  const original = await readFile(file, 'utf8');
  await writeFile(file, `${original}# labctl bench ${new Date().toISOString()}\n`);
  try {
    await fn();
  } finally {
    await writeFile(file, original);
  }
}

/** Plain vagrant on the box, without labctl: what labctl's own steps are compared with. */
async function plainVagrantStages(h: Harness, rows: StageRow[], poolWarm: boolean): Promise<void> {
  const stage = async (name: string, argv: string[], cwd: string, note = ''): Promise<boolean> => {
    const started = Date.now();
    const r = await h.ns.exec(argv, { cwd, env: h.env, timeout: STAGE_TIMEOUT_MS, reject: false, all: true });
    h.log(`${argv.join(' ')} → exit ${r.exitCode}\n${String(r.all)}`);
    const ok = r.exitCode === 0;
    rows.push({ name, seconds: ok ? (Date.now() - started) / 1000 : undefined, note: ok ? note : `FAILED (exit ${r.exitCode}); see ${h.logFile}` });
    return ok;
  };
  const dir = join(h.workDir, 'bench-vm');
  await mkdir(dir, { recursive: true });
  const lab = LABS.vagrant;
  const config = resolveConfig({ login: lab.login, name: lab.name, provider: 'libvirt', ip: lab.ip, box: h.box.name, libvirt_driver: 'qemu' }, { usableProvider: 'libvirt', hardwareVirtualization: false });
  await writeFile(join(dir, 'Vagrantfile'), renderVagrantfile(config));
  const upNote = poolWarm ? 'box volume already in the libvirt pool (a create ran before)' : 'box upload into the libvirt pool included';
  if (!(await stage('vagrant up (fresh VM)', ['vagrant', 'up', '--provider', 'libvirt'], dir, upNote))) return;
  const cfg = await h.ns.exec(['vagrant', 'ssh-config'], { cwd: dir, env: h.env });
  await writeFile(join(dir, 'ssh-config'), String(cfg.stdout), { mode: 0o600 });
  const run = (argv: string[]) => () => h.ns.exec(argv, { cwd: dir, env: h.env, timeout: QUICK_TIMEOUT_MS, reject: false });
  rows.push({ name: 'vagrant ssh -c true', seconds: await roundTrips(h, run(['vagrant', 'ssh', '-c', 'true'])), note: `median of ${ROUND_TRIP_SAMPLES} after a warm-up call` });
  rows.push({ name: 'ssh -F ssh-config default true', seconds: await roundTrips(h, run(['ssh', '-F', join(dir, 'ssh-config'), '-o', 'BatchMode=yes', 'default', 'true'])), note: `median of ${ROUND_TRIP_SAMPLES} after a warm-up call` });
  await stage('vagrant halt', ['vagrant', 'halt'], dir);
  await stage('vagrant up (existing VM)', ['vagrant', 'up', '--provider', 'libvirt'], dir);
  await stage('vagrant destroy -f', ['vagrant', 'destroy', '--force'], dir);
}

function sec(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

await main();
