import type { ArgumentsCamelCase, Argv } from 'yargs';
import { withLabName, type CommandHandlers, type GlobalArgs } from '../options.js';
import { print } from '../output.js';

type Args = GlobalArgs & { name?: string; json: boolean };

export const command: CommandHandlers<Args> = {
  builder: (y: Argv<GlobalArgs>) =>
    withLabName(y)
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
      .example('$0 list', 'all labs')
      .example('$0 status lab2 --json', 'one lab, as JSON') as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { statusOf } = await import('../../usecases/status.js');
    const rows = await statusOf(args.name);
    if (args.json) {
      print(JSON.stringify(rows, null, 2));
      return;
    }
    if (rows.length === 0) {
      print('No labs yet. Create one with: labctl create --login <you>');
      return;
    }
    for (const r of rows) {
      if (r.state === 'broken') {
        print(`${r.name}\tbroken\t${r.problem ?? ''}\t(remove: labctl destroy ${r.name} --force)`);
        continue;
      }
      print(`${r.name}\t${r.state}\t${r.provider}\t${r.ip}\t${r.url}`);
      if (r.project && !r.project.builtin) print(`  project\t${r.project.path}${r.project.commit ? ` @ ${r.project.commit.slice(0, 12)}${r.project.dirty ? ' (with uncommitted changes)' : ''}` : ''}`);
      const deployed = r.project?.lastDeploy;
      if (deployed) print(`  last deploy\t${deployed.at.replace('T', ' ').slice(0, 19)} UTC${deployed.commit ? ` @ ${deployed.commit.slice(0, 12)}` : ''} (${deployed.uploaded} file(s) pushed, ${deployed.removed} removed, ${(deployed.ms / 1000).toFixed(1)} s)`);
      for (const s of r.services ?? []) print(`  ${s.name}\t${s.state}${s.health ? ` (${s.health})` : ''}`);
      if (r.servicesError) print(`  services: ${r.servicesError}`);
      for (const e of r.bonusEndpoints) print(`  ${e.address}\t${e.what}`);
    }
  },
};
