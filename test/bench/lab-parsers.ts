// Pure readers of what a lab leaves behind, for the bench: labctl.log (each line starts with an ISO
// timestamp, core/lab-log.ts) and `docker stats` output. Unit-tested on recorded samples.

export interface StageRow {
  name: string;
  /** Undefined when the stage failed. */
  seconds: number | undefined;
  note: string;
}

const STAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z) (.*)$/;

/** create's and provisioning's steps: `step "<title>": ran in <ms> ms` / `skipped (…)` / `failed after <ms> ms: …`. */
export function provisioningSteps(log: string): StageRow[] {
  return [...log.matchAll(/step "([^"]+)": (ran in (\d+) ms|skipped|failed after (\d+) ms)/g)].map((m) => {
    if (m[3] !== undefined) return { name: m[1] ?? '', seconds: Number(m[3]) / 1000, note: '' };
    if (m[4] !== undefined) return { name: m[1] ?? '', seconds: undefined, note: `failed after ${(Number(m[4]) / 1000).toFixed(1)} s` };
    return { name: m[1] ?? '', seconds: 0, note: 'skipped' };
  });
}

export interface Phase {
  phase: string;
  seconds: number;
}

/**
 * vagrant-libvirt's progress lines that open a phase of `vagrant up`. A phase lasts until the next
 * one opens or vagrant ends; one whose line is missing (no box upload when the pool has the volume)
 * is simply absent. Two lines opening the same phase in a row count as one.
 */
const PHASE_MARKERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/Uploading base box image as volume/, 'box upload into the libvirt pool'],
  [/Creating image \(snapshot of base box volume\)/, 'disk image (snapshot of the box volume)'],
  [/Creating domain with the following settings/, 'domain creation'],
  [/Starting domain\./, 'domain start'],
  [/Waiting for domain to get an IP address/, 'wait for an IP address'],
  [/Waiting for (?:machine to boot|SSH to become available)/, 'boot, wait for SSH'],
  [/Machine booted and ready!/, 'hostname, network, synced folders'],
];
const FIRST_PHASE = 'vagrant start, box check';

/**
 * The phases of the last `vagrant up` in a lab's labctl.log, from the times of its progress lines
 * (labctl copies each line as it comes, with its own timestamp). Empty when the log has no
 * `$ vagrant up` or its lines carry no time.
 */
export function vagrantUpPhases(log: string): Phase[] {
  const lines = log.split('\n').map((l) => STAMP.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  const start = lines.findLastIndex((m) => /^\$ vagrant up\b/.test(m[2] ?? ''));
  if (start === -1) return [];
  const marks: Array<{ phase: string; at: number }> = [{ phase: FIRST_PHASE, at: Date.parse(lines[start]?.[1] ?? '') }];
  let endAt: number | undefined;
  for (const m of lines.slice(start + 1)) {
    const at = Date.parse(m[1] ?? '');
    const text = m[2] ?? '';
    // The runner's call line (`vagrant up … → exit 0 in 81234 ms`) closes the block.
    if (/^vagrant up\b.* → /.test(text)) {
      endAt = at;
      break;
    }
    endAt = at;
    const phase = PHASE_MARKERS.find(([re]) => re.test(text))?.[1];
    if (phase !== undefined && marks.at(-1)?.phase !== phase) marks.push({ phase, at });
  }
  if (endAt === undefined) return [];
  return marks.map((mark, i) => ({ phase: mark.phase, seconds: Math.round(((marks[i + 1]?.at ?? endAt) - mark.at) / 100) / 10 }));
}

/** A docker size (`12.5MiB`, `1.2GiB`, `900KiB`, `512B`, and the decimal `kB`/`MB`/`GB`) in MiB. */
export function sizeMiB(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B|kB|B)$/i.exec(text.trim());
  if (m === null) return undefined;
  const unit = (m[2] ?? '').toLowerCase();
  const bytes: Record<string, number> = { b: 1, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12 };
  const factor = bytes[unit];
  return factor === undefined ? undefined : (Number(m[1]) * factor) / 2 ** 20;
}

export interface ContainerMemory {
  name: string;
  mib: number;
}

/**
 * `docker stats --no-stream --format '{{.Name}} {{.MemUsage}}'`: `nginx 5.2MiB / 1.93GiB` per line;
 * the used part (before the slash) of each container. Lines it cannot read are left out.
 */
export function parseDockerStatsMemory(output: string): ContainerMemory[] {
  const rows: ContainerMemory[] = [];
  for (const line of output.split('\n')) {
    const m = /^(\S+)\s+([^/]+?)\s*\/\s*\S+\s*$/.exec(line.trim());
    if (m === null) continue;
    const mib = sizeMiB(m[2] ?? '');
    if (mib !== undefined) rows.push({ name: m[1] ?? '', mib });
  }
  return rows;
}
