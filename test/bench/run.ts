import { cpus } from 'node:os';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveConfig } from '../../core/config.js';
import { packageRoot } from '../../core/paths.js';
import { renderVagrantfile } from '../../core/vagrantfile.js';
import { labctl } from '../e2e/labctl.js';
import { setUpHarness, type Harness } from '../e2e/harness.js';

// `npm run bench`: times each stage of a lab's life on this machine, inside the e2e harness's
// network namespace, and writes docs/benchmarks.md. Stages that fail are reported as failed, not
// timed. `--rebuild-box` times a box build from scratch instead of the cached one; `--no-labctl`
// stops after the plain-vagrant stages; `--bonus` creates the lab with its bonus services (8 images
// to build in the VM instead of 3); `--host-base-image` makes debian:bookworm on the host
// (base_image host) instead of in the VM.

const LAB_IP = '192.168.56.10';
const STAGE_TIMEOUT_MS = 30 * 60_000;
/** How many times the two SSH round trips are measured; the median is reported. */
const SSH_SAMPLES = 5;

interface Row {
  stage: string;
  seconds: number | undefined;
  note: string;
}

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  if (args.has('--rebuild-box')) process.env.LABCTL_E2E_FORCE_BOX = '1';
  const rows: Row[] = [];
  const h = await setUpHarness();
  try {
    rows.push({ stage: 'box build', seconds: sec(h.timings.get('box build (or reuse)')), note: h.box.reused ? 'reused from cache' : 'debootstrap → qcow2 → vagrant box add' });
    await plainVagrantStages(h, rows);
    if (!args.has('--no-labctl')) await labctlStages(h, rows, args.has('--bonus'), args.has('--host-base-image') ? 'host' : 'local');
  } finally {
    await h.teardown();
  }
  const out = join(packageRoot(), 'docs', 'benchmarks.md');
  await mkdir(join(packageRoot(), 'docs'), { recursive: true });
  // The sections after the table (other benches' figures) are kept as they are.
  const previous = await readFile(out, 'utf8').catch(() => '');
  const rest = previous.indexOf('\n## ');
  await writeFile(out, `${await renderTable(rows)}${rest === -1 ? '' : previous.slice(rest)}`);
  console.log(`wrote ${out}`);
}

async function stage(h: Harness, rows: Row[], name: string, argv: string[], cwd: string, note = ''): Promise<boolean> {
  const started = Date.now();
  const r = await h.ns.exec(argv, { cwd, env: h.env, timeout: STAGE_TIMEOUT_MS, reject: false, all: true });
  h.log(`${argv.join(' ')} → exit ${r.exitCode}\n${String(r.all)}`);
  const ok = r.exitCode === 0;
  rows.push({ stage: name, seconds: ok ? (Date.now() - started) / 1000 : undefined, note: ok ? note : `FAILED (exit ${r.exitCode}); see ${h.logFile}` });
  return ok;
}

async function plainVagrantStages(h: Harness, rows: Row[]): Promise<void> {
  const dir = join(h.workDir, 'bench-vm');
  await mkdir(dir, { recursive: true });
  const config = resolveConfig(
    { login: 'bench', name: 'bench', provider: 'libvirt', ip: LAB_IP, box: h.box.name, libvirt_driver: 'qemu' },
    { usableProvider: 'libvirt', hardwareVirtualization: false },
  );
  await writeFile(join(dir, 'Vagrantfile'), renderVagrantfile(config));
  if (!(await stage(h, rows, 'vagrant up (fresh VM, box upload included)', ['vagrant', 'up', '--provider', 'libvirt'], dir))) return;
  const cfg = await h.ns.exec(['vagrant', 'ssh-config'], { cwd: dir, env: h.env });
  await writeFile(join(dir, 'ssh-config'), String(cfg.stdout), { mode: 0o600 });
  rows.push(await median(h, 'vagrant ssh -c true', ['vagrant', 'ssh', '-c', 'true'], dir));
  rows.push(await median(h, 'ssh -F ssh-config default true', ['ssh', '-F', join(dir, 'ssh-config'), '-o', 'BatchMode=yes', 'default', 'true'], dir));
  await stage(h, rows, 'vagrant halt', ['vagrant', 'halt'], dir);
  await stage(h, rows, 'vagrant up (existing VM)', ['vagrant', 'up', '--provider', 'libvirt'], dir);
  await stage(h, rows, 'vagrant destroy -f', ['vagrant', 'destroy', '--force'], dir);
}

async function median(h: Harness, name: string, argv: string[], cwd: string): Promise<Row> {
  const samples: number[] = [];
  for (let i = 0; i < SSH_SAMPLES; i++) {
    const started = Date.now();
    const r = await h.ns.exec(argv, { cwd, env: h.env, timeout: 60_000, reject: false });
    if (r.exitCode !== 0) return { stage: name, seconds: undefined, note: `FAILED (exit ${r.exitCode})` };
    samples.push((Date.now() - started) / 1000);
  }
  samples.sort((a, b) => a - b);
  return { stage: name, seconds: samples[Math.floor(samples.length / 2)], note: `median of ${SSH_SAMPLES}` };
}

async function labctlStages(h: Harness, rows: Row[], bonus: boolean, baseImage: string): Promise<void> {
  const step = async (name: string, args: string[], note = '') => {
    const started = Date.now();
    const r = await labctl(h, args, { timeout: STAGE_TIMEOUT_MS * 2 });
    const ok = r.exitCode === 0;
    rows.push({ stage: name, seconds: ok ? (Date.now() - started) / 1000 : undefined, note: ok ? note : `FAILED (exit ${r.exitCode}); see ${h.logFile}` });
    return ok;
  };
  const create = ['create', '--provider', 'libvirt', '--login', 'bench', '--box', h.box.name, '--libvirt-driver', 'qemu', '--base-image', baseImage, '--yes', ...(bonus ? ['--bonus'] : [])];
  if (!(await step(`labctl create${bonus ? ' --bonus' : ''} (VM + Docker + stack)`, create, bonus ? '8 containers' : '3 containers'))) return;
  rows.push(...(await provisioningSteps(join(h.env.LABCTL_HOME ?? '', 'inception', 'labctl.log'))));
  const samples: number[] = [];
  for (let i = 0; i < SSH_SAMPLES; i++) {
    const started = Date.now();
    if ((await labctl(h, ['ssh', '--', 'true'], { timeout: 60_000 })).exitCode !== 0) break;
    samples.push((Date.now() - started) / 1000);
  }
  samples.sort((a, b) => a - b);
  rows.push({ stage: 'labctl ssh -- true', seconds: samples[Math.floor(samples.length / 2)], note: `median of ${samples.length}` });
  await step('labctl deploy, nothing changed', ['deploy'], 'nothing pushed, make skipped, site probed');
  await oneLineChange(async () => {
    await step('labctl deploy, one-line nginx config change', ['deploy'], '1 file pushed, nginx image rebuilt and recreated, site probed');
  });
  await step('labctl halt', ['halt']);
  await step('labctl up (until healthy)', ['up']);
  await step('labctl destroy --yes', ['destroy', '--yes']);
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

/** The lab log records each provisioning step's outcome: `step "<title>": ran in <ms> ms`. */
async function provisioningSteps(logFile: string): Promise<Row[]> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return [...text.matchAll(/step "([^"]+)": (ran|skipped)(?: in (\d+) ms)?/g)].map((m) => ({
    stage: `  provisioning: ${m[1]}`,
    seconds: m[3] === undefined ? 0 : Number(m[3]) / 1000,
    note: m[2] === 'skipped' ? 'skipped' : '',
  }));
}

function sec(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

async function renderTable(rows: Row[]): Promise<string> {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpu}, libvirt driver qemu`,
    '(software emulation, cpu_model qemu64: no hardware virtualization on this machine), inside the e2e',
    'network namespace.',
    '',
    '| stage | seconds | note |',
    '|---|---:|---|',
    ...rows.map((r) => `| ${r.stage} | ${r.seconds === undefined ? '—' : r.seconds.toFixed(1)} | ${r.note} |`),
    '',
  ].join('\n');
}

await main();
