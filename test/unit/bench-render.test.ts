import { describe, expect, it } from 'vitest';
import { FIGURES, FIRST_LAB_GROUPS, GROUPS, HARNESS_GROUPS, emptyBenchFile, goalMet, median, mergeRun, parseBenchFile, parseGroups, toFigure, type BenchFile, type RunInfo } from '../bench/figures.js';
import { goalsForTerminal, notMeasuredYet, renderDocument, renderSvg } from '../bench/render.js';
import { escapeXml } from '../bench/svg.js';

// The bench's figures model, and docs/benchmarks.md + .svg rendered from a fixture figures file.

const RUN: RunInfo = { id: 'run-2', date: '2026-12-05T10:00:00.000Z', command: 'npm run bench -- --only create,ssh', host: '2 × test CPU, Node v20', groups: ['create', 'ssh'] };
const OLD_RUN: RunInfo = { id: 'run-1', date: '2026-12-03T09:00:00.000Z', command: 'npm run bench', host: '2 × test CPU, Node v20', groups: ['memory'] };

function fixture(): BenchFile {
  const file = emptyBenchFile();
  file.baselines = {
    create: { label: 'previous measurement', value: 1500, unit: 's', measured: '2026-12-02', source: 'test' },
    memory: { label: 'before issue 17', value: 157, unit: 'MiB', source: 'test' },
  };
  file.runs = [OLD_RUN];
  file.figures = [toFigure({ id: 'memory', value: 180.5, note: 'nginx 5.0, wordpress 100.5, mariadb 75.0' }, file, OLD_RUN)];
  return file;
}

function measured(): BenchFile {
  const file = fixture();
  const figures = [
    toFigure({ id: 'create', value: 650.2, note: 'first lab of the run' }, file, RUN),
    toFigure({ id: 'ssh', value: 0.4, note: 'medians', baseline: { value: 2.8 } }, file, RUN),
    toFigure({ id: 'deploy-nothing', value: undefined, note: 'FAILED' }, file, RUN),
  ];
  const creates = [
    {
      id: 'create',
      measured: RUN.date,
      run: RUN.id,
      stages: [
        { name: 'labctl create (total)', seconds: 650.2, note: '' },
        { name: 'vagrant up', seconds: 110.2, note: '' },
        { name: 'Build and start the stack (make) <&>', seconds: 400, note: '' },
        { name: 'hosts entry', seconds: 0, note: 'skipped' },
      ],
      vagrantUp: [{ phase: 'boot, wait for SSH', seconds: 45 }],
      images: [{ image: 'nginx', seconds: 46.7, wallSeconds: 50, steps: [{ label: '2/4 RUN apt-get install -y nginx | tee', seconds: 45.3, state: 'done' as const }, { label: '3/4 COPY conf', seconds: 0, state: 'cached' as const }] }],
      note: '',
    },
  ];
  return mergeRun(file, RUN, figures, creates, { measured: RUN.date, run: RUN.id, rows: [{ name: 'box build', seconds: 3.2, note: 'reused from cache' }] });
}

/** Enough of XML's well-formedness for a generated file: one root, tags nested and closed, attributes quoted, entities known. */
function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  let roots = 0;
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '');
  const token = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(?:lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);)/g;
  for (const m of body.matchAll(token)) {
    if (m[2] === undefined) throw new Error(`stray ${m[0]} at ${m.index}: ${body.slice(m.index, m.index + 40)}`);
    const names = [...(m[3] ?? '').matchAll(/([\w:.-]+)=/g)].map((a) => a[1]);
    if (new Set(names).size !== names.length) throw new Error(`an attribute repeated in ${m[0]}`);
    if (m[1] === '/') {
      if (stack.pop() !== m[2]) throw new Error(`</${m[2]}> closes nothing open at ${m.index}`);
    } else if (m[4] !== '/') {
      if (stack.length === 0) roots += 1;
      stack.push(m[2]);
    } else if (stack.length === 0) roots += 1;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
}

describe('figures', () => {
  it('judges each kind of goal, and knows when it cannot', () => {
    expect(goalMet('atMost', 600, 650, undefined)).toBe(false);
    expect(goalMet('ratioAtMost', 0.6, 300, 600)).toBe(true);
    expect(goalMet('speedupAtLeast', 6, 0.4, 2.8)).toBe(true);
    expect(goalMet('speedupAtLeast', 6, 0.5, 2.8)).toBe(false);
    expect(goalMet('ratioAtMost', 2, 100, undefined)).toBeUndefined();
    expect(goalMet('atMost', 5, undefined, undefined)).toBeUndefined();
  });

  it('attaches the kept baseline, the ratio and the verdict', () => {
    const file = measured();
    const create = file.figures.find((f) => f.id === 'create');
    expect(create).toMatchObject({ value: 650.2, baseline: { value: 1500, measured: '2026-12-02' }, met: false, run: 'run-2', goal: { text: '≤ 600 s' } });
    expect(create?.ratio).toBeCloseTo(0.4335, 3);
    const ssh = file.figures.find((f) => f.id === 'ssh');
    expect(ssh).toMatchObject({ met: true, baseline: { value: 2.8, source: 'measured in run run-2' }, goal: { text: '≥ 6× faster' } });
  });

  it('keeps figures of groups the run did not measure, with their own date and run', () => {
    const file = measured();
    expect(file.figures.map((f) => f.id)).toEqual(['create', 'deploy-nothing', 'ssh', 'memory']);
    expect(file.figures.find((f) => f.id === 'memory')).toMatchObject({ measured: OLD_RUN.date, run: 'run-1', value: 180.5 });
    expect(file.runs.map((r) => r.id)).toEqual(['run-1', 'run-2']);
    // What the bench writes, it can read back.
    expect(parseBenchFile(JSON.stringify(file))).toEqual(JSON.parse(JSON.stringify(file)));
  });

  it('selects groups with --only / --skip and refuses unknown ones', () => {
    expect([...parseGroups(['--only', 'ssh,startup'])]).toEqual(['ssh', 'startup']);
    expect([...parseGroups(['--only=startup'])]).toEqual(['startup']);
    expect(parseGroups(['--skip', 'bonus,baked']).has('bonus')).toBe(false);
    expect(parseGroups([]).size).toBe(GROUPS.length);
    expect([...parseGroups(['--only', 'class'])]).toEqual(['class']);
    expect([...parseGroups(['--no-labctl'])]).toEqual(['vagrant']);
    expect(() => parseGroups(['--only', 'sshh'])).toThrow(/unknown bench group/);
  });

  it('keeps the class group out of the harness and out of the mandatory lab it creates', () => {
    expect(GROUPS).toContain('class');
    expect(HARNESS_GROUPS).not.toContain('class');
    expect(HARNESS_GROUPS).not.toContain('startup');
    expect(FIRST_LAB_GROUPS).not.toContain('class');
    expect(FIGURES.find((f) => f.id === 'class')).toMatchObject({ group: 'class', goal: { kind: 'speedupAtLeast', value: 1.5 }, baseline: { measured: '3 sequential `labctl create` on one host' } });
  });

  it('judges class create against the three creates one after the other, measured in the same run', () => {
    const met = toFigure({ id: 'class', value: 1300, note: '', baseline: { value: 2100 } }, emptyBenchFile(), RUN);
    expect(met).toMatchObject({ met: true, baseline: { label: '3 sequential `labctl create` on one host', value: 2100, source: 'measured in run run-2' }, goal: { text: '≥ 1.5× faster' } });
    expect(toFigure({ id: 'class', value: 1500, note: '', baseline: { value: 2100 } }, emptyBenchFile(), RUN).met).toBe(false);
    // A failed baseline leaves no verdict rather than a wrong one.
    expect(toFigure({ id: 'class', value: 1300, note: '', baseline: { value: undefined } }, emptyBenchFile(), RUN).met).toBeUndefined();
  });

  it('every figure has a goal text, and medians are medians', () => {
    for (const def of FIGURES) expect(toFigure({ id: def.id, value: 1, note: '' }, emptyBenchFile(), RUN).goal.text).not.toBe('');
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeUndefined();
  });
});

describe('rendering', () => {
  const previous = '# Benchmarks\n\nold intro\n\n| stage | seconds | note |\n\n## `check --static` on hostile projects (`npm run bench:static`)\n\nkept A\n\n## Goals (issue 17)\n\nold goals\n\n## Start-up (`npm run bench:startup`)\n\nkept B\n';

  it('writes every figure into the goals table, then the stages, images and plain vagrant tables', () => {
    const md = renderDocument(measured(), previous);
    for (const f of measured().figures) expect(md).toContain(`| ${f.label} |`);
    expect(md).toContain('| 650.2 s | previous measurement: 1500.0 s (2026-12-02) | 0.43× | ≤ 600 s | ✗ | 2026-12-05 |');
    expect(md).toContain('| 0.4 s | `vagrant ssh -c true`: 2.8 s (2026-12-05) | 7.0× faster | ≥ 6× faster | ✓ |');
    expect(md).toContain('| 180.5 MiB | before issue 17: 157.0 MiB | 1.15× | ≤ 400 MiB | ✓ | 2026-12-03 |');
    expect(md).toContain('| — | — | — | ≤ 5 s | ? |');
    expect(md).toContain('| &nbsp;&nbsp;vagrant up: boot, wait for SSH | 45.0 |');
    expect(md).toContain('| **nginx** (sum of steps) | **46.7** (wall 50.0) |');
    expect(md).toContain('| &nbsp;&nbsp;2/4 RUN apt-get install -y nginx \\| tee | 45.3 |');
    expect(md).toContain('| box build | 3.2 | reused from cache |');
    expect(md).toContain('![create stages and image builds](benchmarks.svg)');
  });

  it('names the goals no run has measured yet, with the command that measures each', () => {
    const file = measured();
    const missing = notMeasuredYet(file);
    expect(missing).toHaveLength(FIGURES.length - file.figures.length);
    expect(missing).toContain('`class create`: 3 labs on 2 hosts (capacities 2 and 1), goal ≥ 1.5× faster than 3 sequential `labctl create` on one host (`npm run bench -- --only class`)');
    expect(missing).toContain("a second lab on the same host (warm host caches), goal ≤ 60 % of the baseline, the first lab's create (`npm run bench -- --only second`)");
    expect(renderDocument(file, '')).toContain(`\nNot measured yet: ${missing.join('; ')}.\n`);
    const all = mergeRun(file, RUN, FIGURES.map((def) => toFigure({ id: def.id, value: 1, note: '' }, file, RUN)), [], undefined);
    expect(renderDocument(all, '')).not.toContain('Not measured yet');
  });

  it("keeps the other benches' sections as they are and drops its own old ones", () => {
    const md = renderDocument(measured(), previous);
    expect(md).toContain('## `check --static` on hostile projects (`npm run bench:static`)\n\nkept A\n');
    expect(md).toContain('## Start-up (`npm run bench:startup`)\n\nkept B\n');
    expect(md).not.toContain('old goals');
    expect(md).not.toContain('old intro');
    expect(md.match(/^# Benchmarks$/gm)).toHaveLength(1);
    // Rendering twice from its own output changes nothing.
    expect(renderDocument(measured(), md)).toBe(md);
  });

  it('draws a well-formed SVG with a viewBox, a bar per stage and per image, labels escaped', () => {
    const svg = renderSvg(measured());
    assertWellFormedXml(svg);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 900 \d+"/);
    expect(svg).toContain('Build and start the stack (make) &lt;&amp;&gt;');
    expect(svg).toContain('>nginx</text>');
    expect(svg).toContain('>46.7 s</text>');
    expect(svg.match(/<rect /g)).toHaveLength(1 + 4 + 1 + 1);
    expect(() => assertWellFormedXml('<svg><text>a & b</text></svg>')).toThrow();
    expect(() => assertWellFormedXml('<svg><g></svg>')).toThrow();
    expect(() => assertWellFormedXml('<svg a="1" a="2"></svg>')).toThrow();
    expect(escapeXml(`"'`)).toBe('&quot;&apos;');
  });

  it('prints the goals table for the terminal', () => {
    const text = goalsForTerminal(measured());
    expect(text.split('\n')).toHaveLength(1 + 4);
    expect(text).toMatch(/^create mandatory, plain box, cold host caches\s+650\.2 s/m);
  });
});
