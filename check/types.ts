// `labctl check`: every rule of SUBJECT.md gets one or more checks with a stable id
// (`M05.tls11-refused`), a verdict and the evidence a grader would look at.

export type CheckVerdict = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable id: `<rule>.<what>`, e.g. `M04.no-latest`. */
  id: string;
  /** The SUBJECT.md rule id, e.g. `M04`. */
  rule: string;
  verdict: CheckVerdict;
  /** One line: why it passed, failed or was skipped. */
  reason: string;
  /** The command or file and the relevant line. */
  evidence?: string;
}

export interface CheckSummary {
  passed: number;
  failed: number;
  skipped: number;
}

export function summarize(results: readonly CheckResult[]): CheckSummary {
  return {
    passed: results.filter((r) => r.verdict === 'pass').length,
    failed: results.filter((r) => r.verdict === 'fail').length,
    skipped: results.filter((r) => r.verdict === 'skip').length,
  };
}

/** Small constructors so that each check reads as one line. */
export const pass = (id: string, reason: string, evidence?: string): CheckResult => result(id, 'pass', reason, evidence);
export const fail = (id: string, reason: string, evidence?: string): CheckResult => result(id, 'fail', reason, evidence);
export const skip = (id: string, reason: string, evidence?: string): CheckResult => result(id, 'skip', reason, evidence);

export function result(id: string, verdict: CheckVerdict, reason: string, evidence: string | undefined): CheckResult {
  return { id, rule: id.split('.')[0] ?? id, verdict, reason, ...(evidence === undefined ? {} : { evidence }) };
}
