import Table from 'cli-table3';
import type { ClassCheckReport } from '../usecases/class-check.js';
import type { ClassCreateReport } from '../usecases/class-create.js';
import type { ClassDestroyReport } from '../usecases/class-destroy.js';
import type { StudentStatus } from '../usecases/class-status.js';

// What `labctl class create|status|check|destroy` print: one row per student.

const STYLE = { head: [] as string[], border: [] as string[] };

export function createSummaryText(report: ClassCreateReport): string {
  const table = new Table({ head: ['student', 'host', 'IP', 'outcome', 'time', 'why'], style: STYLE, wordWrap: true, colWidths: [null, null, null, null, null, 60] as unknown as number[] });
  for (const s of report.students) {
    table.push([s.login, s.host ?? '—', s.ip ?? '—', s.outcome, s.seconds === undefined ? '—' : `${Math.round(s.seconds)} s`, s.error ?? '']);
  }
  const ready = report.students.filter((s) => s.outcome !== 'failed' && s.outcome !== 'unplaced').length;
  return `${table.toString()}\nClass ${report.className}: ${ready} of ${report.students.length} lab(s) ready, in ${Math.round(report.seconds)} s.`;
}

export function statusText(result: { className: string; students: StudentStatus[] }): string {
  const table = new Table({ head: ['student', 'host', 'IP', 'state', 'reset point', 'URL'], style: STYLE });
  for (const s of result.students) table.push([s.login, s.host ?? '—', s.ip ?? '—', s.state, s.resetPoint ? 'yes' : 'no', s.url ?? '']);
  return `Class ${result.className}\n${table.toString()}`;
}

export function gradesText(report: ClassCheckReport): string {
  const table = new Table({ head: ['student', 'host', 'passed', 'failed', 'skipped', 'failed rules'], style: STYLE, wordWrap: true, colWidths: [null, null, null, null, null, 50] as unknown as number[] });
  for (const r of report.sheet.rows) {
    const failed = r.error ?? report.sheet.rules.filter((rule) => r.cells[rule] === 'fail').join(' ');
    table.push([r.login, r.host ?? '—', r.passed, r.failed, r.skipped, failed]);
  }
  return `${table.toString()}\nGrade sheet: ${report.outDir}/grades.csv, grades.json, grades.html (evidence/ per student)`;
}

export function destroyText(report: ClassDestroyReport): string {
  const lines = [`Class ${report.className}: destroyed ${report.destroyed.length} lab(s)${report.destroyed.length > 0 ? ` (${report.destroyed.join(', ')})` : ''}.`];
  if (report.absent.length > 0) lines.push(`No lab: ${report.absent.join(', ')}.`);
  if (report.leftovers.length > 0) lines.push('Left behind:', ...report.leftovers.map((l) => `  ${l}`));
  else lines.push('Nothing left on the hosts.');
  return lines.join('\n');
}
