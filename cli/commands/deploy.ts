import type { ArgumentsCamelCase, Argv } from 'yargs';
import { LabctlError } from '../../core/errors.js';
import type { DeployOutcome, DeploySummary } from '../../usecases/deploy.js';
import { interruptSignal } from '../interrupt.js';
import { withLabName, type CommandHandlers, type GlobalArgs } from '../options.js';
import { note, print, rendererFor, reporterFor } from '../output.js';

type Args = GlobalArgs & { name?: string; target?: string; watch: boolean; probe: boolean };

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function listed(paths: readonly string[], max = 5): string {
  return paths.length <= max ? paths.join(', ') : `${paths.slice(0, max).join(', ')} and ${paths.length - max} more`;
}

/** What changed, then each step with its time: the student sees where the seconds went. */
export function deploySummaryText(s: DeploySummary): string {
  const { uploaded, removed } = s.pushed;
  const changed = uploaded.length + removed.length === 0
    ? 'no file changed'
    : [uploaded.length > 0 ? `${uploaded.length} pushed (${listed(uploaded)})` : '', removed.length > 0 ? `${removed.length} removed (${listed(removed)})` : ''].filter(Boolean).join(', ');
  const width = Math.max(...s.steps.map((step) => step.title.length));
  const lines = s.steps.map((step) => `  ${step.title.padEnd(width)}  ${step.status === 'ran' ? seconds(step.ms).padStart(7) : `skipped (${step.reason ?? ''})`}`);
  return [`Deployed ${s.project}${s.commit ? ` @ ${s.commit.slice(0, 12)}` : ''} in ${seconds(s.totalMs)}: ${changed}.`, ...lines].join('\n');
}

function errorText(error: unknown): string {
  if (error instanceof LabctlError) return `labctl: deploy failed: ${error.message}${error.hint ? `\n  fix: ${error.hint}` : ''}`;
  return `labctl: deploy failed: ${error instanceof Error ? error.message : String(error)}`;
}

export const command: CommandHandlers<Args> = {
  builder: (y: Argv<GlobalArgs>) =>
    withLabName(y)
      .option('target', { type: 'string', describe: "make goal to run in the VM [default: the Makefile's default goal; labctl's compose/: all, or bonus]" })
      .option('probe', { type: 'boolean', default: true, describe: 'probe https://<login>.42.fr at the end (--no-probe: not yet, e.g. before nginx exists)' })
      .option('watch', { type: 'boolean', default: false, describe: 'deploy again after each change to the project files, until Ctrl-C' })
      .example('$0 deploy', 'after an edit: only changed files go over, make runs only when they changed')
      .example('$0 deploy --watch', 'edit on the host, see it in the lab a few seconds after each save')
      .example('$0 deploy --target re', "run the Makefile's re goal instead of its default") as Argv<Args>,
  handler: async (args: ArgumentsCamelCase<Args>) => {
    const { deployLab, watchAndDeploy } = await import('../../usecases/deploy.js');
    const base = { renderer: rendererFor(args), reporter: reporterFor(args), target: args.target, probe: args.probe, signal: interruptSignal() };
    if (!args.watch) {
      print(deploySummaryText(await deployLab(args.name, base)));
      return;
    }
    await watchAndDeploy(args.name, {
      ...base,
      onDeploy: (outcome: DeployOutcome, trigger) => {
        if (trigger !== undefined) note(`changed: ${trigger}`);
        if ('summary' in outcome) print(deploySummaryText(outcome.summary));
        else note(errorText(outcome.error));
      },
      onWatching: (dir) => note(`Watching ${dir} (Ctrl-C stops)…`),
    });
  },
};
