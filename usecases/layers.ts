import { stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EnvironmentError, NotFoundError } from '../core/errors.js';
import type { LayersReport } from '../core/layers-report.js';
import { loadLab, resolveLabName, withLabLock } from '../core/state.js';
import { cachedSshTarget } from '../adapters/vagrant.js';
import { collectLayers } from '../layers/collect.js';
import { renderLayersHtml } from '../layers/html.js';
import { requireVm } from './guards.js';
import type { Reporter } from './reporter.js';

export interface LayersRequest {
  /** Add the comparison numbers: boot time from the log, a container restart timed now, memory, disk. */
  measure: boolean;
  /** With measure: the service to restart (default: adminer, else nginx). */
  restart?: string | undefined;
  /** Also write the one-page report there. */
  html?: string | undefined;
}

export interface LayersOutcome {
  report: LayersReport;
  /** The report page, absolute, when --html asked for one. */
  htmlPath?: string;
}

/** `labctl layers`: the lab's three layers read live, and the page when asked. */
export async function showLayers(name: string | undefined, request: LayersRequest, reporter: Reporter, env: NodeJS.ProcessEnv = process.env): Promise<LayersOutcome> {
  const lab = await loadLab(await resolveLabName(name, env), env);
  // A page that cannot be written is said before a minute of reading the VM, not after.
  const htmlPath = request.html === undefined ? undefined : await writableFile(request.html);
  const { vm } = await requireVm(lab, 'read');
  if (vm !== 'running') {
    throw new NotFoundError(`lab "${lab.config.name}" is not running (VM state: ${vm}): its layers can only be read live`, { hint: `start it with \`labctl up ${lab.config.name}\`` });
  }
  await cachedSshTarget(lab.paths); // asks vagrant only when nothing is cached
  const collect = () => collectLayers(lab, { measure: request.measure, restart: request.restart, env, progress: (line) => reporter.info(line) });
  // --measure restarts a container: not in the middle of a deploy's or a provisioning's make.
  const report = request.measure ? await withLabLock(lab.config.name, collect, env) : await collect();
  if (htmlPath === undefined) return { report };
  await writeFile(htmlPath, renderLayersHtml(report), { mode: 0o644 });
  return { report, htmlPath };
}

/** The path --html names, absolute, once its folder exists and it is not a folder itself. */
async function writableFile(path: string): Promise<string> {
  const file = resolve(path);
  const folder = await stat(dirname(file)).catch(() => undefined);
  if (folder === undefined) throw new NotFoundError(`--html: the folder ${dirname(file)} does not exist`, { hint: 'create it first, or give a file in an existing folder (e.g. --html layers.html)' });
  if (!folder.isDirectory()) throw new EnvironmentError(`--html: ${dirname(file)} is not a folder`, { hint: 'give a file in an existing folder (e.g. --html layers.html)' });
  if ((await stat(file).catch(() => undefined))?.isDirectory()) throw new EnvironmentError(`--html: ${file} is a folder`, { hint: `name a file inside it, e.g. --html ${file}/layers.html` });
  return file;
}
