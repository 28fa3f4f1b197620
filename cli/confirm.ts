import { createInterface } from 'node:readline/promises';
import { AbortedError, UsageError } from '../core/errors.js';

/** Asks the user to type `expected`; refuses outright when nobody can answer. */
export async function confirmByTyping(question: string, expected: string, yesFlag: string): Promise<void> {
  if (!process.stdin.isTTY) {
    throw new UsageError(`${question} needs confirmation, and stdin is not a terminal`, { hint: `pass ${yesFlag} to confirm` });
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} Type "${expected}" to confirm: `)).trim();
    if (answer !== expected) throw new AbortedError('not confirmed; nothing was changed');
  } finally {
    rl.close();
  }
}
