import type { ArgumentsCamelCase, Argv } from 'yargs';
import { interruptSignal } from '../interrupt.js';
import { rawConfigFromArgs, withConfigOptions, type ConfigArgs, type CommandHandlers, type GlobalArgs } from '../options.js';
import { bonusEndpoints } from '../../core/endpoints.js';
import { formatDuration, note, print, rendererFor, reporterFor } from '../output.js';

type Args = ConfigArgs & GlobalArgs & { hosts: boolean; provision: boolean; yes: boolean };

export const command: CommandHandlers<Args> = {
  builder: (y: Argv<GlobalArgs>) =>
    withConfigOptions(y)
      .option('hosts', { type: 'boolean', default: true, describe: 'map <login>.42.fr in the hosts file (--no-hosts prints the line instead)' })
      .option('provision', { type: 'boolean', default: true, describe: 'provision the VM after boot (--no-provision stops once it is up)' })
      .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'ask nothing: sudo for the hosts file must work without a password (scripts, CI)' })
      .example('$0 create --login jdoe', 'VM at 192.168.56.10, site at https://jdoe.42.fr')
      .example('$0 create --login jdoe --provider libvirt --memory 4096', 'on Linux with libvirt/KVM')
      .example('$0 create --login jdoe --bonus', 'with the bonus services: 8 containers instead of 3')
      .example('$0 create lab2 --login jdoe2 --ip 192.168.56.11', 'a second lab beside the first (its own login and IP)')
      .example('LABCTL_LOGIN=jdoe $0 create --no-hosts', 'settings from the environment (or .env); print the hosts line') as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { createLab } = await import('../../usecases/create.js');
    const started = Date.now();
    const result = await createLab(
      {
        flags: rawConfigFromArgs(args),
        env: process.env,
        cwd: process.cwd(),
        hosts: args.hosts,
        yes: args.yes,
        provision: args.provision,
        provisionOptions: { renderer: rendererFor(args), probeUrl: true, signal: interruptSignal() },
      },
      reporterFor(args),
    );
    note(`Lab "${result.lab.config.name}" ready in ${formatDuration(Date.now() - started)}.`);
    print(result.url);
    if (result.provisioned) {
      for (const e of bonusEndpoints(result.lab.config)) note(`  ${e.address}  ${e.what}`);
      note(`Credentials: ${result.lab.paths.secrets}/ (0600). Shell: labctl ssh ${result.lab.config.name}`);
    }
  },
};
