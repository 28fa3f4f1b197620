import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { LabctlError } from '../../lib/errors.js';
import type { GlobalArgs } from '../options.js';
import { print } from '../output.js';

type Args = GlobalArgs & { json: boolean };

const MARK = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'doctor',
  describe: 'Check this machine: Node, Vagrant, VirtualBox or libvirt, accelerator, IP range, disk, RAM, hosts file',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
      .example('$0 doctor', 'one line per check, with the fix') as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { runDoctor } = await import('../../lib/doctor.js');
    const checks = await runDoctor();
    if (args.json) print(JSON.stringify(checks, null, 2));
    else for (const c of checks) print(`${MARK[c.verdict]}  ${c.id.padEnd(13)} ${c.summary}${c.fix ? `\n${' '.repeat(20)}fix: ${c.fix}` : ''}`);
    const failed = checks.filter((c) => c.verdict === 'fail');
    if (failed.length > 0) throw new LabctlError(`${failed.length} check(s) failed: ${failed.map((c) => c.id).join(', ')}`, { hint: 'see the fix under each failed line' });
  },
};
