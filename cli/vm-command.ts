import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { Reporter } from '../usecases/lifecycle.js';
import type { Lab } from '../core/state.js';
import { withLabName, type GlobalArgs } from './options.js';
import { note, reporterFor } from './output.js';

type Args = GlobalArgs & { name?: string };
type VmAction = 'upLab' | 'haltLab' | 'rebootLab';

/** up, halt and reboot differ only in the use case they call and what they say when done. */
export function vmCommand(verb: string, describe: string, action: VmAction, done: (lab: Lab) => string): CommandModule<GlobalArgs, Args> {
  return {
    command: `${verb} [name]`,
    describe,
    builder: (y: Argv<GlobalArgs>) => withLabName(y).example(`$0 ${verb}`, 'the only lab (or "inception")').example(`$0 ${verb} lab2`, 'a named lab'),
    handler: async (args: ArgumentsCamelCase<Args>) => {
      const usecases: Record<VmAction, (name: string, reporter: Reporter) => Promise<Lab>> = await import('../usecases/lifecycle.js');
      const { resolveLabName } = await import('../core/state.js');
      note(done(await usecases[action](await resolveLabName(args.name), reporterFor(args))));
    },
  };
}
