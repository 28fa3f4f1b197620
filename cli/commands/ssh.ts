import type { ArgumentsCamelCase, Argv } from 'yargs';
import { withLabName, type CommandHandlers, type GlobalArgs } from '../options.js';

type Args = GlobalArgs & { name?: string; '--'?: (string | number)[] };

export const command: CommandHandlers<Args> = {
  builder: (y: Argv<GlobalArgs>) =>
    withLabName(y)
      .parserConfiguration({ 'populate--': true })
      .example('$0 ssh', 'interactive shell')
      .example('$0 ssh -- docker ps', 'run one command')
      .example("$0 ssh -- docker ps --format '{{.Names}} {{.Status}}'", 'each word after -- arrives as written')
      .example("$0 ssh -- 'docker ps | grep nginx'", 'one quoted word is a shell line: pipes work')
      .example('$0 ssh lab2 -- sudo journalctl -u docker', 'in a named lab') as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { sshIntoLab } = await import('../../usecases/ssh.js');
    await sshIntoLab(args.name, (args['--'] ?? []).map(String));
  },
};
