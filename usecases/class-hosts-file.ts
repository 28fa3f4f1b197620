import { loadClass } from '../core/class-file.js';
import { planClass, type PlannedLab } from '../core/class-plan.js';
import { ConfigError, NotFoundError } from '../core/errors.js';
import { existingClassLabs } from './class-labs.js';

export interface ClassHostsFile {
  className: string;
  /** The comment line that opens the block. */
  header: string;
  labs: PlannedLab[];
  /** Asked-for logins the plan gives no address. */
  unplaced: string[];
}

/**
 * `labctl class hosts-file FILE [--login L]`: the `<ip> <login>.42.fr` line of each student (or
 * one), to hand out. No host is contacted, so the addresses come from the labs that exist and from
 * the capacities written in the file: a host whose capacity would come from its RAM cannot be
 * planned here, and saying so beats handing out addresses that `class create` would not use.
 */
export async function classHostsFile(file: string, opts: { login?: string | undefined; env?: NodeJS.ProcessEnv } = {}): Promise<ClassHostsFile> {
  const spec = await loadClass(file);
  const wanted = opts.login === undefined ? spec.roster : spec.roster.filter((s) => s.login === opts.login);
  if (opts.login !== undefined && wanted.length === 0) {
    throw new NotFoundError(`"${opts.login}" is not in the roster ${spec.rosterFile}`, { hint: 'check the spelling of the login, or add the student to the roster' });
  }
  const existing = await existingClassLabs(spec, opts.env);
  const unknown = spec.hosts.findIndex((h) => h.capacity === undefined);
  if (unknown >= 0 && wanted.some((s) => !existing.placed.has(s.login))) {
    throw new ConfigError(
      `hosts[${unknown}].capacity`,
      `is not in the class file, and hosts-file asks no host for its RAM to derive it (host ${spec.hosts[unknown]?.name ?? ''})`,
      'give every host a capacity, or print the lines once `labctl class create` has made the labs (they keep their addresses)',
    );
  }
  const plan = planClass(spec, new Map(), existing.placed, existing.reservedIps);
  const logins = new Set(wanted.map((s) => s.login));
  return {
    className: spec.name,
    header: `# labctl class ${spec.name}: add to the hosts file (/etc/hosts; Windows: C:\\Windows\\System32\\drivers\\etc\\hosts)`,
    labs: plan.labs.filter((l) => logins.has(l.login)),
    unplaced: plan.unplaced.filter((l) => logins.has(l)),
  };
}
