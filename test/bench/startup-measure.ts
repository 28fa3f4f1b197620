import { spawnSync } from 'node:child_process';

// The start-up measurement shared by `npm run bench:startup` and `npm run bench`'s startup group:
// the median wall time of a command run to its end, output discarded.

export function medianMs(argv: readonly string[], env: NodeJS.ProcessEnv, samples: number): number {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = process.hrtime.bigint();
    const r = spawnSync(argv[0] ?? 'node', argv.slice(1), { env, stdio: 'ignore', timeout: 30_000 });
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}`);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

/**
 * Medians of several commands sampled in turns (a, b, c, a, b, c …), so that a burst of load on a
 * shared machine weighs on each of them alike instead of on whichever ran at the time: the ratios
 * to `node -e 0` are what the goals compare.
 */
export function interleavedMediansMs(commands: ReadonlyArray<readonly string[]>, env: NodeJS.ProcessEnv, samples: number): number[] {
  const times = commands.map(() => [] as number[]);
  for (let i = 0; i < samples; i++) {
    commands.forEach((argv, c) => times[c]?.push(medianMs(argv, env, 1)));
  }
  return times.map((t) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)] ?? Number.NaN);
}
