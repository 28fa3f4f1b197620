import { NAMESPACE_TYPES, type Address, type GuestBoot, type ImageLayer, type LoggedBoot, type NamespaceType } from './layers-report.js';

// Pure readers of what `labctl layers` asks on the host and in the VM. Both sides run one shell
// script whose probes print sections (layers/probes.ts): a record separator and the probe's name,
// its output, then a unit separator, its exit status and the first line of its stderr. Each parser
// takes one section's text as the program printed it; each is unit-tested on recorded output.

export interface Section {
  output: string;
  code: number;
  /** The first line of what the probe wrote on stderr, for the problem line when it failed. */
  error: string;
}

const RS = '\x1e';
const US = '\x1f';

/** The script's stdout → its sections by name. A section cut short (the script killed) is absent. */
export function splitSections(stdout: string): Map<string, Section> {
  const sections = new Map<string, Section>();
  for (const chunk of stdout.split(`\n${RS}`).map((c, i) => (i === 0 ? c.replace(new RegExp(`^${RS}`), '') : c))) {
    const nl = chunk.indexOf('\n');
    if (nl === -1) continue;
    const name = chunk.slice(0, nl);
    const body = chunk.slice(nl + 1);
    const trailer = body.lastIndexOf(US);
    if (trailer === -1 || (trailer > 0 && body[trailer - 1] !== '\n')) continue;
    const status = /^(\d+) ?(.*)$/s.exec(body.slice(trailer + 1).replace(/\n$/, ''));
    if (status === null) continue;
    sections.set(name, { output: body.slice(0, Math.max(0, trailer - 1)), code: Number(status[1]), error: (status[2] ?? '').trim() });
  }
  return sections;
}

const firstLine = (text: string): string => text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';

/** `model name : Intel(R) Xeon(R) …` (x86), `Model : Raspberry Pi 4` or `Hardware : …` (Arm). */
export function parseCpuModel(output: string): string | null {
  const m = /^[^:\n]*:\s*(.+)$/m.exec(output);
  return m?.[1]?.trim() || null;
}

export function parseCount(output: string): number | null {
  const n = Number(firstLine(output));
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** `grep -o -w -E 'vmx|svm'` prints one word per flag found (nothing, exit 1, when there is none). */
export function parseVirtualizationFlags(output: string): string[] {
  return [...new Set(output.split(/\s+/).filter((w) => w === 'vmx' || w === 'svm'))];
}

/** `MemTotal:       16318148 kB` → bytes. */
export function parseMemTotal(output: string): number | null {
  const kib = /^MemTotal:\s+(\d+)\s*kB/m.exec(output)?.[1];
  return kib === undefined ? null : Number(kib) * 1024;
}

/** `PRETTY_NAME="Debian GNU/Linux 13 (trixie)"` as sed printed its value: quotes removed. */
export function parseOsName(output: string): string | null {
  const line = firstLine(output);
  return line.replace(/^(["'])(.*)\1$/, '$2') || null;
}

/** `ip -o -4 addr show`: `3: eth1    inet 192.168.56.10/24 brd … scope global eth1\ …`. */
export function parseIpAddresses(output: string): Address[] {
  const out: Address[] = [];
  for (const line of output.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+(\d+\.\d+\.\d+\.\d+\/\d+)/.exec(line);
    if (m?.[1] && m[2]) out.push({ interface: m[1], cidr: m[2] });
  }
  return out;
}

function ipToNumber(ip: string): number | null {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

/** The address (without prefix) whose network holds `ip`, other than `ip` itself: the host's side of the VM's network. */
export function addressOnNetworkOf(addresses: readonly Address[], ip: string): string | null {
  const target = ipToNumber(ip);
  if (target === null) return null;
  for (const a of addresses) {
    const [addr = '', prefixText = ''] = a.cidr.split('/');
    const own = ipToNumber(addr);
    const prefix = Number(prefixText);
    if (own === null || !Number.isInteger(prefix) || prefix < 1 || prefix > 32 || own === target) continue;
    const mask = prefix === 32 ? 0xffffffff : (~(0xffffffff >>> prefix)) >>> 0;
    if ((own & mask) === (target & mask)) return addr;
  }
  return null;
}

/** `pgrep -a -f PATTERN`: `12345 /usr/bin/qemu-system-x86_64 -name guest=… -uuid …`. */
export function parsePgrep(output: string): Array<{ pid: number; command: string }> {
  const out: Array<{ pid: number; command: string }> = [];
  for (const line of output.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) out.push({ pid: Number(m[1]), command: m[2] });
  }
  return out;
}

/** Process names a VM runs as: QEMU (libvirt) and VirtualBox's headless or windowed VM process. */
export function isVmProcessName(name: string): boolean {
  return /^(qemu-system-|qemu-kvm|kvm$|VBoxHeadless|VirtualBoxVM|VirtualBox$)/.test(name);
}

export interface ProcStatus {
  name: string | null;
  rssBytes: number | null;
  threads: number | null;
  /** `NSpid: 4242 1`: the PID in each PID namespace the process is in, outermost first. */
  nsPids: number[];
}

/** Lines of /proc/<pid>/status (`Name:`, `VmRSS:`, `Threads:`, `NSpid:`). */
export function parseProcStatus(output: string): ProcStatus {
  const field = (key: string): string | undefined => new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(output)?.[1]?.trim();
  const rss = /^(\d+)\s*kB$/.exec(field('VmRSS') ?? '')?.[1];
  const threads = Number(field('Threads'));
  return {
    name: field('Name') || null,
    rssBytes: rss === undefined ? null : Number(rss) * 1024,
    threads: Number.isInteger(threads) && threads > 0 ? threads : null,
    nsPids: (field('NSpid') ?? '').split(/\s+/).filter((w) => /^\d+$/.test(w)).map(Number),
  };
}

/** QEMU's accelerator on its command line: `-accel kvm`, `-machine …,accel=tcg`, `-enable-kvm`. */
export function accelerationOf(command: string): 'kvm' | 'tcg' | undefined {
  const m = /(?:^|\s)-accel\s+(?:accel=)?(kvm|tcg)\b|[,\s]accel=(kvm|tcg)\b/.exec(command);
  const word = m?.[1] ?? m?.[2];
  if (word === 'kvm' || word === 'tcg') return word;
  return /(?:^|\s)-enable-kvm\b/.test(command) ? 'kvm' : undefined;
}

/** Lines `pid pid:[4026531836]` (the namespace type, then readlink's answer). */
export function parseNamespaces(output: string): Partial<Record<NamespaceType, string>> {
  const out: Partial<Record<NamespaceType, string>> = {};
  for (const line of output.split('\n')) {
    const m = /^(\S+)\s+(\S+:\[\d+\])\s*$/.exec(line.trim());
    const type = NAMESPACE_TYPES.find((t) => t === m?.[1]);
    if (type !== undefined && m?.[2]) out[type] = m[2];
  }
  return out;
}

/** /proc/<pid>/cgroup: the v2 line `0::/system.slice/docker-….scope`, else the v1 controllers' paths. */
export function parseCgroupPath(output: string): string | null {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const v2 = lines.find((l) => l.startsWith('0::'));
  if (v2 !== undefined && lines.length === 1) return v2.slice(3) || '/';
  const v1 = [...new Set(lines.filter((l) => !l.startsWith('0::')).map((l) => l.split(':').slice(2).join(':')).filter((p) => p !== ''))];
  if (v1.length > 0) return v1.join(', ');
  return v2 === undefined ? null : v2.slice(3) || '/';
}

export interface CgroupFiles {
  memoryMax: string | null;
  cpuMax: string | null;
  pidsMax: string | null;
  memoryCurrentBytes: number | null;
}

/** Lines `memory.max max` as the probe printed them; `-` for a file that could not be read. */
export function parseCgroupFiles(output: string): CgroupFiles {
  const value = (file: string): string | null => {
    const v = new RegExp(`^${file.replace('.', '\\.')}\\s+(.+)$`, 'm').exec(output)?.[1]?.trim();
    return v === undefined || v === '-' || v === '' ? null : v;
  };
  const current = Number(value('memory.current'));
  return { memoryMax: value('memory.max'), cpuMax: value('cpu.max'), pidsMax: value('pids.max'), memoryCurrentBytes: Number.isFinite(current) && value('memory.current') !== null ? current : null };
}

export interface RootMount {
  type: string | null;
  lowerLayers: number | null;
  upperDir: string | null;
  /** The read-only layers' directories, top first. */
  lowerDirs: string[];
}

/** The `/` line of /proc/<pid>/mounts: `overlay / overlay rw,relatime,lowerdir=/a:/b,upperdir=/u,workdir=/w 0 0`. */
export function parseRootMount(output: string): RootMount {
  const line = output.split('\n').find((l) => l.split(' ')[1] === '/') ?? '';
  const [, , type, options = ''] = line.split(' ');
  const option = (key: string): string | undefined => options.split(',').find((o) => o.startsWith(`${key}=`))?.slice(key.length + 1);
  const lowerDirs = (option('lowerdir') ?? '').split(':').filter((p) => p !== '');
  return { type: type || null, lowerLayers: option('lowerdir') === undefined ? null : lowerDirs.length, upperDir: option('upperdir') ?? null, lowerDirs };
}

/** The parts of `docker inspect <container>…` that `labctl layers` reads. */
export interface InspectedContainer {
  id: string;
  name: string;
  service: string;
  image: string;
  imageId: string;
  hostname: string | null;
  running: boolean;
  pid: number;
  command: string;
  graphDriver: string | null;
  networks: Array<{ network: string; ip: string }>;
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** `docker inspect` of containers (a JSON array) → the fields above; entries of another shape are skipped. */
export function parseContainerInspect(json: string): InspectedContainer[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(data)) return [];
  const out: InspectedContainer[] = [];
  for (const c of data) {
    if (!isRecord(c) || typeof c.Id !== 'string') continue;
    const config = isRecord(c.Config) ? c.Config : {};
    const state = isRecord(c.State) ? c.State : {};
    const host = isRecord(c.HostConfig) ? c.HostConfig : {};
    const labels = isRecord(config.Labels) ? config.Labels : {};
    const graph = isRecord(c.GraphDriver) ? c.GraphDriver : {};
    const settings = isRecord(c.NetworkSettings) ? c.NetworkSettings : {};
    const networks = isRecord(settings.Networks) ? settings.Networks : {};
    const name = str(c.Name).replace(/^\//, '');
    const args = Array.isArray(c.Args) ? c.Args.map(str) : [];
    out.push({
      id: c.Id,
      name,
      service: str(labels['com.docker.compose.service']) || name,
      image: str(config.Image),
      imageId: str(c.Image),
      hostname: str(config.Hostname) || null,
      running: state.Running === true,
      pid: num(state.Pid),
      command: [str(c.Path), ...args].filter((w) => w !== '').join(' '),
      graphDriver: str(graph.Name) || null,
      networks: Object.entries(networks).flatMap(([network, n]) => (isRecord(n) && str(n.IPAddress) !== '' ? [{ network, ip: str(n.IPAddress) }] : [])),
      memoryBytes: num(host.Memory),
      nanoCpus: num(host.NanoCpus),
      pidsLimit: typeof host.PidsLimit === 'number' && host.PidsLimit > 0 ? host.PidsLimit : null,
    });
  }
  return out;
}

/** `docker inspect -f '{{.Id}} {{.State.Pid}} {{.Image}}'` lines, as the guest script's loop read them. */
export function parseContainerList(output: string): Array<{ id: string; pid: number; imageId: string }> {
  return output
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((w) => w.length === 3 && /^[0-9a-f]{12,64}$/.test(w[0] ?? ''))
    .map(([id = '', pid = '0', imageId = '']) => ({ id, pid: Number(pid), imageId }));
}

/** `docker history --human=false --no-trunc --format '{{.Size}} {{json .CreatedBy}}'`, newest layer first. */
export function parseImageHistory(output: string): ImageLayer[] {
  const out: ImageLayer[] = [];
  for (const line of output.split('\n')) {
    const m = /^(\d+)\s+(".*")\s*$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    let createdBy = '';
    try {
      createdBy = String(JSON.parse(m[2]));
    } catch {
      createdBy = m[2];
    }
    out.push({ sizeBytes: Number(m[1]), createdBy: dockerfileLine(createdBy) });
  }
  return out;
}

/**
 * A history entry as the Dockerfile line it came from: BuildKit's `RUN |1 ARG=v /bin/sh -c cmd # buildkit`
 * and the legacy builder's `/bin/sh -c #(nop)  CMD …` / `/bin/sh -c cmd` → `RUN cmd`, `CMD …`.
 */
export function dockerfileLine(createdBy: string): string {
  const text = createdBy.replace(/\s+/g, ' ').trim().replace(/ # buildkit$/, '');
  const legacy = /^\/bin\/sh -c (#\(nop\) )?(.*)$/.exec(text);
  if (legacy) return legacy[1] ? (legacy[2] ?? '').trim() : `RUN ${legacy[2] ?? ''}`;
  const run = /^RUN (?:\|\d+ (?:\S+=\S* )*)?\/bin\/sh -c (.*)$/.exec(text);
  return run ? `RUN ${run[1] ?? ''}` : text;
}

/** `docker image inspect --format '{{.Id}} {{.Size}}'` → bytes by image id. */
export function parseImageSizes(output: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of output.split('\n')) {
    const m = /^(sha256:[0-9a-f]{64}|[0-9a-f]{12,64})\s+(\d+)\s*$/.exec(line.trim());
    if (m?.[1] && m[2]) out.set(m[1], Number(m[2]));
  }
  return out;
}

const UNIT_BYTES: Record<string, number> = { b: 1, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12 };

/** A size as docker prints it (`12.02MiB`, `1.914GiB`, `900KiB`, `0B`, `25.3MB`) → bytes. */
export function parseDockerSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B|kB|B)$/i.exec(text.trim());
  const factor = UNIT_BYTES[(m?.[2] ?? '').toLowerCase()];
  return m?.[1] === undefined || factor === undefined ? null : Math.round(Number(m[1]) * factor);
}

/** `docker stats --no-stream --no-trunc --format '{{json .}}'` → memory in use by container id. */
export function parseDockerStats(output: string): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      continue;
    }
    if (!isRecord(row)) continue;
    const id = str(row.ID) || str(row.Container);
    if (id === '') continue;
    out.set(id, parseDockerSize(str(row.MemUsage).split('/')[0] ?? ''));
  }
  return out;
}

/** A systemd time span: `812ms`, `4.103s`, `1min 2.345s`, `1h 2min 3s`. */
export function parseTimespan(text: string): number | null {
  const units: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000 };
  let total = 0;
  let matched = false;
  for (const part of text.trim().split(/\s+/)) {
    const m = /^(\d+(?:\.\d+)?)(us|ms|s|min|h)$/.exec(part);
    if (m?.[1] === undefined || m[2] === undefined) return null;
    total += Number(m[1]) * (units[m[2]] ?? 0);
    matched = true;
  }
  return matched ? Math.round(total) : null;
}

/** `Startup finished in 1.9s (kernel) + 11.2s (userspace) = 13.1s` (firmware and loader parts may come first). */
export function parseSystemdAnalyze(output: string): GuestBoot | null {
  const line = /^Startup finished in (.*)$/m.exec(output)?.[1];
  if (line === undefined) return null;
  const [parts = '', totalText = ''] = line.split(' = ');
  const part = (what: string): number | null => {
    const m = new RegExp(`([\\d.]+(?:us|ms|s|min|h)(?: [\\d.]+(?:us|ms|s|min|h))*) \\(${what}\\)`).exec(parts);
    return m?.[1] === undefined ? null : parseTimespan(m[1]);
  };
  const total = parseTimespan(totalText.replace(/\s*$/, ''));
  return total === null ? null : { kernelMs: part('kernel'), userspaceMs: part('userspace'), totalMs: total };
}

/**
 * The last `vagrant up` or `vagrant reload` that succeeded, from labctl.log's call lines
 * (`2026-01-05T10:00:00.000Z vagrant up --provider libvirt --no-provision → exit 0 in 212345 ms`).
 */
export function parseLastBoot(log: string): LoggedBoot | null {
  let last: LoggedBoot | null = null;
  for (const line of log.split('\n')) {
    const m = /^(\d{4}-\d{2}-\d{2}T[\d:.]+Z) (vagrant (?:up|reload)\b[^→]*?) → exit 0 in (\d+) ms$/.exec(line);
    if (m?.[1] && m[2] && m[3]) last = { at: m[1], command: m[2].trim(), ms: Number(m[3]) };
  }
  return last;
}

/** `du -sb DIR…`: `bytes<TAB>path` lines. */
export function parseDu(output: string): Array<{ bytes: number; path: string }> {
  return output
    .split('\n')
    .map((l) => /^(\d+)\t(.+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ bytes: Number(m[1]), path: m[2] ?? '' }));
}

/** Vagrant keeps each version of a box in a folder of its own: the newest one (by version numbers) is the one `vagrant up` takes. */
export function newestBoxVersion(entries: ReadonlyArray<{ bytes: number; path: string }>, boxDir: string): { bytes: number; path: string } | null {
  const version = (path: string): number[] => (path.slice(boxDir.length).split('/').find((p) => p !== '') ?? '').split('.').map((n) => Number(n) || 0);
  const compare = (a: number[], b: number[]): number => {
    for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
    return 0;
  };
  const inBox = entries.filter((e) => e.path.startsWith(`${boxDir}/`));
  return inBox.reduce<{ bytes: number; path: string } | null>((best, e) => (best === null || compare(version(e.path), version(best.path)) > 0 ? e : best), null);
}

/** `virsh nodeinfo`: `CPU model: x86_64`, `CPU(s): 8`, `Memory size: 16318148 KiB`. */
export function parseVirshNodeinfo(output: string): { cpuModel: string | null; cpus: number | null; memoryBytes: number | null } {
  const field = (key: string): string | undefined => new RegExp(`^${key}:\\s*(.+)$`, 'm').exec(output)?.[1]?.trim();
  const kib = /^(\d+)\s*KiB$/.exec(field('Memory size') ?? '')?.[1];
  const cpus = Number(field('CPU\\(s\\)'));
  return { cpuModel: field('CPU model') ?? null, cpus: Number.isInteger(cpus) && cpus > 0 ? cpus : null, memoryBytes: kib === undefined ? null : Number(kib) * 1024 };
}

/** `virsh domstats --balloon`: `balloon.rss=1234567` (KiB) — the RSS of the VM's process on its host. */
export function parseBalloonRss(output: string): number | null {
  const kib = /^\s*balloon\.rss=(\d+)\s*$/m.exec(output)?.[1];
  return kib === undefined ? null : Number(kib) * 1024;
}

/** The restart probe's last line: `running_ms=812 healthy_ms=5321 timed_out=0` (empty values: never reached). */
export function parseRestartTiming(output: string): { runningMs: number | null; healthyMs: number | null; timedOut: boolean } | null {
  const m = /running_ms=(\d*) healthy_ms=(\d*) timed_out=([01])/.exec(output);
  if (m === null) return null;
  return { runningMs: m[1] ? Number(m[1]) : null, healthyMs: m[2] ? Number(m[2]) : null, timedOut: m[3] === '1' };
}
