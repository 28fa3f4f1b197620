import { resolve } from 'node:path';
import { execa } from 'execa';

// Runs the built binary the way a user does: `npm test` builds dist/ before the integration suite.
export const CLI = resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export async function labctl(args: string[], opts: { env?: Record<string, string>; cwd?: string; input?: string } = {}): Promise<CliResult> {
  const started = Date.now();
  const r = await execa(process.execPath, [CLI, ...args], {
    reject: false,
    cwd: opts.cwd ?? process.cwd(),
    env: { LABCTL_LOGIN: '', LABCTL_PROVIDER: '', ...opts.env },
    extendEnv: true,
    ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }),
    timeout: 60_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), ms: Date.now() - started };
}
