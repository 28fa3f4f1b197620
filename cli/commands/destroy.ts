import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { confirmByTyping } from '../confirm.js';
import { withLabName, type GlobalArgs } from '../options.js';
import { note, reporterFor } from '../output.js';

type Args = GlobalArgs & { name?: string; yes: boolean };

export const command: CommandModule<GlobalArgs, Args> = {
  command: 'destroy [name]',
  describe: 'Destroy the VM, remove the hosts entry and delete the lab state (secrets included)',
  builder: (y: Argv<GlobalArgs>) =>
    withLabName(y)
      .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'do not ask for confirmation' })
      .example('$0 destroy', 'asks you to type the lab name')
      .example('$0 destroy lab2 --yes', 'no question (scripts, CI)') as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { destroyLab } = await import('../../lib/usecases/lifecycle.js');
    const { loadLab, resolveLabName } = await import('../../lib/state.js');
    const name = await resolveLabName(args.name);
    const lab = await loadLab(name);
    if (!args.yes) await confirmByTyping(`This deletes lab "${name}" (${lab.config.domain}), its VM, its data and its secrets.`, name, '--yes');
    await destroyLab(name, reporterFor(args));
    note(`Lab "${name}" destroyed.`);
  },
};
