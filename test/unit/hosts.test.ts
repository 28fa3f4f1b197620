import { readFile, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addBlock, addHostsEntry, blockEntries, hasBlock, removeBlock, removeHostsEntry } from '../../lib/hosts.js';
import { tempDir } from '../helpers/temp.js';

const entry = { name: 'inception', ip: '192.168.56.10', domain: 'jdoe.42.fr' };
const originals = {
  typical: '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n',
  empty: '',
  noTrailingNewline: '127.0.0.1 localhost',
  crlf: '127.0.0.1 localhost\r\n10.0.0.1 router\r\n',
  blankLinesAtEnd: '127.0.0.1 localhost\n\n\n',
  commentsAndTabs: '# managed by someone\n127.0.0.1\tlocalhost # me\n\t\n',
};

describe('hosts block', () => {
  it.each(Object.entries(originals))('add then remove restores %s byte for byte', (_name, text) => {
    const added = addBlock(text, entry);
    expect(added).toMatch(/(^|\n)# BEGIN labctl inception( \(labctl added the line break above\))?\n192\.168\.56\.10 jdoe\.42\.fr\n# END labctl inception\n$/);
    expect(hasBlock(added, 'inception')).toBe(true);
    expect(addBlock(added, entry)).toBe(added);
    expect(removeBlock(added, 'inception')).toBe(text);
  });

  it('keeps other labs\' blocks and replaces only its own', () => {
    const two = addBlock(addBlock(originals.typical, entry), { name: 'lab2', ip: '192.168.56.11', domain: 'other.42.fr' });
    const moved = addBlock(two, { ...entry, ip: '192.168.56.20' });
    expect(blockEntries(moved)).toEqual([
      { name: 'inception', ip: '192.168.56.20', domain: 'jdoe.42.fr' },
      { name: 'lab2', ip: '192.168.56.11', domain: 'other.42.fr' },
    ]);
    expect(removeBlock(removeBlock(moved, 'lab2'), 'inception')).toBe(originals.typical);
  });

  it('does not match a marker of another lab whose name is a prefix', () => {
    const text = addBlock(originals.typical, { ...entry, name: 'inception2' });
    expect(hasBlock(text, 'inception')).toBe(false);
    expect(removeBlock(text, 'inception')).toBe(text);
  });

  it('leaves an unterminated block alone rather than deleting to the end of the file', () => {
    const text = `${originals.typical}# BEGIN labctl inception\n1.2.3.4 x.42.fr\n127.0.0.2 keep.me\n`;
    expect(removeBlock(text, 'inception')).toBe(text);
  });

  it('remembers a newline it had to add, across a re-add', () => {
    const once = addBlock(originals.noTrailingNewline, entry);
    const twice = addBlock(once, { ...entry, ip: '192.168.56.77' });
    expect(removeBlock(twice, 'inception')).toBe(originals.noTrailingNewline);
  });
});

describe('hosts file on disk', () => {
  it('add twice, then remove restores the file and leaves no temp file', async () => {
    const dir = await tempDir('labctl-hosts-');
    const path = join(dir, 'hosts');
    await writeFile(path, originals.commentsAndTabs, { mode: 0o644 });
    expect(await addHostsEntry(path, entry)).toBe(true);
    expect(await addHostsEntry(path, entry)).toBe(false);
    expect(await removeHostsEntry(path, 'inception')).toBe(true);
    expect(await removeHostsEntry(path, 'inception')).toBe(false);
    expect(await readFile(path, 'utf8')).toBe(originals.commentsAndTabs);
    expect(await readdir(dir)).toEqual(['hosts']);
  });
});
