import { loadClass } from '../core/class-file.js';
import { DEFAULTS } from '../core/config.js';
import { readLab } from '../core/state.js';
import { ANY_EXIT_CODE, run } from '../adapters/run.js';
import { childError, perKeyPool, runLabctl } from './class-run.js';

// `labctl class destroy FILE`: every student's lab through `labctl destroy` (VM, hosts line,
// state), then each host asked what is left of the class there: labctl's domains and volumes, and
// vagrant-libvirt's management network once no domain uses it. Whatever could not be removed is
// listed with the host it is on.

const DESTROY_TIMEOUT_MS = 15 * 60_000;
const VIRSH_TIMEOUT_MS = 60_000;
/** Labs destroyed at once per host: destroying is mostly waiting for libvirt. */
const DESTROY_PER_HOST = 3;

export interface ClassDestroyReport {
  className: string;
  destroyed: string[];
  /** Students with no lab to destroy. */
  absent: string[];
  /** `host: what`, for each thing left behind. */
  leftovers: string[];
}

export async function destroyClass(file: string, env: NodeJS.ProcessEnv = process.env, onLine: (line: string) => void = () => {}): Promise<ClassDestroyReport> {
  const spec = await loadClass(file);
  const report: ClassDestroyReport = { className: spec.name, destroyed: [], absent: [], leftovers: [] };
  const labs = await Promise.all(spec.roster.map(async (s) => ({ login: s.login, lab: await readLab(s.login, env).catch(() => undefined) })));
  const existing = labs.filter((l) => l.lab !== undefined);
  report.absent = labs.filter((l) => l.lab === undefined).map((l) => l.login);
  await perKeyPool(
    existing,
    (l) => l.lab?.config.libvirt_uri ?? 'local',
    () => DESTROY_PER_HOST,
    async ({ login }) => {
      onLine(`destroying ${login}…`);
      const r = await runLabctl(['destroy', login, '--yes', '--force'], { env, timeoutMs: DESTROY_TIMEOUT_MS });
      if (r.ok) report.destroyed.push(login);
      else report.leftovers.push(`${login}: ${childError(r)}`);
    },
  );
  const logins = new Set(spec.roster.map((s) => s.login));
  const box = spec.settings.box ?? DEFAULTS.box;
  for (const host of spec.hosts) {
    onLine(`asking ${host.name} what is left…`);
    const left = await hostLeftovers(host.uri, logins);
    // vagrant-libvirt leaves the box it uploaded into the host's pool; once no lab of the class
    // is left there, it goes too (the next class create uploads it again, in seconds).
    if (left.length === 0) left.push(...(await removeBoxVolumes(host.uri, box)));
    for (const leftover of left) report.leftovers.push(`${host.name} (${host.uri}): ${leftover}`);
  }
  return report;
}

/** The class's domains and volumes still on a host (vagrant-libvirt names them labctl-<lab>-…). */
export async function hostLeftovers(uri: string, logins: ReadonlySet<string>): Promise<string[]> {
  const virsh = (args: string[]) => run('virsh', ['-c', uri, ...args], { timeoutMs: VIRSH_TIMEOUT_MS, okCodes: ANY_EXIT_CODE });
  const ours = (name: string) => [...logins].some((login) => name.startsWith(`labctl-${login}-`));
  const domains = await virsh(['list', '--all', '--name']).catch((error: Error) => ({ code: 1, stdout: '', stderr: error.message }));
  if (domains.code !== 0) return [`cannot be asked: ${domains.stderr.trim().split('\n')[0] ?? ''}`];
  const left: string[] = [];
  for (const name of lines(domains.stdout).filter(ours)) left.push(`domain ${name}`);
  const volumes = await virsh(['vol-list', 'default']).catch(() => ({ code: 1, stdout: '', stderr: '' }));
  if (volumes.code === 0) {
    for (const name of lines(volumes.stdout).map((l) => l.split(/\s+/)[0] ?? '').filter(ours)) left.push(`volume ${name} (pool default)`);
  }
  return left;
}

/**
 * Deletes the box volumes vagrant-libvirt uploaded for `box` (named `<box, / as -VAGRANTSLASH->
 * _vagrant_box_image_<version>_<disk>.img`) when no labctl domain is left on the host; returns what could not be deleted.
 */
async function removeBoxVolumes(uri: string, box: string): Promise<string[]> {
  const virsh = (args: string[]) => run('virsh', ['-c', uri, ...args], { timeoutMs: VIRSH_TIMEOUT_MS, okCodes: ANY_EXIT_CODE });
  const prefix = `${box.replaceAll('/', '-VAGRANTSLASH-')}_vagrant_box_image_`;
  // libvirt would delete a volume that backs another domain's disk: any labctl domain keeps the box.
  const domains = await virsh(['list', '--all', '--name']).catch(() => ({ code: 1, stdout: '', stderr: '' }));
  if (domains.code !== 0 || lines(domains.stdout).some((d) => d.startsWith('labctl-'))) return [];
  const volumes = await virsh(['vol-list', 'default']).catch(() => ({ code: 1, stdout: '', stderr: '' }));
  if (volumes.code !== 0) return [];
  const left: string[] = [];
  for (const name of lines(volumes.stdout).map((l) => l.split(/\s+/)[0] ?? '').filter((n) => n.startsWith(prefix))) {
    const r = await virsh(['vol-delete', '--pool', 'default', name]);
    if (r.code !== 0) left.push(`box volume ${name}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
  }
  return left;
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}
