import type { ArgumentsCamelCase, Argv } from 'yargs';
import { UsageError } from '../../core/errors.js';
import { withLabName, type CommandHandlers, type GlobalArgs } from '../options.js';
import { note, print, reporterFor } from '../output.js';

type Args = GlobalArgs & { name?: string; measure: boolean; restart?: string; explain: boolean; json: boolean; html?: string };

export const command: CommandHandlers<Args> = {
  builder: (y: Argv<GlobalArgs>) =>
    withLabName(y)
      .option('explain', { type: 'boolean', default: false, describe: 'under each fact, the command that produced it and where (host, VM, inside a container), to repeat it by hand' })
      .option('measure', {
        type: 'boolean',
        default: false,
        describe: "add this lab's numbers to the VM-vs-container table: VM boot time (labctl.log), one container restarted now and timed (adminer, else nginx: it is down for a second or two), memory, box vs image sizes",
      })
      .option('restart', { type: 'string', describe: 'with --measure: the service to restart and time, instead of adminer/nginx' })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON (its fields: docs/users.md)' })
      .option('html', { type: 'string', describe: 'also write a one-page report with a diagram of the nesting to FILE (no external files; open it in a browser)' })
      .example('$0 layers', 'what is true on the host, in the VM and in each container, read now')
      .example('$0 layers --explain', 'the same, with the command behind each fact')
      .example('$0 layers --measure', 'plus boot vs restart time, memory and disk (briefly restarts adminer or nginx)')
      .example('$0 layers --measure --restart mariadb --html layers.html', 'time a MariaDB restart, and write the page')
      .example("$0 layers lab2 --json | jq '.containers[].pid1'", 'PID 1 of each container, for a script') as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    if (args.restart !== undefined && !args.measure) throw new UsageError('--restart goes with --measure', { hint: `e.g. labctl layers --measure --restart ${args.restart || 'nginx'}` });
    if (args.html === '') throw new UsageError('--html needs a file name', { hint: 'e.g. labctl layers --html layers.html' });
    const [{ showLayers }, { layersText }] = await Promise.all([import('../../usecases/layers.js'), import('../layers-report.js')]);
    const { report, htmlPath } = await showLayers(args.name, { measure: args.measure, restart: args.restart, html: args.html }, reporterFor(args));
    print(args.json ? JSON.stringify(report, null, 2) : layersText(report, { explain: args.explain }));
    if (htmlPath !== undefined && !args.quiet) note(`report written to ${htmlPath}`);
  },
};
