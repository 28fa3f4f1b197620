// The top-level `labctl --help`, laid out without loading yargs. yargs and its layout libraries
// (cliui, wrap-ansi, string-width with its Unicode tables) take longer to load than Node takes to
// start, and issue 17 wants `--help` within 2× `node -e 0`. So this file redoes, for the one
// screen it prints, what yargs' usage.js does with cliui 9 and wrap-ansi 9: same columns, same
// word wrap, same right-aligned hints, same merging of a short line into the one above.
// test/unit/help.test.ts holds it byte-equal to yargs' own help at every width yargs can be given
// here (1 to 110 columns); a yargs upgrade that changes the layout fails that test first.
// Plain text only: a character counts one column, which holds for the table in cli/program.ts
// (ASCII, arrows, ellipsis; no ANSI colours, no wide or zero-width characters).

export interface HelpCommand {
  command: string;
  describe: string;
  aliases: readonly string[];
}

export interface HelpOption {
  key: string;
  aliases: readonly string[];
  describe: string;
  type: 'boolean';
}

export interface HelpScreen {
  scriptName: string;
  usage: string;
  commands: readonly HelpCommand[];
  options: readonly HelpOption[];
  epilogue: string;
}

interface Column {
  text: string;
  width?: number;
  padding: [number, number, number, number];
  align?: 'right';
  indentation?: number;
}

type Row = Column[] & { span?: boolean };

interface Line {
  text: string;
  span?: boolean;
  hidden?: boolean;
}

const width = (s: string): number => [...s].length;
const spaces = (n: number): string => ' '.repeat(n);

export function renderHelp(screen: HelpScreen, wrap: number): string {
  const rows: Row[] = [];
  const div = (...cols: Column[]): Row => {
    const row: Row = cols;
    rows.push(row);
    return row;
  };
  // cliui's div() with no argument: one empty line, which a preceding span absorbs.
  const blank = (): void => {
    div({ text: '', padding: [0, 0, 0, 0] });
  };
  const span = (...cols: Column[]): void => {
    div(...cols).span = true;
  };
  const half = Math.floor(wrap * 0.5);

  div({ text: screen.usage.replace(/\$0/g, screen.scriptName), padding: [0, 0, 0, 0] });
  blank();

  div({ text: 'Commands:', padding: [0, 0, 0, 0] });
  const commandWidth = Math.min(Math.max(...screen.commands.map((c) => width(`${screen.scriptName} ${c.command}`))), half) + 4;
  for (const c of screen.commands) {
    span({ text: `${screen.scriptName} ${c.command}`, padding: [0, 2, 0, 2], width: commandWidth }, { text: c.describe, padding: [0, 0, 0, 0] });
    if (c.aliases.length > 0) div({ text: `[aliases: ${c.aliases.join(', ')}]`, padding: [0, 0, 0, 2], align: 'right' });
    else blank();
  }
  blank();

  // Long-only switches are indented by '-x, ' when any option has a short one, as yargs does.
  const switches = screen.options.map((o) => [o.key, ...o.aliases].map((s) => (s.length > 1 ? `--${s}` : `-${s}`)).sort((a, b) => Number(a.startsWith('--')) - Number(b.startsWith('--'))).join(', '));
  const anyShort = switches.some((s) => !s.startsWith('--'));
  const indentOf = (s: string): number => (anyShort && s.startsWith('--') ? 4 : 0);
  const switchWidth = Math.min(Math.max(...switches.map((s) => width(s) + indentOf(s))), half) + 4;
  div({ text: 'Options:', padding: [0, 0, 0, 0] });
  screen.options.forEach((o, i) => {
    const s = switches[i] ?? '';
    span({ text: s, padding: [0, 2, 0, 2 + indentOf(s)], width: switchWidth }, { text: o.describe, padding: [0, 0, 0, 0] });
    div({ text: `[${o.type}]`, padding: [0, 0, 0, 2], align: 'right' });
  });
  blank();

  // An epilogue with newlines goes through cliui's layout DSL: one row per line, trimmed.
  for (const line of `${screen.epilogue}\n`.split('\n')) div({ text: line.trim(), padding: [0, 0, 0, 0] });

  const lines: Line[] = [];
  for (const row of rows) rowToLines(row, wrap, lines);
  return lines
    .filter((l) => !l.hidden)
    .map((l) => l.text)
    .join('\n')
    .replace(/\s*$/, '');
}

// cliui's columnWidths: fixed widths first, the rest shared by the columns without one.
function columnWidths(row: Row, wrap: number): number[] {
  const fixed = row.filter((c) => c.width !== undefined);
  const remaining = wrap - fixed.reduce((sum, c) => sum + (c.width ?? 0), 0);
  const unset = row.length - fixed.length;
  const share = unset ? Math.floor(remaining / unset) : 0;
  return row.map((c) => c.width ?? Math.max(share, 1 + c.padding[1] + c.padding[3]));
}

const inner = (c: Column, w: number): number => w - c.padding[3] - c.padding[1];

function rowToLines(row: Row, wrap: number, lines: Line[]): void {
  const widths = columnWidths(row, wrap);
  const raster: string[][] = [];
  row.forEach((col, c) => {
    wrapText(col.text, inner(col, widths[c] ?? 0)).split('\n').forEach((str, r) => {
      const rr = (raster[r] ??= []);
      while (rr.length < c) rr.push('');
      rr.push(str);
    });
  });
  raster.forEach((rr, r) => {
    let str = '';
    rr.forEach((text, c) => {
      const col = row[c] as Column;
      const colWidth = widths[c] ?? 0;
      const innerWidth = inner(col, colWidth);
      let ts = text;
      if (innerWidth > width(text)) ts += spaces(innerWidth - width(text));
      if (col.align === 'right') {
        const t = ts.trim();
        ts = width(t) < innerWidth ? spaces(innerWidth - width(t)) + t : t;
        if (width(ts) < innerWidth) ts += spaces(colWidth - width(ts) - 1);
      }
      str += spaces(col.padding[3]) + ts + spaces(col.padding[1]);
      const previous = lines[lines.length - 1];
      if (r === 0 && previous) str = renderInline(str, previous);
    });
    lines.push({ text: str.replace(/ +$/, ''), ...(row.span ? { span: true } : {}) });
  });
}

// A line that starts with more blanks than the spanned line above is long goes up into it.
function renderInline(source: string, previous: Line): string {
  const leading = /^ */.exec(source)?.[0].length ?? 0;
  const target = previous.text.trimEnd();
  if (!previous.span || leading < width(target)) return source;
  previous.hidden = true;
  return target + spaces(leading - width(target)) + source.trimStart();
}

// wrap-ansi with { hard: true }: word wrap at spaces, words longer than a line cut.
function wrapText(text: string, columns: number): string {
  return text
    .normalize()
    .replaceAll('\r\n', '\n')
    .split('\n')
    .map((line) => wrapLine(line, columns))
    .join('\n');
}

function wrapLine(line: string, columns: number): string {
  if (line.trim() === '') return '';
  const words = line.split(' ');
  const rows = [''];
  const last = (): string => rows[rows.length - 1] ?? '';
  const setLast = (s: string): void => {
    rows[rows.length - 1] = s;
  };
  words.forEach((word, index) => {
    setLast(last().trimStart());
    let rowLength = width(last());
    if (index !== 0 && rowLength > 0) {
      setLast(`${last()} `);
      rowLength++;
    }
    const length = width(word);
    if (length > columns) {
      const remaining = columns - rowLength;
      const breaksStartingThisLine = 1 + Math.floor((length - remaining - 1) / columns);
      const breaksStartingNextLine = Math.floor((length - 1) / columns);
      if (breaksStartingNextLine < breaksStartingThisLine) rows.push('');
      wrapWord(rows, word, columns);
      return;
    }
    if (rowLength + length > columns && rowLength > 0 && length > 0) rows.push('');
    setLast(last() + word);
  });
  return rows.map(trimSpacesEnd).join('\n');
}

function wrapWord(rows: string[], word: string, columns: number): void {
  const characters = [...word];
  let visible = width(rows[rows.length - 1] ?? '');
  characters.forEach((character, index) => {
    if (visible + 1 <= columns) rows[rows.length - 1] += character;
    else {
      rows.push(character);
      visible = 0;
    }
    visible += 1;
    if (visible === columns && index < characters.length - 1) {
      rows.push('');
      visible = 0;
    }
  });
  if (!visible && (rows[rows.length - 1] ?? '').length > 0 && rows.length > 1) rows[rows.length - 2] += rows.pop() ?? '';
}

function trimSpacesEnd(row: string): string {
  const words = row.split(' ');
  let last = words.length;
  while (last > 0 && width(words[last - 1] ?? '') === 0) last--;
  return last === words.length ? row : words.slice(0, last).join(' ') + words.slice(last).join('');
}
