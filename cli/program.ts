import type { Argv, CommandModule } from 'yargs';
import { LabctlError, UsageError } from '../core/errors.js';
import { LABCTL_VERSION } from '../core/version.js';
import { renderHelp, type HelpCommand, type HelpOption } from './help.js';
import type { CommandHandlers, GlobalArgs } from './options.js';

// labctl's commands as yargs sees them. Each command's word, aliases and one-line description live
// in the table below, and only the module of the command being run is imported (issue 17: nothing
// but yargs and the chosen command's module loads before the handler runs). The other commands are
// registered with their description alone, which is all the top-level help, `Did you mean`, strict
// unknown-command errors and shell completion of the command word need.

type Register = (y: Argv<GlobalArgs>, head: HelpCommand) => Argv<GlobalArgs>;

export interface CommandEntry extends HelpCommand {
  load: () => Promise<Register>;
}

// One generic step per module keeps each command's own argument type through to yargs.
function lazy<A>(load: () => Promise<{ command: CommandHandlers<A> }>): () => Promise<Register> {
  return async () => {
    const { builder, handler } = (await load()).command;
    return (y, head) => y.command<A>({ command: head.command, aliases: [...head.aliases], describe: head.describe, builder, handler });
  };
}

export const COMMANDS: readonly CommandEntry[] = [
  { command: 'create [name]', aliases: [], describe: 'Create a lab: Vagrant VM, hosts entry, Docker and the Inception stack', load: lazy(() => import('./commands/create.js')) },
  { command: 'up [name]', aliases: [], describe: 'Start (or resume) the lab VM', load: lazy(() => import('./commands/up.js')) },
  { command: 'halt [name]', aliases: [], describe: 'Shut the lab VM down; data and images stay', load: lazy(() => import('./commands/halt.js')) },
  { command: 'reboot [name]', aliases: [], describe: 'Reboot the lab VM (vagrant reload); the stack restarts by itself', load: lazy(() => import('./commands/reboot.js')) },
  { command: 'destroy [name]', aliases: [], describe: 'Destroy the VM, remove the hosts entry and delete the lab state (secrets included)', load: lazy(() => import('./commands/destroy.js')) },
  { command: 'ssh [name]', aliases: [], describe: 'Open a shell in the lab VM, or run a command there (after --)', load: lazy(() => import('./commands/ssh.js')) },
  { command: 'status [name]', aliases: ['list'], describe: 'Show each lab (or one): VM state, IP, URL, and its services when the VM runs', load: lazy(() => import('./commands/status.js')) },
  { command: 'provision [name]', aliases: [], describe: 'Re-run provisioning in the VM (idempotent: done steps are skipped)', load: lazy(() => import('./commands/provision.js')) },
  { command: 'deploy [name]', aliases: [], describe: "Push your project's changed files to the lab, run its make, wait until healthy, probe the site", load: lazy(() => import('./commands/deploy.js')) },
  { command: 'logs [name] [service]', aliases: [], describe: "Show the stack's container logs (docker compose logs, over SSH)", load: lazy(() => import('./commands/logs.js')) },
  { command: 'render [name]', aliases: [], describe: 'Print the Vagrantfile a lab with these settings would get (no side effect)', load: lazy(() => import('./commands/render.js')) },
  { command: 'hosts <action>', aliases: [], describe: "Add or remove a lab's <login>.42.fr line in the hosts file ($LABCTL_HOSTS_FILE or /etc/hosts)", load: lazy(() => import('./commands/hosts.js')) },
  { command: 'doctor', aliases: [], describe: 'Check this machine: Node, Vagrant, VirtualBox or libvirt (and its connection), accelerator, IP range, disk, RAM, lab home, hosts file', load: lazy(() => import('./commands/doctor.js')) },
  { command: 'box <action>', aliases: [], describe: 'Build, list or remove local Debian boxes (for offline machines)', load: lazy(() => import('./commands/box.js')) },
  { command: 'check [name]', aliases: [], describe: 'Grade a lab against every Inception rule (live), or projects from their files (--static DIR…)', load: lazy(() => import('./commands/check.js')) },
  { command: 'layers [name]', aliases: [], describe: 'Show the lesson on your own lab: bare-metal host, VM and containers, what each one is and how it was seen', load: lazy(() => import('./commands/layers.js')) },
  { command: 'class <action>', aliases: [], describe: 'A whole class from one class file (hosts, settings, roster): plan, create, grade, reset and destroy its students\' labs across libvirt hosts', load: lazy(() => import('./commands/class.js')) },
];

const COMPLETION: HelpCommand = { command: 'completion', aliases: [], describe: 'Print a shell completion script (bash/zsh): labctl completion >> ~/.bashrc' };
const USAGE = '$0 <command> [options]\n\nBoots a 42 Inception lab: Vagrant VM → Docker → NGINX (TLS) → WordPress → MariaDB.';
const EPILOGUE = 'Settings: flags > LABCTL_* environment > .env in the current directory > defaults.\nLab state: $LABCTL_HOME/<name> (default ~/.labctl). Docs: docs/ in the repository.';
// -v and -V print the version, as for Vagrant, Docker, npm and node; verbose is spelled out.
export const VERSION_ALIASES = ['V', 'v'] as const;
// In yargs' order: the global options as declared, then help and version.
const OPTIONS: readonly HelpOption[] = [
  { key: 'verbose', aliases: [], describe: 'show full command output and stack traces', type: 'boolean' },
  { key: 'quiet', aliases: ['q'], describe: 'only print results and errors', type: 'boolean' },
  { key: 'help', aliases: ['h'], describe: 'Show help', type: 'boolean' },
  { key: 'version', aliases: VERSION_ALIASES, describe: 'Show the version number', type: 'boolean' },
];
const option = (key: string): HelpOption => OPTIONS.find((o) => o.key === key) as HelpOption;

/** The width yargs wraps help at: the terminal's, at most 110; 100 when stdout is not a terminal. */
export function helpWidth(): number {
  return Math.min(110, process.stdout.columns || 100);
}

/** `labctl --help` as yargs prints it (without the final newline), from the table alone. */
export function topLevelHelp(wrap: number): string {
  return renderHelp({ scriptName: 'labctl', usage: USAGE, commands: [...COMMANDS, COMPLETION], options: OPTIONS, epilogue: EPILOGUE }, wrap);
}

/**
 * The commands argv may run: those whose word or alias is one of its words. Usually one, the first
 * word; any word is taken because an option unknown at the top level may take the next word as its
 * value (`labctl --login jdoe create`), so which word yargs runs is known only once that command's
 * options are. Loading a second command module now and then costs little; a command yargs runs
 * without its module could only fail.
 */
export function commandsIn(argv: readonly string[]): CommandEntry[] {
  const words = new Set(argv.filter((a) => !a.startsWith('-')));
  return COMMANDS.filter((c) => [c.command.split(' ')[0] ?? '', ...c.aliases].some((w) => words.has(w)));
}

/** yargs, set up for argv: the modules of the commands it names imported and registered, the others by description. */
export async function program(argv: readonly string[], wrap = helpWidth()): Promise<Argv<GlobalArgs>> {
  const chosen = commandsIn(argv);
  const [{ default: yargs }, ...registers] = await Promise.all([import('yargs'), ...chosen.map((c) => c.load())]);
  const verbose = option('verbose');
  const quiet = option('quiet');
  const help = option('help');
  const version = option('version');
  let y: Argv<GlobalArgs> = yargs([...argv])
    .scriptName('labctl')
    .usage(USAGE)
    .option('verbose', { type: 'boolean', describe: verbose.describe, global: true })
    .option('quiet', { alias: quiet.aliases, type: 'boolean', describe: quiet.describe, global: true });
  for (const entry of COMMANDS) {
    const register = registers[chosen.indexOf(entry)];
    y = register ? register(y, entry) : y.command(unloaded(entry));
  }
  return y
    .completion(COMPLETION.command, COMPLETION.describe)
    .demandCommand(1, 'Say what to do: labctl <command>. Try labctl create --login <you>.')
    .recommendCommands()
    .strict()
    .epilogue(EPILOGUE)
    .help(help.key, help.describe)
    .alias(help.key, [...help.aliases])
    .version(version.key, version.describe, LABCTL_VERSION)
    .alias(version.key, [...version.aliases])
    .wrap(wrap)
    .fail((message, error) => {
      // yargs' own messages may span lines; the user gets one line and the way to the help.
      throw error ?? new UsageError((message ?? 'invalid usage').replace(/\s*\n\s*/g, ' '), { hint: `see ${['labctl', helpWord(argv)].filter(Boolean).join(' ')} --help` });
    });
}

// A command argv does not name: listed, never run (yargs runs a command only when argv names it).
function unloaded(head: HelpCommand): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: head.command,
    aliases: [...head.aliases],
    describe: head.describe,
    handler: () => {
      throw new LabctlError(`the module of "labctl ${head.command}" was not loaded before it ran`);
    },
  };
}

function helpWord(argv: readonly string[]): string {
  const first = argv.find((a) => !a.startsWith('-'));
  return first && /^[a-z]+$/.test(first) ? first : '';
}
