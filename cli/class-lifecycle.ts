import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CheckFailedError, UsageError } from '../core/errors.js';
import { interruptSignal } from '../core/interrupt.js';
import type { GlobalArgs } from './options.js';
import { note, print, rendererFor } from './output.js';

// `labctl class create|status|check|reset|destroy FILE`: a class's labs through their life. Each
// handler calls one use case; tables and sheets are laid out in cli/class-results.ts.

type FileArgs = GlobalArgs & { file: string };

/** Every `labctl class` sub-command's first positional: the class file. */
export function withClassFile<T>(y: Argv<T>): Argv<T & { file: string }> {
  return y.positional('file', { type: 'string', demandOption: true, describe: 'the class file (YAML: name, roster, settings, hosts)' }) as Argv<T & { file: string }>;
}

type CreateArgs = FileArgs & { parallel?: number };
export const classCreate: CommandModule<GlobalArgs, CreateArgs> = {
  command: 'create <file>',
  describe: "Create every student's lab on the host the plan gives it, N at a time per host; a re-run resumes what is not done",
  builder: (y: Argv<GlobalArgs>) =>
    withClassFile(y)
      .option('parallel', { type: 'number', describe: 'labs created at once on each host [default: the host\'s capacity in the plan]' })
      .example('$0 class create class.yaml', 'every student of the roster; one progress line each, then a summary table')
      .example('$0 class create class.yaml --parallel 1', 'one lab at a time per host (a slow host, or to watch one closely)')
      .epilogue(
        "Each lab is an ordinary labctl lab named after the student's login (`labctl ssh <login>`, `labctl logs <login>` work). One student's failure never stops the others; run the same command again to retry only what failed. When a lab is ready, libvirt snapshots it (labctl-created) for `labctl class reset`. Exit 0 when every lab is ready, 1 otherwise.",
      ) as Argv<CreateArgs>,
  handler: async (args: ArgumentsCamelCase<CreateArgs>) => {
    if (args.parallel !== undefined && (!Number.isInteger(args.parallel) || args.parallel < 1 || args.parallel > 64)) {
      throw new UsageError(`--parallel ${String(args.parallel)}: give a whole number from 1 to 64`, { hint: 'e.g. --parallel 2' });
    }
    const [{ createClass }, { createSummaryText }] = await Promise.all([import('../usecases/class-create.js'), import('./class-results.js')]);
    const report = await createClass(args.file, { parallel: args.parallel, renderer: rendererFor(args), signal: interruptSignal() });
    print(createSummaryText(report));
    const notReady = report.students.filter((s) => s.outcome === 'failed' || s.outcome === 'unplaced');
    if (notReady.length > 0) {
      throw new CheckFailedError(`${notReady.length} of ${report.students.length} lab(s) are not ready: ${notReady.map((s) => s.login).join(', ')}`, {
        hint: `fix what the table says (a host named there: \`labctl class plan ${args.file}\`), then run \`labctl class create ${args.file}\` again: it resumes only those`,
      });
    }
  },
};

type StatusArgs = FileArgs & { json: boolean };
export const classStatus: CommandModule<GlobalArgs, StatusArgs> = {
  command: 'status <file>',
  describe: "Each student's lab: host, IP, state, URL, and whether it has its reset point",
  builder: (y: Argv<GlobalArgs>) =>
    withClassFile(y)
      .option('json', { type: 'boolean', default: false, describe: 'print the statuses as JSON' })
      .example('$0 class status class.yaml', 'a table, a row per student') as Argv<StatusArgs>,
  handler: async (args: ArgumentsCamelCase<StatusArgs>) => {
    const [{ classStatus: status }, { statusText }] = await Promise.all([import('../usecases/class-status.js'), import('./class-results.js')]);
    const result = await status(args.file);
    print(args.json ? JSON.stringify(result, null, 2) : statusText(result));
  },
};

type CheckArgs = FileArgs & { out?: string };
export const classCheck: CommandModule<GlobalArgs, CheckArgs> = {
  command: 'check <file>',
  describe: "Grade every student's lab (labctl check) into one grade sheet: CSV, JSON and an HTML page linking to the evidence",
  builder: (y: Argv<GlobalArgs>) =>
    withClassFile(y)
      .option('out', { type: 'string', describe: 'folder for grades.csv, grades.json, grades.html and evidence/ [default: <class name>-grades beside the class file]' })
      .example('$0 class check class.yaml', 'then open <class>-grades/grades.html')
      .epilogue('Exit 0 when every lab passes every check, 1 when one fails or could not be graded (the sheet is written all the same).') as Argv<CheckArgs>,
  handler: async (args: ArgumentsCamelCase<CheckArgs>) => {
    const [{ checkClass }, { gradesText }] = await Promise.all([import('../usecases/class-check.js'), import('./class-results.js')]);
    const report = await checkClass(args.file, { outDir: args.out, onLine: (line) => note(line) });
    print(gradesText(report));
    const failing = report.sheet.rows.filter((r) => r.failed > 0 || r.error !== undefined);
    if (failing.length > 0) {
      throw new CheckFailedError(`${failing.length} of ${report.sheet.rows.length} lab(s) fail a check or could not be graded`, { hint: `${report.outDir}/grades.html links each cell to its evidence` });
    }
  },
};

type ResetArgs = FileArgs & { login: string; yes: boolean };
export const classReset: CommandModule<GlobalArgs, ResetArgs> = {
  command: 'reset <file> <login>',
  describe: "Put one student's lab back as `class create` left it (libvirt snapshot); that lab's later changes are lost",
  builder: (y: Argv<GlobalArgs>) =>
    withClassFile(y)
      .positional('login', { type: 'string', demandOption: true, describe: "the student's login" })
      .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'confirm: everything written in that lab since create is lost' })
      .example('$0 class reset class.yaml jdoe --yes', "jdoe's VM as it was when its create finished") as Argv<ResetArgs>,
  handler: async (args: ArgumentsCamelCase<ResetArgs>) => {
    if (!args.yes) throw new UsageError(`reset loses everything ${args.login} changed in the lab since create`, { hint: `add --yes: labctl class reset ${args.file} ${args.login} --yes` });
    const { resetClassLab } = await import('../usecases/class-status.js');
    const r = await resetClassLab(args.file, args.login);
    print(`Reset ${r.login}'s lab to its state right after create: ${r.url}`);
  },
};

type DestroyArgs = FileArgs & { yes: boolean };
export const classDestroy: CommandModule<GlobalArgs, DestroyArgs> = {
  command: 'destroy <file>',
  describe: "Destroy every student's lab (VM, hosts line, state) and list what is left on each host",
  builder: (y: Argv<GlobalArgs>) =>
    withClassFile(y)
      .option('yes', { alias: 'y', type: 'boolean', default: false, describe: "confirm: every student's lab and its data are deleted" })
      .example('$0 class destroy class.yaml --yes', 'the end of term') as Argv<DestroyArgs>,
  handler: async (args: ArgumentsCamelCase<DestroyArgs>) => {
    if (!args.yes) throw new UsageError("destroy deletes every student's lab and its data", { hint: `add --yes: labctl class destroy ${args.file} --yes` });
    const [{ destroyClass }, { destroyText }] = await Promise.all([import('../usecases/class-destroy.js'), import('./class-results.js')]);
    const report = await destroyClass(args.file, process.env, (line) => (args.quiet ? undefined : note(line)));
    print(destroyText(report));
    if (report.leftovers.length > 0) throw new CheckFailedError(`${report.leftovers.length} thing(s) could not be removed`, { hint: 'each line above names the host and what to remove there (virsh -c <uri> …)' });
  },
};
