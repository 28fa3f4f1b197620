// A small hand-written SVG horizontal bar chart (no chart library: a few rects and texts). The
// labels are escaped, the drawing has a viewBox so it scales in the markdown viewer.

export interface Bar {
  label: string;
  /** Undefined: not measured (drawn as a dash). */
  value: number | undefined;
}

export interface BarSection {
  title: string;
  bars: Bar[];
}

const WIDTH = 900;
const LABEL_W = 380;
const VALUE_W = 80;
const BAR_H = 16;
const GAP = 6;
const TITLE_H = 28;
const FONT = 'font-family="sans-serif" font-size="12"';

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** Sections stacked vertically; each has its own scale (stage seconds and image seconds differ a lot). */
export function barChartSvg(title: string, sections: readonly BarSection[], unit: string): string {
  const out: string[] = [];
  let y = 30;
  out.push(`<text x="10" y="20" font-family="sans-serif" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  for (const section of sections) {
    y += TITLE_H;
    out.push(`<text x="10" y="${y - 8}" ${FONT} font-weight="bold">${escapeXml(section.title)}</text>`);
    const max = Math.max(0, ...section.bars.map((b) => b.value ?? 0));
    const span = WIDTH - LABEL_W - VALUE_W - 20;
    for (const bar of section.bars) {
      const w = max > 0 && bar.value !== undefined ? Math.max(1, (bar.value / max) * span) : 0;
      const mid = y + BAR_H / 2 + 4;
      out.push(`<text x="${LABEL_W - 6}" y="${mid}" ${FONT} text-anchor="end">${escapeXml(bar.label)}</text>`);
      out.push(`<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="#4a7ebb"/>`);
      out.push(`<text x="${(LABEL_W + w + 6).toFixed(1)}" y="${mid}" ${FONT}>${bar.value === undefined ? '—' : `${bar.value.toFixed(1)} ${escapeXml(unit)}`}</text>`);
      y += BAR_H + GAP;
    }
  }
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}">`,
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
