import { describe, expect, it } from 'vitest';
import { deploySummaryText } from '../../cli/commands/deploy.js';
import { validateMakeTarget } from '../../usecases/deploy.js';

const steps = [
  { title: 'Wait for SSH', status: 'ran' as const, ms: 212 },
  { title: 'Push the compose project', status: 'skipped' as const, reason: 'all 14 files are up to date', ms: 300 },
  { title: 'Build and start the stack (make)', status: 'ran' as const, ms: 12_345 },
];

describe('deploy summary', () => {
  it('names the changed files and each step with its time or its skip reason', () => {
    const text = deploySummaryText({ steps, totalMs: 13_000, pushed: { uploaded: ['srcs/a.conf'], removed: ['srcs/old.sh'] }, project: '/home/jdoe/inception', commit: '0123456789abcdef0123' });
    const [head, ...lines] = text.split('\n');
    expect(head).toBe('Deployed /home/jdoe/inception @ 0123456789ab in 13.0 s: 1 pushed (srcs/a.conf), 1 removed (srcs/old.sh).');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^ {2}Push the compose project +skipped \(all 14 files are up to date\)$/);
    expect(lines[2]).toMatch(/make\) +12\.3 s$/);
  });

  it('says so when nothing changed, and shortens a long file list', () => {
    expect(deploySummaryText({ steps, totalMs: 900, pushed: { uploaded: [], removed: [] }, project: 'compose/ (built in)' })).toMatch(/^Deployed compose\/ \(built in\) in 0\.9 s: no file changed\./);
    const many = Array.from({ length: 8 }, (_, i) => `f${i}`);
    expect(deploySummaryText({ steps, totalMs: 1, pushed: { uploaded: many, removed: [] }, project: 'p' })).toContain('8 pushed (f0, f1, f2, f3, f4 and 3 more)');
  });

  it('accepts make goal names and refuses anything a shell would read', () => {
    for (const ok of ['all', 're', 'bonus', 'up-dev', 'v1.2']) expect(validateMakeTarget(ok)).toBe(ok);
    for (const bad of ['', '-k', 'a b', 'all;x', '$(id)', '../x']) expect(() => validateMakeTarget(bad), bad).toThrow(/--target/);
  });
});
