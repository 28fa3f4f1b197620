import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { withLabName, type GlobalArgs } from '../options.js';
import { note, reporterFor } from '../output.js';

type Args = GlobalArgs & { name?: string };

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'halt [name]',
  describe: 'Shut the lab VM down; data and images stay',
  builder: (y: Argv<GlobalArgs>) => withLabName(y).example('$0 halt', 'the only lab (or "inception")').example('$0 halt lab2', 'a named lab'),
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { haltLab } = await import('../../lib/usecases/lifecycle.js');
    const { resolveLabName } = await import('../../lib/state.js');
    const lab = await haltLab(await resolveLabName(args.name), reporterFor(args));
    note(`Lab "${lab.config.name}" is halted (start it again with labctl up).`);
  },
};
