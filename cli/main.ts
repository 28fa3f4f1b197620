#!/usr/bin/env node
import { ChildExitError, ExitCode, fromSystemError, LabctlError } from '../core/errors.js';
import { installInterruptHandlers } from '../core/interrupt.js';
import { LABCTL_VERSION } from '../core/version.js';
import { helpWidth, program, topLevelHelp, VERSION_ALIASES } from './program.js';

// The one exit point: command modules only declare flags and call use cases (loaded lazily);
// every error ends here and becomes one line plus an exit code. Stacks only with --verbose.

// yargs' hideBin is argv.slice(2) outside Electron; importing yargs/helpers for it cost ~30 ms a start.
const argv = process.argv.slice(2);
// Asked alone, the version and the top-level help are printed before yargs loads: scripts ask the
// version often, people the help, and loading yargs costs more than Node's own start
// (cli/help.ts lays the help out as yargs would; its test holds the two byte-equal).
const versionOnly = argv.length === 1 && ['--version', ...VERSION_ALIASES.map((a) => `-${a}`)].includes(argv[0] ?? '');
const helpOnly = argv.length === 1 && ['--help', '-h'].includes(argv[0] ?? '');
const verbose = argv.includes('--verbose');

async function parseAndRun(): Promise<void> {
  installInterruptHandlers();
  await (await program(argv)).parseAsync();
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
} else if (helpOnly) {
  process.stdout.write(`${topLevelHelp(helpWidth())}\n`);
} else {
  try {
    await parseAndRun();
  } catch (error) {
    process.exitCode = report(error);
  }
}
