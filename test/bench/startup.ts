import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../core/paths.js';
import { medianMs as medianOf } from './startup-measure.js';

// `npm run bench:startup`: how long labctl takes to answer before it does any work, beside the
// baseline every Node CLI pays (`node -e 0`). Issue 17's goal is `--help` and `--version` within
// 2× that baseline. No VM needed; the section "## Start-up" of docs/benchmarks.md is rewritten.

const ROOT = packageRoot();
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const SAMPLES = Number(/^--samples=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--samples=')) ?? '')?.[1] ?? 21);
const medianMs = (argv: string[], env: NodeJS.ProcessEnv): number => medianOf(argv, env, SAMPLES);

async function main(): Promise<void> {
  // An empty lab home and hosts file of its own: `status` lists no lab and touches nothing real.
  const home = await mkdtemp(join(tmpdir(), 'labctl-bench-startup-'));
  const env = { ...process.env, LABCTL_HOME: join(home, 'labs'), LABCTL_HOSTS_FILE: join(home, 'hosts') };
  try {
    const baseline = medianMs(['node', '-e', '0'], env);
    const rows: Array<[string, number]> = [
      ['labctl --version', medianMs(['node', CLI, '--version'], env)],
      ['labctl --help', medianMs(['node', CLI, '--help'], env)],
      ['labctl status --help', medianMs(['node', CLI, 'status', '--help'], env)],
      ['labctl status (no lab)', medianMs(['node', CLI, 'status'], env)],
    ];
    const table = [
      '## Start-up (`npm run bench:startup`)',
      '',
      `Median of ${SAMPLES} runs on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}; the goal (issue 17) is ≤ 2× \`node -e 0\`.`,
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
    const before = start === -1 ? doc.trimEnd() + '\n' : doc.slice(0, start + 1);
    const after = next === -1 ? '' : doc.slice(next);
    await writeFile(out, `${before}\n${table}${after}`);
    console.log(`wrote ${out}`);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

await main();
