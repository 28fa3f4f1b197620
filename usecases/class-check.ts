import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { loadClass } from '../core/class-file.js';
import { evidenceHtml, gradeSheet, gradeSheetCsv, gradeSheetHtml, type CheckLine, type GradeSheet, type StudentGrade } from '../core/class-grades.js';
import { readLab } from '../core/state.js';
import { childError, perKeyPool, runLabctl } from './class-run.js';

// `labctl class check FILE`: every student's lab graded by `labctl check <login> --json` (the same
// grader a student runs), at most CHECKS_PER_HOST at a time per host, into one grade sheet: CSV,
// JSON, and a one-page HTML report whose cells link to each student's evidence page.

const CHECK_TIMEOUT_MS = 20 * 60_000;
const CHECKS_PER_HOST = 2;

export interface ClassCheckReport {
  sheet: GradeSheet;
  /** Where the files were written: grades.csv, grades.json, grades.html, evidence/<login>.html. */
  outDir: string;
  files: string[];
}

export async function checkClass(file: string, opts: { outDir?: string | undefined; onLine?: (line: string) => void }, env: NodeJS.ProcessEnv = process.env): Promise<ClassCheckReport> {
  const spec = await loadClass(file);
  const outDir = resolve(opts.outDir ?? join(dirname(spec.file), `${spec.name}-grades`));
  const students = await Promise.all(spec.roster.map(async (s) => ({ login: s.login, lab: await readLab(s.login, env).catch(() => undefined) })));
  const grades = await perKeyPool(
    students,
    (s) => s.lab?.config.libvirt_uri ?? 'local',
    () => CHECKS_PER_HOST,
    async ({ login, lab }): Promise<StudentGrade> => {
      const host = spec.hosts.find((h) => h.uri === lab?.config.libvirt_uri)?.name;
      if (lab === undefined) return { login, host, results: undefined, error: 'no lab (class create has not made it)' };
      opts.onLine?.(`checking ${login}…`);
      const r = await runLabctl(['check', login, '--json'], { env, timeoutMs: CHECK_TIMEOUT_MS });
      const results = parseCheckJson(r.stdout);
      // check exits 1 when a rule fails: the sheet says which; anything else is "could not grade".
      if (results === undefined) return { login, host, results: undefined, error: childError(r) };
      return { login, host, results };
    },
  );
  const sheet = gradeSheet(spec.name, grades);
  await mkdir(join(outDir, 'evidence'), { recursive: true });
  const files: [string, string][] = [
    ['grades.csv', gradeSheetCsv(sheet)],
    ['grades.json', `${JSON.stringify({ class: spec.name, rules: sheet.rules, students: grades }, null, 2)}\n`],
    ['grades.html', gradeSheetHtml(sheet, (login, rule) => `evidence/${encodeURIComponent(login)}.html#${encodeURIComponent(rule)}`)],
    ...grades.map((g): [string, string] => [join('evidence', `${g.login}.html`), evidenceHtml(spec.name, g)]),
  ];
  for (const [name, text] of files) await writeFile(join(outDir, name), text);
  return { sheet, outDir, files: files.map(([name]) => join(outDir, name)) };
}

function parseCheckJson(stdout: string): CheckLine[] | undefined {
  try {
    const data = JSON.parse(stdout) as { results?: unknown };
    if (!Array.isArray(data.results)) return undefined;
    return data.results.filter((r): r is CheckLine => typeof r === 'object' && r !== null && typeof (r as CheckLine).id === 'string' && typeof (r as CheckLine).rule === 'string');
  } catch {
    return undefined;
  }
}
