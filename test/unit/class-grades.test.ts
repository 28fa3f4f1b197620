import { describe, expect, it } from 'vitest';
import { evidenceHtml, gradeSheet, gradeSheetCsv, gradeSheetHtml, type StudentGrade } from '../../core/class-grades.js';

const grades: StudentGrade[] = [
  {
    login: 'alice',
    host: 'host-1',
    results: [
      { id: 'M05.tls12', rule: 'M05', verdict: 'pass', reason: 'TLS 1.2 answered' },
      { id: 'M05.tls11-refused', rule: 'M05', verdict: 'fail', reason: 'TLS 1.1 answered', evidence: 'openssl s_client -tls1_1 → CONNECTED' },
      { id: 'M10.volumes', rule: 'M10', verdict: 'pass', reason: 'two named volumes' },
      { id: 'B01.redis', rule: 'B01', verdict: 'skip', reason: 'no bonus' },
      { id: 'L02.hosts', rule: 'L02', verdict: 'pass', reason: 'alice.42.fr → 10.0.0.5' },
    ],
  },
  { login: 'bob', host: 'host-2', results: undefined, error: 'host host-2 (qemu+ssh://root@h2/system) cannot be reached: <refused>' },
];

describe('class grade sheet', () => {
  it('has a column per rule in subject order and the worst verdict per cell', () => {
    const sheet = gradeSheet('c1', grades);
    expect(sheet.rules).toEqual(['L02', 'M05', 'M10', 'B01']);
    expect(sheet.rows[0]?.cells).toEqual({ L02: 'pass', M05: 'fail', M10: 'pass', B01: 'skip' });
    expect(sheet.rows[0]).toMatchObject({ passed: 3, failed: 1, skipped: 1 });
    expect(sheet.rows[1]?.error).toMatch(/cannot be reached/);
  });

  it('writes CSV with a header, quoting what needs it', () => {
    const csv = gradeSheetCsv(gradeSheet('c1', grades)).trim().split('\n');
    expect(csv[0]).toBe('login,host,passed,failed,skipped,L02,M05,M10,B01,error');
    expect(csv[1]).toBe('alice,host-1,3,1,1,pass,fail,pass,skip,');
    expect(csv[2]).toBe('bob,host-2,0,0,0,,,,,host host-2 (qemu+ssh://root@h2/system) cannot be reached: <refused>');
  });

  it('links each HTML cell to the evidence and escapes what it shows', () => {
    const html = gradeSheetHtml(gradeSheet('c<1>', grades), (login, rule) => `evidence/${login}.html#${rule}`);
    expect(html).toContain('<a href="evidence/alice.html#M05">✘</a>');
    expect(html).toContain('Class c&#60;1&#62;');
    expect(html).toContain('&#60;refused&#62;');
    expect(html).not.toContain('<refused>');
    const evidence = evidenceHtml('c1', grades[0] as StudentGrade);
    expect(evidence).toContain('<h2 id="M05">M05</h2>');
    expect(evidence).toContain('openssl s_client -tls1_1 → CONNECTED');
  });
});
