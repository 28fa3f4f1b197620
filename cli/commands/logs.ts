import type { ArgumentsCamelCase, Argv } from 'yargs';
import { withLabName, type CommandHandlers, type GlobalArgs } from '../options.js';

type Args = GlobalArgs & { name?: string; service?: string; follow: boolean; tail: string };

export const command: CommandHandlers<Args> = {
  builder: (y: Argv<GlobalArgs>) =>
    withLabName(y)
      .positional('service', { type: 'string', describe: 'one service (nginx, wordpress, mariadb…)' })
      .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'keep streaming' })
      .option('tail', { type: 'string', default: '200', describe: 'lines per service, or "all"' })
      .example('$0 logs', 'last lines of every service')
      .example('$0 logs inception nginx -f', 'follow nginx') as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { streamLabLogs } = await import('../../usecases/logs.js');
    await streamLabLogs(args.name, { service: args.service, follow: args.follow, tail: args.tail });
  },
};
