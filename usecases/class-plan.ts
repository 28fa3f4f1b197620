import { loadClass, type ClassSpec } from '../core/class-file.js';
import { planClass, type ClassPlan, type HostFacts } from '../core/class-plan.js';
import { AbortedError, LabctlError } from '../core/errors.js';
import { interruptSignal } from '../core/interrupt.js';
import { readHostFacts } from '../adapters/libvirt-host.js';
import { existingClassLabs } from './class-labs.js';

/**
 * `labctl class plan FILE`: the class file and its roster checked, every host asked for its RAM,
 * CPUs and free disk at the same time (a host that cannot be asked is a row saying why, not an
 * error), and the plan of which student's lab goes where.
 */
export async function planClassFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<{ spec: ClassSpec; plan: ClassPlan }> {
  const spec = await loadClass(file);
  const [facts, existing] = await Promise.all([readAllFacts(spec), existingClassLabs(spec, env)]);
  return { spec, plan: planClass(spec, facts, existing.placed, existing.reservedIps) };
}

async function readAllFacts(spec: ClassSpec): Promise<Map<string, HostFacts | Error>> {
  const signal = interruptSignal();
  const answers = await Promise.all(
    spec.hosts.map(async (host) => {
      try {
        return [host.name, await readHostFacts(host.uri, { signal })] as const;
      } catch (error) {
        // A known failure belongs to its host's row; Ctrl-C and labctl's own bugs stop the command.
        if (error instanceof AbortedError || !(error instanceof LabctlError)) throw error;
        return [host.name, error] as const;
      }
    }),
  );
  return new Map<string, HostFacts | Error>(answers);
}
