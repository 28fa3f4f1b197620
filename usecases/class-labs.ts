import type { ClassSpec } from '../core/class-file.js';
import { scanLabs } from '../core/state.js';
import { libvirtUri } from '../adapters/host-probes.js';

// Where a class's labs already are, read from LABCTL_HOME: a student's lab is the lab named by their
// login, and its lab.json says at which address and through which libvirt URI it runs. The plan keeps
// those where they are (core/class-plan.ts), and no new lab takes an address another lab holds.

export interface ExistingClassLabs {
  /** Roster logins whose lab exists on one of the class's hosts. */
  placed: Map<string, { host: string; ip: string }>;
  /** Addresses held by every other lab of LABCTL_HOME (the teacher's own, a student's on a host no longer listed). */
  reservedIps: Set<string>;
}

export async function existingClassLabs(spec: ClassSpec, env: NodeJS.ProcessEnv = process.env): Promise<ExistingClassLabs> {
  const roster = new Set(spec.roster.map((s) => s.login));
  const placed = new Map<string, { host: string; ip: string }>();
  const reservedIps = new Set<string>();
  for (const { config } of (await scanLabs(env)).labs) {
    // A lab made without a URI runs on the libvirt vagrant-libvirt finds here: LIBVIRT_DEFAULT_URI, else qemu:///system.
    const uri = config.provider === 'libvirt' ? (config.libvirt_uri ?? libvirtUri(env)) : undefined;
    const host = spec.hosts.find((h) => h.uri === uri);
    if (host !== undefined && config.name === config.login && roster.has(config.login)) placed.set(config.login, { host: host.name, ip: config.ip });
    else reservedIps.add(config.ip);
  }
  return { placed, reservedIps };
}
