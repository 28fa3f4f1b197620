import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { projectsCsv, projectsJson, projectsText } from '../../cli/check-report.js';
import { checkProjects } from '../../usecases/check.js';
import { packageRoot } from '../../core/paths.js';
import { join } from 'node:path';

// Issue 16, for teachers: `check --static DIR…` grades a class's hand-ins into one table, a CSV
// sheet or JSON. Real projects of this repository, read for real.

const COMPOSE = join(packageRoot(), 'compose');
const NO_EXEC = join(packageRoot(), 'test', 'fixtures', 'corpus', 'a02-no-exec');

describe('check --static on several projects', () => {
  it('prints each project failures first, then one row per project, then the totals; an unreadable one is its own row', async () => {
    const outcomes = await checkProjects([COMPOSE, NO_EXEC, '/nonexistent-labctl-project']);
    const text = projectsText(outcomes);
    const lines = text.split('\n');
    const firstFailure = lines.findIndex((l) => l.includes('M10.pid1-mariadb'));
    const tableTop = lines.findIndex((l) => l.startsWith('┌'));
    expect(firstFailure).toBeGreaterThan(-1);
    expect(firstFailure).toBeLessThan(tableTop);
    expect(text).toMatch(/mariadb_init\.sh ends with `"\$@"` without exec/);
    expect(lines.find((l) => l.includes(COMPOSE) && l.startsWith('│'))).toMatch(/│ 0 +│/);
    expect(text).toContain('/nonexistent-labctl-project: not graded');
    expect(lines.at(-1)).toBe('3 project(s): 1 without a failure, 1 with failures, 1 not graded');
  });

  it('writes a CSV row per project and check that a spreadsheet reads back, quotes and commas included', async () => {
    const outcomes = await checkProjects([COMPOSE, NO_EXEC]);
    const rows = parse(projectsCsv(outcomes), { columns: true }) as Record<string, string>[];
    const checks = outcomes.flatMap((o) => ('error' in o ? [] : o.results));
    expect(rows).toHaveLength(checks.length);
    expect(rows.find((r) => r.project === NO_EXEC && r.id === 'M10.pid1-mariadb')).toMatchObject({ rule: 'M10', verdict: 'fail', reason: expect.stringContaining('"$@"') });
    expect(JSON.parse(projectsJson(outcomes))).toHaveLength(2);
  });
});
