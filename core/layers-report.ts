import type { Provider } from './config.js';

// The document `labctl layers` builds and `labctl layers --json` prints (docs/users.md, "labctl
// layers --json"): what is true on each layer of a lab — bare-metal host ⊃ VM ⊃ containers — and
// which command on which layer said so. Sizes are bytes, durations milliseconds; a fact that could
// not be read is null and has a line in `problems`. `schema` changes only when a field changes
// meaning or goes away; new fields may appear without it.

export const LAYERS_SCHEMA = 1;

/** The namespaces /proc/<pid>/ns/ lists that the lesson is about, in the order they are shown. */
export const NAMESPACE_TYPES = ['pid', 'net', 'mnt', 'uts', 'ipc', 'user', 'cgroup'] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

/** Where a command ran: on the machine labctl runs on, or in the VM (as root, through the lab's SSH). */
export type Where = 'host' | 'vm';

export interface FactSource {
  where: Where;
  /** The command as a student would type it there (`sudo` where it needs root). */
  command: string;
  /** The same fact seen from inside the container, where there is such a command. */
  inside?: string;
}

export interface Problem {
  /** The fact id, as in `sources`. */
  fact: string;
  problem: string;
}

export interface LayersReport {
  schema: typeof LAYERS_SCHEMA;
  lab: LabSummary;
  /** When the facts were read (ISO 8601, UTC). */
  collectedAt: string;
  host: HostLayer;
  vm: VmLayer;
  containers: ContainerLayer[];
  /** Present with --measure. */
  measure?: Measurements;
  /** What produced each fact, by id: `host.kernel`, `vm.namespaces`, `containers.nginx.pid1` … */
  sources: Record<string, FactSource>;
  problems: Problem[];
}

export interface LabSummary {
  name: string;
  provider: Provider;
  /** libvirt only: kvm (hardware virtualization) or qemu (software emulation), as lab.json says. */
  libvirtDriver: 'kvm' | 'qemu' | null;
  /** The VM's fixed address on the host-only (or bridged) network. */
  ip: string;
  url: string;
}

export interface HostLayer {
  /** `local`: the machine labctl runs on; `remote`: the libvirt host of the lab's libvirt_uri, seen through virsh. */
  where: 'local' | 'remote';
  /** For a remote host: its name in the libvirt URI. */
  hostName: string | null;
  cpuModel: string | null;
  cpus: number | null;
  /** vmx (Intel VT-x) or svm (AMD-V) when the CPU offers hardware virtualization; empty when it does not. */
  virtualizationFlags: string[] | null;
  /** /dev/kvm exists: the kernel's KVM module is loaded. */
  kvmDevice: boolean | null;
  hypervisor: Hypervisor;
  kernel: string | null;
  os: string | null;
  memoryBytes: number | null;
  /** The host's own address on the VM's network (the host-only bridge), when it has one. */
  labNetworkIp: string | null;
  /** The process(es) that are the VM, as the host sees them. */
  vmProcesses: VmProcess[];
}

export interface Hypervisor {
  provider: Provider;
  /** VirtualBox, KVM, or QEMU software emulation. */
  name: string;
  /** kvm / tcg read from the VM process's command line (libvirt), else what lab.json implies. */
  acceleration: 'kvm' | 'tcg' | 'hardware' | 'unknown';
}

export interface VmProcess {
  pid: number | null;
  /** The process name (comm): qemu-system-x86, VBoxHeadless … */
  name: string;
  rssBytes: number | null;
  threads: number | null;
  /** Its command line, cut to a readable length. */
  command: string;
}

export interface VmLayer {
  kernel: string | null;
  os: string | null;
  /** `systemd-detect-virt`: kvm, qemu, oracle (VirtualBox) …, or none. */
  virtualization: string | null;
  cpus: number | null;
  memoryBytes: number | null;
  /** The name of PID 1 (systemd on a lab VM). */
  pid1: string | null;
  /** The Docker engine's version, null when it does not answer. */
  docker: string | null;
  /** The lab's address, from lab.json. */
  ip: string;
  /** Every IPv4 address of the VM, from `ip -o -4 addr show`. */
  addresses: Address[];
  /** PID 1's namespace ids (`pid:[4026531836]`): the VM's own, which containers are compared with. */
  namespaces: Partial<Record<NamespaceType, string>>;
  /** `systemd-analyze time`, when the VM's boot has finished. */
  boot: GuestBoot | null;
}

export interface Address {
  interface: string;
  /** `192.168.56.10/24`. */
  cidr: string;
}

export interface GuestBoot {
  kernelMs: number | null;
  userspaceMs: number | null;
  totalMs: number;
}

export interface ContainerLayer {
  name: string;
  /** The compose service, from its label. */
  service: string;
  /** Docker's container id, 12 characters. */
  id: string;
  /** The image as compose names it (`nginx:inception`). */
  image: string;
  imageId: string;
  hostname: string | null;
  /** PID 1 inside the container: its process name (comm). */
  pid1: string | null;
  /** That process's command line (`nginx: master process nginx -g daemon off;`). */
  pid1Command: string | null;
  /** The same process's PID as the VM sees it. */
  vmPid: number | null;
  /** Its PID in each PID namespace, outermost first (`NSpid`): [VM's, container's]. */
  nsPids: number[];
  /** `uname -r` in the container's namespaces. */
  kernel: string | null;
  namespaces: Partial<Record<NamespaceType, ContainerNamespace>>;
  cgroup: CgroupFacts;
  /** What `docker run`/compose asked for: 0 means no limit. */
  limits: { memoryBytes: number; nanoCpus: number; pidsLimit: number | null };
  rootfs: RootFs;
  networks: NetworkAddress[];
  imageLayers: ImageLayer[];
  imageBytes: number | null;
}

export interface ContainerNamespace {
  id: string;
  /** Same id as the VM's PID 1: this namespace is the VM's, not the container's own. */
  sharedWithVm: boolean;
}

export interface CgroupFacts {
  /** The cgroup v2 path (`/system.slice/docker-<id>.scope`), or the v1 lines' paths joined. */
  path: string | null;
  /** cgroup v2 files as the kernel wrote them: `max` means no limit. */
  memoryMax: string | null;
  cpuMax: string | null;
  pidsMax: string | null;
  memoryCurrentBytes: number | null;
}

export interface RootFs {
  /** Docker's storage driver (overlay2, or overlayfs with the containerd image store). */
  driver: string | null;
  /** The file system type of `/` in the container's mount namespace (overlay). */
  type: string | null;
  /** How many read-only layers the union mount stacks under the container's writable one. */
  lowerLayers: number | null;
  /** The writable layer, as the VM sees it. */
  upperDir: string | null;
  /** How many of those read-only layers are also under another container's `/`: stored once, used by both. */
  sharedLayers: number | null;
}

export interface NetworkAddress {
  network: string;
  ip: string;
}

export interface ImageLayer {
  sizeBytes: number;
  /** The Dockerfile instruction that made it (`RUN apt-get install …`), as `docker history` keeps it. */
  createdBy: string;
}

export interface Measurements {
  /** The last successful `vagrant up` (or reload) in the lab's labctl.log. */
  vmBoot: LoggedBoot | null;
  /** One container restarted now and timed in the VM. */
  containerRestart: RestartTiming | null;
  memory: MemoryMeasure;
  disk: DiskMeasure;
}

export interface LoggedBoot {
  command: string;
  /** When it finished (the log line's time). */
  at: string;
  ms: number;
}

export interface RestartTiming {
  container: string;
  /** `docker restart` until the container runs again. */
  runningMs: number | null;
  /** Until its health check says healthy (null without one, or when the wait ran out). */
  healthyMs: number | null;
  /** The bounded wait ran out before the container was running (and healthy, where it has a check). */
  timedOut: boolean;
}

export interface MemoryMeasure {
  /** What the host gives the VM's process (its RSS). */
  vmRssBytes: number | null;
  /** What lab.json gives the VM. */
  vmConfiguredBytes: number;
  /** `docker stats`: each container's memory use in the VM. */
  containers: Array<{ name: string; bytes: number | null }>;
}

export interface DiskMeasure {
  /** The box in Vagrant's store (what every VM of this lab starts from). */
  boxBytes: number | null;
  boxPath: string | null;
  images: Array<{ image: string; bytes: number | null }>;
}

export const KIB = 1024;
export const MIB = 1024 ** 2;
export const GIB = 1024 ** 3;

/** 1536 MiB → "1.5 GiB", 12.25 MiB → "12.3 MiB", 900 bytes → "900 B". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '?';
  if (bytes >= GIB) return `${(bytes / GIB).toFixed(1)} GiB`;
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(1)} MiB`;
  if (bytes >= KIB) return `${(bytes / KIB).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** 812 → "0.8 s", 91234 → "91.2 s", 272000 → "4 min 32 s". */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '?';
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** The namespaces a container has of its own (its id differs from the VM's PID 1), in NAMESPACE_TYPES order. */
export function ownNamespaces(c: Pick<ContainerLayer, 'namespaces'>): NamespaceType[] {
  return NAMESPACE_TYPES.filter((t) => c.namespaces[t] !== undefined && c.namespaces[t]?.sharedWithVm === false);
}

export function sharedNamespaces(c: Pick<ContainerLayer, 'namespaces'>): NamespaceType[] {
  return NAMESPACE_TYPES.filter((t) => c.namespaces[t]?.sharedWithVm === true);
}

const every = (n: number): string => (n === 1 ? 'the only one' : n === 2 ? 'both' : `all ${n}`);

/** One row of the seeds' comparison table, with this lab's numbers. */
export interface ComparisonRow {
  aspect: string;
  vm: string;
  container: string;
}

/**
 * The seeds' table "VM vs container" (start-up, resources, kernel, isolation, portability) filled in
 * with what was read and measured on this lab. Rows without a measurement say what the lab shows.
 */
export function comparisonRows(r: LayersReport): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const m = r.measure;
  const restart = m?.containerRestart;
  if (m) {
    rows.push({
      aspect: 'start-up time',
      vm: m.vmBoot ? `${formatMs(m.vmBoot.ms)} (${m.vmBoot.command}, ${m.vmBoot.at.slice(0, 10)})` : 'not in labctl.log',
      container: restart ? `${formatMs(restart.runningMs)} to run again (docker restart ${restart.container})${restart.healthyMs !== null ? `, ${formatMs(restart.healthyMs)} to healthy` : ''}` : 'not measured',
    });
    const containerMemory = m.memory.containers.filter((c) => c.bytes !== null);
    const total = containerMemory.reduce((sum, c) => sum + (c.bytes ?? 0), 0);
    rows.push({
      aspect: 'memory',
      vm: `${formatBytes(m.memory.vmRssBytes)} resident on the host (given ${formatBytes(m.memory.vmConfiguredBytes)})`,
      container: containerMemory.length > 0 ? `${containerMemory.map((c) => `${c.name} ${formatBytes(c.bytes)}`).join(', ')} (together ${formatBytes(total)})` : 'not measured',
    });
    const images = m.disk.images.filter((i) => i.bytes !== null);
    const shared = Math.max(0, ...r.containers.map((c) => c.rootfs.sharedLayers ?? 0));
    rows.push({
      aspect: 'disk (what each starts from)',
      vm: `box ${formatBytes(m.disk.boxBytes)}`,
      container: images.length > 0 ? `${images.map((i) => `${i.image} ${formatBytes(i.bytes)}`).join(', ')}${shared > 0 ? `; layers they have in common are stored once (${shared} shared)` : ''}` : 'not measured',
    });
  }
  const kernels = [...new Set(r.containers.map((c) => c.kernel).filter((k): k is string => k !== null))];
  rows.push({
    aspect: 'kernel',
    vm: `its own: ${r.vm.kernel ?? '?'} (the host runs ${r.host.kernel ?? '?'})`,
    container: kernels.length === 0 ? 'no container read' : kernels.length === 1 && kernels[0] === r.vm.kernel ? `the VM's: ${kernels[0]} in ${every(r.containers.length)}` : `${kernels.join(', ')}`,
  });
  const own = [...new Set(r.containers.flatMap((c) => ownNamespaces(c)))];
  const shared = [...new Set(r.containers.flatMap((c) => sharedNamespaces(c)))];
  rows.push({
    aspect: 'isolation',
    vm: `hypervisor: ${r.host.hypervisor.name}; its own CPUs (${r.vm.cpus ?? '?'}) and RAM (${formatBytes(r.vm.memoryBytes)})`,
    container: `namespaces of their own: ${own.join(', ') || 'none read'}${shared.length > 0 ? `; shared with the VM: ${shared.join(', ')}` : ''}; limits from cgroups`,
  });
  rows.push({
    aspect: 'portability',
    vm: `a ${r.lab.provider} box: runs under that hypervisor`,
    container: 'an image: runs on any Linux kernel with a container engine',
  });
  return rows;
}
