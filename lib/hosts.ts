import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

// labctl owns only its marked block in the hosts file; every other byte is preserved, and removing
// the block gives back the file exactly as it was before `add` (L02).

export interface HostsEntry {
  name: string;
  ip: string;
  domain: string;
}

export const beginMarker = (name: string): string => `# BEGIN labctl ${name}`;
export const endMarker = (name: string): string => `# END labctl ${name}`;

// When the file did not end with a newline, addBlock must add one before the block; the begin line
// says so, which is how removeBlock knows to take it away again and restore the file exactly.
const ADDED_NEWLINE_NOTE = ' (labctl added the line break above)';

export function renderBlock(entry: HostsEntry, addedNewline = false): string {
  return `${beginMarker(entry.name)}${addedNewline ? ADDED_NEWLINE_NOTE : ''}\n${entry.ip} ${entry.domain}\n${endMarker(entry.name)}\n`;
}

interface BlockSpan {
  start: number;
  end: number;
  addedNewline: boolean;
}

/** Finds `# BEGIN labctl <name>` … `# END labctl <name>` as whole lines. */
function findBlock(text: string, name: string): BlockSpan | undefined {
  let offset = 0;
  let open: { start: number; addedNewline: boolean } | undefined;
  for (const line of text.split(/(?<=\n)/)) {
    const bare = line.replace(/\r?\n$/, '');
    if (open === undefined && (bare === beginMarker(name) || bare === beginMarker(name) + ADDED_NEWLINE_NOTE)) {
      open = { start: offset, addedNewline: bare !== beginMarker(name) };
    } else if (open !== undefined && bare === endMarker(name)) {
      return { ...open, end: offset + line.length };
    }
    offset += line.length;
  }
  return undefined;
}

/** Adds or replaces the lab's block; a new block goes at the end of the file. */
export function addBlock(text: string, entry: HostsEntry): string {
  const existing = findBlock(text, entry.name);
  if (existing) {
    return text.slice(0, existing.start) + renderBlock(entry, existing.addedNewline) + text.slice(existing.end);
  }
  if (text === '' || text.endsWith('\n')) return text + renderBlock(entry);
  return `${text}\n${renderBlock(entry, true)}`;
}

export function removeBlock(text: string, name: string): string {
  const span = findBlock(text, name);
  if (!span) return text;
  const start = span.addedNewline && text[span.start - 1] === '\n' ? span.start - 1 : span.start;
  return text.slice(0, start) + text.slice(span.end);
}

export function hasBlock(text: string, name: string): boolean {
  return findBlock(text, name) !== undefined;
}

/** The IP currently mapped by another labctl block for this domain, if any (conflict check). */
export function blockEntries(text: string): HostsEntry[] {
  const out: HostsEntry[] = [];
  const re = /^# BEGIN labctl ([a-z][a-z0-9-]*)(?: \(.*\))?\n(\S+)\s+(\S+)\n# END labctl \1$/gm;
  for (const m of text.matchAll(re)) out.push({ name: m[1] ?? '', ip: m[2] ?? '', domain: m[3] ?? '' });
  return out;
}

export async function canWrite(path: string): Promise<boolean> {
  try {
    await access(path, constants.W_OK);
    await access(dirname(path), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes the file crash-safely: the new content goes to a temporary file in the same directory,
 * is flushed, then renamed over the original, so readers see either the old or the new file.
 * /etc/hosts is often a bind mount (containers, `ip netns exec`) where rename fails with EBUSY;
 * there the content is rewritten in place with a single write of the whole buffer.
 */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  const tmp = join(dirname(path), `.${basename(path)}.labctl-${randomBytes(4).toString('hex')}`);
  const handle = await open(tmp, 'wx', info ? info.mode & 0o7777 : 0o644);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp);
    if ((error as NodeJS.ErrnoException).code !== 'EBUSY' && (error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    const target = await open(path, 'r+');
    try {
      await target.truncate(0);
      await target.write(content, 0);
      await target.sync();
    } finally {
      await target.close();
    }
  }
}

/** Adds the block; returns false when the file already held exactly this block. */
export async function addHostsEntry(path: string, entry: HostsEntry): Promise<boolean> {
  const before = await readFile(path, 'utf8');
  const after = addBlock(before, entry);
  if (after === before) return false;
  await writeFileAtomic(path, after);
  return true;
}

/** Removes the block; returns false when there was none. */
export async function removeHostsEntry(path: string, name: string): Promise<boolean> {
  const before = await readFile(path, 'utf8');
  const after = removeBlock(before, name);
  if (after === before) return false;
  await writeFileAtomic(path, after);
  return true;
}
