import { shQuote } from '../core/quote.js';

// What `labctl layers` asks, on the host and in the VM: one shell script per side, each probe a
// command a student could type, printed as a section (core/layers-parse.ts splitSections reads
// them). The same command text is what --explain shows, with the script's variables ("$pid",
// "$id" …) replaced by their values, so that the student repeats exactly what ran.

export interface Probe {
  /** The section name (and the fact id it feeds). */
  id: string;
  command: string;
}

// Each probe: a record separator and its name, its output (stdin closed: loops read their own
// input), a newline, then a unit separator, its exit status and the first line of its stderr.
const PRELUDE = [
  'set -u',
  'err=$(mktemp) || exit 70',
  'list=$(mktemp) || exit 70',
  `trap 'rm -f "$err" "$list"' EXIT`,
  'probe() {',
  `  printf '\\036%s\\n' "$1"`,
  '  eval "$2" </dev/null 2>"$err"',
  '  rc=$?',
  `  printf '\\n\\037%s %s\\n' "$rc" "$(head -n 1 "$err" | cut -c 1-300)"`,
  '}',
];

const line = (id: string, command: string): string => `probe ${shQuote(id)} ${shQuote(command)}`;

/**
 * The scripts reach sh on its stdin (`sh -s`, so that the SSH command line and labctl.log stay
 * short), and sh reads its script from there as it goes: the body is one function, read whole
 * before it runs with stdin closed, so that no command in it can swallow the rest of the script.
 */
function asMain(lines: readonly string[]): string {
  return ['main() {', ...lines.map((l) => (l === '' ? l : `  ${l}`)), '}', 'main "$@" </dev/null', ''].join('\n');
}
/** A probe run once per container or image: its section is named `<id> <the loop variable's value>`. */
const loopLine = (id: string, variable: string, command: string): string => `  probe "${id} $${variable}" ${shQuote(command)}`;

// ---------- the host ----------

export const HOST_PROBES = {
  cpu: "grep -m 1 -E '^(model name|Model|Hardware)[[:space:]]*:' /proc/cpuinfo",
  cpus: 'nproc',
  // One word per CPU that has it: sort -u leaves one (and exits 0 when there is none).
  flags: "grep -o -w -E 'vmx|svm' /proc/cpuinfo | sort -u",
  kvm: 'ls -l /dev/kvm',
  kernel: 'uname -r',
  os: "sed -n 's/^PRETTY_NAME=//p' /etc/os-release",
  memory: "grep -E '^MemTotal:' /proc/meminfo",
  ip: 'ip -o -4 addr show',
  // The VM's process carries the VM's id on its command line (qemu's -uuid, VBoxHeadless --startvm).
  vm: 'pgrep -a -f -- "$LAYERS_VM_ID"',
  vmStatus: "grep -E '^(Name|VmRSS|Threads):' /proc/\"$pid\"/status",
  // Vagrant ≥ 2.4 adds the architecture between version and provider.
  box: 'du -sb "$LAYERS_BOX_DIR"/*/"$LAYERS_BOX_PROVIDER" "$LAYERS_BOX_DIR"/*/*/"$LAYERS_BOX_PROVIDER"',
} as const;

export interface HostScriptOptions {
  /** Read this machine's CPU, kernel, RAM …: false when the VM runs on a remote libvirt host. */
  local: boolean;
  /** Look for the VM's process (LAYERS_VM_ID set). */
  vmProcess: boolean;
  /** Measure the box (LAYERS_BOX_DIR and LAYERS_BOX_PROVIDER set). */
  box: boolean;
}

export function hostScript(opts: HostScriptOptions): string {
  const p = HOST_PROBES;
  return asMain([
    ...PRELUDE,
    ...(opts.local
      ? [line('host.cpu', p.cpu), line('host.cpus', p.cpus), line('host.flags', p.flags), line('host.kvm', p.kvm), line('host.kernel', p.kernel), line('host.os', p.os), line('host.memory', p.memory), line('host.ip', p.ip)]
      : []),
    ...(opts.local && opts.vmProcess
      ? [line('host.vm', p.vm), 'for pid in $(pgrep -f -- "$LAYERS_VM_ID"); do', loopLine('host.vmstatus', 'pid', p.vmStatus), 'done']
      : []),
    ...(opts.box ? [line('host.box', p.box)] : []),
  ]);
}

// ---------- the VM (run as root) ----------

const NS_LOOP = (pid: string): string => `for n in pid net mnt uts ipc user cgroup; do echo "$n $(readlink /proc/${pid}/ns/$n)"; done`;

export const VM_PROBES = {
  kernel: 'uname -r',
  os: "sed -n 's/^PRETTY_NAME=//p' /etc/os-release",
  virt: 'systemd-detect-virt',
  cpus: 'nproc',
  memory: "grep -E '^MemTotal:' /proc/meminfo",
  pid1: 'ps -o comm= -p 1',
  docker: "docker version --format '{{.Server.Version}}'",
  namespaces: NS_LOOP('1'),
  ip: 'ip -o -4 addr show',
  boot: 'systemd-analyze time',
} as const;

/** The containers of the lab's compose project (every compose container in the lab's VM, as check reads them). */
export const COMPOSE_CONTAINERS = 'docker ps -q --no-trunc --filter label=com.docker.compose.project';

export const CONTAINER_PROBES = {
  inspect: 'docker inspect $ids',
  status: "grep -E '^(NSpid|VmRSS):' /proc/\"$pid\"/status",
  comm: 'cat /proc/"$pid"/comm',
  cmdline: "tr '\\0' ' ' < /proc/\"$pid\"/cmdline",
  namespaces: NS_LOOP('"$pid"'),
  cgroup: 'cat /proc/"$pid"/cgroup',
  limits: `cg=$(sed -n 's/^0:://p' /proc/"$pid"/cgroup); for f in memory.max memory.current cpu.max pids.max; do echo "$f $(cat "/sys/fs/cgroup$cg/$f" 2>/dev/null || echo -)"; done`,
  root: `awk '$2 == "/"' /proc/"$pid"/mounts`,
  // The container's own uname, run in its mount and UTS namespaces: what `docker exec <c> uname -r` says.
  kernel: 'nsenter --target "$pid" --mount --uts uname -r',
  images: "docker image inspect --format '{{.Id}} {{.Size}}' $images",
  history: "docker history --human=false --no-trunc --format '{{.Size}} {{json .CreatedBy}}' \"$image\"",
  stats: "docker stats --no-stream --no-trunc --format '{{json .}}' $ids",
} as const;

/** The same facts from inside a container, for the student (not run by labctl). */
export const INSIDE_COMMANDS = {
  pid1: 'docker exec "$id" cat /proc/1/comm',
  kernel: 'docker exec "$id" uname -r',
  namespaces: 'docker exec "$id" ls -l /proc/1/ns',
  root: 'docker exec "$id" cat /proc/1/mounts',
} as const;

export function guestScript(opts: { measure: boolean }): string {
  const v = VM_PROBES;
  const c = CONTAINER_PROBES;
  return asMain([
    ...PRELUDE,
    ...Object.entries(v).map(([key, command]) => line(`vm.${key}`, command)),
    `ids=$(${COMPOSE_CONTAINERS} 2>/dev/null)`,
    'if [ -n "$ids" ]; then',
    `  ${line('containers.inspect', c.inspect)}`,
    `  docker inspect --format '{{.Id}} {{.State.Pid}} {{.Image}}' $ids > "$list" 2>/dev/null`,
    '  probe containers.list \'cat "$list"\'',
    '  while read -r id pid image; do',
    // A container that stopped between ps and inspect has PID 0: nothing of it to read in /proc.
    '    [ "$pid" -gt 0 ] 2>/dev/null || continue',
    ...(['status', 'comm', 'cmdline', 'namespaces', 'cgroup', 'limits', 'root', 'kernel'] as const).map((k) => `  ${loopLine(`c.${k}`, 'id', c[k])}`),
    '  done < "$list"',
    `  images=$(cut -d ' ' -f 3 "$list" | sort -u)`,
    `  ${line('containers.images', c.images)}`,
    '  for image in $images; do',
    `  ${loopLine('image.history', 'image', c.history)}`,
    '  done',
    ...(opts.measure ? [`  ${line('containers.stats', c.stats)}`] : []),
    'fi',
  ]);
}

/** How long the restart probe waits for the container to be running and healthy again. */
export const RESTART_WAIT_S = 120;

/**
 * `docker restart` of one container, timed in the VM (no SSH round trip in the figure): until
 * restart returns (the container runs again), then until its health check says healthy.
 * Arguments: the container, the wait in seconds.
 */
export const RESTART_SCRIPT = asMain([
  'set -u',
  'c=$1; limit=$2',
  'start=$(date +%s%N)',
  'docker restart "$c" >/dev/null || exit 1',
  'now=$(date +%s%N); running=$(( (now - start) / 1000000 )); healthy=; timed_out=1',
  'deadline=$(( start + limit * 1000000000 )); i=0',
  'while [ "$now" -lt "$deadline" ] && [ "$i" -lt 2000 ]; do',
  `  s=$(docker inspect --format '{{.State.Running}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$c")`,
  '  now=$(date +%s%N)',
  '  case "$s" in',
  `    'true healthy') healthy=$(( (now - start) / 1000000 )); timed_out=0; break ;;`,
  `    'true none') timed_out=0; break ;;`,
  '  esac',
  '  sleep 0.2; i=$((i + 1))',
  'done',
  'echo "running_ms=$running healthy_ms=$healthy timed_out=$timed_out"',
]);

/** What --explain shows for the restart: the two commands a student would time by hand. */
export const RESTART_EXPLAIN = "time docker restart \"$id\"; docker inspect --format '{{.State.Health.Status}}' \"$id\"";

/**
 * A probe's command with the script's variables replaced by their values, as a student types it:
 * `"$pid"` becomes the value (quoted when it is not a plain word), `$ids` the list of words it holds.
 */
export function explain(command: string, vars: Readonly<Record<string, string>>): string {
  let out = command;
  for (const [name, value] of Object.entries(vars)) {
    const word = /^[A-Za-z0-9_./:=@%+,-]+$/.test(value) ? value : shQuote(value);
    out = out.replace(new RegExp(`"\\$${name}"`, 'g'), () => word).replace(new RegExp(`\\$${name}(?![A-Za-z0-9_])`, 'g'), () => value);
  }
  return out;
}
