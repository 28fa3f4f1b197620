import type { ArgumentsCamelCase, Argv } from 'yargs';
import { ExternalCommandError } from '../../core/errors.js';
import { confirmByTyping } from '../confirm.js';
import { withLabName, type CommandHandlers, type GlobalArgs } from '../options.js';
import { note, reporterFor } from '../output.js';

type Args = GlobalArgs & { name?: string; yes: boolean; force: boolean };

export const command: CommandHandlers<Args> = {
  builder: (y: Argv<GlobalArgs>) =>
    withLabName(y)
      .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'do not ask for confirmation' })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'remove whatever exists even when a step fails (a failed create, a broken lab, libvirt down): the VM through the provider\'s own tool if vagrant cannot, then the hosts block and the state; lists what it could not remove',
      })
      .example('$0 destroy', 'asks you to type the lab name')
      .example('$0 destroy lab2 --yes', 'no question (scripts, CI)')
      .example('$0 destroy lab2 --force --yes', 'a lab that a plain destroy cannot remove') as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { destroyLab } = await import('../../usecases/destroy.js');
    const { resolveLabName } = await import('../../core/state.js');
    const name = await resolveLabName(args.name);
    if (!args.yes) await confirmByTyping(`This deletes lab "${name}", its VM, its data and its secrets.`, name, '--yes');
    const report = await destroyLab(name, { force: args.force }, reporterFor(args));
    if (report.removed.length > 0) note(`Removed: ${report.removed.join(', ')}.`);
    if (report.leftovers.length > 0) {
      throw new ExternalCommandError(['labctl', 'destroy', name, '--force'], undefined, report.leftovers.join('\n'), {
        hint: `still there: ${report.leftovers.join('; ')}`,
      });
    }
    note(report.removed.length > 0 ? `Lab "${name}" destroyed.` : `Lab "${name}": nothing was left to remove.`);
  },
};
