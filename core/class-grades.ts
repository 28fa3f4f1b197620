import { stringify } from 'csv-stringify/sync';

// The class's grade sheet (issue 18): a row per student, a column per SUBJECT.md rule id, built
// from each lab's `labctl check --json`. A rule's cell is the worst of its checks (fail > pass >
// skip); a student whose lab could not be graded has a reason instead of cells. Pure: the use case
// writes what these return.

export type RuleVerdict = 'pass' | 'fail' | 'skip';

export interface CheckLine {
  id: string;
  rule: string;
  verdict: RuleVerdict;
  reason: string;
  evidence?: string;
}

export interface StudentGrade {
  login: string;
  host: string | undefined;
  /** The lab's checks; undefined when it could not be graded (`error` says why). */
  results: CheckLine[] | undefined;
  error?: string;
}

export interface GradeSheet {
  className: string;
  /** Every rule id seen, in SUBJECT.md order (L…, M…, B…, then the rest, each numerically). */
  rules: string[];
  rows: { login: string; host: string | undefined; passed: number; failed: number; skipped: number; cells: Record<string, RuleVerdict>; error?: string }[];
}

export function gradeSheet(className: string, grades: readonly StudentGrade[]): GradeSheet {
  const rules = [...new Set(grades.flatMap((g) => (g.results ?? []).map((r) => r.rule)))].sort(ruleOrder);
  const rows = grades.map((g) => {
    const cells: Record<string, RuleVerdict> = {};
    for (const r of g.results ?? []) cells[r.rule] = worst(cells[r.rule], r.verdict);
    const count = (v: RuleVerdict) => (g.results ?? []).filter((r) => r.verdict === v).length;
    return { login: g.login, host: g.host, passed: count('pass'), failed: count('fail'), skipped: count('skip'), cells, ...(g.error === undefined ? {} : { error: g.error }) };
  });
  return { className, rules, rows };
}

function worst(a: RuleVerdict | undefined, b: RuleVerdict): RuleVerdict {
  const rank = { fail: 2, pass: 1, skip: 0 } as const;
  return a === undefined || rank[b] > rank[a] ? b : a;
}

function ruleOrder(a: string, b: string): number {
  const key = (id: string) => {
    const m = /^([A-Z]+)(\d+)$/.exec(id);
    const family = m?.[1] ?? id;
    return [['L', 'M', 'B'].indexOf(family) === -1 ? 9 : ['L', 'M', 'B'].indexOf(family), family, Number(m?.[2] ?? 0)] as const;
  };
  const [fa, na, xa] = key(a);
  const [fb, nb, xb] = key(b);
  return fa - fb || na.localeCompare(nb) || xa - xb;
}

export function gradeSheetCsv(sheet: GradeSheet): string {
  const header = ['login', 'host', 'passed', 'failed', 'skipped', ...sheet.rules, 'error'];
  const rows = sheet.rows.map((r) => [r.login, r.host ?? '', r.passed, r.failed, r.skipped, ...sheet.rules.map((rule) => r.cells[rule] ?? ''), r.error ?? '']);
  return stringify([header, ...rows]);
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The one-page report: a row per student, a column per rule, each cell linking to that student's evidence for the rule. */
export function gradeSheetHtml(sheet: GradeSheet, evidenceHref: (login: string, rule: string) => string): string {
  const head = ['student', 'host', '✔', '✘', ...sheet.rules].map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = sheet.rows
    .map((r) => {
      const cells =
        r.error !== undefined
          ? `<td class="error" colspan="${sheet.rules.length}">${escapeHtml(r.error)}</td>`
          : sheet.rules
              .map((rule) => {
                const v = r.cells[rule];
                return v === undefined ? '<td></td>' : `<td class="${v}"><a href="${escapeHtml(evidenceHref(r.login, rule))}">${v === 'pass' ? '✔' : v === 'fail' ? '✘' : '–'}</a></td>`;
              })
              .join('');
      return `<tr><th>${escapeHtml(r.login)}</th><td>${escapeHtml(r.host ?? '')}</td><td>${r.passed}</td><td>${r.failed}</td>${cells}</tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Class ${escapeHtml(sheet.className)}: grade sheet</title>
<style>
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: center; }
td.pass { background: #d9f2d9; } td.fail { background: #f8d0d0; } td.skip { background: #eee; } td.error { background: #f8d0d0; text-align: left; }
a { color: inherit; text-decoration: none; }
</style></head><body>
<h1>Class ${escapeHtml(sheet.className)}: grade sheet</h1>
<p>A row per student, a column per rule of SUBJECT.md; each cell links to the checks behind it (✔ all passed, ✘ one failed, – skipped).</p>
<table><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table></body></html>
`;
}

/** One student's evidence page: each rule an anchor, each check its verdict, reason and evidence. */
export function evidenceHtml(className: string, grade: StudentGrade): string {
  const byRule = new Map<string, CheckLine[]>();
  for (const r of grade.results ?? []) byRule.set(r.rule, [...(byRule.get(r.rule) ?? []), r]);
  const sections = [...byRule.keys()]
    .sort(ruleOrder)
    .map((rule) => {
      const items = (byRule.get(rule) ?? [])
        .map((r) => `<li class="${r.verdict}"><b>${escapeHtml(r.id)}</b> ${r.verdict}: ${escapeHtml(r.reason)}${r.evidence === undefined ? '' : `<pre>${escapeHtml(r.evidence)}</pre>`}</li>`)
        .join('\n');
      return `<h2 id="${escapeHtml(rule)}">${escapeHtml(rule)}</h2>\n<ul>\n${items}\n</ul>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(grade.login)} (class ${escapeHtml(className)}): evidence</title>
<style>body { font-family: sans-serif; margin: 1.5em; } li.fail { color: #a00; } li.skip { color: #666; } pre { white-space: pre-wrap; background: #f4f4f4; padding: 0.3em; }</style>
</head><body>
<h1>${escapeHtml(grade.login)}: evidence (class ${escapeHtml(className)})</h1>
${grade.error === undefined ? '' : `<p>Not graded: ${escapeHtml(grade.error)}</p>`}
${sections}
</body></html>
`;
}
