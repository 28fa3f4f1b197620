import {
  comparisonRows,
  formatBytes,
  formatMs,
  NAMESPACE_TYPES,
  ownNamespaces,
  sharedNamespaces,
  type ContainerLayer,
  type LayersReport,
} from '../core/layers-report.js';

// `labctl layers` as text: one block per layer, a fact per line; with --explain, under each fact
// the command that produced it and where it ran, so that a student can type it again.

type Row = [label: string, value: string, fact?: string];

const LABEL_WIDTH = 16;

function block(title: string, rows: readonly Row[], r: LayersReport, explain: boolean, indent = '  '): string[] {
  const out = [title];
  for (const [label, value, fact] of rows) {
    out.push(`${indent}${label.padEnd(LABEL_WIDTH)}${value}`);
    const source = explain && fact !== undefined ? r.sources[fact] : undefined;
    if (source === undefined) continue;
    const pad = `${indent}${' '.repeat(LABEL_WIDTH)}`;
    out.push(`${pad}↳ ${source.where === 'host' ? 'host' : 'VM'}: ${source.command}`);
    if (source.inside) out.push(`${pad}↳ inside: ${source.inside}`);
  }
  return out;
}

function hostRows(r: LayersReport): Row[] {
  const h = r.host;
  const flags = h.virtualizationFlags === null ? '?' : h.virtualizationFlags.join(' ') || 'none (no VT-x/AMD-V)';
  const rows: Row[] = [
    ['CPU', `${h.cpuModel ?? '?'}, ${h.cpus ?? '?'} CPUs`, 'host.cpu'],
    ['virtualization', `CPU flags: ${flags}`, 'host.virtualizationFlags'],
  ];
  if (h.where === 'local') rows.push(['/dev/kvm', h.kvmDevice === null ? '?' : h.kvmDevice ? 'present' : 'absent', 'host.kvmDevice']);
  rows.push(['hypervisor', h.hypervisor.name, 'host.hypervisor'], ['kernel', `${h.kernel ?? '?'}${h.os ? ` (${h.os})` : ''}`, 'host.kernel'], ['RAM', formatBytes(h.memoryBytes), 'host.memory']);
  if (h.labNetworkIp !== null) rows.push(['lab network', `${h.labNetworkIp} (this machine's side of the VM's network)`, 'host.labNetworkIp']);
  const vms = h.vmProcesses.map((p) => `${p.name}${p.pid === null ? '' : ` pid ${p.pid}`}, RSS ${formatBytes(p.rssBytes)}${p.threads === null ? '' : `, ${p.threads} threads`}`);
  rows.push(['the VM', vms.join('; ') || 'not seen from here', 'host.vmProcesses']);
  return rows;
}

function vmRows(r: LayersReport): Row[] {
  const v = r.vm;
  const versus = v.kernel === null || r.host.kernel === null ? '' : v.kernel === r.host.kernel ? ' (the same version as the host, by chance: still its own kernel)' : " (not the host's)";
  return [
    ['kernel', `${v.kernel ?? '?'}${versus}`, 'vm.kernel'],
    ['OS', v.os ?? '?', 'vm.os'],
    ['virtualization', `${v.virtualization ?? '?'} (what the VM can tell of its hypervisor)`, 'vm.virt'],
    ['CPUs, RAM', `${v.cpus ?? '?'} CPUs, ${formatBytes(v.memoryBytes)}`, 'vm.cpus'],
    ['PID 1', v.pid1 ?? '?', 'vm.pid1'],
    ['Docker', v.docker ?? 'not answering', 'vm.docker'],
    ['namespaces', NAMESPACE_TYPES.map((t) => v.namespaces[t] ?? `${t}:?`).join(' '), 'vm.namespaces'],
    ['addresses', v.addresses.filter((a) => a.interface !== 'lo').map((a) => `${a.cidr} (${a.interface})`).join(', ') || v.ip, 'vm.ip'],
    ['boot', v.boot ? `${formatMs(v.boot.totalMs)} (kernel ${formatMs(v.boot.kernelMs)}, userspace ${formatMs(v.boot.userspaceMs)})` : '?', 'vm.boot'],
  ];
}

function containerRows(c: ContainerLayer, r: LayersReport): Row[] {
  const fact = (what: string): string => `containers.${c.name}.${what}`;
  const pids = c.nsPids.length >= 2 ? `pid ${c.nsPids[0]} in the VM, ${c.nsPids.slice(1).join(', ')} inside` : `pid ${c.vmPid ?? '?'} in the VM`;
  const own = ownNamespaces(c);
  const shared = sharedNamespaces(c);
  const biggest = [...c.imageLayers].sort((a, b) => b.sizeBytes - a.sizeBytes)[0];
  const limit = (n: number, shown: string): string => (n === 0 ? 'none' : shown);
  return [
    ['PID 1', `${c.pid1 ?? '?'}: ${pids}${c.pid1Command ? ` (${c.pid1Command})` : ''}`, fact('pid1')],
    ['kernel', `${c.kernel ?? '?'}${c.kernel !== null && c.kernel === r.vm.kernel ? " = the VM's" : ''}`, fact('kernel')],
    ['namespaces', `own: ${own.join(' ') || '?'}${shared.length > 0 ? ` · the VM's: ${shared.join(' ')}` : ''}`, fact('namespaces')],
    ['cgroup', `${c.cgroup.path ?? '?'}${c.cgroup.memoryMax !== null ? ` · memory.max ${c.cgroup.memoryMax} · cpu.max ${c.cgroup.cpuMax ?? '?'} · pids.max ${c.cgroup.pidsMax ?? '?'}` : ''}`, fact('cgroup')],
    ['limits', `memory ${limit(c.limits.memoryBytes, formatBytes(c.limits.memoryBytes))}, CPUs ${limit(c.limits.nanoCpus, String(c.limits.nanoCpus / 1e9))}, pids ${c.limits.pidsLimit ?? 'none'}`, fact('limits')],
    ['root fs', `${c.rootfs.type ?? '?'} (${c.rootfs.driver ?? '?'}): ${c.rootfs.lowerLayers ?? '?'} read-only layers${c.rootfs.sharedLayers ? ` (${c.rootfs.sharedLayers} also under another container)` : ''} + 1 writable`, fact('rootfs')],
    ['IP', c.networks.map((n) => `${n.ip} on ${n.network}`).join(', ') || '?', fact('networks')],
    ['image', `${c.image}, ${formatBytes(c.imageBytes)} in ${c.imageLayers.length} layer${c.imageLayers.length === 1 ? '' : 's'}${biggest ? ` (largest ${formatBytes(biggest.sizeBytes)}: ${cut(biggest.createdBy || '(imported)', 60)})` : ''}`, fact('imageLayers')],
  ];
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function layersText(r: LayersReport, opts: { explain: boolean }): string {
  const e = opts.explain;
  const h = r.host;
  const out: string[] = [];
  out.push(...block(`bare-metal host (${h.where === 'local' ? 'this machine' : `${h.hostName ?? '?'}, through libvirt`})`, hostRows(r), r, e), '');
  out.push(...block(`VM ${r.lab.name} (${r.lab.provider}, ${r.lab.ip})${e ? ' — VM commands run as root: labctl ssh, then sudo -i' : ''}`, vmRows(r), r, e), '');
  out.push(`containers (${r.containers.length}, processes of the VM on its kernel)`);
  if (r.containers.length === 0) out.push('  none running');
  for (const c of r.containers) out.push(...block(`  ${c.name} (service ${c.service}, id ${c.id})`, containerRows(c, r), r, e, '    '));
  out.push('');
  const rows = comparisonRows(r);
  out.push(`VM or container: this lab's numbers${r.measure ? '' : ' (add --measure for time, memory and disk)'}`);
  for (const row of rows) {
    out.push(`  ${row.aspect}`, `    VM:         ${row.vm}`, `    container:  ${row.container}`);
  }
  if (e && r.measure) {
    for (const id of ['measure.vmBoot', 'measure.containerRestart', 'measure.memory', 'measure.box']) {
      const s = r.sources[id];
      if (s) out.push(`  ↳ ${id.slice('measure.'.length)}, ${s.where === 'host' ? 'host' : 'VM'}: ${s.command}`);
    }
  }
  if (r.measure?.containerRestart) out.push(`  (${r.measure.containerRestart.container} was restarted to time it: its PID 1 now has a new PID in the VM)`);
  if (r.problems.length > 0) {
    out.push('', 'not read:');
    for (const p of r.problems) out.push(`  ${p.fact}: ${p.problem}`);
  }
  return out.join('\n');
}
