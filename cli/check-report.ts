import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';
import type { CheckResult, CheckSummary, ProjectOutcome } from '../usecases/check.js';

// How check's results are printed: one project as a list (failures first, summary last), many
// projects as one table (a row each), and both as CSV or JSON for a teacher's spreadsheet.

const MARK = { pass: '✔', fail: '✘', skip: '–' } as const;

export function resultsText(results: readonly CheckResult[], summary: CheckSummary): string {
  const lines: string[] = [];
  // Failures first, so that what needs fixing is on screen without scrolling; the summary last.
  const failures = results.filter((r) => r.verdict === 'fail');
  if (failures.length > 0) {
    lines.push('Failed:');
    for (const r of failures) lines.push(`  ${MARK.fail} ${r.id.padEnd(28)} ${r.reason}${r.evidence ? `\n      ${r.evidence}` : ''}`);
    lines.push('');
  }
  let rule = '';
  for (const r of results.filter((x) => x.verdict !== 'fail')) {
    if (r.rule !== rule) {
      rule = r.rule;
      lines.push(rule);
    }
    lines.push(`  ${MARK[r.verdict]} ${r.id.padEnd(28)} ${r.reason}`);
  }
  lines.push(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  return lines.join('\n');
}

const MAX_IDS_IN_CELL = 6;

/** Many projects: each one's failures (id, reason, where), then a table of all, then the totals. */
export function projectsText(outcomes: readonly ProjectOutcome[]): string {
  const lines: string[] = [];
  for (const o of outcomes) {
    if ('error' in o) {
      lines.push(`${o.dir}: not graded: ${o.error}${o.hint ? `\n  fix: ${o.hint}` : ''}`, '');
      continue;
    }
    const failures = o.results.filter((r) => r.verdict === 'fail');
    if (failures.length === 0) continue;
    lines.push(`${o.dir}:`);
    for (const r of failures) lines.push(`  ${MARK.fail} ${r.id.padEnd(28)} ${r.reason}${r.evidence ? `\n      ${r.evidence}` : ''}`);
    lines.push('');
  }
  const table = new Table({ head: ['project', 'passed', 'failed', 'skipped', 'failed rules'], style: { head: [], border: [] }, wordWrap: true, colWidths: [null, null, null, null, 60] as unknown as number[] });
  for (const o of outcomes) {
    if ('error' in o) table.push([o.dir, '—', '—', '—', `not graded: ${o.error}`]);
    else {
      const failed = [...new Set(o.results.filter((r) => r.verdict === 'fail').map((r) => r.id))];
      const ids = failed.length > MAX_IDS_IN_CELL ? `${failed.slice(0, MAX_IDS_IN_CELL).join(', ')} and ${failed.length - MAX_IDS_IN_CELL} more` : failed.join(', ');
      table.push([o.dir, String(o.summary.passed), String(o.summary.failed), String(o.summary.skipped), ids || '—']);
    }
  }
  lines.push(table.toString());
  const graded = outcomes.filter((o) => !('error' in o));
  const clean = graded.filter((o) => !('error' in o) && o.summary.failed === 0).length;
  lines.push(`${outcomes.length} project(s): ${clean} without a failure, ${graded.length - clean} with failures, ${outcomes.length - graded.length} not graded`);
  return lines.join('\n');
}

/** One row per (project, check): what a spreadsheet sorts and filters. */
export function projectsCsv(outcomes: readonly ProjectOutcome[]): string {
  const rows: string[][] = [['project', 'rule', 'id', 'verdict', 'reason', 'evidence']];
  for (const o of outcomes) {
    if ('error' in o) rows.push([o.dir, '', '', 'error', o.error, o.hint ?? '']);
    else for (const r of o.results) rows.push([o.dir, r.rule, r.id, r.verdict, r.reason, r.evidence ?? '']);
  }
  return stringify(rows);
}

export function projectsJson(outcomes: readonly ProjectOutcome[]): string {
  return JSON.stringify(
    outcomes.map((o) => ('error' in o ? { project: o.dir, error: o.error, hint: o.hint } : { project: o.dir, summary: o.summary, results: o.results })),
    null,
    2,
  );
}
