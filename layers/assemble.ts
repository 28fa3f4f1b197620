import { labUrl, type LabConfig } from '../core/config.js';
import {
  accelerationOf,
  addressOnNetworkOf,
  isVmProcessName,
  newestBoxVersion,
  parseBalloonRss,
  parseCgroupFiles,
  parseCgroupPath,
  parseContainerInspect,
  parseCount,
  parseCpuModel,
  parseDockerStats,
  parseDu,
  parseImageHistory,
  parseImageSizes,
  parseIpAddresses,
  parseLastBoot,
  parseMemTotal,
  parseNamespaces,
  parseOsName,
  parsePgrep,
  parseProcStatus,
  parseRestartTiming,
  parseRootMount,
  parseSystemdAnalyze,
  parseVirshNodeinfo,
  parseVirtualizationFlags,
  type InspectedContainer,
  type Section,
} from '../core/layers-parse.js';
import {
  LAYERS_SCHEMA,
  NAMESPACE_TYPES,
  type ContainerLayer,
  type ContainerNamespace,
  type FactSource,
  type HostLayer,
  type Hypervisor,
  type LayersReport,
  type Measurements,
  type NamespaceType,
  type Problem,
  type VmLayer,
  type VmProcess,
  type Where,
} from '../core/layers-report.js';
import { CONTAINER_PROBES, explain, HOST_PROBES, INSIDE_COMMANDS, RESTART_EXPLAIN, VM_PROBES } from './probes.js';

// Sections of the host and guest scripts (and the few other answers) → the report. Pure: every
// fact, its source command with the values filled in, and a problem line for each fact that could
// not be read, so that one missing tool never hides the rest of the lesson.

/** What the collectors gathered; `assembleReport` reads nothing else. */
export interface RawLayers {
  config: LabConfig;
  /** lab.json, whose provider and libvirt_driver say which hypervisor runs the VM. */
  labJsonPath: string;
  collectedAt: string;
  host: ReadonlyMap<string, Section>;
  /** The VM's id for its hypervisor (libvirt domain UUID, VirtualBox VM UUID), when vagrant recorded one. */
  vmId: string | null;
  /** Set when the VM runs on a remote libvirt host (libvirt_uri): what virsh said about that host. */
  remote?: RemoteHostAnswers;
  guest: ReadonlyMap<string, Section>;
  measure?: RawMeasure;
}

export interface RemoteHostAnswers {
  hostName: string;
  nodeinfo: Section;
  nodeinfoCommand: string;
  domstats: Section;
  domstatsCommand: string;
}

export interface RawMeasure {
  log: string;
  logPath: string;
  /** Where the box's versions are in Vagrant's store (`<VAGRANT_HOME>/boxes/<name>`). */
  boxDir: string;
  restart?: { container: string; section: Section };
}

class Facts {
  readonly sources: Record<string, FactSource> = {};
  readonly problems: Problem[] = [];

  source(fact: string, where: Where, command: string, inside?: string): void {
    this.sources[fact] = inside === undefined ? { where, command } : { where, command, inside };
  }

  problem(fact: string, problem: string): void {
    this.problems.push({ fact, problem });
  }

  /** The section's output when its command succeeded (exit status in `okCodes`), else a problem line and undefined. */
  read(sections: ReadonlyMap<string, Section>, name: string, fact: string, okCodes: readonly number[] = [0]): string | undefined {
    const s = sections.get(name);
    if (s === undefined) {
      this.problem(fact, 'not read (the probe did not run)');
      return undefined;
    }
    if (!okCodes.includes(s.code)) {
      this.problem(fact, `exit ${s.code}${s.error ? `: ${s.error}` : ''}`);
      return undefined;
    }
    return s.output;
  }
}

export function assembleReport(raw: RawLayers): LayersReport {
  const f = new Facts();
  const host = raw.remote ? remoteHostLayer(raw, f) : localHostLayer(raw, f);
  const vm = vmLayer(raw, f);
  const containers = containerLayers(raw, vm, f);
  const measure = raw.measure ? measurements(raw, raw.measure, host, containers, f) : undefined;
  return {
    schema: LAYERS_SCHEMA,
    lab: { name: raw.config.name, provider: raw.config.provider, libvirtDriver: raw.config.provider === 'libvirt' ? raw.config.libvirt_driver : null, ip: raw.config.ip, url: labUrl(raw.config) },
    collectedAt: raw.collectedAt,
    host,
    vm,
    containers,
    ...(measure ? { measure } : {}),
    sources: f.sources,
    problems: f.problems,
  };
}

function hypervisorOf(config: LabConfig, processes: readonly VmProcess[]): Hypervisor {
  if (config.provider === 'virtualbox') return { provider: 'virtualbox', name: 'VirtualBox', acceleration: 'hardware' };
  const seen = processes.map((p) => accelerationOf(p.command)).find((a) => a !== undefined);
  const acceleration = seen ?? (config.libvirt_driver === 'kvm' ? 'kvm' : 'tcg');
  return { provider: 'libvirt', name: acceleration === 'kvm' ? 'KVM (QEMU with hardware virtualization)' : 'QEMU software emulation (TCG, no hardware virtualization)', acceleration };
}

/** QEMU's command line is long (its -accel comes after hundreds of characters) and worth reading whole; a bound all the same. */
const VM_COMMAND_SHOWN = 4000;

function localHostLayer(raw: RawLayers, f: Facts): HostLayer {
  const h = raw.host;
  const p = HOST_PROBES;
  f.source('host.cpu', 'host', p.cpu);
  f.source('host.cpus', 'host', p.cpus);
  f.source('host.virtualizationFlags', 'host', p.flags);
  f.source('host.kvmDevice', 'host', p.kvm);
  f.source('host.kernel', 'host', p.kernel);
  f.source('host.os', 'host', p.os);
  f.source('host.memory', 'host', p.memory);
  f.source('host.labNetworkIp', 'host', p.ip);
  const cpu = f.read(h, 'host.cpu', 'host.cpu');
  const cpus = f.read(h, 'host.cpus', 'host.cpus');
  const flags = f.read(h, 'host.flags', 'host.virtualizationFlags');
  // ls exits 2 when /dev/kvm is not there: an answer ("no KVM"), not a failure.
  const kvm = f.read(h, 'host.kvm', 'host.kvmDevice', [0, 2]);
  const kernel = f.read(h, 'host.kernel', 'host.kernel');
  const os = f.read(h, 'host.os', 'host.os');
  const memory = f.read(h, 'host.memory', 'host.memory');
  const ip = f.read(h, 'host.ip', 'host.labNetworkIp');
  const vmProcesses = localVmProcesses(raw, f);
  const labNetworkIp = ip === undefined ? null : addressOnNetworkOf(parseIpAddresses(ip), raw.config.ip);
  if (ip !== undefined && labNetworkIp === null) f.problem('host.labNetworkIp', `this machine has no address on ${raw.config.ip}'s network`);
  f.source('host.hypervisor', 'host', `grep -E '"(provider|libvirt_driver)"' ${raw.labJsonPath}`);
  return {
    where: 'local',
    hostName: null,
    cpuModel: cpu === undefined ? null : parseCpuModel(cpu),
    cpus: cpus === undefined ? null : parseCount(cpus),
    virtualizationFlags: flags === undefined ? null : parseVirtualizationFlags(flags),
    kvmDevice: kvm === undefined ? null : h.get('host.kvm')?.code === 0,
    hypervisor: hypervisorOf(raw.config, vmProcesses),
    kernel: kernel === undefined ? null : kernel.trim() || null,
    os: os === undefined ? null : parseOsName(os),
    memoryBytes: memory === undefined ? null : parseMemTotal(memory),
    labNetworkIp,
    vmProcesses,
  };
}

function localVmProcesses(raw: RawLayers, f: Facts): VmProcess[] {
  const fact = 'host.vmProcesses';
  if (raw.vmId === null) {
    f.problem(fact, `vagrant recorded no ${raw.config.provider} id for this VM (.vagrant/machines/default/${raw.config.provider}/id in the lab's directory)`);
    return [];
  }
  const vars = { LAYERS_VM_ID: raw.vmId };
  f.source(fact, 'host', explain(HOST_PROBES.vm, vars));
  const listed = f.read(raw.host, 'host.vm', fact, [0, 1]);
  if (listed === undefined) return [];
  const out: VmProcess[] = [];
  for (const { pid, command } of parsePgrep(listed)) {
    const status = parseProcStatus(raw.host.get(`host.vmstatus ${pid}`)?.output ?? '');
    const name = status.name ?? command.split(' ')[0]?.split('/').pop() ?? '';
    if (!isVmProcessName(name)) continue;
    out.push({ pid, name, rssBytes: status.rssBytes, threads: status.threads, command: command.length > VM_COMMAND_SHOWN ? `${command.slice(0, VM_COMMAND_SHOWN)}…` : command });
  }
  if (out.length === 0) f.problem(fact, `no QEMU or VirtualBox process on this machine carries the VM's id ${raw.vmId}`);
  else f.source('host.vmRss', 'host', explain(HOST_PROBES.vmStatus, { pid: String(out[0]?.pid ?? '') }));
  return out;
}

function remoteHostLayer(raw: RawLayers, f: Facts): HostLayer {
  const remote = raw.remote as RemoteHostAnswers;
  const sections = new Map([['nodeinfo', remote.nodeinfo], ['domstats', remote.domstats]]);
  f.source('host.cpu', 'host', remote.nodeinfoCommand);
  f.source('host.cpus', 'host', remote.nodeinfoCommand);
  f.source('host.memory', 'host', remote.nodeinfoCommand);
  f.source('host.vmProcesses', 'host', remote.domstatsCommand);
  const node = f.read(sections, 'nodeinfo', 'host.cpu');
  const stats = f.read(sections, 'domstats', 'host.vmProcesses');
  const info = node === undefined ? { cpuModel: null, cpus: null, memoryBytes: null } : parseVirshNodeinfo(node);
  const rss = stats === undefined ? null : parseBalloonRss(stats);
  const vmProcesses: VmProcess[] = stats === undefined ? [] : [{ pid: null, name: `qemu on ${remote.hostName}`, rssBytes: rss, threads: null, command: '' }];
  // libvirt tells the CPU and memory of its host, not its kernel or its flags: those need a shell there.
  f.problem('host.kernel', `the VM runs on ${remote.hostName}, which labctl reads through libvirt only (ssh ${remote.hostName} uname -r shows it)`);
  f.source('host.hypervisor', 'host', `grep -E '"(provider|libvirt_driver|libvirt_uri)"' ${raw.labJsonPath}`);
  return {
    where: 'remote',
    hostName: remote.hostName,
    cpuModel: info.cpuModel,
    cpus: info.cpus,
    virtualizationFlags: null,
    kvmDevice: null,
    hypervisor: hypervisorOf(raw.config, vmProcesses),
    kernel: null,
    os: null,
    memoryBytes: info.memoryBytes,
    labNetworkIp: null,
    vmProcesses,
  };
}

function vmLayer(raw: RawLayers, f: Facts): VmLayer {
  const g = raw.guest;
  for (const [key, command] of Object.entries(VM_PROBES)) f.source(`vm.${key}`, 'vm', command);
  const kernel = f.read(g, 'vm.kernel', 'vm.kernel');
  const os = f.read(g, 'vm.os', 'vm.os');
  // systemd-detect-virt prints "none" and exits 1 on bare metal: that is its answer.
  const virt = f.read(g, 'vm.virt', 'vm.virt', [0, 1]);
  const cpus = f.read(g, 'vm.cpus', 'vm.cpus');
  const memory = f.read(g, 'vm.memory', 'vm.memory');
  const pid1 = f.read(g, 'vm.pid1', 'vm.pid1');
  const docker = f.read(g, 'vm.docker', 'vm.docker');
  const namespaces = f.read(g, 'vm.namespaces', 'vm.namespaces');
  const ip = f.read(g, 'vm.ip', 'vm.ip');
  const boot = f.read(g, 'vm.boot', 'vm.boot');
  const ns = namespaces === undefined ? {} : parseNamespaces(namespaces);
  if (namespaces !== undefined && Object.keys(ns).length === 0) f.problem('vm.namespaces', 'readlink gave no namespace ids for PID 1');
  return {
    kernel: kernel?.trim() || null,
    os: os === undefined ? null : parseOsName(os),
    virtualization: virt?.trim() || null,
    cpus: cpus === undefined ? null : parseCount(cpus),
    memoryBytes: memory === undefined ? null : parseMemTotal(memory),
    pid1: pid1?.trim() || null,
    docker: docker?.trim() || null,
    ip: raw.config.ip,
    addresses: ip === undefined ? [] : parseIpAddresses(ip),
    namespaces: ns,
    boot: boot === undefined ? null : parseSystemdAnalyze(boot),
  };
}

function containerLayers(raw: RawLayers, vm: VmLayer, f: Facts): ContainerLayer[] {
  const g = raw.guest;
  if (!g.has('containers.inspect')) {
    // The guest script skips the containers when docker ps lists none (or Docker does not answer).
    if (g.has('vm.docker')) f.problem('containers', 'no running container of a compose project in the VM (docker ps --filter label=com.docker.compose.project)');
    return [];
  }
  const inspected = parseContainerInspect(f.read(g, 'containers.inspect', 'containers') ?? '[]');
  const names = inspected.map((c) => c.name).sort();
  f.source('containers', 'vm', explain(CONTAINER_PROBES.inspect, { ids: names.join(' ') }));
  const sizes = parseImageSizes(g.get('containers.images')?.output ?? '');
  const layers = inspected
    .filter((c) => c.running && c.pid > 0)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((c) => containerLayer(c, vm, g, sizes, f));
  return countSharedLayers(layers);
}

/** For each container, how many of its read-only layers another container's union mount stacks too. */
function countSharedLayers(containers: Array<ContainerLayer & { lowerDirs: string[] }>): ContainerLayer[] {
  return containers.map(({ lowerDirs, ...c }) => {
    const others = new Set(containers.filter((o) => o.name !== c.name).flatMap((o) => o.lowerDirs));
    return { ...c, rootfs: { ...c.rootfs, sharedLayers: c.rootfs.lowerLayers === null ? null : lowerDirs.filter((d) => others.has(d)).length } };
  });
}

function containerLayer(c: InspectedContainer, vm: VmLayer, g: ReadonlyMap<string, Section>, sizes: ReadonlyMap<string, number>, f: Facts): ContainerLayer & { lowerDirs: string[] } {
  const fact = (what: string): string => `containers.${c.name}.${what}`;
  const vars = { pid: String(c.pid), id: c.name, image: c.image || c.imageId };
  const probe = (key: keyof typeof CONTAINER_PROBES): string => explain(CONTAINER_PROBES[key], vars);
  const inside = (key: keyof typeof INSIDE_COMMANDS): string => explain(INSIDE_COMMANDS[key], vars);
  const section = (key: string): string => `c.${key} ${c.id}`;
  f.source(fact('pid1'), 'vm', probe('comm'), inside('pid1'));
  f.source(fact('pid1Command'), 'vm', probe('cmdline'));
  f.source(fact('nsPids'), 'vm', probe('status'));
  f.source(fact('kernel'), 'vm', probe('kernel'), inside('kernel'));
  f.source(fact('namespaces'), 'vm', probe('namespaces'), inside('namespaces'));
  f.source(fact('cgroup'), 'vm', `${probe('cgroup')}; ${probe('limits')}`);
  f.source(fact('rootfs'), 'vm', probe('root'), inside('root'));
  f.source(fact('limits'), 'vm', `docker inspect --format '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}}' ${c.name}`);
  f.source(fact('networks'), 'vm', `docker inspect --format '{{range $n, $e := .NetworkSettings.Networks}}{{$n}} {{$e.IPAddress}} {{end}}' ${c.name}`);
  f.source(fact('imageLayers'), 'vm', probe('history'));
  f.source(fact('imageBytes'), 'vm', explain(CONTAINER_PROBES.images, { images: vars.image }));
  const status = f.read(g, section('status'), fact('nsPids'));
  const comm = f.read(g, section('comm'), fact('pid1'));
  const cmdline = f.read(g, section('cmdline'), fact('pid1Command'));
  const kernel = f.read(g, section('kernel'), fact('kernel'));
  const namespaces = f.read(g, section('namespaces'), fact('namespaces'));
  const cgroup = f.read(g, section('cgroup'), fact('cgroup'));
  const limits = g.get(section('limits'))?.output ?? '';
  const root = f.read(g, section('root'), fact('rootfs'));
  const history = f.read(g, `image.history ${c.imageId}`, fact('imageLayers'));
  const ns = namespaces === undefined ? {} : parseNamespaces(namespaces);
  const compared: Partial<Record<NamespaceType, ContainerNamespace>> = {};
  for (const t of NAMESPACE_TYPES) {
    const id = ns[t];
    if (id !== undefined) compared[t] = { id, sharedWithVm: vm.namespaces[t] === id };
  }
  const files = parseCgroupFiles(limits);
  const { lowerDirs, ...mount } = root === undefined ? { type: null, lowerLayers: null, upperDir: null, lowerDirs: [] } : parseRootMount(root);
  return {
    name: c.name,
    service: c.service,
    id: c.id.slice(0, 12),
    image: c.image,
    imageId: c.imageId,
    hostname: c.hostname,
    pid1: comm?.trim() || null,
    pid1Command: cmdline?.trim() || null,
    vmPid: c.pid,
    nsPids: status === undefined ? [] : parseProcStatus(status).nsPids,
    kernel: kernel?.trim() || null,
    namespaces: compared,
    cgroup: { path: cgroup === undefined ? null : parseCgroupPath(cgroup), ...files },
    limits: { memoryBytes: c.memoryBytes, nanoCpus: c.nanoCpus, pidsLimit: c.pidsLimit },
    rootfs: { driver: c.graphDriver, ...mount, sharedLayers: null },
    lowerDirs,
    networks: c.networks,
    imageLayers: history === undefined ? [] : parseImageHistory(history),
    imageBytes: sizes.get(c.imageId) ?? null,
  };
}

function measurements(raw: RawLayers, m: RawMeasure, host: HostLayer, containers: readonly ContainerLayer[], f: Facts): Measurements {
  f.source('measure.vmBoot', 'host', `grep -E 'vagrant (up|reload).* → exit 0' ${m.logPath}`);
  const vmBoot = parseLastBoot(m.log);
  if (vmBoot === null) f.problem('measure.vmBoot', `${m.logPath} has no vagrant up that succeeded`);

  let containerRestart: Measurements['containerRestart'] = null;
  if (m.restart) {
    f.source('measure.containerRestart', 'vm', explain(RESTART_EXPLAIN, { id: m.restart.container }));
    const out = f.read(new Map([['restart', m.restart.section]]), 'restart', 'measure.containerRestart');
    const timing = out === undefined ? null : parseRestartTiming(out);
    if (out !== undefined && timing === null) f.problem('measure.containerRestart', 'the restart probe printed no timing');
    if (timing?.timedOut) f.problem('measure.containerRestart', `${m.restart.container} was not healthy again within the wait`);
    containerRestart = timing === null ? null : { container: m.restart.container, ...timing };
  }

  const stats = f.read(raw.guest, 'containers.stats', 'measure.memory');
  f.source('measure.memory', 'vm', explain(CONTAINER_PROBES.stats, { ids: containers.map((c) => c.name).join(' ') }));
  const memoryById = stats === undefined ? new Map<string, number | null>() : parseDockerStats(stats);
  const memoryOf = (c: ContainerLayer): number | null => [...memoryById].find(([id]) => id.startsWith(c.id))?.[1] ?? null;
  const rss = host.vmProcesses.reduce<number | null>((sum, p) => (p.rssBytes === null ? sum : (sum ?? 0) + p.rssBytes), null);

  const vars = { LAYERS_BOX_DIR: m.boxDir, LAYERS_BOX_PROVIDER: raw.config.provider };
  f.source('measure.box', 'host', explain(HOST_PROBES.box, vars));
  // du exits 1 when one of its two patterns (with and without the architecture level) matches nothing.
  const du = f.read(raw.host, 'host.box', 'measure.box', [0, 1]);
  const box = du === undefined ? null : newestBoxVersion(parseDu(du), m.boxDir);
  if (du !== undefined && box === null) f.problem('measure.box', `no ${raw.config.provider} version of box ${raw.config.box} in ${m.boxDir}`);
  const images = [...new Map(containers.map((c) => [c.image || c.imageId, c.imageBytes])).entries()].map(([image, bytes]) => ({ image, bytes }));

  return {
    vmBoot,
    containerRestart,
    memory: { vmRssBytes: rss, vmConfiguredBytes: raw.config.memory * 1024 * 1024, containers: containers.map((c) => ({ name: c.name, bytes: memoryOf(c) })) },
    disk: { boxBytes: box?.bytes ?? null, boxPath: box?.path ?? null, images },
  };
}
