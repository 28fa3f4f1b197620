import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { CommandHandlers, GlobalArgs } from '../options.js';
import { note } from '../output.js';

type Args = GlobalArgs & { login?: string; ip?: string; name?: string; lab?: string };

// The block is named after the lab: positional (`hosts add lab2 …`) like every other command's
// lab name; --name is still read for older scripts.
const labName = (args: Args): string | undefined => args.lab ?? args.name;

const add: CommandModule<GlobalArgs, Args> = {
  command: 'add [lab]',
  describe: 'Map <login>.42.fr to the lab IP in the hosts file (idempotent)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('lab', { type: 'string', describe: 'lab name (names the marked block) [default: inception]' })
      .option('login', { type: 'string', demandOption: true, describe: 'the 42 login of the domain' })
      .option('ip', { type: 'string', demandOption: true, describe: 'the lab VM\'s IP' })
      .option('name', { type: 'string', hidden: true, describe: 'lab name, as an option' })
      .example('sudo $0 hosts add --login jdoe --ip 192.168.56.10', 'adds "# BEGIN labctl inception" … block')
      .example('sudo $0 hosts add lab2 --login jdoe2 --ip 192.168.56.11', 'the block of lab "lab2"') as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { hostsAddFromArgs } = await import('../../usecases/hosts.js');
    const r = await hostsAddFromArgs({ lab: labName(args), login: args.login, ip: args.ip });
    note(r.changed ? `Added "${r.line}" to ${r.path}.` : `${r.path} already has "${r.line}".`);
  },
};

const remove: CommandModule<GlobalArgs, Args> = {
  command: 'remove [lab]',
  describe: 'Remove the lab\'s block from the hosts file (byte-exact undo of add)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('lab', { type: 'string', describe: 'lab name [default: inception]' })
      .option('login', { type: 'string', describe: 'not needed: the block is found by the lab name (accepted for older scripts)', hidden: true })
      .option('name', { type: 'string', hidden: true, describe: 'lab name, as an option' })
      .example('sudo $0 hosts remove', 'removes the inception block')
      .example('sudo $0 hosts remove lab2', 'removes the block of lab "lab2"') as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { hostsRemoveFromArgs } = await import('../../usecases/hosts.js');
    const { name, result: r } = await hostsRemoveFromArgs({ lab: labName(args), login: args.login });
    note(r.changed ? `Removed the labctl ${name} block from ${r.path}.` : `${r.path} has no labctl ${name} block.`);
  },
};

export const command: CommandHandlers<GlobalArgs> = {
  builder: (y: Argv<GlobalArgs>) => y.command(add).command(remove).demandCommand(1, 'say add or remove').example('sudo $0 hosts add --login jdoe --ip 192.168.56.10', 'map jdoe.42.fr'),
  handler: () => {},
};
