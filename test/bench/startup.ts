import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../core/paths.js';
import { interleavedMediansMs } from './startup-measure.js';

// `npm run bench:startup`: how long labctl takes to answer before it does any work, beside the
// baseline every Node CLI pays (`node -e 0`). Issue 17's goal is `--help` and `--version` within
// 2× that baseline. No VM needed; the section "## Start-up" of docs/benchmarks.md is rewritten.

const ROOT = packageRoot();
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const SAMPLES = Number(/^--samples=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--samples=')) ?? '')?.[1] ?? 21);

async function main(): Promise<void> {
  // An empty lab home and hosts file of its own: `status` lists no lab and touches nothing real.
  const home = await mkdtemp(join(tmpdir(), 'labctl-bench-startup-'));
  const env = { ...process.env, LABCTL_HOME: join(home, 'labs'), LABCTL_HOSTS_FILE: join(home, 'hosts') };
  try {
    // Sampled in turns with the baseline: on a shared machine a burst of load then weighs on every
    // row alike, and the ratios, which the goal is about, stay comparable between runs.
    const commands: Array<[string, string[]]> = [
      ['node -e 0', ['node', '-e', '0']],
      ['labctl --version', ['node', CLI, '--version']],
      ['labctl --help', ['node', CLI, '--help']],
      ['labctl status --help', ['node', CLI, 'status', '--help']],
      ['labctl status (no lab)', ['node', CLI, 'status']],
    ];
    const [baseline = Number.NaN, ...medians] = interleavedMediansMs(commands.map(([, argv]) => argv), env, SAMPLES);
    const rows = commands.slice(1).map(([what], i): [string, number] => [what, medians[i] ?? Number.NaN]);
    const table = [
      '## Start-up (`npm run bench:startup`)',
      '',
      `Median of ${SAMPLES} runs of each, sampled in turns with \`node -e 0\`, on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}; the goal (issue 17) is ≤ 2× \`node -e 0\`.`,
      '',
      '| command | ms | `node -e 0` ms | ratio |',
      '|---|---:|---:|---:|',
      ...rows.map(([what, ms]) => `| \`${what}\` | ${ms.toFixed(0)} | ${baseline.toFixed(0)} | ${(ms / baseline).toFixed(2)}× |`),
      '',
    ].join('\n');
    console.log(table);
    const out = join(ROOT, 'docs', 'benchmarks.md');
    const doc = await readFile(out, 'utf8').catch(() => '# Benchmarks\n');
    const start = doc.indexOf('\n## Start-up');
    const next = start === -1 ? -1 : doc.indexOf('\n## ', start + 1);
    // Exactly one blank line before the section, however many the last writer left.
    const before = `${(start === -1 ? doc : doc.slice(0, start)).trimEnd()}\n`;
    const after = next === -1 ? '' : doc.slice(next);
    await writeFile(out, `${before}\n${table}${after}`);
    console.log(`wrote ${out}`);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

await main();
