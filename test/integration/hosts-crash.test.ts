import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderBlock } from '../../lib/hosts.js';
import { tempDir } from '../helpers/temp.js';

// A real crash, not a mock: a child process rewrites the hosts file through the built
// lib/hosts.js and is SIGKILLed at staggered moments while writing. Whatever the moment, the file
// must hold either the old text or the complete new text, never a mix.

const HOSTS_MODULE = resolve(import.meta.dirname, '..', '..', 'dist', 'lib', 'hosts.js');
const KILL_DELAYS_MS = [5, 15, 30, 45, 60, 80, 100, 130];
const PADDING_LINES = 200_000; // ~6 MB, so that the write takes long enough to be interrupted

describe('hosts file survives a crash mid-write', () => {
  it.each(KILL_DELAYS_MS)('SIGKILL after %i ms leaves the old or the new file', async (delay) => {
    const dir = await tempDir('labctl-crash-');
    const path = join(dir, 'hosts');
    const original = `127.0.0.1 localhost\n${'# padding line to make the file large\n'.repeat(PADDING_LINES)}`;
    await writeFile(path, original);
    const entry = { name: 'inception', ip: '192.168.56.10', domain: 'jdoe.42.fr' };
    const child = spawn(process.execPath, [
      '--input-type=module',
      '-e',
      `const h = await import(${JSON.stringify(HOSTS_MODULE)}); await h.addHostsEntry(${JSON.stringify(path)}, ${JSON.stringify(entry)}); console.log('done');`,
    ]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await new Promise((r) => setTimeout(r, delay));
    child.kill('SIGKILL');
    await exited;
    const after = await readFile(path, 'utf8');
    const expectedNew = original + renderBlock(entry);
    expect([original, expectedNew]).toContain(after);
    if (out.includes('done')) expect(after).toBe(expectedNew);
    // A killed writer may leave its temp file behind, but never touches anything else.
    expect((await readdir(dir)).filter((f) => f !== 'hosts').every((f) => f.startsWith('.hosts.labctl-'))).toBe(true);
  });
});
