import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';
import { tail } from '../core/errors.js';
import { ANY_EXIT_CODE, run } from '../adapters/run.js';

// Class mode drives one ordinary labctl command per student (create, check, destroy) as a child
// process: each lab keeps its own lock, log and state exactly as if the teacher had typed the
// command, one student's failure cannot take the others down, and a re-run resumes each lab the way
// the single-lab command resumes it.

export interface ChildOutcome {
  ok: boolean;
  code: number;
  stdout: string;
  /** The last lines of stderr: the one-line error and its hint when the child failed. */
  stderrTail: string;
  seconds: number;
}

/** The built labctl this process runs from: children run the same version. */
function labctlMain(): string {
  return join(packageRoot(), 'dist', 'cli', 'main.js');
}

export async function runLabctl(
  args: readonly string[],
  opts: { env: NodeJS.ProcessEnv; timeoutMs: number; signal?: AbortSignal; onLine?: (line: string) => void },
): Promise<ChildOutcome> {
  const started = Date.now();
  const r = await run(process.execPath, [labctlMain(), ...args], {
    env: { ...opts.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    timeoutMs: opts.timeoutMs,
    okCodes: ANY_EXIT_CODE,
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.onLine === undefined ? {} : { onOutput: opts.onLine }),
  });
  return { ok: r.code === 0, code: r.code, stdout: r.stdout, stderrTail: tail(r.stderr, 4), seconds: (Date.now() - started) / 1000 };
}

/** The child's one-line error (cli/main.ts prints `labctl: …` then `  fix: …`), else its last line. */
export function childError(outcome: ChildOutcome): string {
  const lines = outcome.stderrTail.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const error = lines.findLast((l) => l.startsWith('labctl: ')) ?? lines.at(-1) ?? `exit ${outcome.code}`;
  return error.replace(/^labctl: /, '');
}

/**
 * Runs `work` for every item, at most `limit(key)` at a time per key (a host), all keys at once.
 * Results come back in the items' order.
 */
export async function perKeyPool<T, R>(items: readonly T[], key: (item: T) => string, limit: (key: string) => number, work: (item: T) => Promise<R>): Promise<R[]> {
  const queues = new Map<string, number[]>();
  items.forEach((item, i) => {
    const k = key(item);
    queues.set(k, [...(queues.get(k) ?? []), i]);
  });
  const results = new Array<R>(items.length);
  await Promise.all(
    [...queues.entries()].map(async ([k, indexes]) => {
      let next = 0;
      const lane = async () => {
        while (next < indexes.length) {
          const i = indexes[next++] as number;
          results[i] = await work(items[i] as T);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(limit(k), indexes.length)) }, lane));
    }),
  );
  return results;
}

/** At most `n` holders at once; the others wait in order. A freed slot passes straight to the next waiter. */
export function limiter(n: number): <R>(work: () => Promise<R>) => Promise<R> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else active += 1;
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next === undefined) active -= 1;
      else next();
    }
  };
}
