import type { ArgumentsCamelCase, Argv } from 'yargs';
import { interruptSignal } from '../interrupt.js';
import { withLabName, type CommandHandlers, type GlobalArgs } from '../options.js';
import { formatDuration, note, rendererFor, reporterFor } from '../output.js';

type Args = GlobalArgs & { name?: string };

export const command: CommandHandlers<Args> = {
  builder: (y: Argv<GlobalArgs>) =>
    withLabName(y)
      .example('$0 provision', 'continue an interrupted create, or repair the stack')
      .example('$0 provision --verbose', 'show every remote command'),
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { reprovisionLab } = await import('../../usecases/provision.js');
    const summary = await reprovisionLab(args.name, { renderer: rendererFor(args), probeUrl: true, reporter: reporterFor(args), signal: interruptSignal() });
    const skipped = summary.steps.filter((s) => s.status === 'skipped').length;
    note(`Provisioned in ${formatDuration(summary.totalMs)} (${summary.steps.length - skipped} steps ran, ${skipped} skipped).`);
  },
};
