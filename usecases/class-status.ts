import { labUrl } from '../core/config.js';
import { NotFoundError } from '../core/errors.js';
import type { LabState } from '../core/lab-state.js';
import { readLab } from '../core/state.js';
import { loadClass } from '../core/class-file.js';
import { hasSnapshot, labDomain, revertToCreated } from '../adapters/libvirt-snapshot.js';
import { closeSshMaster } from '../adapters/ssh-mux.js';
import { planClassFile } from './class-plan.js';
import { readLabState } from './guards.js';

// `labctl class status FILE` and `labctl class reset FILE LOGIN`: each student's lab as labctl
// knows it (its own lab.json), with the host the class file gives it.

export interface StudentStatus {
  login: string;
  host: string | undefined;
  ip: string | undefined;
  state: LabState | 'unplaced';
  url: string | undefined;
  /** libvirt holds the lab's "as created" point (`class reset` can go back to it). */
  resetPoint: boolean;
}

export async function classStatus(file: string, env: NodeJS.ProcessEnv = process.env): Promise<{ className: string; students: StudentStatus[] }> {
  const { spec, plan } = await planClassFile(file, env);
  const students = await Promise.all(
    spec.roster.map(async (s): Promise<StudentStatus> => {
      const planned = plan.labs.find((l) => l.login === s.login);
      if (planned === undefined) return { login: s.login, host: undefined, ip: undefined, state: 'unplaced', url: undefined, resetPoint: false };
      const lab = await readLab(planned.lab, env).catch(() => undefined);
      if (lab === undefined) return { login: s.login, host: planned.host, ip: planned.ip, state: 'absent', url: undefined, resetPoint: false };
      const { state } = await readLabState(lab);
      const domain = state === 'absent' ? undefined : await labDomain(lab.paths);
      const resetPoint = domain !== undefined && (await hasSnapshot(planned.uri, domain, lab.paths).catch(() => false));
      return { login: s.login, host: planned.host, ip: lab.config.ip, state, url: labUrl(lab.config), resetPoint };
    }),
  );
  return { className: spec.name, students };
}

/** `labctl class reset FILE LOGIN`: the student's VM back to the moment `class create` finished it. */
export async function resetClassLab(file: string, login: string, env: NodeJS.ProcessEnv = process.env): Promise<{ login: string; url: string }> {
  const spec = await loadClass(file);
  if (!spec.roster.some((s) => s.login === login)) {
    throw new NotFoundError(`${login} is not in the roster of class ${spec.name} (${spec.rosterFile})`, { hint: `\`labctl class status ${file}\` lists the class's students` });
  }
  const lab = await readLab(login, env);
  const uri = lab?.config.libvirt_uri;
  if (lab === undefined || uri === undefined) {
    throw new NotFoundError(`${login} has no class lab`, { hint: `\`labctl class create ${file}\` creates it` });
  }
  const domain = await labDomain(lab.paths);
  if (domain === undefined || !(await hasSnapshot(uri, domain, lab.paths))) {
    throw new NotFoundError(`${login}'s lab has no reset point (class create takes it when the lab's create finishes)`, {
      hint: `\`labctl class create ${file}\` takes it for a lab that is ready, or \`labctl destroy ${login}\` then \`labctl class create ${file}\` makes the lab again`,
    });
  }
  // The shared SSH connection points at the VM as it was; the reverted one is another session.
  await closeSshMaster(lab.paths);
  await revertToCreated(uri, domain, lab.paths);
  return { login, url: labUrl(lab.config) };
}
