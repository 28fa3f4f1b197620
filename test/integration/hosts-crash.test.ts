import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addBlock, addHostsEntry, journalPath, removeHostsEntry, type HostsEntry } from '../../core/hosts-file.js';
import { tempDir } from '../helpers/temp.js';

// A real crash, not a mock: a child process edits the hosts file through the built core/hosts-file.js
// and is SIGKILLed at staggered moments across its run. Whatever the moment, the file holds the old
// bytes, the new bytes, or (only while a journal is there) a torn mix; after one more run of the
// same operation it holds exactly the new bytes and nothing else is left in the directory: no
// journal, no temp file, no lock.

const HOSTS_MODULE = resolve(import.meta.dirname, '..', '..', 'dist', 'core', 'hosts-file.js');
const PADDING_LINES = 160_000; // ~6 MB, so that reading, journaling and writing take a while
// Kill moments: fractions of a whole run (start-up, reading), and delays after the journal appears
// (writing the journal, flushing it, writing the file in place, flushing, unlinking), which a
// fraction of the run hits only by luck.
const KILL_FRACTIONS = [0.5, 0.9];
const KILL_AFTER_JOURNAL_MS = [0, 5, 12, 16, 19, 22, 25, 29];
// The killed child's lock is stale after this long; the recovery run waits that out (bounded by
// the lock's own wait, which is longer).
const RECOVERY_LOCK = { staleMs: 2_000 };
const CHILD_TIMEOUT_MS = 60_000;
const JOURNAL_NAME = basename(journalPath('/hosts'));

const entry: HostsEntry = { name: 'inception', ip: '192.168.56.10', domain: 'jdoe.42.fr' };
const padding = `127.0.0.1 localhost\n${'# padding line to make the file large\n'.repeat(PADDING_LINES)}`;

interface Scenario {
  /** The file before the operation. */
  before: string;
  /** The file after it. */
  after: string;
  /** The call the child makes, as source text. */
  call: (path: string) => string;
  redo: (path: string) => Promise<boolean>;
}

const scenarios: Record<string, Scenario> = {
  // Appends: only the tail of the file is written.
  add: {
    before: padding,
    after: addBlock(padding, entry),
    call: (path) => `h.addHostsEntry(${JSON.stringify(path)}, ${JSON.stringify(entry)})`,
    redo: (path) => addHostsEntry(path, entry, { lock: RECOVERY_LOCK }),
  },
  // The block is the first thing in the file: removing it rewrites all ~6 MB in place, the widest
  // window for a torn file.
  remove: {
    before: addBlock('', entry) + padding,
    after: padding,
    call: (path) => `h.removeHostsEntry(${JSON.stringify(path)}, ${JSON.stringify(entry.name)})`,
    redo: (path) => removeHostsEntry(path, entry.name, { lock: RECOVERY_LOCK }),
  },
};

type KillAt = { fraction: number } | { afterJournalMs: number };

function runChild(dir: string, scenario: Scenario, killAt?: KillAt, fullRunMs = 0): Promise<{ done: boolean; ms: number }> {
  const path = join(dir, 'hosts');
  const started = Date.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', `const h = await import(${JSON.stringify(HOSTS_MODULE)}); await ${scenario.call(path)}; console.log('done');`]);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const kill = () => child.kill('SIGKILL');
  const timers = [setTimeout(kill, killAt && 'fraction' in killAt ? Math.round(fullRunMs * killAt.fraction) : CHILD_TIMEOUT_MS)];
  const watcher = watch(dir, (_event, file) => {
    if (killAt && 'afterJournalMs' in killAt && file === JOURNAL_NAME && timers.length === 1) timers.push(setTimeout(kill, killAt.afterJournalMs));
  });
  return new Promise((r) =>
    child.on('exit', () => {
      for (const t of timers) clearTimeout(t);
      watcher.close();
      r({ done: out.includes('done'), ms: Date.now() - started });
    }),
  );
}

const seen: string[] = [];
afterAll(() => console.log(`states right after SIGKILL: ${seen.join(', ')}`));

describe.each(Object.entries(scenarios))('hosts %s survives SIGKILL at any moment', (name, scenario) => {
  let fullRunMs = 0;

  it('runs to the end when not killed (and times a full run)', async () => {
    const dir = await tempDir('labctl-crash-');
    const path = join(dir, 'hosts');
    await writeFile(path, scenario.before);
    const r = await runChild(dir, scenario);
    fullRunMs = r.ms;
    expect(r.done).toBe(true);
    expect(await readFile(path, 'utf8')).toBe(scenario.after);
    expect(await readdir(dir)).toEqual(['hosts']);
  });

  const moments: [string, KillAt][] = [
    ...KILL_FRACTIONS.map((fraction): [string, KillAt] => [`${fraction} of a full run`, { fraction }]),
    ...KILL_AFTER_JOURNAL_MS.map((afterJournalMs): [string, KillAt] => [`${afterJournalMs} ms after the journal appears`, { afterJournalMs }]),
  ];
  it.each(moments)('SIGKILL at %s: old, new or torn with a journal; one more run gives the new file', async (moment, killAt) => {
    const dir = await tempDir('labctl-crash-');
    const path = join(dir, 'hosts');
    await writeFile(path, scenario.before);
    const r = await runChild(dir, scenario, killAt, fullRunMs);
    const left = await readFile(path, 'utf8');
    const files = await readdir(dir);
    const journal = files.includes(JOURNAL_NAME);
    const state = left === scenario.before ? 'old' : left === scenario.after ? 'new' : 'torn';
    seen.push(`${name} @ ${moment}: ${state}${journal ? '+journal' : ''}${r.done ? '(finished)' : ''}`);
    if (state === 'torn') expect(journal).toBe(true);
    if (r.done) expect(state).toBe('new');
    // Only what the writer owns may be left: the journal and the lock directory.
    expect(files.filter((f) => !['hosts', JOURNAL_NAME, 'hosts.lock'].includes(f))).toEqual([]);

    await scenario.redo(path);
    expect(await readFile(path, 'utf8')).toBe(scenario.after);
    expect(await readdir(dir)).toEqual(['hosts']);
  });
});
