#!/usr/bin/env node
import { ChildExitError, ExitCode, fromSystemError, LabctlError, UsageError } from '../core/errors.js';
import { installInterruptHandlers } from '../core/interrupt.js';
import { LABCTL_VERSION } from '../core/version.js';
import { command as box } from './commands/box.js';
import { command as check } from './commands/check.js';
import { command as create } from './commands/create.js';
import { command as deploy } from './commands/deploy.js';
import { command as destroy } from './commands/destroy.js';
import { command as doctor } from './commands/doctor.js';
import { command as halt } from './commands/halt.js';
import { command as hosts } from './commands/hosts.js';
import { command as logs } from './commands/logs.js';
import { command as provision } from './commands/provision.js';
import { command as reboot } from './commands/reboot.js';
import { command as render } from './commands/render.js';
import { command as ssh } from './commands/ssh.js';
import { command as status } from './commands/status.js';
import { command as up } from './commands/up.js';

// The one exit point: command modules only declare flags and call use cases (loaded lazily);
// every error ends here and becomes one line plus an exit code. Stacks only with --verbose.

// yargs' hideBin is argv.slice(2) outside Electron; importing yargs/helpers for it cost ~30 ms a start.
const argv = process.argv.slice(2);
// -v and -V print the version, as for Vagrant, Docker, npm and node; verbose is spelled out.
// Asked alone, the version is printed before yargs loads: scripts ask it often, and it is half a start.
const VERSION_ALIASES = ['V', 'v'];
const versionOnly = argv.length === 1 && ['--version', ...VERSION_ALIASES.map((a) => `-${a}`)].includes(argv[0] ?? '');
const verbose = argv.includes('--verbose');

async function parseAndRun(): Promise<void> {
  installInterruptHandlers();
  const { default: yargs } = await import('yargs');
  await yargs(argv)
    .scriptName('labctl')
    .usage('$0 <command> [options]\n\nBoots a 42 Inception lab: Vagrant VM → Docker → NGINX (TLS) → WordPress → MariaDB.')
    .option('verbose', { type: 'boolean', describe: 'show full command output and stack traces', global: true })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'only print results and errors', global: true })
    .command(create)
    .command(up)
    .command(halt)
    .command(reboot)
    .command(destroy)
    .command(ssh)
    .command(status)
    .command(provision)
    .command(deploy)
    .command(logs)
    .command(render)
    .command(hosts)
    .command(doctor)
    .command(box)
    .command(check)
    .completion('completion', 'Print a shell completion script (bash/zsh): labctl completion >> ~/.bashrc')
    .demandCommand(1, 'Say what to do: labctl <command>. Try labctl create --login <you>.')
    .recommendCommands()
    .strict()
    .epilogue('Settings: flags > LABCTL_* environment > .env in the current directory > defaults.\nLab state: $LABCTL_HOME/<name> (default ~/.labctl). Docs: docs/ in the repository.')
    .help()
    .alias('help', 'h')
    .version('version', 'Show the version number', LABCTL_VERSION)
    .alias('version', VERSION_ALIASES)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((message, error) => {
      // yargs' own messages may span lines; the user gets one line and the way to the help.
      throw error ?? new UsageError((message ?? 'invalid usage').replace(/\s*\n\s*/g, ' '), { hint: `see ${['labctl', commandWord()].filter(Boolean).join(' ')} --help` });
    })
    .parseAsync();
}

function commandWord(): string {
  const first = argv.find((a) => !a.startsWith('-'));
  return first && /^[a-z]+$/.test(first) ? first : '';
}

function report(thrown: unknown): number {
  const error = fromSystemError(thrown);
  if (error instanceof ChildExitError) return error.childExitCode;
  if (error instanceof LabctlError) {
    process.stderr.write(`labctl: ${error.message}\n`);
    if (error.hint) process.stderr.write(`  fix: ${error.hint}\n`);
    if (verbose) {
      if (error.details) process.stderr.write(`${error.details}\n`);
      process.stderr.write(`${error.stack ?? ''}\n`);
    }
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`labctl: internal error: ${message.split('\n')[0]}\n`);
  process.stderr.write(verbose ? `${(error as Error)?.stack ?? ''}\n` : '  (run again with --verbose for details, and please report it)\n');
  return ExitCode.internal;
}

if (versionOnly) {
  process.stdout.write(`${LABCTL_VERSION}\n`);
} else {
  try {
    await parseAndRun();
  } catch (error) {
    process.exitCode = report(error);
  }
}
