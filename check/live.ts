import { readFile } from 'node:fs/promises';
import { TimeoutError } from '../core/errors.js';
import { runsOwnProject } from '../core/config.js';
import { guestPaths } from '../core/guest-paths.js';
import { COMPOSE_FILE_NAMES } from '../core/project-layout.js';
import { labStateFrom } from '../core/lab-state.js';
import { blockEntries } from '../core/hosts-file.js';
import { builtinProjectDir, hostsFilePath } from '../core/paths.js';
import { readSecrets } from '../core/secrets.js';
import { loadLab, type Lab } from '../core/state.js';
import * as vagrant from '../adapters/vagrant.js';
import { pollUntil } from '../core/poll.js';
import { ConnectionLostError, guestOf, waitForSsh, withGuest, type Connection, type Guest, type SshTarget } from '../adapters/guest.js';
import { bonusLiveChecks } from './bonus.js';
import { evaluateContainers, evaluatePid1, evaluateSecretLeaks, evaluateVolumes, evaluateWpUsers, serviceName, type ContainerInspect, type VolumeInspect } from './containers.js';
import { httpsGet, plainHttpAnswers, tcpProbe, tlsHandshake } from '../adapters/net-probes.js';
import { checkStatic } from './static.js';
import { MANDATORY } from './role-names.js';
import { withPushedCopy, type PushedCopy } from './pushed-copy.js';
import { assignRoles, containerRef, roleLabel, type Roles } from './roles.js';
import { fail, pass, skip, type CheckResult } from './types.js';

// `labctl check [name]`: the evaluation sheet run against a live lab — from the host (TLS per
// protocol version, plain HTTP, the ports of the lab IP) and inside the VM over SSH (docker
// inspect, PID 1, the WordPress users, secrets in env and image history).

/** Ports probed on the lab IP: only these, and only there. 443 must be the only one open. */
export const PROBED_PORTS = [80, 443, 3306, 9000] as const;
export const RESTART_WAIT_MS = 180_000;
export const REBOOT_WAIT_MS = 900_000;
/** From `systemctl reboot` until the rebooted guest's sshd lets us in (shutdown + boot, under emulation too). */
export const REBOOT_SSH_TIMEOUT_MS = 600_000;
/** One waitForSsh round; between rounds `vagrant ssh-config` is asked again for the address. */
const REBOOT_SSH_WINDOW_MS = 180_000;
/** `systemctl reboot` only queues the job; it answers, or the connection drops, within this. */
const REBOOT_COMMAND_TIMEOUT_MS = 60_000;
/** One boot_id read on a fresh connection. */
const BOOT_ID_TIMEOUT_MS = 30_000;
const POLL_MS = 3_000;
/** Changes at every boot: tells the rebooted guest from the old one whose sshd still answers. */
const BOOT_ID = '/proc/sys/kernel/random/boot_id';

export type Remote = (argv: string[], opts?: { okCodes?: readonly number[]; timeoutMs?: number }) => Promise<{ stdout: string; code: number }>;

export interface LiveOptions {
  destructive: boolean;
  env?: NodeJS.ProcessEnv;
}

export async function checkLive(name: string, opts: LiveOptions): Promise<CheckResult[]> {
  const env = opts.env ?? process.env;
  const lab = await loadLab(name, env);
  const results: CheckResult[] = [];
  const vm = await vagrant.status(lab.paths);
  if (labStateFrom(vm, false) !== 'running') {
    results.push(...(await staticPart(lab, { unavailable: `the VM is ${vm}` })));
    results.push(fail('L01.vm-running', `the VM is ${vm}`, 'run `labctl up`'));
    return results;
  }
  results.push(pass('L01.vm-running', `VM running (${lab.config.provider})`));
  results.push(...(await checkFromHost(lab, env)));

  const target = await vagrant.refreshSshConfig(lab.paths);
  let connected = false;
  try {
    await withGuest(
      lab,
      async (guest) => {
        connected = true;
        const remote = sudoRemote(guest);
        try {
          results.unshift(...(await withPushedCopy(remote, guestPaths(lab.config.login).project, lab.paths.dir, (copy) => staticPart(lab, copy))));
          await checkInsideInto(lab, remote, results);
          if (opts.destructive) await destructive(lab, { conn: guest.conn, remote, target }, results);
        } catch (error) {
          // A dropped connection ends the report with what was learnt so far, never with a crash.
          if (!(error instanceof ConnectionLostError)) throw error;
          results.push(fail('L01.vm-ssh', 'the SSH connection to the VM dropped during the checks', error.message));
        }
      },
      { target },
    );
  } catch (error) {
    // Failing to connect is a finding of the report; a failure after that is not.
    if (connected) throw error;
    results.unshift(...(await staticPart(lab, { unavailable: 'SSH to the VM failed' })));
    results.push(fail('L01.vm-ssh', `SSH to the VM failed: ${(error as Error).message}`, 'run `labctl status`, `labctl up`'));
  }
  return results;
}

/**
 * The static rules, on the project as pushed to the VM; on the host's copy (said so in a skip)
 * when the VM's cannot be read. What git tracks is always the host checkout's answer.
 */
async function staticPart(lab: Lab, copy: PushedCopy): Promise<CheckResult[]> {
  const hostDir = lab.config.project ?? builtinProjectDir();
  const graded = 'dir' in copy
    ? await checkStatic(copy.dir, { gitDir: hostDir })
    : [skip('M01.pushed-copy', `static rules graded on the host copy ${hostDir}, not the VM's: ${copy.unavailable}`), ...(await checkStatic(hostDir))];
  return graded.filter((r) => !r.rule.startsWith('B') || lab.config.bonus);
}

function sudoRemote(guest: Guest): Remote {
  return (argv, o = {}) => guest.exec(argv, { sudo: true, ...o });
}

/** Checks made from the host: hosts file, TLS per protocol version, plain HTTP, open ports, the site. */
export async function checkFromHost(lab: Lab, env: NodeJS.ProcessEnv): Promise<CheckResult[]> {
  const { ip, domain } = lab.config;
  const out: CheckResult[] = [];
  const hosts = await readFile(hostsFilePath(env), 'utf8').catch(() => '');
  const mapped = blockEntries(hosts).find((e) => e.domain === domain);
  out.push(mapped?.ip === ip ? pass('L02.host-hosts', `${domain} → ${ip} in ${hostsFilePath(env)}`) : fail('L02.host-hosts', `${domain} is not mapped to ${ip} in ${hostsFilePath(env)}`, 'run `labctl hosts add`'));

  for (const [version, id, want] of [
    ['TLSv1.3', 'M05.tls13-accepted', true],
    ['TLSv1.2', 'M05.tls12-accepted', true],
    ['TLSv1.1', 'M05.tls11-refused', false],
    ['TLSv1', 'M05.tls10-refused', false],
  ] as const) {
    const r = await tlsHandshake(ip, domain, version);
    const evidence = `TLS handshake ${version} with ${ip}:443 (SNI ${domain}): ${r.ok ? `negotiated ${r.protocol}` : r.error}`;
    out.push(r.ok === want ? pass(id, want ? `${version} works` : `${version} refused`, evidence) : fail(id, want ? `${version} does not work` : `${version} is accepted`, evidence));
  }
  const http = await plainHttpAnswers(ip, domain);
  out.push(http.answers ? fail('M05.http-refused', `plain HTTP on port 80 answers: ${http.detail}`) : pass('M05.http-refused', `http://${domain} does not answer (${http.detail})`));
  const open: number[] = [];
  for (const port of PROBED_PORTS) if ((await tcpProbe(ip, port)) === 'open') open.push(port);
  out.push(
    open.length === 1 && open[0] === 443
      ? pass('M05.only-443-open', `of ${PROBED_PORTS.join(', ')} on ${ip}, only 443 is open`)
      : fail('M05.only-443-open', `open on ${ip}: ${open.join(', ') || 'none'}`),
  );
  try {
    const home = await httpsGet({ address: ip, domain });
    const installer = home.status >= 300 && home.status < 400 && /install\.php/.test(home.location ?? '');
    out.push(
      home.status === 200 && /wp-content|WordPress/i.test(home.body)
        ? pass('M13.site', `https://${domain}/ answers 200 with the WordPress site`)
        : fail('M13.site', installer ? 'the site still shows the WordPress installer' : `https://${domain}/ answered ${home.status}`),
    );
  } catch (error) {
    out.push(fail('M13.site', `https://${domain}/ does not answer: ${(error as Error).message}`));
  }
  return out;
}

/** Checks made inside the VM as root: OS, hosts, Compose, containers, PID 1, users, secrets. */
export async function checkInside(lab: Lab, remote: Remote): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  await checkInsideInto(lab, remote, out);
  return out;
}

/** checkInside, appending to `out` as it goes, so that a dropped connection keeps what came before. */
async function checkInsideInto(lab: Lab, remote: Remote, out: CheckResult[]): Promise<void> {
  const { login, domain } = lab.config;
  const osRelease = await remote(['cat', '/etc/os-release']);
  out.push(/^ID=debian$/m.test(osRelease.stdout) ? pass('L02.guest-debian', /^PRETTY_NAME="?([^"\n]*)/m.exec(osRelease.stdout)?.[1] ?? 'Debian') : fail('L02.guest-debian', 'the VM is not Debian'));
  const resolved = await remote(['getent', 'hosts', domain], { okCodes: [0, 2] });
  out.push(resolved.code === 0 ? pass('L02.guest-hosts', `${domain} resolves in the VM: ${resolved.stdout.trim()}`) : fail('L02.guest-hosts', `${domain} does not resolve inside the VM`));
  const compose = await remote(['docker', 'compose', 'version', '--short'], { okCodes: [0, 1, 125] });
  out.push(compose.code === 0 && /^v?2\./.test(compose.stdout.trim()) ? pass('L03.compose-v2', `Docker Compose ${compose.stdout.trim()}`) : fail('L03.compose-v2', 'Docker Compose v2 is not available in the VM'));
  const { project } = guestPaths(login);
  const composeFiles = COMPOSE_FILE_NAMES.map((n) => `${project}/srcs/${n}`);
  const layout = await remote(['sh', '-c', 'test -f "$1/Makefile" || exit 1; shift; for f; do [ -f "$f" ] && { echo "$f"; exit 0; }; done; exit 1', 'sh', project, ...composeFiles], { okCodes: [0, 1] });
  out.push(layout.code === 0 ? pass('L03.project-dir', `${project} holds Makefile and ${layout.stdout.trim().slice(project.length + 1)}`) : fail('L03.project-dir', `no compose project in ${project}`));
  const { containers, pid1 } = await inspectStack(remote, { stopped: true });
  if (containers.length === 0) {
    out.push(fail('M02.containers', 'no compose containers in the VM', 'run `labctl provision`'));
    return;
  }
  const roles = assignRoles(containers, pid1);
  out.push(...evaluateContainers(containers, roles));
  const volumeNames = [...new Set(containers.flatMap((c) => (c.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name as string)))];
  if (volumeNames.length > 0) out.push(...evaluateVolumes(JSON.parse((await remote(['docker', 'volume', 'inspect', ...volumeNames])).stdout) as VolumeInspect[], login));

  for (const c of containers.filter((x) => x.State.Running)) out.push(evaluatePid1(serviceName(c), pid1.get(c.Name) ?? ''));
  for (const name of ['wordpress', 'mariadb'] as const) {
    const match = roles.get(name);
    if (!match?.container.State.Running) continue;
    const nginx = await remote(['docker', 'exec', containerRef(match), 'sh', '-c', 'command -v nginx || test -d /etc/nginx'], { okCodes: [0, 1, 127] });
    const label = roleLabel(name, match);
    out.push(nginx.code === 0 ? fail(`M06.live-no-nginx-${name}`, `nginx is installed in the ${label} container`) : pass(`M06.live-no-nginx-${name}`, `no nginx in the ${label} container`));
  }

  out.push(...(await wordpressUsers(roles, remote)));

  // A student's secrets are the files their make wrote in the VM; labctl's are on the host.
  const secrets = runsOwnProject(lab.config) ? await guestSecrets(remote, project) : await readSecrets(lab.paths.secrets);
  out.push(evaluateSecretLeaks('docker-inspect', JSON.stringify(containers.map((c) => c.Config.Env)), secrets));
  const images = [...new Set(containers.map((c) => c.Config.Image))];
  const history = await Promise.all(images.map((i) => remote(['docker', 'history', '--no-trunc', '--format', '{{.CreatedBy}}', i])));
  out.push(evaluateSecretLeaks('docker-history', history.map((h) => h.stdout).join('\n'), secrets));
  if (lab.config.bonus && runsOwnProject(lab.config)) {
    out.push(skip('B01.live', "the bonus services of a student's own project are graded from its files (B01–B05 above), not live yet"));
  } else if (lab.config.bonus) {
    out.push(...(await bonusLiveChecks({ remote, ip: lab.config.ip, domain, secrets })));
  }
}

/**
 * Runs SQL in the database container as root. The password is read inside the container — from a
 * Docker secret named like *root*, then the usual environment variables, then none (a root that
 * logs in by unix socket) — so it never crosses SSH or shows in a process list.
 */
const ROOT_SQL = [
  'set -u',
  'client=$(command -v mariadb || command -v mysql) || { echo "no mariadb or mysql client in the container"; exit 3; }',
  'last=""',
  'try() { out=$(MYSQL_PWD="$1" "$client" --user=root --batch --skip-column-names --execute "$2" 2>&1) && { printf "%s\\n" "$out"; return 0; }; last=$out; return 1; }',
  'for f in /run/secrets/*root*; do [ -f "$f" ] && try "$(cat "$f")" "$1" && exit 0; done',
  'for v in "${MYSQL_ROOT_PASSWORD:-}" "${MARIADB_ROOT_PASSWORD:-}" "${DB_ROOT_PASSWORD:-}" "${SQL_ROOT_PASSWORD:-}" "${MYSQL_ROOT_PWD:-}"; do [ -n "$v" ] && try "$v" "$1" && exit 0; done',
  'try "" "$1" && exit 0',
  'printf "%s\\n" "$last"; exit 1',
].join('\n');

function sqlArgv(container: string, query: string): string[] {
  return ['docker', 'exec', container, 'sh', '-c', ROOT_SQL, 'sh', query];
}

/** Where WordPress keeps its tables: the schema holding a `<prefix>usermeta` table. */
interface WpTables {
  container: string;
  schema: string;
  prefix: string;
}

/** Names that come back from the database go into SQL again: only these characters pass. */
const SQL_NAME = /^[A-Za-z0-9_$]+$/;

async function findWordpressTables(roles: Roles, remote: Remote): Promise<WpTables | string> {
  const db = roles.get('mariadb');
  if (!db?.container.State.Running) return 'the database container is not running';
  const container = containerRef(db);
  const r = await remote(sqlArgv(container, "SELECT table_schema, table_name FROM information_schema.tables WHERE table_name LIKE '%usermeta' ORDER BY table_schema LIMIT 1"), { okCodes: [0, 1, 3] });
  if (r.code !== 0) return `cannot log in to the database as root (${(r.stdout.trim().split('\n').at(-1) ?? '') || 'no password found in its secrets or environment'})`;
  const [schema = '', table = ''] = r.stdout.trim().split('\t');
  const prefix = table.slice(0, -'usermeta'.length);
  if (!SQL_NAME.test(schema) || (prefix !== '' && !SQL_NAME.test(prefix))) return 'no WordPress tables in the database';
  return { container, schema, prefix };
}

async function wordpressUsers(roles: Roles, remote: Remote): Promise<CheckResult[]> {
  const found = await findWordpressTables(roles, remote);
  if (typeof found === 'string') return [found.startsWith('no WordPress') ? fail('M11.db-not-empty', found) : skip('M11.users', found)];
  const { container, schema, prefix } = found;
  const sql = `SELECT u.user_login, m.meta_value FROM \`${schema}\`.\`${prefix}users\` u JOIN \`${schema}\`.\`${prefix}usermeta\` m ON m.user_id = u.ID AND m.meta_key = '${prefix}capabilities' ORDER BY u.ID`;
  const r = await remote(sqlArgv(container, sql), { okCodes: [0, 1] });
  if (r.code !== 0) return [fail('M11.users', 'cannot read the WordPress users as root', r.stdout.trim().split('\n').at(-1))];
  const rows = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [login = '', capabilities = ''] = line.split('\t');
      return { login, capabilities };
    });
  const tables = await remote(sqlArgv(container, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '${schema}'`), { okCodes: [0, 1] });
  const count = Number(tables.stdout.trim()) || 0;
  return [...evaluateWpUsers(rows), count > 0 ? pass('M11.db-not-empty', `${count} tables in the ${schema} database`) : fail('M11.db-not-empty', `the ${schema} database is empty`)];
}

/** The files of `<project>/secrets/` in the VM, by name; only compared, never printed. */
async function guestSecrets(remote: Remote, project: string): Promise<Map<string, string>> {
  const r = await remote(['sh', '-c', 'for f in "$1"/secrets/*; do [ -f "$f" ] && printf "%s\\0%s\\0" "${f##*/}" "$(cat -- "$f")"; done; exit 0', 'sh', project]);
  const parts = r.stdout.split('\0');
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < parts.length; i += 2) out.set(parts[i] ?? '', (parts[i + 1] ?? '').trim());
  return out;
}

async function waitFor(what: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  return pollUntil(async () => ((await what()) ? true : undefined), {
    timeoutMs,
    intervalMs: POLL_MS,
    // A lost connection cannot come back by waiting: it ends the wait (the caller reports it).
    // Any other failure (a container not there yet) is one more "not yet".
    stopOn: (error) => error instanceof ConnectionLostError,
    onTimeout: () => false,
  });
}

const MARKER_TITLE = 'labctl check marker';

async function countMarker(remote: Remote, t: WpTables): Promise<number> {
  const r = await remote(sqlArgv(t.container, `SELECT COUNT(*) FROM \`${t.schema}\`.\`${t.prefix}posts\` WHERE post_title = '${MARKER_TITLE}'`));
  return Number(r.stdout.trim());
}

/**
 * The compose containers (`stopped`: the ones not running too) and PID 1 of each running one, by
 * container name. PID 1 is read once: M10 judges it, and it tells which container is the web
 * server, WordPress or the database in a project that names them otherwise.
 */
async function inspectStack(remote: Remote, opts: { stopped: boolean }): Promise<{ containers: ContainerInspect[]; pid1: Map<string, string> }> {
  const ids = (await remote(['docker', 'ps', ...(opts.stopped ? ['--all'] : []), '--quiet', '--filter', 'label=com.docker.compose.project'])).stdout.split('\n').filter(Boolean);
  const pid1 = new Map<string, string>();
  if (ids.length === 0) return { containers: [], pid1 };
  const containers = JSON.parse((await remote(['docker', 'inspect', ...ids])).stdout) as ContainerInspect[];
  for (const c of containers.filter((x) => x.State.Running)) pid1.set(c.Name, (await remote(['cat', `/proc/${c.State.Pid}/cmdline`], { okCodes: [0, 1] })).stdout);
  return { containers, pid1 };
}

interface Session {
  conn: Connection;
  remote: Remote;
  target: SshTarget;
}

/** kill -9 of each container's PID 1 (as a crash does) and a VM reboot; a marker post must survive. */
async function destructive(lab: Lab, session: Session, out: CheckResult[]): Promise<void> {
  const { remote } = session;
  const stack = await inspectStack(remote, { stopped: false });
  const roles = assignRoles(stack.containers, stack.pid1);
  const found = await findWordpressTables(roles, remote);
  if (typeof found === 'string') {
    out.push(skip('M13.destructive', `not run: the marker post needs the WordPress database, and ${found}`));
    return;
  }
  const tables = found;
  const names = MANDATORY.flatMap((role) => {
    const match = roles.get(role);
    return match ? [{ role, container: containerRef(match) }] : [];
  });
  await remote(sqlArgv(tables.container, `INSERT INTO \`${tables.schema}\`.\`${tables.prefix}posts\` (post_author, post_date, post_date_gmt, post_content, post_title, post_excerpt, post_status, post_name, to_ping, pinged, post_modified, post_modified_gmt, post_content_filtered, post_type) VALUES (1, NOW(), UTC_TIMESTAMP(), 'written by labctl check', '${MARKER_TITLE}', '', 'publish', 'labctl-check-marker', '', '', NOW(), UTC_TIMESTAMP(), '', 'post')`));
  const before = await countMarker(remote, tables);
  for (const { role, container: name } of names) {
    const pid = (await remote(['docker', 'inspect', '--format', '{{.State.Pid}}', name])).stdout.trim();
    await remote(['kill', '-9', pid], { okCodes: [0, 1] });
    const back = await waitFor(async () => {
      const s = (await remote(['docker', 'inspect', '--format', '{{.State.Running}} {{.State.Pid}} {{if .State.Health}}{{.State.Health.Status}}{{end}}', name])).stdout.trim().split(' ');
      return s[0] === 'true' && s[1] !== pid && (s[2] === undefined || s[2] === '' || s[2] === 'healthy');
    }, RESTART_WAIT_MS);
    out.push(back ? pass(`M09.kill-${role}`, `${name} came back after kill -9 of PID 1`) : fail(`M09.kill-${role}`, `${name} did not come back within ${RESTART_WAIT_MS / 1000} s`));
  }
  out.push((await countMarker(remote, tables)) >= before && before > 0 ? pass('M13.data-after-kill', 'the marker post survived the kills') : fail('M13.data-after-kill', 'the marker post is gone'));

  const rebooted = await rebootAndReconnect(lab, session);
  if (typeof rebooted === 'string') {
    out.push(fail('M13.after-reboot', rebooted), fail('M13.data-after-reboot', 'not checked: no SSH connection to the rebooted VM'));
    return;
  }
  try {
    const again = sudoRemote(guestOf(rebooted.conn, lab));
    const healthy = await waitFor(async () => {
      const s = (await again(['docker', 'inspect', '--format', '{{.State.Running}}', ...names.map((n) => n.container)])).stdout.trim().split('\n');
      return s.length === names.length && s.every((x) => x === 'true');
    }, REBOOT_WAIT_MS);
    out.push(healthy ? pass('M13.after-reboot', `the stack came back by itself after a VM reboot (SSH back after ${Math.round(rebooted.ms / 1000)} s)`) : fail('M13.after-reboot', `the stack is not running ${REBOOT_WAIT_MS / 1000} s after the reboot`));
    const markers = await countMarker(again, tables).catch((error: unknown) => (error instanceof ConnectionLostError ? Promise.reject(error) : 0));
    out.push(markers > 0 ? pass('M13.data-after-reboot', 'the marker post survived the reboot') : fail('M13.data-after-reboot', 'the marker post is gone after the reboot'));
  } catch (error) {
    if (!(error instanceof ConnectionLostError)) throw error;
    out.push(fail('M13.after-reboot', 'the SSH connection to the rebooted VM dropped', error.message), fail('M13.data-after-reboot', 'not checked: the SSH connection to the rebooted VM dropped'));
  } finally {
    rebooted.conn.dispose();
  }
}

/**
 * Reboots the guest from inside (as a grader does) and connects to the new boot. The reboot resets
 * the connection it was asked on: that is expected, not an error. Returns why it failed otherwise.
 */
async function rebootAndReconnect(lab: Lab, session: Session): Promise<{ conn: Connection; ms: number } | string> {
  const bootBefore = (await session.remote(['cat', BOOT_ID])).stdout.trim();
  const started = Date.now();
  try {
    await session.remote(['systemctl', 'reboot'], { timeoutMs: REBOOT_COMMAND_TIMEOUT_MS });
  } catch (error) {
    if (!(error instanceof ConnectionLostError)) return `\`systemctl reboot\` failed: ${(error as Error).message}`;
  } finally {
    session.conn.dispose();
  }
  let target = session.target;
  let last = 'no answer';
  return pollUntil<{ conn: Connection; ms: number } | string>(
    async (attempt, remainingMs) => {
      let conn: Connection;
      try {
        conn = await waitForSsh(target, { timeoutMs: Math.max(1_000, Math.min(REBOOT_SSH_WINDOW_MS, remainingMs)) });
      } catch (error) {
        // A refused or missing key does not get better by retrying.
        if (!(error instanceof TimeoutError)) return `SSH to the rebooted VM failed: ${error instanceof Error ? error.message : String(error)}`;
        last = error.message;
        // The guest may have come back with another DHCP lease on the management network.
        target = await vagrant.refreshSshConfig(lab.paths).catch(() => target);
        return undefined;
      }
      try {
        const boot = (await guestOf(conn, lab).exec(['cat', BOOT_ID], { timeoutMs: BOOT_ID_TIMEOUT_MS })).stdout.trim();
        if (boot !== '' && boot !== bootBefore) return { conn, ms: Date.now() - started };
        last = `attempt ${attempt} reached the guest before it went down (same boot_id)`;
      } catch (error) {
        last = (error as Error).message;
      }
      conn.dispose();
      return undefined;
    },
    {
      // The bound counts from the reboot command, not from here.
      timeoutMs: started + REBOOT_SSH_TIMEOUT_MS - Date.now(),
      intervalMs: POLL_MS,
      onTimeout: () => `the VM did not come back within ${REBOOT_SSH_TIMEOUT_MS / 1000} s of the reboot (last: ${last})`,
    },
  );
}
