import {
  comparisonRows,
  formatBytes,
  formatMs,
  NAMESPACE_TYPES,
  ownNamespaces,
  type ContainerLayer,
  type FactSource,
  type LayersReport,
} from '../core/layers-report.js';

// `labctl layers --html FILE`: one standalone page (no script, no external file, nothing fetched)
// with an SVG of the nesting — bare-metal host ⊃ VM ⊃ containers — annotated with the facts read,
// then the facts with the commands that produced them, and the comparison table with --measure.
// Every value comes from the lab (container names, command lines…) and is escaped.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML and SVG alike: the five characters that could open markup or end an attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const WIDTH = 1000;
const LINE = 17;
const CHAR_WIDTH = 6.8;
const PAD = 12;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Cut to what fits the box, with the full text as a tooltip. */
function textLine(x: number, y: number, width: number, text: string, cls: string): string {
  const max = Math.max(4, Math.floor((width - 2 * PAD) / CHAR_WIDTH));
  const shown = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  const title = shown === text ? '' : `<title>${escapeHtml(text)}</title>`;
  return `<text x="${x}" y="${y}" class="${cls}">${title}${escapeHtml(shown)}</text>`;
}

function rect(b: Box, cls: string): string {
  return `<rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="10" class="${cls}"/>`;
}

export function hostLines(r: LayersReport): string[] {
  const h = r.host;
  const vmProcess = h.vmProcesses[0];
  return [
    `CPU: ${h.cpuModel ?? '?'} (${h.cpus ?? '?'} CPUs), virtualization flags: ${h.virtualizationFlags === null ? '?' : h.virtualizationFlags.join(' ') || 'none'}, /dev/kvm: ${h.kvmDevice === null ? '?' : h.kvmDevice ? 'yes' : 'no'}`,
    `kernel ${h.kernel ?? '?'} · RAM ${formatBytes(h.memoryBytes)}${h.labNetworkIp ? ` · IP on the lab network ${h.labNetworkIp}` : ''}`,
    `hypervisor: ${h.hypervisor.name}`,
    vmProcess ? `the VM is process ${vmProcess.name}${vmProcess.pid === null ? '' : ` pid ${vmProcess.pid}`}, RSS ${formatBytes(vmProcess.rssBytes)}` : 'the VM process: not seen from here',
  ];
}

export function vmLines(r: LayersReport): string[] {
  const v = r.vm;
  return [
    `kernel ${v.kernel ?? '?'}${v.kernel !== null && r.host.kernel !== null ? (v.kernel === r.host.kernel ? ' (same version as the host, by chance)' : ' (not the host’s)') : ''} · ${v.os ?? '?'}`,
    `systemd-detect-virt: ${v.virtualization ?? '?'} · ${v.cpus ?? '?'} CPUs · RAM ${formatBytes(v.memoryBytes)} · PID 1: ${v.pid1 ?? '?'}`,
    `Docker ${v.docker ?? '?'} · IP ${v.ip}${v.boot ? ` · booted in ${formatMs(v.boot.totalMs)}` : ''}`,
  ];
}

export function containerLines(c: ContainerLayer, r: LayersReport): string[] {
  const own = ownNamespaces(c);
  const memory = r.measure?.memory.containers.find((m) => m.name === c.name)?.bytes;
  return [
    `PID 1 ${c.pid1 ?? '?'} · pid ${c.vmPid ?? '?'} in the VM`,
    `kernel ${c.kernel ?? '?'}${c.kernel !== null && c.kernel === r.vm.kernel ? ' (VM’s)' : ''}`,
    `own ns: ${own.join(' ') || '?'}`,
    `IP ${c.networks.map((n) => n.ip).join(', ') || '?'}${memory !== undefined && memory !== null ? ` · mem ${formatBytes(memory)}` : ''}`,
    `image ${formatBytes(c.imageBytes)}, ${c.imageLayers.length} layers`,
  ];
}

/** The nesting as an SVG element: a box per layer, each container a box inside the VM's, each kernel a bar under what runs on it. */
export function layersSvg(r: LayersReport): string {
  const host = hostLines(r);
  const vm = vmLines(r);
  const n = r.containers.length;
  const columns = Math.max(1, Math.min(3, n));
  const bar = LINE + 10;
  const hostBox: Box = { x: 10, y: 10, w: WIDTH - 20, h: 0 };
  const vmBox: Box = { x: hostBox.x + 24, y: hostBox.y + PAD + LINE * (host.length + 1) + 8, w: hostBox.w - 48, h: 0 };
  const gap = 12;
  const cWidth = (vmBox.w - 2 * 16 - gap * (columns - 1)) / columns;
  const cHeight = PAD * 2 + LINE * 6;
  const gridTop = vmBox.y + PAD + LINE * (vm.length + 1) + 8;
  const rows = Math.max(1, Math.ceil(n / columns));
  const vmKernelBar: Box = { x: vmBox.x + 16, y: gridTop + rows * (cHeight + gap), w: vmBox.w - 32, h: bar };
  vmBox.h = vmKernelBar.y + bar + 12 - vmBox.y;
  const hostKernelBar: Box = { x: hostBox.x + 24, y: vmBox.y + vmBox.h + 12, w: hostBox.w - 48, h: bar };
  hostBox.h = hostKernelBar.y + bar + 12 - hostBox.y;
  const where = r.host.where === 'remote' ? ` ${r.host.hostName ?? ''}` : '';
  const parts: string[] = [rect(hostBox, 'host'), textLine(hostBox.x + PAD, hostBox.y + PAD + 12, hostBox.w, `bare-metal host${where} — ${r.host.os ?? 'this machine'}`, 'title')];
  host.forEach((l, i) => parts.push(textLine(hostBox.x + PAD, hostBox.y + PAD + 12 + LINE * (i + 1), hostBox.w, l, 'fact')));
  parts.push(rect(vmBox, 'vm'), textLine(vmBox.x + PAD, vmBox.y + PAD + 12, vmBox.w, `VM ${r.lab.name} (${r.lab.provider}) — a process of the host, with its own kernel`, 'title'));
  vm.forEach((l, i) => parts.push(textLine(vmBox.x + PAD, vmBox.y + PAD + 12 + LINE * (i + 1), vmBox.w, l, 'fact')));
  if (n === 0) parts.push(textLine(vmBox.x + PAD, gridTop + 14, vmBox.w, 'no running container', 'fact'));
  r.containers.forEach((c, i) => {
    const box: Box = { x: vmBox.x + 16 + (i % columns) * (cWidth + gap), y: gridTop + Math.floor(i / columns) * (cHeight + gap), w: cWidth, h: cHeight };
    parts.push(rect(box, 'container'), textLine(box.x + PAD, box.y + PAD + 12, box.w, `container ${c.name}`, 'title'));
    containerLines(c, r).forEach((l, j) => parts.push(textLine(box.x + PAD, box.y + PAD + 12 + LINE * (j + 1), box.w, l, 'fact small')));
  });
  const vmKernel = `VM kernel ${r.vm.kernel ?? '?'}: the one kernel under ${n === 1 ? 'the container' : `all ${n} containers`} (namespaces and cgroups keep them apart)`;
  parts.push(rect(vmKernelBar, 'kernel'), textLine(vmKernelBar.x + PAD, vmKernelBar.y + bar / 2 + 4, vmKernelBar.w, vmKernel, 'fact'));
  const vmProcess = r.host.vmProcesses[0];
  const hostKernel = `host kernel ${r.host.kernel ?? '?'} + ${r.host.hypervisor.name}${vmProcess?.pid ? `: the VM is its process ${vmProcess.pid}` : ''}`;
  parts.push(rect(hostKernelBar, 'kernel'), textLine(hostKernelBar.x + PAD, hostKernelBar.y + bar / 2 + 4, hostKernelBar.w, hostKernel, 'fact'));
  const height = hostBox.y + hostBox.h + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="bare-metal host, containing the VM, containing the containers">\n${parts.join('\n')}\n</svg>`;
}

function sourceCell(s: FactSource | undefined): string {
  if (s === undefined) return '<td></td>';
  const where = s.where === 'host' ? 'host' : 'VM (as root)';
  return `<td><span class="where">${escapeHtml(where)}</span> <code>${escapeHtml(s.command)}</code>${s.inside ? `<br><span class="where">inside</span> <code>${escapeHtml(s.inside)}</code>` : ''}</td>`;
}

function factTable(title: string, rows: Array<[string, string, FactSource | undefined]>): string {
  const body = rows.map(([fact, value, source]) => `<tr><th scope="row">${escapeHtml(fact)}</th><td>${escapeHtml(value)}</td>${sourceCell(source)}</tr>`).join('\n');
  return `<h2>${escapeHtml(title)}</h2>\n<table>\n<thead><tr><th>fact</th><th>value</th><th>how it was seen</th></tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function containerTable(c: ContainerLayer, r: LayersReport): string {
  const s = (what: string): FactSource | undefined => r.sources[`containers.${c.name}.${what}`];
  const ns = NAMESPACE_TYPES.map((t) => {
    const n = c.namespaces[t];
    return n === undefined ? `${t} ?` : `${t} ${n.id}${n.sharedWithVm ? ' (the VM’s)' : ''}`;
  }).join(', ');
  const limits = `memory ${c.limits.memoryBytes === 0 ? 'no limit' : formatBytes(c.limits.memoryBytes)}, CPUs ${c.limits.nanoCpus === 0 ? 'no limit' : (c.limits.nanoCpus / 1e9).toString()}, pids ${c.limits.pidsLimit ?? 'no limit'}`;
  return factTable(`container ${c.name} (service ${c.service}, image ${c.image})`, [
    ['PID 1', `${c.pid1 ?? '?'}: ${c.pid1Command ?? '?'}`, s('pid1')],
    ['PIDs of that process', c.nsPids.length > 0 ? `${c.nsPids.join(' in the VM, ')} inside` : '?', s('nsPids')],
    ['kernel', c.kernel ?? '?', s('kernel')],
    ['namespaces', ns, s('namespaces')],
    ['cgroup', `${c.cgroup.path ?? '?'} · memory.max ${c.cgroup.memoryMax ?? '?'} · cpu.max ${c.cgroup.cpuMax ?? '?'} · pids.max ${c.cgroup.pidsMax ?? '?'}`, s('cgroup')],
    ['limits asked', limits, s('limits')],
    ['root file system', `${c.rootfs.type ?? '?'} (${c.rootfs.driver ?? '?'}), ${c.rootfs.lowerLayers ?? '?'} read-only layers${c.rootfs.sharedLayers ? ` (${c.rootfs.sharedLayers} also under another container)` : ''} under the writable ${c.rootfs.upperDir ?? '?'}`, s('rootfs')],
    ['IP', c.networks.map((x) => `${x.ip} on ${x.network}`).join(', ') || '?', s('networks')],
    ['image layers', c.imageLayers.map((l) => `${formatBytes(l.sizeBytes)} ${l.createdBy || '(imported)'}`).join(' | ') || '?', s('imageLayers')],
    ['image size', formatBytes(c.imageBytes), s('imageBytes')],
  ]);
}

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1d232a; max-width: 1100px; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.85rem; table-layout: fixed; }
table th:first-child { width: 16%; }
td { overflow-wrap: anywhere; }
th, td { border: 1px solid #c9d1d9; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
thead th { background: #eef2f6; }
code { font-size: 0.8rem; word-break: break-all; }
.where { color: #57606a; font-size: 0.75rem; }
svg .host { fill: #f3f0e8; stroke: #8a7a55; stroke-width: 2; }
svg .vm { fill: #e6eefa; stroke: #3d6fb4; stroke-width: 2; }
svg .container { fill: #e5f5e8; stroke: #2f8a46; stroke-width: 1.5; }
svg .kernel { fill: #fbe9d0; stroke: #b87a1d; stroke-width: 1.5; }
svg text { font-family: ui-monospace, monospace; font-size: 12px; fill: #1d232a; }
svg text.title { font-family: system-ui, sans-serif; font-size: 14px; font-weight: bold; }
svg text.small { font-size: 11px; }
`;

/** The whole page. */
export function renderLayersHtml(r: LayersReport): string {
  const h = r.host;
  const v = r.vm;
  const src = (id: string): FactSource | undefined => r.sources[id];
  const sections = [
    factTable(`bare-metal host${h.where === 'remote' ? ` ${h.hostName ?? ''} (through libvirt)` : ' (this machine)'}`, [
      ['CPU', `${h.cpuModel ?? '?'}, ${h.cpus ?? '?'} CPUs`, src('host.cpu')],
      ['virtualization flags', h.virtualizationFlags === null ? '?' : h.virtualizationFlags.join(' ') || 'none (no VT-x/AMD-V)', src('host.virtualizationFlags')],
      ['/dev/kvm', h.kvmDevice === null ? '?' : h.kvmDevice ? 'present' : 'absent', src('host.kvmDevice')],
      ['hypervisor', h.hypervisor.name, src('host.hypervisor')],
      ['kernel', h.kernel ?? '?', src('host.kernel')],
      ['RAM', formatBytes(h.memoryBytes), src('host.memory')],
      ['IP on the lab network', h.labNetworkIp ?? '?', src('host.labNetworkIp')],
      ['the VM, as a process', h.vmProcesses.map((p) => `${p.name} pid ${p.pid ?? '?'} RSS ${formatBytes(p.rssBytes)}: ${p.command}`).join(' | ') || '?', src('host.vmProcesses')],
    ]),
    factTable(`VM ${r.lab.name}`, [
      ['kernel', v.kernel ?? '?', src('vm.kernel')],
      ['OS', v.os ?? '?', src('vm.os')],
      ['virtualization seen from inside', v.virtualization ?? '?', src('vm.virt')],
      ['CPUs, RAM', `${v.cpus ?? '?'} CPUs, ${formatBytes(v.memoryBytes)}`, src('vm.cpus')],
      ['PID 1', v.pid1 ?? '?', src('vm.pid1')],
      ['Docker engine', v.docker ?? '?', src('vm.docker')],
      ['namespaces of PID 1', NAMESPACE_TYPES.map((t) => `${t} ${v.namespaces[t] ?? '?'}`).join(', '), src('vm.namespaces')],
      ['addresses', v.addresses.map((a) => `${a.cidr} (${a.interface})`).join(', ') || v.ip, src('vm.ip')],
      ['boot (systemd-analyze)', v.boot ? formatMs(v.boot.totalMs) : '?', src('vm.boot')],
    ]),
    ...r.containers.map((c) => containerTable(c, r)),
  ];
  const comparison = comparisonRows(r);
  const comparisonHtml = `<h2>VM or container: this lab's numbers</h2>\n<table>\n<thead><tr><th></th><th>VM</th><th>container</th></tr></thead>\n<tbody>\n${comparison
    .map((row) => `<tr><th scope="row">${escapeHtml(row.aspect)}</th><td>${escapeHtml(row.vm)}</td><td>${escapeHtml(row.container)}</td></tr>`)
    .join('\n')}\n</tbody>\n</table>`;
  const problems = r.problems.length === 0 ? '' : `<h2>Not read</h2>\n<ul>\n${r.problems.map((p) => `<li><code>${escapeHtml(p.fact)}</code>: ${escapeHtml(p.problem)}</li>`).join('\n')}\n</ul>`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Nothing may load from elsewhere: the page is one file a student can mail or print.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${escapeHtml(`labctl layers: ${r.lab.name}`)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(`Lab ${r.lab.name}: bare metal, VM, containers`)}</h1>`,
    `<p>${escapeHtml(`${r.lab.url} · read ${r.collectedAt.replace('T', ' ').slice(0, 19)} UTC by labctl layers`)}</p>`,
    `<figure>\n${layersSvg(r)}\n<figcaption>${escapeHtml('The host runs the VM as one process; the VM has its own kernel; the containers are processes of the VM, in namespaces of their own, on the VM’s kernel.')}</figcaption>\n</figure>`,
    comparisonHtml,
    ...sections,
    problems,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
