import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../core/paths.js';
import { splitSections, type Section } from '../../core/layers-parse.js';

// The recorded outputs of `labctl layers`' host and guest scripts (test/fixtures/layers/) are kept
// readable: "### <section> | <exit status> [stderr line]" then the output. wireOf() turns them
// back into what the scripts print (record and unit separators), so the tests read them through
// the same splitSections as labctl does.

export const LAYERS_FIXTURES = join(packageRoot(), 'test', 'fixtures', 'layers');

export async function layersFixture(name: string): Promise<string> {
  return readFile(join(LAYERS_FIXTURES, name), 'utf8');
}

export function wireOf(fixture: string): string {
  const out: string[] = [];
  let open: { name: string; trailer: string; lines: string[] } | undefined;
  const close = () => {
    if (open === undefined) return;
    // The probe prints the output, then a newline of its own before the trailer.
    const output = open.lines.length === 0 ? '' : `${open.lines.join('\n')}\n`;
    out.push(`\x1e${open.name}\n${output}\n\x1f${open.trailer}\n`);
  };
  for (const line of fixture.split('\n')) {
    const header = /^### (.+?) \| (\d+)(?: (.*))?$/.exec(line);
    if (header) {
      close();
      open = { name: header[1] ?? '', trailer: `${header[2] ?? ''} ${header[3] ?? ''}`, lines: [] };
    } else if (open !== undefined) open.lines.push(line);
  }
  if (open !== undefined) {
    // The file's final newline is not a line of the last section.
    if (open.lines.at(-1) === '') open.lines.pop();
    close();
  }
  return out.join('');
}

export async function fixtureSections(name: string): Promise<Map<string, Section>> {
  return splitSections(wireOf(await layersFixture(name)));
}
