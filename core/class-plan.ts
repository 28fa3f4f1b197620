import type { ClassHost, ClassSpec } from './class-file.js';
import { DEFAULTS, domainFor } from './config.js';
import { LabctlError } from './errors.js';

// Which student's lab runs on which host, at which address (issue 18). Pure and deterministic: the
// same class file, facts and existing labs give the same plan, so that `class plan` shows what
// `class create` will do. A lab that exists keeps its host and its address: a re-run after a roster
// change moves nobody. New labs are spread over the hosts in proportion to their capacity (the
// least-filled host first, the file's order breaking ties), so that every host works in parallel.

/** What a libvirt host reports about itself (adapters/libvirt-host.ts readHostFacts). */
export interface HostFacts {
  memoryMiB: number;
  cpus: number;
  /** Free space of the host's `default` storage pool, where vagrant-libvirt puts the disks; undefined without one. */
  freeDiskGiB?: number;
}

export interface PlannedLab {
  login: string;
  /** The lab's name: the login. */
  lab: string;
  host: string;
  uri: string;
  ip: string;
  /** domainFor(login). */
  domain: string;
  bridge?: string;
  /** The lab exists already (it was in `existing`) and stays where it is. */
  kept: boolean;
}

export interface HostPlan {
  host: string;
  uri: string;
  /** Labs the host may run: the file's capacity, else derived from its facts, else 0. */
  capacity: number;
  capacitySource: 'file' | 'facts' | 'unknown';
  /** Labs planned on the host, kept ones included. */
  labs: number;
  /** Of `labs`, those that do not exist yet. */
  newLabs: number;
  /** The host's addresses (its range, expanded) and how many no lab takes. */
  addresses: number;
  addressesLeft: number;
  /** RAM all its labs need (per-lab RAM × labs). */
  memoryMiB: number;
  /** Disk the labs still to create need (DISK_PER_LAB_GIB × newLabs): the existing ones already use theirs. */
  diskGiB: number;
  facts?: HostFacts;
  /** Why the host could not be asked, and what to check (the error's hint). */
  factsError?: string;
  factsHint?: string;
  /** Known facts say the host cannot hold this: RAM beyond what it has less HOST_RESERVE_MIB, or disk beyond what is free. */
  overcommitted: boolean;
}

export interface ClassPlan {
  className: string;
  /** In roster order. */
  labs: PlannedLab[];
  hosts: HostPlan[];
  /** Logins with no host (beyond the capacity of every host, or its addresses), in roster order. */
  unplaced: string[];
  /** What one lab takes, as the plan counts it. */
  perLab: { memoryMiB: number; cpus: number; diskGiB: number };
}

/**
 * RAM a host keeps for itself: its system, libvirtd, and QEMU's own memory beside each guest's
 * (about 100–200 MiB a VM). A host of 16 GiB then runs 7 labs of 2 GiB, not 8.
 */
export const HOST_RESERVE_MIB = 2048;

/**
 * Disk one lab may take on its host. Measured (2026-12-05, `du` in the host's pool right after
 * `class create`): 0.5 GiB for a class-tiny lab, and 0.9 GiB once per host for the baked box's
 * volume. A full project's images, build cache and database grow that by gigabytes, and a student
 * rebuilds many times: the plan keeps 8 GiB a lab, well below the box's 20 GiB virtual size.
 */
export const DISK_PER_LAB_GIB = 8;

/**
 * vCPUs a host runs per CPU thread it has. Labs are idle most of the time (a student clicks, the
 * checker probes), so running two vCPUs per thread is safe; the builds of `class create` are what
 * needs CPU, and their parallelism per host is create's own setting.
 */
export const VCPUS_PER_HOST_CPU = 2;

/** RAM and CPUs of one lab: the class's settings, else `labctl create`'s defaults. */
export function perLab(spec: Pick<ClassSpec, 'settings'>): { memoryMiB: number; cpus: number } {
  return { memoryMiB: spec.settings.memoryMiB ?? DEFAULTS.memory, cpus: spec.settings.cpus ?? DEFAULTS.cpus };
}

/** Labs a host of these facts runs: its RAM less the reserve, and its vCPUs, each divided by a lab's share. */
export function capacityFromFacts(facts: HostFacts, lab: { memoryMiB: number; cpus: number }): number {
  const byMemory = Math.floor((facts.memoryMiB - HOST_RESERVE_MIB) / lab.memoryMiB);
  const byCpu = Math.floor((facts.cpus * VCPUS_PER_HOST_CPU) / lab.cpus);
  return Math.max(0, Math.min(byMemory, byCpu));
}

interface Slot {
  host: ClassHost;
  capacity: number;
  capacitySource: HostPlan['capacitySource'];
  labs: PlannedLab[];
  free: string[];
}

/**
 * The plan. `facts` has an entry per host name (an Error when the host could not be asked);
 * `existing` maps the logins whose lab exists to where it is; `reservedIps` are addresses other
 * labs (outside this roster) already use, which no new lab may take.
 */
export function planClass(
  spec: ClassSpec,
  facts: ReadonlyMap<string, HostFacts | Error>,
  existing: ReadonlyMap<string, { host: string; ip: string }> = new Map(),
  reservedIps: ReadonlySet<string> = new Set(),
): ClassPlan {
  const lab = perLab(spec);
  const taken = new Set(reservedIps);
  for (const placed of existing.values()) taken.add(placed.ip);
  const slots: Slot[] = spec.hosts.map((host) => {
    const known = facts.get(host.name);
    const derived = known === undefined || known instanceof Error ? undefined : capacityFromFacts(known, lab);
    const capacity = host.capacity ?? derived ?? 0;
    const capacitySource = host.capacity !== undefined ? 'file' : derived !== undefined ? 'facts' : 'unknown';
    return { host, capacity, capacitySource, labs: [], free: host.addresses.filter((ip) => !taken.has(ip)) };
  });
  const byName = new Map(slots.map((s) => [s.host.name, s]));
  const placed = new Map<string, PlannedLab>();

  // Existing labs first, whatever the capacity now says: moving a student's lab loses their work.
  for (const student of spec.roster) {
    const where = existing.get(student.login);
    const slot = where === undefined ? undefined : byName.get(where.host);
    if (where === undefined || slot === undefined) continue; // on a host no longer in the file: planned anew
    const planned = plannedLab(student.login, slot.host, where.ip, true);
    slot.labs.push(planned);
    placed.set(student.login, planned);
  }
  const unplaced: string[] = [];
  for (const student of spec.roster) {
    if (placed.has(student.login)) continue;
    const slot = leastFilled(slots);
    const ip = slot?.free.shift();
    if (slot === undefined || ip === undefined) {
      unplaced.push(student.login);
      continue;
    }
    const planned = plannedLab(student.login, slot.host, ip, false);
    slot.labs.push(planned);
    placed.set(student.login, planned);
  }

  return {
    className: spec.name,
    labs: spec.roster.flatMap((s) => placed.get(s.login) ?? []),
    hosts: slots.map((slot) => hostPlan(slot, facts.get(slot.host.name), lab)),
    unplaced,
    perLab: { ...lab, diskGiB: DISK_PER_LAB_GIB },
  };
}

/** The host with room whose labs fill the smallest share of its capacity; the first in the file on a tie. */
function leastFilled(slots: readonly Slot[]): Slot | undefined {
  let best: Slot | undefined;
  for (const slot of slots) {
    if (slot.labs.length >= slot.capacity || slot.free.length === 0) continue;
    // labs/capacity < best.labs/best.capacity, in integers.
    if (best === undefined || slot.labs.length * best.capacity < best.labs.length * slot.capacity) best = slot;
  }
  return best;
}

function plannedLab(login: string, host: ClassHost, ip: string, kept: boolean): PlannedLab {
  return { login, lab: login, host: host.name, uri: host.uri, ip, domain: domainFor(login), ...(host.bridge === undefined ? {} : { bridge: host.bridge }), kept };
}

function hostPlan(slot: Slot, known: HostFacts | Error | undefined, lab: { memoryMiB: number }): HostPlan {
  const newLabs = slot.labs.filter((l) => !l.kept).length;
  const memoryMiB = slot.labs.length * lab.memoryMiB;
  const diskGiB = newLabs * DISK_PER_LAB_GIB;
  const facts = known instanceof Error ? undefined : known;
  const overcommitted = facts !== undefined && slot.labs.length > 0 && (memoryMiB > facts.memoryMiB - HOST_RESERVE_MIB || (facts.freeDiskGiB !== undefined && diskGiB > facts.freeDiskGiB));
  return {
    host: slot.host.name,
    uri: slot.host.uri,
    capacity: slot.capacity,
    capacitySource: slot.capacitySource,
    labs: slot.labs.length,
    newLabs,
    addresses: slot.host.addresses.length,
    addressesLeft: slot.free.length,
    memoryMiB,
    diskGiB,
    ...(facts === undefined ? {} : { facts }),
    ...(known instanceof Error ? { factsError: known.message } : {}),
    ...(known instanceof LabctlError && known.hint !== undefined ? { factsHint: known.hint } : {}),
    overcommitted,
  };
}
