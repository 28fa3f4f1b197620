import type { ArgumentsCamelCase, Argv } from 'yargs';
import { CheckFailedError, UsageError } from '../../core/errors.js';
import { withLabName, type CommandHandlers, type GlobalArgs } from '../options.js';
import { print } from '../output.js';

type Args = GlobalArgs & { name?: string; static?: string[]; json: boolean; csv: boolean; destructive: boolean };

export const command: CommandHandlers<Args> = {
  builder: (y: Argv<GlobalArgs>) =>
    withLabName(y)
      .option('static', { type: 'string', array: true, describe: 'grade project folders from their files, without a VM (several: one table)' })
      .option('destructive', { type: 'boolean', default: false, describe: 'also kill -9 each container and reboot the VM (M09, M13)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the full result as JSON' })
      .option('csv', { type: 'boolean', default: false, describe: 'with --static: one CSV row per project and check, for a spreadsheet' })
      .example('$0 check --static compose', "labctl's own project, read from files")
      .example('$0 check --static ~/inception --json', "a student's project, for a dashboard")
      .example('$0 check --static class/*/ --csv > grades.csv', "a class's hand-ins: a table on screen, or a sheet")
      .example('$0 check', 'the running lab, from the host and over SSH') as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    // The report's table and CSV libraries load only for a check, not for every labctl start.
    const [{ checkLab, checkProject, checkProjects }, { projectsCsv, projectsJson, projectsText, resultsText }] = await Promise.all([
      import('../../usecases/check.js'),
      import('../check-report.js'),
    ]);
    const dirs = args.static;
    if (args.csv && args.json) throw new UsageError('--json and --csv: choose one', { hint: '--json for scripts, --csv for a spreadsheet' });
    if (args.csv && dirs === undefined) throw new UsageError('--csv goes with --static DIR…', { hint: 'e.g. labctl check --static ~/inception --csv; a live check prints --json' });
    if (dirs !== undefined && (dirs.length > 1 || args.csv)) {
      const outcomes = await checkProjects(dirs);
      print(args.json ? projectsJson(outcomes) : args.csv ? projectsCsv(outcomes) : projectsText(outcomes));
      const failing = outcomes.filter((o) => 'error' in o || o.summary.failed > 0).length;
      if (failing > 0) throw new CheckFailedError(`${failing} of ${outcomes.length} project(s) failed a check or could not be graded`, { hint: 'each ✘ line names the rule, the file and what to fix' });
      return;
    }
    const { results, summary } = dirs !== undefined ? await checkProject(dirs[0] ?? '') : await checkLab(args.name, { destructive: args.destructive });
    print(args.json ? JSON.stringify({ summary, results }, null, 2) : resultsText(results, summary));
    if (summary.failed > 0) throw new CheckFailedError(`${summary.failed} check(s) failed`, { hint: 'each ✘ line says what to fix' });
  },
};
