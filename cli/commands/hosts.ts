import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { GlobalArgs } from '../options.js';
import { note, print } from '../output.js';

type Args = GlobalArgs & { login: string; ip?: string; name: string };

const add: CommandModule<GlobalArgs, Args> = {
  command: 'add',
  describe: 'Map <login>.42.fr to the lab IP in the hosts file (idempotent)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('login', { type: 'string', demandOption: true, describe: 'the 42 login of the domain' })
      .option('ip', { type: 'string', demandOption: true, describe: 'the lab VM\'s IP' })
      .option('name', { type: 'string', default: 'inception', describe: 'lab name (names the marked block)' })
      .example('sudo $0 hosts add --login jdoe --ip 192.168.56.10', 'adds "# BEGIN labctl inception" … block') as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { validateName, validateIp } = await import('../../lib/config.js');
    const { hostsAdd } = await import('../../lib/usecases/hosts.js');
    const login = validateName(args.login, 'login');
    const name = validateName(args.name, 'name');
    const ip = validateIp(args.ip ?? '', 'libvirt');
    const r = await hostsAdd({ name, ip, domain: `${login}.42.fr` });
    note(r.changed ? `Added "${r.line}" to ${r.path}.` : `${r.path} already has "${r.line}".`);
  },
};

const remove: CommandModule<GlobalArgs, Args> = {
  command: 'remove',
  describe: 'Remove the lab\'s block from the hosts file (byte-exact undo of add)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('login', { type: 'string', demandOption: true, describe: 'the 42 login of the domain' })
      .option('name', { type: 'string', default: 'inception', describe: 'lab name' })
      .example('sudo $0 hosts remove --login jdoe', 'removes the inception block') as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { validateName } = await import('../../lib/config.js');
    const { hostsRemove } = await import('../../lib/usecases/hosts.js');
    validateName(args.login, 'login');
    const r = await hostsRemove(validateName(args.name, 'name'));
    note(r.changed ? `Removed the labctl ${args.name} block from ${r.path}.` : `${r.path} has no labctl ${args.name} block.`);
  },
};

export const command: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'hosts <action>',
  describe: 'Add or remove a lab\'s <login>.42.fr line in the hosts file ($LABCTL_HOSTS_FILE or /etc/hosts)',
  builder: (y: Argv<GlobalArgs>) => y.command(add).command(remove).demandCommand(1, 'say add or remove'),
  handler: () => {
    print('say add or remove');
  },
};
