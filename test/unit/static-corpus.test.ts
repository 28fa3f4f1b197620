import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkStatic } from '../../check/static.js';
import { tempDir } from '../helpers/temp.js';

// Issue 16: check --static measured on a labelled corpus of small projects that show the patterns
// of real hand-ins (test/fixtures/corpus/README.md). A `fail` is a positive: precision is how often
// a reported failure is real, recall how many real failures are reported.

const CORPUS = fileURLToPath(new URL('../fixtures/corpus/', import.meta.url));
type Verdict = 'pass' | 'fail' | 'skip';
interface Labels {
  about: string;
  verdicts: Record<string, Verdict>;
  /** Files a hand-in committed that look like credentials (srcs/.env): written into the copy only. */
  at_test_time?: Record<string, string>;
}

/** The floor this corpus is held to; raised as the checker gets better, never lowered. */
const MIN_PRECISION = Number(process.env.LABCTL_CORPUS_MIN_PRECISION ?? 0.97);
const MIN_RECALL = Number(process.env.LABCTL_CORPUS_MIN_RECALL ?? 0.97);

async function fixtures(): Promise<{ name: string; labels: Labels }[]> {
  const names = (await readdir(CORPUS, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return Promise.all(names.map(async (name) => ({ name, labels: parse(await readFile(join(CORPUS, `${name}.labels.yaml`), 'utf8')) as Labels })));
}

describe('check --static on the labelled corpus', () => {
  it('agrees with the labels: precision and recall at least the floor, no internal error', async () => {
    const all = await fixtures();
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let pairs = 0;
    let exact = 0;
    const disagreements: string[] = [];
    for (const { name, labels } of all) {
      const dir = join(await tempDir('labctl-corpus-'), name);
      // Outside any git work tree: what git tracks must not depend on this repository's state.
      await cp(join(CORPUS, name), dir, { recursive: true });
      for (const [path, text] of Object.entries(labels.at_test_time ?? {})) await writeFile(join(dir, path), text);
      let results;
      try {
        results = await checkStatic(dir);
      } catch (error) {
        disagreements.push(`${name}: check --static failed: ${(error as Error).message}`);
        for (const want of Object.values(labels.verdicts)) if (want === 'fail') fn++;
        pairs += Object.keys(labels.verdicts).length;
        continue;
      }
      for (const [id, want] of Object.entries(labels.verdicts)) {
        pairs++;
        const got = results.find((r) => r.id === id);
        const verdict: Verdict | 'absent' = got?.verdict ?? 'absent';
        if (verdict === want) exact++;
        else disagreements.push(`${name}: ${id}: labelled ${want}, got ${verdict}${got ? ` (${got.reason})` : ''}`);
        if (want === 'fail' && verdict === 'fail') tp++;
        else if (want !== 'fail' && verdict === 'fail') fp++;
        else if (want === 'fail' && verdict !== 'fail') fn++;
      }
    }
    const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
    const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
    console.log(
      [
        `corpus: ${all.length} projects, ${pairs} labelled (project, rule) pairs, ${exact} exact (${((100 * exact) / Math.max(pairs, 1)).toFixed(1)} %)`,
        `precision ${precision.toFixed(3)} (${tp} of ${tp + fp} reported failures are real), recall ${recall.toFixed(3)} (${tp} of ${tp + fn} real failures reported)`,
        ...disagreements.map((d) => `  ${d}`),
      ].join('\n'),
    );
    expect(all.length).toBeGreaterThan(0);
    expect(disagreements.filter((d) => d.includes('check --static failed'))).toEqual([]);
    expect(precision).toBeGreaterThanOrEqual(MIN_PRECISION);
    expect(recall).toBeGreaterThanOrEqual(MIN_RECALL);
  }, 120_000);
});
