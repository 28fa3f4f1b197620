import Table from 'cli-table3';
import type { ClassPlan, HostPlan } from '../core/class-plan.js';

// How `labctl class plan` prints: a table of the students (where each lab goes), a table of the
// hosts (labs against capacity, RAM and disk needed against what the host reports), then what to
// fix. Tables as `check --static` prints them: no colours, so that a pasted plan reads the same.

const STYLE = { head: [], border: [] };
// One line a student: a class's table is long, and a rule between rows would double it.
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

export function planText(plan: ClassPlan): string {
  const lines: string[] = [];
  const { memoryMiB, cpus, diskGiB } = plan.perLab;
  lines.push(`Class ${plan.className}: ${plan.labs.length + plan.unplaced.length} student(s) on ${plan.hosts.length} host(s); a lab takes ${gib(memoryMiB)} of RAM, ${cpus} CPU(s) and about ${diskGiB} GiB of disk (estimate).`);

  const students = new Table({ head: ['student', 'host', 'IP', 'domain', 'lab'], style: STYLE, chars: COMPACT });
  for (const lab of plan.labs) students.push([lab.login, lab.host, lab.ip, lab.domain, lab.kept ? 'exists' : 'to create']);
  for (const login of plan.unplaced) students.push([login, '—', '—', '—', 'not placed']);
  lines.push(students.toString());

  const hosts = new Table({ head: ['host', 'labs / capacity', 'RAM needed / host', 'disk needed / free', 'status'], style: STYLE, wordWrap: true, colWidths: [null, null, null, null, 50] as unknown as number[] });
  for (const h of plan.hosts) {
    hosts.push([`${h.host}\n${h.uri}`, `${h.labs} / ${capacityText(h)}`, `${gib(h.memoryMiB)} / ${h.facts ? gib(h.facts.memoryMiB) : '?'}`, `${h.diskGiB} GiB / ${h.facts?.freeDiskGiB === undefined ? '?' : `${h.facts.freeDiskGiB} GiB`}`, statusText(h)]);
  }
  lines.push(hosts.toString());

  for (const h of plan.hosts) {
    if (h.capacitySource === 'unknown') lines.push(`${h.host}: capacity unknown: give it \`capacity:\` in the class file, or make the host reachable so that labctl derives it from its RAM and CPUs.`);
    if (h.factsError !== undefined && h.factsHint !== undefined) lines.push(`${h.host}: ${h.factsHint}.`);
  }
  if (plan.unplaced.length > 0) lines.push(`Not placed: ${plan.unplaced.join(', ')} (${unplacedReason(plan)}).`);
  return lines.join('\n');
}

/** What keeps the plan from being carried out, one phrase each; empty when it can be. */
export function planProblems(plan: ClassPlan): string[] {
  const problems: string[] = [];
  if (plan.unplaced.length > 0) problems.push(`${plan.unplaced.length} student(s) not placed`);
  const unreachable = plan.hosts.filter((h) => h.factsError !== undefined).map((h) => h.host);
  if (unreachable.length > 0) problems.push(`${unreachable.join(', ')} could not be asked`);
  const over = plan.hosts.filter((h) => h.overcommitted).map((h) => h.host);
  if (over.length > 0) problems.push(`${over.join(', ')} would run out of RAM or disk`);
  return problems;
}

function capacityText(h: HostPlan): string {
  if (h.capacitySource === 'unknown') return '?';
  const limit = h.addresses < h.capacity ? `, ${h.addresses} address(es)` : '';
  return `${h.capacity} (${h.capacitySource === 'file' ? 'class file' : 'from RAM/CPU'}${limit})`;
}

function statusText(h: HostPlan): string {
  // The URI is in the host's cell already.
  if (h.factsError !== undefined) return `unreachable: ${h.factsError.replace(`cannot reach libvirt at ${h.uri}: `, '')}`;
  if (h.overcommitted) return 'overcommitted: lower its capacity, or add RAM/disk';
  return 'ok';
}

function unplacedReason(plan: ClassPlan): string {
  const capacity = plan.hosts.reduce((n, h) => n + h.capacity, 0);
  const students = plan.labs.length + plan.unplaced.length;
  if (capacity < students) return `the hosts' capacity is ${capacity} for ${students} students: add a host or raise a capacity`;
  return 'the hosts with room have no address left: widen their addresses';
}

function gib(mib: number): string {
  return `${(mib / 1024).toFixed(1)} GiB`;
}
