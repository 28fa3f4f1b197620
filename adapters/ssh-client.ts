import { spawn } from 'node:child_process';
import { ExternalCommandError, NotFoundError } from '../core/errors.js';

// `labctl ssh`'s one program, started without adapters/run.ts: execa takes ~150 ms to load, a third
// of what the whole command may cost (issue 17: 6× faster than `vagrant ssh`). Same contract as
// run()'s `interactive`: argv array, no shell, the terminal handed over, the exit code returned.

/** Runs ssh on this terminal and answers its exit code (a signal counts as 128 + its number, as in a shell). */
export function sshOnTerminal(argv: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', argv, { stdio: 'inherit' });
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') reject(new NotFoundError('`ssh` is not installed or not on PATH', { hint: 'install the OpenSSH client (Debian: apt-get install openssh-client)' }));
      else reject(new ExternalCommandError(['ssh', ...argv], undefined, error.message, { cause: error }));
    });
    child.once('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };
  return (signal && numbers[signal]) ?? 1;
}
