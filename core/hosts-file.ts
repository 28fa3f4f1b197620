import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, readFile, realpath, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConflictError, NotFoundError } from './errors.js';
import { withFileLock, type FileLockOptions } from './lock.js';

// labctl owns only its marked blocks in the hosts file; every other byte is preserved, and removing
// a block gives back the file exactly as it was before `add` (L02). Text is handled as 'latin1'
// strings, which map bytes to characters 1:1, so bytes that are not UTF-8 go back out unchanged;
// labctl's own lines are ASCII. A block labctl cannot read with certainty (no END, no BEGIN, twice,
// nested, a body that is not one `<ip> <domain>` line) is refused, never "repaired": the lines
// around it may be the user's.

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

type Eol = '' | '\n' | '\r\n';

export function renderBlock(entry: HostsEntry, addedNewline = false, eol: '\n' | '\r\n' = '\n'): string {
  return renderWith(entry, addedNewline, [eol, eol, eol]);
}

function renderWith(entry: HostsEntry, addedNewline: boolean, eols: readonly [Eol, Eol, Eol]): string {
  return `${beginMarker(entry.name)}${addedNewline ? ADDED_NEWLINE_NOTE : ''}${eols[0]}${entry.ip} ${entry.domain}${eols[1]}${endMarker(entry.name)}${eols[2]}`;
}

interface Line {
  bare: string;
  eol: Eol;
  start: number;
  end: number;
  no: number;
}

function splitLines(text: string): Line[] {
  const out: Line[] = [];
  let start = 0;
  for (let no = 1; start < text.length; no++) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl + 1;
    const raw = text.slice(start, end);
    const eol: Eol = raw.endsWith('\r\n') ? '\r\n' : raw.endsWith('\n') ? '\n' : '';
    out.push({ bare: raw.slice(0, raw.length - eol.length), eol, start, end, no });
    start = end;
  }
  return out;
}

interface Block extends HostsEntry {
  start: number;
  end: number;
  addedNewline: boolean;
  /** Line ends of BEGIN, body and END, kept so that a re-add writes back the same bytes. */
  eols: [Eol, Eol, Eol];
}

// Loose on purpose: anything that looks like a labctl marker is one, and must then be exact.
const LOOKS_LIKE_MARKER = /^\s*#\s*(BEGIN|END)\s+labctl(\s|$)/;
const BEGIN_RE = /^# BEGIN labctl (\S+)( \(labctl added the line break above\))?$/;
const END_RE = /^# END labctl (\S+)$/;
const BODY_RE = /^(\S+)[ \t]+(\S+)$/;

function malformed(where: string, line: number, problem: string): ConflictError {
  return new ConflictError(`${where}:${line}: ${problem}`, {
    hint: `fix or delete the labctl lines in ${where} by hand (labctl never removes lines it did not write), then run the command again`,
  });
}

/** Every labctl block of the file; throws a ConflictError naming the line of any malformed one. */
export function parseBlocks(text: string, where = 'the hosts file'): Block[] {
  const blocks: Block[] = [];
  const seen = new Map<string, number>();
  let open: { name: string; line: Line; addedNewline: boolean; body: Line[] } | undefined;
  for (const line of splitLines(text)) {
    if (!LOOKS_LIKE_MARKER.test(line.bare)) {
      open?.body.push(line);
      continue;
    }
    const bare = line.bare.replace(/[ \t]+$/, '');
    const begin = BEGIN_RE.exec(bare);
    const end = END_RE.exec(bare);
    if (begin) {
      const name = begin[1] ?? '';
      if (open) throw malformed(where, line.no, `\`${beginMarker(name)}\` inside the block \`${beginMarker(open.name)}\` of line ${open.line.no}, which has no \`${endMarker(open.name)}\` before it`);
      const first = seen.get(name);
      if (first !== undefined) throw malformed(where, line.no, `a second \`${beginMarker(name)}\` (the first is on line ${first})`);
      open = { name, line, addedNewline: begin[2] !== undefined, body: [] };
    } else if (end) {
      const name = end[1] ?? '';
      if (!open) throw malformed(where, line.no, `\`${endMarker(name)}\` has no matching \`${beginMarker(name)}\``);
      if (open.name !== name) throw malformed(where, line.no, `\`${endMarker(name)}\` closes the block \`${beginMarker(open.name)}\` of line ${open.line.no}`);
      const body = open.body[0];
      const entry = body && open.body.length === 1 ? BODY_RE.exec(body.bare) : null;
      if (!body || !entry) {
        throw malformed(where, open.line.no, `the block \`${beginMarker(name)}\` must hold exactly one \`<ip> <domain>\` line (it holds ${open.body.length} line${open.body.length === 1 ? ' of another form' : 's'})`);
      }
      blocks.push({ name, ip: entry[1] ?? '', domain: entry[2] ?? '', start: open.line.start, end: line.end, addedNewline: open.addedNewline, eols: [open.line.eol, body.eol, line.eol] });
      seen.set(name, open.line.no);
      open = undefined;
    } else {
      throw malformed(where, line.no, `\`${line.bare.trim()}\` looks like a labctl marker but is not one labctl writes`);
    }
  }
  if (open) throw malformed(where, open.line.no, `\`${beginMarker(open.name)}\` has no matching \`${endMarker(open.name)}\``);
  return blocks;
}

/** The line end the file already uses, so that an added block looks like the rest of it. */
function fileEol(text: string): '\n' | '\r\n' {
  const nl = text.indexOf('\n');
  return nl > 0 && text[nl - 1] === '\r' ? '\r\n' : '\n';
}

/** Adds or replaces the lab's block; a new block goes at the end of the file. */
export function addBlock(text: string, entry: HostsEntry, where?: string): string {
  const existing = parseBlocks(text, where).find((b) => b.name === entry.name);
  if (existing) {
    return text.slice(0, existing.start) + renderWith(entry, existing.addedNewline, existing.eols) + text.slice(existing.end);
  }
  const eol = fileEol(text);
  if (text === '' || text.endsWith('\n')) return text + renderBlock(entry, false, eol);
  return text + eol + renderBlock(entry, true, eol);
}

export function removeBlock(text: string, name: string, where?: string): string {
  const span = parseBlocks(text, where).find((b) => b.name === name);
  if (!span) return text;
  let start = span.start;
  // The line break add put in goes again only while the block is still last: with lines after it,
  // taking the break away would join the line above to the user's next line.
  if (span.addedNewline && span.end === text.length && span.eols[0] !== '' && text.slice(0, start).endsWith(span.eols[0])) start -= span.eols[0].length;
  return text.slice(0, start) + text.slice(span.end);
}

export function hasBlock(text: string, name: string): boolean {
  return parseBlocks(text).some((b) => b.name === name);
}

/**
 * The entries of the well-formed labctl blocks, for readers (conflict check, `labctl check`): never
 * throws; in a malformed file it still finds each intact BEGIN / line / END triple.
 */
export function blockEntries(text: string): HostsEntry[] {
  try {
    return parseBlocks(text).map(({ name, ip, domain }) => ({ name, ip, domain }));
  } catch {
    const lines = splitLines(text).map((l) => l.bare.replace(/[ \t]+$/, ''));
    const out: HostsEntry[] = [];
    lines.forEach((line, i) => {
      const begin = BEGIN_RE.exec(line);
      const body = BODY_RE.exec(lines[i + 1] ?? '');
      if (begin && body && lines[i + 2] === endMarker(begin[1] ?? '')) out.push({ name: begin[1] ?? '', ip: body[1] ?? '', domain: body[2] ?? '' });
    });
    return out;
  }
}

/** True when labctl can edit the file in place: the real file and its directory (journal, lock). */
export async function canWrite(path: string): Promise<boolean> {
  try {
    const real = await realpath(path);
    await access(real, constants.W_OK);
    await access(dirname(real), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The writer. Replacing the file by rename (the usual atomic write) breaks real hosts files: a
// symlinked /etc/hosts (NixOS) becomes a plain file, hard links split, owner, group and xattrs
// (SELinux labels) are lost, and a bind-mounted /etc/hosts refuses with EBUSY. So the real file
// (symlinks resolved) is edited in place, which keeps its inode and so all of that. Crash safety
// comes from a redo journal instead: the complete new content is written to
// `.<name>.labctl-journal` beside the file and flushed before the file is touched, the file is
// then overwritten in place and flushed, and only then is the journal removed. Every operation
// starts, under the lock, by rolling a journal forward, so a writer killed at any moment leaves
// the old file, the new file, or a torn file with a complete journal, which the next operation
// finishes. A journal that fails its checksum was cut short before the file was touched, and is
// simply removed.

const JOURNAL_MAGIC = 'labctl-journal-v1';

export function journalPath(realFile: string): string {
  return join(dirname(realFile), `.${basename(realFile)}.labctl-journal`);
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Resolves symlinks and refuses what is not a file; ENOENT is left to the caller (add and remove differ). */
async function resolveHostsFile(path: string): Promise<string> {
  const real = await realpath(path);
  if ((await stat(real)).isDirectory()) throw new NotFoundError(`hosts file ${path} is a directory`, { hint: 'point LABCTL_HOSTS_FILE at a file' });
  return real;
}

async function syncDir(dir: string): Promise<void> {
  // Makes the journal's directory entry durable (power loss); some filesystems refuse to fsync a
  // directory, which only weakens the power-loss case, never the crash case.
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}

/** Length of the common prefix: bytes that need not be rewritten (an added block only writes the tail). */
function commonPrefix(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  const CHUNK = 65_536;
  let i = 0;
  while (i + CHUNK <= n && a.subarray(i, i + CHUNK).equals(b.subarray(i, i + CHUNK))) i += CHUNK;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

async function overwriteInPlace(file: string, content: Buffer, current: Buffer): Promise<void> {
  const from = commonPrefix(current, content);
  const handle = await open(file, 'r+');
  try {
    // A regular file takes a write whole; the loop only guards against a short write, and is
    // bounded because each round writes at least one byte or throws.
    for (let at = from; at < content.length; ) {
      const { bytesWritten } = await handle.write(content, at, content.length - at, at);
      if (bytesWritten <= 0) throw new Error(`short write to ${file}`);
      at += bytesWritten;
    }
    await handle.truncate(content.length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeJournaled(file: string, content: Buffer, current: Buffer): Promise<void> {
  const journal = journalPath(file);
  const handle = await open(journal, 'w', 0o600);
  try {
    await handle.writeFile(Buffer.concat([Buffer.from(`${JOURNAL_MAGIC} ${content.length} ${sha256(content)}\n`), content]));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await syncDir(dirname(file));
  await overwriteInPlace(file, content, current);
  await unlink(journal);
  await syncDir(dirname(file));
}

/** Finishes a write a killed labctl left half done. Call with the lock held. */
async function rollForward(file: string): Promise<boolean> {
  const journal = journalPath(file);
  let data: Buffer;
  try {
    data = await readFile(journal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const nl = data.indexOf(0x0a);
  const header = /^labctl-journal-v1 (\d+) ([0-9a-f]{64})$/.exec(data.subarray(0, Math.max(nl, 0)).toString('latin1'));
  const content = data.subarray(nl + 1);
  if (nl !== -1 && header && Number(header[1]) === content.length && header[2] === sha256(content)) {
    const current = await readFile(file);
    if (!current.equals(content)) await overwriteInPlace(file, content, current);
  }
  await unlink(journal);
  await syncDir(dirname(file));
  return true;
}

export interface HostsFileOptions {
  lock?: FileLockOptions;
}

/**
 * Read → edit → write under the file's lock, after finishing any interrupted write. `edit` gets
 * and returns the file as a latin1 string and may throw to refuse (domain conflict, malformed
 * block); returns whether the file changed.
 */
export async function editHostsFile(path: string, edit: (text: string) => string, opts: HostsFileOptions = {}): Promise<boolean> {
  const real = await resolveHostsFile(path);
  return withFileLock(
    real,
    async () => {
      await rollForward(real);
      const current = await readFile(real);
      const before = current.toString('latin1');
      const after = edit(before);
      if (after === before) return false;
      await writeJournaled(real, Buffer.from(after, 'latin1'), current);
      return true;
    },
    { what: path, ...opts.lock },
  );
}

/** Finishes an interrupted write, if any; returns whether there was one. */
export async function recoverHostsFile(path: string, opts: HostsFileOptions = {}): Promise<boolean> {
  const real = await resolveHostsFile(path);
  return withFileLock(real, () => rollForward(real), { what: path, ...opts.lock });
}

/** Adds the block; returns false when the file already held exactly this block. */
export async function addHostsEntry(path: string, entry: HostsEntry, opts: HostsFileOptions = {}): Promise<boolean> {
  return editHostsFile(path, (text) => addBlock(text, entry, path), opts);
}

/** Removes the block; returns false when there was none. */
export async function removeHostsEntry(path: string, name: string, opts: HostsFileOptions = {}): Promise<boolean> {
  return editHostsFile(path, (text) => removeBlock(text, name, path), opts);
}
