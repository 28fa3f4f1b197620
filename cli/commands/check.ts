import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CheckFailedError } from '../../core/errors.js';
import { withLabName, type GlobalArgs } from '../options.js';
import { print } from '../output.js';

type Args = GlobalArgs & { name?: string; static?: string; json: boolean; destructive: boolean };

const MARK = { pass: '✔', fail: '✘', skip: '–' } as const;

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'check [name]',
  describe: 'Grade a lab against every Inception rule (live), or a compose project from its files (--static DIR)',
  builder: (y: Argv<GlobalArgs>) =>
    withLabName(y)
      .option('static', { type: 'string', describe: 'check a compose project directory without a VM' })
      .option('destructive', { type: 'boolean', default: false, describe: 'also kill -9 each container and reboot the VM (M09, M13)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the full result as JSON' })
      .example('$0 check --static compose', 'labctl\'s own project, read from files')
      .example('$0 check --static ~/inception --json', 'a student\'s project, for a dashboard')
      .example('$0 check', 'the running lab, from the host and over SSH') as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { checkLab, checkProject } = await import('../../usecases/check.js');
    const { results, summary } = args.static !== undefined ? await checkProject(args.static) : await checkLab(args.name, { destructive: args.destructive });
    if (args.json) {
      print(JSON.stringify({ summary, results }, null, 2));
    } else {
      // Failures first, so that what needs fixing is on screen without scrolling; the summary last.
      const failures = results.filter((r) => r.verdict === 'fail');
      if (failures.length > 0) {
        print('Failed:');
        for (const r of failures) print(`  ${MARK.fail} ${r.id.padEnd(28)} ${r.reason}${r.evidence ? `\n      ${r.evidence}` : ''}`);
        print('');
      }
      let rule = '';
      for (const r of results.filter((x) => x.verdict !== 'fail')) {
        if (r.rule !== rule) {
          rule = r.rule;
          print(rule);
        }
        print(`  ${MARK[r.verdict]} ${r.id.padEnd(28)} ${r.reason}`);
      }
      print(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
    }
    if (summary.failed > 0) throw new CheckFailedError(`${summary.failed} check(s) failed`, { hint: 'each ✘ line says what to fix' });
  },
};
