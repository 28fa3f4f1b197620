import { appendFileSync, mkdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Result } from 'execa';
import { buildBox, type BuiltBox } from '../../box/build.js';
import { packageRoot } from '../../core/paths.js';
import { CLASS_CREATE_TIMEOUT_MS } from '../../usecases/class-create.js';
import { labctlBinary } from '../e2e/labctl.js';
import { E2E_CACHE_DIR, E2E_SUITE, preflight } from '../e2e/harness.js';
import { classHostsPreflight, createClassHosts, LAN_FIRST_FREE, LAN_INTERFACE, type ClassHosts } from '../helpers/class-hosts.js';
import { CLASS_HOSTS, CLASS_STUDENTS, classBenchInputs, sequentialCreateArgv, summaryRows, type ClassroomFacts } from './class-inputs.js';
import type { Measurement } from './figures.js';

// The bench's `class` group (issue 18's "Done when"): `labctl class create` of 3 labs on 2 hosts
// (capacities 2 and 1), timed, against its baseline, the same 3 labs made one after the other with
// plain `labctl create` on host 1. It needs none of the e2e harness's namespace or libvirt: the
// classroom is test/helpers/class-hosts.ts's (2 libvirt hosts reached by qemu+ssh from a teacher
// namespace), set up here and torn down whatever happens. Settings are the class e2e's (baked box,
// test/fixtures/class-tiny, 1 vCPU, 1536 MiB), so a figure is minutes, not hours.
//
// The class goes first: whatever it warms on the machine (the box file in the page cache, say)
// helps the baseline after it, never the class. Both pay one box upload per host they use: class
// destroy deletes the box volume once no lab of a host is left. class create's wall time includes
// what it does beyond the creates (host facts, each lab's libvirt snapshot): the teacher waits for
// those too.

/** Backstop above class create's own bounds: a host's first lab, then the rest of its lane. */
const CLASS_RUN_TIMEOUT_MS = 2 * CLASS_CREATE_TIMEOUT_MS + 10 * 60_000;
/** One plain create, as run.ts bounds the harness's creates. */
const SEQUENTIAL_CREATE_TIMEOUT_MS = 90 * 60_000;
/** class destroy runs `labctl destroy` per lab (15 min bound each), then asks each host. */
const CLASS_DESTROY_TIMEOUT_MS = CLASS_STUDENTS.length * 15 * 60_000 + 5 * 60_000;
const DESTROY_TIMEOUT_MS = 15 * 60_000;

export interface ClassGroupOptions {
  /** Build the baked box again even if the cache has it (--rebuild-box, when no other group rebuilt it). */
  forceBox: boolean;
}

/** Fails early (root, the programs) before a run spends an hour on other groups. */
export async function classGroupPreflight(): Promise<void> {
  await preflight();
  await classHostsPreflight();
}

/**
 * The figure; a failure on the way (box, classroom, a labctl call) is the figure's note, so the
 * figures the run measured before this group are still written.
 */
export async function classGroup(opts: ClassGroupOptions): Promise<Measurement> {
  const logDir = join(E2E_CACHE_DIR, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `bench-class-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  console.log(`bench class log: ${logFile}`);
  const started = Date.now();
  const log = (line: string) => appendFileSync(logFile, `${((Date.now() - started) / 1000).toFixed(1).padStart(7)} ${line}\n`);
  const failure = (what: string, error: unknown): Measurement => {
    const message = `${what}: ${String((error as Error).message ?? error).split('\n')[0] ?? ''}`;
    log(`${message}\n${String((error as Error).stack ?? '')}`);
    return { id: 'class', value: undefined, note: `FAILED: ${message}; see ${logFile}` };
  };

  const vagrantHome = join(E2E_CACHE_DIR, 'vagrant-home');
  let box: BuiltBox;
  try {
    box = await buildBox({ suite: E2E_SUITE, provider: 'libvirt', bake: true, outDir: join(E2E_CACHE_DIR, 'boxes'), vagrantHome, force: opts.forceBox, log });
    log(`box ${box.name} (${box.reused ? 'reused' : 'built'})`);
  } catch (error) {
    return failure('the baked box could not be built', error);
  }
  let c: ClassHosts;
  try {
    c = await createClassHosts({ log, hosts: CLASS_HOSTS.length });
  } catch (error) {
    return failure('the classroom could not be set up', error);
  }
  const result: Measurement = { id: 'class', value: undefined, note: '' };
  try {
    Object.assign(result, await measure(c, { box: box.name, vagrantHome, log, logFile }));
  } catch (error) {
    Object.assign(result, failure('class group', error));
  } finally {
    // The classroom goes whatever happened; what it leaves is reported (note, log, exit code 1).
    await c.teardown().catch((error: unknown) => {
      const message = `classroom teardown: ${(error as Error).message}`;
      log(message);
      console.error(message);
      process.exitCode = 1;
      result.note = `${result.note}; ${message.split('\n')[0] ?? ''}`;
    });
  }
  return result;
}

interface MeasureContext {
  box: string;
  vagrantHome: string;
  log: (line: string) => void;
  logFile: string;
}

async function measure(c: ClassHosts, ctx: MeasureContext): Promise<Measurement> {
  const workDir = join(c.stateDir, 'teacher-work');
  await mkdir(workDir, { recursive: true });
  const facts: ClassroomFacts = {
    address: c.lan.address,
    firstFree: LAN_FIRST_FREE,
    uris: c.hosts.map((h) => h.uri),
    bridge: LAN_INTERFACE,
    box: ctx.box,
    project: join(packageRoot(), 'test', 'fixtures', 'class-tiny'),
  };
  const inputs = classBenchInputs(facts);
  const classFile = join(workDir, 'class.yaml');
  await writeFile(join(workDir, 'roster.csv'), inputs.rosterCsv);
  await writeFile(classFile, inputs.classYaml);
  // The teacher's environment: its own home (ssh keys and known_hosts of the classroom), and none
  // of this shell's labctl or libvirt settings.
  const inherited: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('LABCTL_') && k !== 'LIBVIRT_DEFAULT_URI') inherited[k] = v;
  const env = {
    ...inherited,
    HOME: c.teacher.home,
    VAGRANT_HOME: ctx.vagrantHome,
    LABCTL_HOME: join(workDir, 'labctl-home'),
    VAGRANT_CHECKPOINT_DISABLE: '1',
    VAGRANT_BOX_UPDATE_CHECK_DISABLE: '1',
    VAGRANT_DEFAULT_PROVIDER: 'libvirt',
  };
  const labctl = async (args: string[], timeout: number): Promise<{ r: Result; seconds: number }> => {
    const t = Date.now();
    const r = await c.teacher.ns.exec([process.execPath, labctlBinary(), ...args], { env, extendEnv: false, cwd: workDir, timeout, reject: false, all: true, input: '' });
    const seconds = (Date.now() - t) / 1000;
    ctx.log(`labctl ${args.join(' ')} → exit ${r.exitCode} in ${seconds.toFixed(1)} s\n${String(r.all)}`);
    return { r, seconds };
  };
  const failed = (what: string, r: Result) => `${what} FAILED (exit ${r.exitCode ?? (r.timedOut ? 'timed out' : '?')}); see ${ctx.logFile}`;

  // What may be up and must go, whatever happens next.
  let classUp = true;
  const baselineUp = new Set<string>();
  try {
    const create = await labctl(['class', 'create', classFile], CLASS_RUN_TIMEOUT_MS);
    const rows = summaryRows(String(create.r.stdout), CLASS_STUDENTS);
    const perStudent = rows.map((s) => `${s.login} ${s.seconds === undefined ? s.outcome : `${s.seconds} s`} on ${s.host}`).join(', ');
    const destroyed = await labctl(['class', 'destroy', classFile, '--yes'], CLASS_DESTROY_TIMEOUT_MS);
    if (destroyed.r.exitCode === 0) classUp = false;
    if (create.r.exitCode !== 0) return { id: 'class', value: undefined, note: `${failed('class create', create.r)}; ${perStudent}; baseline not measured` };
    // The baseline's labs take the same names: they cannot be made beside the class's.
    if (classUp) return { id: 'class', value: create.seconds, note: `class: ${perStudent}; ${failed('class destroy', destroyed.r)}, so the baseline was not measured` };

    // The baseline: one machine (host 1), one lab after another; a failure ends it, unmeasured.
    const host1 = c.hosts[0];
    if (host1 === undefined) throw new Error('the classroom has no host 1');
    const sequential: string[] = [];
    let total: number | undefined = 0;
    for (const lab of inputs.sequential) {
      baselineUp.add(lab.login);
      const one = await labctl(sequentialCreateArgv(facts, lab, host1.uri), SEQUENTIAL_CREATE_TIMEOUT_MS);
      if (one.r.exitCode !== 0) {
        sequential.push(failed(`${lab.login}'s create`, one.r));
        total = undefined;
        break;
      }
      sequential.push(`${lab.login} ${Math.round(one.seconds)} s`);
      total += one.seconds;
    }
    return {
      id: 'class',
      value: create.seconds,
      note: `class: ${perStudent}; one after another on host-1: ${sequential.join(', ')}; a box upload per host used in both`,
      baseline: { value: total },
    };
  } finally {
    if (classUp) await labctl(['class', 'destroy', classFile, '--yes'], CLASS_DESTROY_TIMEOUT_MS);
    for (const login of baselineUp) await labctl(['destroy', login, '--yes', '--force'], DESTROY_TIMEOUT_MS);
  }
}
