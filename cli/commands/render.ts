import type { ArgumentsCamelCase, Argv } from 'yargs';
import { rawConfigFromArgs, withConfigOptions, type ConfigArgs, type CommandHandlers, type GlobalArgs } from '../options.js';
import { print } from '../output.js';

type Args = ConfigArgs & GlobalArgs;

export const command: CommandHandlers<Args> = {
  builder: (y: Argv<GlobalArgs>) =>
    withConfigOptions(y)
      .example('$0 render --login jdoe --provider virtualbox', 'VirtualBox Vagrantfile on stdout')
      .example('$0 render --login jdoe --ip 192.168.56.42 --provider libvirt > Vagrantfile', 'save it to inspect or validate') as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { renderLab } = await import('../../usecases/render.js');
    print(await renderLab({ flags: rawConfigFromArgs(args), env: process.env, cwd: process.cwd() }));
  },
};
