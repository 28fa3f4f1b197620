import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CheckFailedError } from '../../core/errors.js';
import type { CommandHandlers, GlobalArgs } from '../options.js';
import { print } from '../output.js';
import { classCheck, classCreate, classDestroy, classReset, classStatus, withClassFile } from '../class-lifecycle.js';

// `labctl class <action> FILE`: a whole class's labs from one class file (YAML: hosts, settings,
// roster; docs/teachers.md "Class mode"). Each action is a sub-command whose handler calls one use case.

type FileArgs = GlobalArgs & { file: string };
type PlanArgs = FileArgs & { json: boolean };
type HostsFileArgs = FileArgs & { login?: string };

const plan: CommandModule<GlobalArgs, PlanArgs> = {
  command: 'plan <file>',
  describe: "Show which student's lab goes on which host, at which IP; each host's labs, RAM and disk against what it reports",
  builder: (y: Argv<GlobalArgs>) =>
    withClassFile(y)
      .option('json', { type: 'boolean', default: false, describe: 'print the plan as JSON' })
      .example('$0 class plan class.yaml', 'asks every host for its RAM, CPUs and free disk, then prints the plan')
      .example('$0 class plan class.yaml --json', 'the same, for a script')
      .epilogue('Exit 0 when the plan can be carried out; 1 when a student has no place, a host could not be asked or would run out of RAM or disk (the plan is printed all the same); 3 when the class file or the roster is invalid.') as Argv<PlanArgs>,
  handler: async (args: ArgumentsCamelCase<PlanArgs>) => {
    const [{ planClassFile }, { planProblems, planText }] = await Promise.all([import('../../usecases/class-plan.js'), import('../class-report.js')]);
    const { plan: result } = await planClassFile(args.file);
    print(args.json ? JSON.stringify(result, null, 2) : planText(result));
    const problems = planProblems(result);
    if (problems.length > 0) {
      throw new CheckFailedError(`the plan cannot be carried out as it is: ${problems.join('; ')}`, { hint: 'the lines above say what to change in the class file, or on which host' });
    }
  },
};

const hostsFile: CommandModule<GlobalArgs, HostsFileArgs> = {
  command: 'hosts-file <file>',
  describe: 'Print the hosts-file lines (<ip> <login>.42.fr) that take students to their labs; contacts no host',
  builder: (y: Argv<GlobalArgs>) =>
    withClassFile(y)
      .option('login', { type: 'string', describe: "only this student's line" })
      .example('$0 class hosts-file class.yaml > class-hosts.txt', 'every student, to append to the classroom machines\' /etc/hosts')
      .example('$0 class hosts-file class.yaml --login jdoe', "one student's line, to hand to them")
      .epilogue('Addresses come from the labs that exist and the capacities in the class file; a host without a capacity is asked nothing here, so give it one (or run after class create).') as Argv<HostsFileArgs>,
  handler: async (args: ArgumentsCamelCase<HostsFileArgs>) => {
    const { classHostsFile } = await import('../../usecases/class-hosts-file.js');
    const out = await classHostsFile(args.file, { login: args.login });
    const lines = [out.header, ...out.labs.map((l) => `${l.ip} ${l.domain}`)];
    if (out.unplaced.length > 0) lines.push(`# not placed (no capacity or address left): ${out.unplaced.join(' ')}`);
    print(lines.join('\n'));
    if (out.unplaced.length > 0) {
      throw new CheckFailedError(`${out.unplaced.length} student(s) have no address: ${out.unplaced.join(', ')}`, { hint: 'raise a host\'s capacity, add a host, or widen its addresses (labctl class plan FILE shows the plan)' });
    }
  },
};

export const command: CommandHandlers<GlobalArgs> = {
  builder: (y: Argv<GlobalArgs>) =>
    y
      .command(plan)
      .command(classCreate)
      .command(classStatus)
      .command(classCheck)
      .command(classReset)
      .command(classDestroy)
      .command(hostsFile)
      .demandCommand(1, 'say what to do: plan, create, status, check, reset, destroy or hosts-file'),
  handler: () => {},
};
