import type { Renderer } from '../core/renderer.js';
import type { Reporter } from '../usecases/reporter.js';
import type { GlobalArgs } from './options.js';

// All user-facing output of the commands goes through here: results on stdout, progress and
// warnings on stderr, so `labctl render > Vagrantfile` and `--json` stay clean.

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

export function reporterFor(args: GlobalArgs): Reporter {
  return {
    info: (line) => {
      if (!args.quiet) note(line);
    },
    warn: (line) => note(`warning: ${line}`),
    streamTools: !args.quiet,
  };
}

export function rendererFor(args: GlobalArgs): Renderer {
  if (args.verbose) return 'verbose';
  if (args.quiet) return 'simple';
  return process.stderr.isTTY ? 'default' : 'simple';
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
