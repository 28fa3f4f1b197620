import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { withLabName, type GlobalArgs } from '../options.js';
import { note, reporterFor } from '../output.js';

type Args = GlobalArgs & { name?: string };

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'reboot [name]',
  describe: 'Reboot the lab VM (vagrant reload); the stack restarts by itself',
  builder: (y: Argv<GlobalArgs>) => withLabName(y).example('$0 reboot', 'the only lab (or "inception")').example('$0 reboot lab2', 'a named lab'),
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { rebootLab } = await import('../../lib/usecases/lifecycle.js');
    const { resolveLabName } = await import('../../lib/state.js');
    const lab = await rebootLab(await resolveLabName(args.name), reporterFor(args));
    note(`Lab "${lab.config.name}" rebooted.`);
  },
};
