import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { CommandHandlers, GlobalArgs } from '../options.js';
import { formatDuration, note, print } from '../output.js';

type BuildArgs = GlobalArgs & { suite: string; provider: string; bake: boolean; mirror?: string; force: boolean };
type RemoveArgs = GlobalArgs & { box: string };
type ListArgs = GlobalArgs & { json: boolean };

const build: CommandModule<GlobalArgs, BuildArgs> = {
  command: 'build',
  describe: 'Build a Debian box locally with debootstrap (no Vagrant Cloud needed); needs root or sudo',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('suite', { type: 'string', default: 'trixie', describe: 'Debian suite of the guest: bookworm|trixie|forky|sid' })
      .option('provider', { type: 'string', default: 'libvirt', describe: 'box format: libvirt (qcow2), the only one labctl builds' })
      .option('bake', { type: 'boolean', default: false, describe: 'also preinstall Docker, Compose and the debian:bookworm base image' })
      .option('mirror', { type: 'string', describe: 'Debian mirror URL for debootstrap [default: debootstrap\'s own]' })
      .option('force', { type: 'boolean', default: false, describe: 'rebuild even when a cached box of this recipe exists' })
      .example('$0 box build', 'labctl/trixie, then: labctl create --login jdoe --provider libvirt --box labctl/trixie')
      .example('$0 box build --bake', 'labctl/trixie-baked: later creates skip the Docker install') as Argv<BuildArgs>,
  handler: async (args: ArgumentsCamelCase<BuildArgs>) => {
    const { buildLabBox } = await import('../../usecases/box.js');
    const started = Date.now();
    const box = await buildLabBox({ provider: args.provider, suite: args.suite, bake: args.bake, mirror: args.mirror, force: args.force, log: args.quiet ? () => {} : note });
    note(`${box.reused ? 'Reused' : 'Built'} ${box.name} (${box.boxFile}) in ${formatDuration(Date.now() - started)}.`);
    print(box.name);
  },
};

const list: CommandModule<GlobalArgs, ListArgs> = {
  command: 'list',
  describe: 'List the Vagrant boxes (labctl/* are the ones labctl built)',
  builder: (y: Argv<GlobalArgs>) => y.option('json', { type: 'boolean', default: false }).example('$0 box list', 'name, provider, version') as Argv<ListArgs>,
  handler: async (args: ArgumentsCamelCase<ListArgs>) => {
    const { listLabBoxes } = await import('../../usecases/box.js');
    const boxes = await listLabBoxes();
    if (args.json) print(JSON.stringify(boxes, null, 2));
    else if (boxes.length === 0) print('No boxes. Build one with: labctl box build');
    else for (const b of boxes) print(`${b.name}\t${b.provider}\t${b.version}`);
  },
};

const remove: CommandModule<GlobalArgs, RemoveArgs> = {
  command: 'remove <box>',
  describe: 'Remove a box from Vagrant (and labctl\'s cached copy)',
  builder: (y: Argv<GlobalArgs>) =>
    y.positional('box', { type: 'string', demandOption: true, describe: 'box name, e.g. labctl/trixie' }).example('$0 box remove labctl/trixie', '') as Argv<RemoveArgs>,
  handler: async (args: ArgumentsCamelCase<RemoveArgs>) => {
    const { removeLabBox } = await import('../../usecases/box.js');
    await removeLabBox(args.box);
    note(`Removed ${args.box}.`);
  },
};

export const command: CommandHandlers<GlobalArgs> = {
  builder: (y: Argv<GlobalArgs>) => y.command(build).command(list).command(remove).demandCommand(1, 'say build, list or remove'),
  handler: () => {},
};
