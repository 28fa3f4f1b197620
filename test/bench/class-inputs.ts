// The bench's `class` group on paper (issue 18): the class file and roster it writes for the
// classroom of test/helpers/class-hosts.ts, the `labctl create` lines of its baseline, and the
// per-student times read back from `class create`'s summary table. Pure; the measuring is in
// class-group.ts.

/** Three students, as in the class e2e: enough for host 1 to run two labs at once. */
export const CLASS_STUDENTS = ['alice', 'bob', 'carol'] as const;
/** Capacities 2 and 1: host 1 runs two creates side by side, host 2 one. */
export const CLASS_HOSTS = [
  { name: 'host-1', capacity: 2 },
  { name: 'host-2', capacity: 1 },
] as const;
/**
 * The class e2e's settings: the small class-tiny project and one emulated vCPU per lab, so that
 * three labs fit on the bench machine's two cores and in its time.
 */
export const CLASS_SETTINGS = { memoryMiB: 1536, cpus: 1, libvirtDriver: 'qemu' } as const;
/** Addresses per host in the class file; the baseline's labs take the block after the hosts'. */
const ADDRESSES_PER_HOST = 10;
/** The name the class file gives the class. */
export const CLASS_NAME = 'bench-class';

export interface ClassroomFacts {
  /** The classroom LAN's address for a last octet (ClassHosts.lan.address). */
  address: (lastOctet: number) => string;
  /** The first last octet free for labs (LAN_FIRST_FREE). */
  firstFree: number;
  /** Each host's libvirt URI, in CLASS_HOSTS' order. */
  uris: readonly string[];
  /** The hosts' LAN interface the labs are bridged onto (LAN_INTERFACE). */
  bridge: string;
  box: string;
  /** Absolute path of the project every lab runs. */
  project: string;
}

export interface ClassBenchInputs {
  classYaml: string;
  rosterCsv: string;
  /** The same three labs for the baseline, one after the other on host 1, each at its own address. */
  sequential: Array<{ login: string; ip: string }>;
}

export function classBenchInputs(f: ClassroomFacts): ClassBenchInputs {
  if (f.uris.length !== CLASS_HOSTS.length) throw new RangeError(`the class group needs ${CLASS_HOSTS.length} host URIs, got ${f.uris.length}`);
  const range = (i: number) => `${f.address(f.firstFree + i * ADDRESSES_PER_HOST)}-${f.address(f.firstFree + (i + 1) * ADDRESSES_PER_HOST - 1)}`;
  // Strings go out JSON-quoted: a JSON string is a YAML double-quoted scalar, whatever a path holds.
  const q = (s: string) => JSON.stringify(s);
  const classYaml = [
    `name: ${CLASS_NAME}`,
    'roster: roster.csv',
    'settings:',
    `  box: ${q(f.box)}`,
    `  project: ${q(f.project)}`,
    `  libvirt_driver: ${CLASS_SETTINGS.libvirtDriver}`,
    `  memory: ${CLASS_SETTINGS.memoryMiB}`,
    `  cpus: ${CLASS_SETTINGS.cpus}`,
    'hosts:',
    ...CLASS_HOSTS.flatMap((h, i) => [`  - name: ${h.name}`, `    uri: ${q(f.uris[i] ?? '')}`, `    capacity: ${h.capacity}`, `    addresses: ${range(i)}`, `    bridge: ${q(f.bridge)}`]),
    '',
  ].join('\n');
  const rosterCsv = ['login', ...CLASS_STUDENTS, ''].join('\n');
  // Addresses no class lab had: no stale neighbour entry or host key from the class run meets them.
  const first = f.firstFree + CLASS_HOSTS.length * ADDRESSES_PER_HOST;
  return { classYaml, rosterCsv, sequential: CLASS_STUDENTS.map((login, i) => ({ login, ip: f.address(first + i) })) };
}

/**
 * One baseline lab: what a teacher ran before class mode, on one machine. The line is the one
 * `class create` gives each student's child (usecases/class-create.ts createArgs; a unit test holds
 * the two equal), so that only where the labs run and how many at once differ.
 */
export function sequentialCreateArgv(f: Pick<ClassroomFacts, 'bridge' | 'box' | 'project'>, lab: { login: string; ip: string }, uri: string): string[] {
  return [
    'create',
    lab.login,
    '--login',
    lab.login,
    '--provider',
    'libvirt',
    '--libvirt-uri',
    uri,
    '--ip',
    lab.ip,
    '--bridge',
    f.bridge,
    '--box',
    f.box,
    '--project',
    f.project,
    '--memory',
    String(CLASS_SETTINGS.memoryMiB),
    '--cpus',
    String(CLASS_SETTINGS.cpus),
    '--libvirt-driver',
    CLASS_SETTINGS.libvirtDriver,
    '--yes',
    '--quiet',
  ];
}

export interface SummaryRow {
  login: string;
  host: string;
  outcome: string;
  /** Undefined when the table gives no time (`—`). */
  seconds: number | undefined;
}

/**
 * The student rows of `class create`'s summary table (cli/class-results.ts createSummaryText):
 * student, host, IP, outcome, time (`612 s`), why. Lines that continue a wrapped `why` cell, the
 * header and the borders are no student's row and are left out.
 */
export function summaryRows(stdout: string, logins: readonly string[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const line of stdout.split('\n')) {
    const cells = line.split('│').slice(1, -1).map((c) => c.trim());
    const [login, host, , outcome, time] = cells;
    if (cells.length < 5 || login === undefined || !logins.includes(login) || rows.some((r) => r.login === login)) continue;
    const seconds = /^(\d+) s$/.exec(time ?? '')?.[1];
    rows.push({ login, host: host ?? '', outcome: outcome ?? '', seconds: seconds === undefined ? undefined : Number(seconds) });
  }
  return rows;
}
