import type { ArgumentsCamelCase, Argv } from 'yargs';
import { CheckFailedError } from '../../core/errors.js';
import type { CommandHandlers, GlobalArgs } from '../options.js';
import { note, print } from '../output.js';

type Args = GlobalArgs & { json: boolean };

const MARK = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;

export const command: CommandHandlers<Args> = {
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
      .example('$0 doctor', 'one line per check, with the fix, then one summary line') as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { doctor } = await import('../../usecases/doctor.js');
    const { checks, summary, failed } = await doctor();
    if (args.json) print(JSON.stringify(checks, null, 2));
    else for (const c of checks) print(`${MARK[c.verdict]}  ${c.id.padEnd(13)} ${c.summary}${c.fix ? `\n${' '.repeat(20)}fix: ${c.fix}` : ''}`);
    // With a failure the summary is the error's message, so it is still the one last line (on
    // stderr, like every error); --json keeps stdout for the JSON alone.
    if (failed) throw new CheckFailedError(summary, { hint: failed.fix ?? 'see the fix under each FAIL line' });
    if (args.json) note(summary);
    else print(summary);
  },
};
