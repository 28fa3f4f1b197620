import type { ArgumentsCamelCase, Argv } from 'yargs';
import type { Lab } from '../core/state.js';
import type { Reporter } from '../usecases/reporter.js';
import { withLabName, type CommandHandlers, type GlobalArgs } from './options.js';
import { note, reporterFor } from './output.js';

type Args = GlobalArgs & { name?: string };
export type VmAction = (name: string | undefined, reporter: Reporter) => Promise<Lab>;

/** up, halt and reboot differ only in the use case they call and what they say when done. */
export function vmCommand(verb: string, action: () => Promise<VmAction>, done: (lab: Lab) => string): CommandHandlers<Args> {
  return {
    builder: (y: Argv<GlobalArgs>) => withLabName(y).example(`$0 ${verb}`, 'the only lab (or "inception")').example(`$0 ${verb} lab2`, 'a named lab'),
    handler: async (args: ArgumentsCamelCase<Args>) => {
      note(done(await (await action())(args.name, reporterFor(args))));
    },
  };
}
