import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../core/paths.js';

// `node dist/test/bench/static-hostile.js`: wall time (and peak memory, where /usr/bin/time is
// there) of `labctl check --static` on projects made of one very long line, the inputs that used to
// drive patterns quadratic in line length (issue 13). Each payload is a shape one of the old
// patterns backtracked on. A figure to read, not a timed test: the integration test only checks
// that each run finishes.

const ROOT = packageRoot();
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
/** One run is stopped after this long (`--timeout=SECONDS`): the old code needed minutes on some rows. */
const RUN_TIMEOUT_MS = Number(/^--timeout=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--timeout=')) ?? '')?.[1] ?? 600) * 1000;
const COMPOSE_LINE = 512 * 1024;
const DOCKERFILE_LINE = 256 * 1024;

/** Payloads of a given length, each aimed at one formerly super-linear pattern. */
const PAYLOADS: Record<string, (n: number) => string> = {
  'PASS repeated (password pattern)': (n) => 'PASS'.repeat(Math.ceil(n / 4)).slice(0, n),
  'spaces (comment strip, trailing-space anchors)': (n) => `${' '.repeat(n - 1)}x`,
  '${A- repeated (interpolation)': (n) => '${A-'.repeat(Math.ceil(n / 4)).slice(0, n),
  'A= repeated (assignments)': (n) => 'A='.repeat(Math.ceil(n / 2)).slice(0, n),
};

interface Row {
  what: string;
  seconds: number;
  maxRssMiB: number | undefined;
  exitCode: number | null;
}

function run(what: string, argv: string[]): Row {
  // coreutils' timeout kills the run itself (a node stuck in a regular expression ignores
  // SIGTERM); killing /usr/bin/time instead would leave its child running.
  const wrapped = existsSync('/usr/bin/time') && existsSync('/usr/bin/timeout');
  const started = process.hrtime.bigint();
  const r = wrapped
    ? spawnSync('/usr/bin/time', ['-f', 'maxrss_kib=%M', '/usr/bin/timeout', '-s', 'KILL', String(RUN_TIMEOUT_MS / 1000), ...argv], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS + 10_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 })
    : spawnSync(argv[0] ?? '', argv.slice(1), { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rss = /maxrss_kib=(\d+)/.exec(r.stderr ?? '')?.[1];
  const killed = r.status === null || r.status === 137;
  return { what, seconds, maxRssMiB: rss === undefined || killed ? undefined : Number(rss) / 1024, exitCode: killed ? null : r.status };
}

async function copyProject(base: string, name: string): Promise<string> {
  const dir = join(base, name);
  const src = join(ROOT, 'compose');
  await cp(src, dir, { recursive: true, filter: (p) => !p.startsWith(join(src, 'secrets') + '/') });
  await mkdir(join(dir, 'secrets'), { recursive: true });
  return dir;
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const base = await mkdtemp(join(tmpdir(), 'labctl-bench-hostile-'));
  const rows: Row[] = [];
  try {
    rows.push(run('node -e 0 (baseline)', [process.execPath, '-e', '0']));
    rows.push(run('check --static compose/ (as shipped)', [process.execPath, CLI, 'check', '--static', join(ROOT, 'compose')]));
    let i = 0;
    for (const [label, make] of Object.entries(PAYLOADS)) {
      i += 1;
      // The compose file is a single line: a flow mapping whose one value is the payload.
      const composeDir = await copyProject(base, `compose-${i}`);
      await writeFile(join(composeDir, 'srcs', 'docker-compose.yml'), `{x-pad: ${JSON.stringify(make(COMPOSE_LINE))}}`);
      rows.push(run(`compose, one 512 KiB line: ${label}`, [process.execPath, CLI, 'check', '--static', composeDir]));

      const dockerDir = await copyProject(base, `dockerfile-${i}`);
      await appendFile(join(dockerDir, 'srcs', 'requirements', 'nginx', 'Dockerfile'), `\nRUN ${make(DOCKERFILE_LINE)}\n`);
      rows.push(run(`Dockerfile, one 256 KiB line: ${label}`, [process.execPath, CLI, 'check', '--static', dockerDir]));

      const scriptDir = await copyProject(base, `script-${i}`);
      await appendFile(join(scriptDir, 'srcs', 'requirements', 'nginx', 'tools', 'entrypoint.sh'), `\n${make(DOCKERFILE_LINE)}\n`);
      rows.push(run(`entrypoint.sh, one 256 KiB line: ${label}`, [process.execPath, CLI, 'check', '--static', scriptDir]));
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
  const width = Math.max(...rows.map((r) => r.what.length));
  process.stdout.write(`${'run'.padEnd(width)}  seconds  max RSS MiB  exit\n`);
  for (const r of rows) {
    process.stdout.write(`${r.what.padEnd(width)}  ${r.seconds.toFixed(2).padStart(7)}  ${(r.maxRssMiB === undefined ? '?' : r.maxRssMiB.toFixed(0)).padStart(11)}  ${r.exitCode ?? 'killed'}\n`);
  }
}

await main();
