import { barChartSvg, type BarSection } from './svg.js';
import { FIGURES, goalText, type BenchFile, type CreateRecord, type Figure } from './figures.js';

// docs/benchmarks.md and docs/benchmarks.svg rendered from docs/benchmarks.json. Pure. The
// sections this bench writes are replaced; every other section of the document (other benches'
// figures: `check --static`, Start-up) is kept as it is, in its place after ours.

export const OWN_HEADINGS = ['## Goals', '## Stages of each create', '## Image builds in the guest', '## Plain vagrant'] as const;
export const SVG_NAME = 'benchmarks.svg';

function num(n: number | undefined, unit: string): string {
  if (n === undefined) return '—';
  return unit === 'ms' ? `${n.toFixed(0)} ${unit}` : `${n.toFixed(1)} ${unit}`;
}

function day(iso: string): string {
  return iso.slice(0, 10);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function ratioText(f: Figure): string {
  if (f.ratio === undefined) return '—';
  // A speed-up goal reads better the way the issue states it.
  if (f.goal.kind !== 'speedupAtLeast') return `${f.ratio.toFixed(2)}×`;
  // "0.3× faster" would hide that labctl is the slower one.
  return f.ratio <= 1 ? `${(1 / f.ratio).toFixed(1)}× faster` : `${f.ratio.toFixed(1)}× slower`;
}

export function metText(f: Figure): string {
  return f.met === undefined ? '?' : f.met ? '✓' : '✗';
}

function baselineText(f: Figure): string {
  const b = f.baseline;
  if (b === undefined) return '—';
  return `${b.label}: ${num(b.value, b.unit)}${b.measured === undefined ? '' : ` (${day(b.measured)})`}`;
}

export function goalsTable(file: BenchFile): string[] {
  return [
    '| figure | value | baseline | ratio | goal | met | measured | note |',
    '|---|---:|---|---:|---|:-:|---|---|',
    ...file.figures.map((f) => `| ${cell(f.label)} | ${num(f.value, f.unit)} | ${cell(baselineText(f))} | ${ratioText(f)} | ${f.goal.text} | ${metText(f)} | ${day(f.measured)} | ${cell(f.note)} |`),
  ];
}

/**
 * The goals no run has measured yet, so that the document names every goal the bench holds: the
 * label, the goal, its baseline when a run measures one, and the command that measures it.
 */
export function notMeasuredYet(file: BenchFile): string[] {
  return FIGURES.filter((def) => !file.figures.some((f) => f.id === def.id)).map((def) => {
    const measured = def.baseline !== undefined && 'measured' in def.baseline ? def.baseline.measured : undefined;
    const against = measured === undefined ? '' : def.goal.kind === 'speedupAtLeast' ? ` than ${measured}` : `, ${measured}`;
    return `${def.label}, goal ${goalText(def)}${against} (\`npm run bench -- --only ${def.group}\`)`;
  });
}

/** Stage rows of every create side by side; `vagrant up`'s phases sit under its row. */
function stagesTable(creates: readonly CreateRecord[]): string[] {
  const names: string[] = [];
  const values = creates.map((c) => {
    const m = new Map<string, string>();
    for (const s of c.stages) {
      if (!names.includes(s.name)) names.push(s.name);
      m.set(s.name, s.seconds === undefined ? s.note || '—' : `${s.seconds.toFixed(1)}${s.note === '' ? '' : ` (${s.note})`}`);
      if (s.name === 'vagrant up') {
        for (const p of c.vagrantUp) {
          const key = `  vagrant up: ${p.phase}`;
          if (!names.includes(key)) names.push(key);
          m.set(key, p.seconds.toFixed(1));
        }
      }
    }
    return m;
  });
  return [
    `| stage (s) | ${creates.map((c) => `${c.id} (${day(c.measured)})`).join(' | ')} |`,
    `|---|${creates.map(() => '---:').join('|')}|`,
    ...names.map((n) => `| ${n.startsWith('  ') ? `&nbsp;&nbsp;${cell(n.trim())}` : cell(n)} | ${values.map((m) => m.get(n) ?? '').join(' | ')} |`),
  ];
}

function imagesTable(creates: readonly CreateRecord[]): string[] {
  const keys: Array<{ image: string; step: string | undefined }> = [];
  const values = creates.map((c) => {
    const m = new Map<string, string>();
    for (const img of c.images) {
      if (!keys.some((k) => k.image === img.image && k.step === undefined)) keys.push({ image: img.image, step: undefined });
      m.set(`${img.image}\n`, `**${img.seconds.toFixed(1)}**${img.wallSeconds === undefined ? '' : ` (wall ${img.wallSeconds.toFixed(1)})`}`);
      for (const s of img.steps) {
        if (!keys.some((k) => k.image === img.image && k.step === s.label)) keys.push({ image: img.image, step: s.label });
        m.set(`${img.image}\n${s.label}`, s.state === 'done' ? (s.seconds ?? 0).toFixed(1) : s.state === 'cached' ? 'cached' : `${s.state}${s.seconds === undefined ? '' : ` ${s.seconds.toFixed(1)}`}`);
      }
    }
    return m;
  });
  // Steps listed under their image's total row.
  const ordered = keys.filter((k) => k.step === undefined).flatMap((img) => [img, ...keys.filter((k) => k.image === img.image && k.step !== undefined)]);
  return [
    `| image / step (s) | ${creates.map((c) => `${c.id} (${day(c.measured)})`).join(' | ')} |`,
    `|---|${creates.map(() => '---:').join('|')}|`,
    ...ordered.map((k) => `| ${k.step === undefined ? `**${cell(k.image)}** (sum of steps)` : `&nbsp;&nbsp;${cell(k.step)}`} | ${values.map((m) => m.get(`${k.image}\n${k.step ?? ''}`) ?? '').join(' | ')} |`),
  ];
}

/** Our part of docs/benchmarks.md: title, last run, goals, stages + chart, image builds, plain vagrant. */
export function renderOwnSections(file: BenchFile): string {
  const last = file.runs.at(-1);
  const lines = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` from docs/benchmarks.json (the figures with the date and run',
    '     of each); edit the baselines there. The sections after "Plain vagrant" are other benches\'. -->',
    '',
    last === undefined ? 'No run recorded yet.' : `Last run: \`${last.command}\` on ${day(last.date)} (groups: ${last.groups.join(', ')}), ${last.host}. A figure not measured by that run keeps the date of the run that did.`,
    '',
    '## Goals (issues 17 and 18)',
    '',
    ...goalsTable(file),
    '',
  ];
  const unmeasured = notMeasuredYet(file);
  if (unmeasured.length > 0) lines.push(`Not measured yet: ${unmeasured.join('; ')}.`, '');
  const notes = file.creates.filter((c) => c.note !== '');
  if (file.creates.length > 0) {
    lines.push('## Stages of each create', '', `Seconds of each step of \`labctl create\` (from the lab's labctl.log), and of \`vagrant up\`'s phases (from the times of vagrant-libvirt's progress lines).`, '');
    lines.push(...stagesTable(file.creates), '');
    lines.push(`![create stages and image builds](${SVG_NAME})`, '');
    for (const c of notes) lines.push(`- ${c.id}: ${c.note}`);
    if (notes.length > 0) lines.push('');
    lines.push('## Image builds in the guest (BuildKit)', '', "Each image's total is the sum of its steps' DONE times (parallel steps overlap, so the sum can exceed the wall time); from the lab's make.log, BuildKit's plain progress.", '');
    lines.push(...imagesTable(file.creates), '');
  }
  if (file.stages !== undefined) {
    lines.push('## Plain vagrant', '', `Measured ${day(file.stages.measured)} (run ${file.stages.run}): the box and vagrant alone, without labctl.`, '');
    lines.push('| stage | seconds | note |', '|---|---:|---|', ...file.stages.rows.map((r) => `| ${cell(r.name)} | ${r.seconds === undefined ? '—' : r.seconds.toFixed(1)} | ${cell(r.note)} |`), '');
  }
  return lines.join('\n');
}

/** The whole document: our sections, then the sections of the previous document that are not ours. */
export function renderDocument(file: BenchFile, previous: string): string {
  const kept = previous
    .split(/\n(?=## )/)
    .slice(1)
    .filter((section) => !OWN_HEADINGS.some((h) => section.startsWith(h)));
  const own = renderOwnSections(file).trimEnd();
  return `${[own, ...kept.map((s) => s.trimEnd())].join('\n\n')}\n`;
}

export function renderSvg(file: BenchFile): string {
  const sections: BarSection[] = [];
  for (const c of file.creates) {
    sections.push({ title: `${c.id}: stages of labctl create (${day(c.measured)})`, bars: c.stages.map((s) => ({ label: s.name, value: s.seconds })) });
    if (c.vagrantUp.length > 0) sections.push({ title: `${c.id}: vagrant up phases`, bars: c.vagrantUp.map((p) => ({ label: p.phase, value: p.seconds })) });
    if (c.images.length > 0) sections.push({ title: `${c.id}: image builds (sum of BuildKit steps)`, bars: c.images.map((i) => ({ label: i.image, value: i.seconds })) });
  }
  return barChartSvg('labctl benchmarks: where create spends its time', sections, 's');
}

/** The goals table for the terminal, at the end of a run. */
export function goalsForTerminal(file: BenchFile): string {
  const rows = file.figures.map((f) => [f.label.replace(/`/g, ''), num(f.value, f.unit), baselineText(f).replace(/`/g, ''), ratioText(f), f.goal.text, metText(f), day(f.measured)]);
  const head = ['figure', 'value', 'baseline', 'ratio', 'goal', 'met', 'measured'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
