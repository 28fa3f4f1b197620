import { runDoctor, summaryLine, type Check } from '../adapters/host-probes.js';

export type { Check };

/** `labctl doctor`: every probe of this machine, and the one-line summary. */
export async function doctor(env: NodeJS.ProcessEnv = process.env): Promise<{ checks: Check[]; summary: string; failed: Check | undefined }> {
  const checks = await runDoctor(env);
  return { checks, summary: summaryLine(checks), failed: checks.find((c) => c.verdict === 'fail') };
}
