import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { withLabName, type GlobalArgs } from '../options.js';
import { note, reporterFor } from '../output.js';

type Args = GlobalArgs & { name?: string };

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'up [name]',
  describe: 'Start (or resume) the lab VM',
  builder: (y: Argv<GlobalArgs>) => withLabName(y).example('$0 up', 'the only lab (or "inception")').example('$0 up lab2', 'a named lab'),
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { upLab } = await import('../../lib/usecases/lifecycle.js');
    const { resolveLabName } = await import('../../lib/state.js');
    const lab = await upLab(await resolveLabName(args.name), reporterFor(args));
    note(`Lab "${lab.config.name}" is up.`);
  },
};
