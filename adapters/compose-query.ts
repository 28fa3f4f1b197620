import { runsOwnProject, type LabConfig } from '../core/config.js';
import { guestPaths } from '../core/guest-paths.js';
import type { RemoteExecOptions } from './guest.js';

// What labctl asks Docker Compose in the guest and how it reads the answers, apart from any SSH
// library: `labctl status` and `labctl logs` send these through the system ssh (adapters/ssh-mux.ts)
// and never load ssh2; provisioning sends them through adapters/guest.ts (compose.ts).
// Docker Compose runs as root through sudo: the SSH user's new docker-group membership only
// applies to new logins, and root can read the 0600 srcs/.env that Compose interpolates.

export interface ServiceStatus {
  name: string;
  /** Compose's State (running, exited, restarting, created…) or 'missing' when no container exists. */
  state: string;
  /** healthy | unhealthy | starting, or '' when the service has no healthcheck. */
  health: string;
}

/**
 * The lab's stack. In labctl's compose/ the bonus services (B01–B05) are the compose profile
 * "bonus"; a student's project is run from its srcs/ with compose's own file discovery
 * (compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml) and its own profiles.
 */
export type StackConfig = Pick<LabConfig, 'login' | 'bonus' | 'project'>;

export function composeArgv(config: StackConfig, args: readonly string[]): string[] {
  if (runsOwnProject(config)) return ['docker', 'compose', ...args];
  return ['docker', 'compose', '-f', guestPaths(config.login).composeFile, ...(config.bonus ? ['--profile', 'bonus'] : []), ...args];
}

export function composeOpts(config: StackConfig, extra: RemoteExecOptions = {}): RemoteExecOptions {
  const { project } = guestPaths(config.login);
  return { sudo: true, cwd: runsOwnProject(config) ? `${project}/srcs` : project, ...extra };
}

/**
 * `docker compose ps --format json` printed one JSON array before Compose 2.21 and one object per
 * line since; both are accepted.
 */
export function parseComposePs(output: string): Array<{ Service: string; State: string; Health: string }> {
  const text = output.trim();
  if (text === '') return [];
  const rows: unknown[] = text.startsWith('[') ? (JSON.parse(text) as unknown[]) : text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
  return rows.map((r) => {
    const row = r as Record<string, unknown>;
    return { Service: String(row.Service ?? row.Name ?? ''), State: String(row.State ?? ''), Health: String(row.Health ?? '') };
  });
}

/** Joins the declared services with their containers; a declared service without one is 'missing'. */
export function mergeServiceStatus(declared: readonly string[], ps: ReturnType<typeof parseComposePs>): ServiceStatus[] {
  return declared.map((name) => {
    const row = ps.find((r) => r.Service === name);
    return row ? { name, state: row.State.toLowerCase(), health: row.Health.toLowerCase() } : { name, state: 'missing', health: '' };
  });
}

/** Running, and healthy where a healthcheck exists. */
export function isServiceReady(s: ServiceStatus): boolean {
  return s.state === 'running' && (s.health === '' || s.health === 'healthy');
}

export function allReady(services: readonly ServiceStatus[]): boolean {
  return services.length > 0 && services.every(isServiceReady);
}

export function describeServices(services: readonly ServiceStatus[]): string {
  return services.map((s) => `${s.name}: ${s.state}${s.health ? ` (${s.health})` : ''}`).join(', ');
}

// The declared services, a record separator line, then ps: one sudo and one channel instead of two.
const SERVICES_THEN_PS = '"$@" config --services && printf "\\036\\n" && "$@" ps --all --format json';

/** The guest command behind composePs, for any way of reaching the guest (ssh2 here, the system ssh for status). */
export function composePsCommand(config: StackConfig): { argv: string[]; opts: RemoteExecOptions } {
  return { argv: ['sh', '-c', SERVICES_THEN_PS, 'sh', ...composeArgv(config, [])], opts: composeOpts(config) };
}

/** What composePsCommand printed → one ServiceStatus per declared service. */
export function parseServicesThenPs(stdout: string): ServiceStatus[] {
  const cut = stdout.indexOf('\x1e\n');
  const declared = cut === -1 ? stdout : stdout.slice(0, cut);
  const names = declared.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return mergeServiceStatus(names, parseComposePs(cut === -1 ? '' : stdout.slice(cut + 2)));
}

export interface LogsRequest {
  /** One service, or all of them. */
  service?: string | undefined;
  follow: boolean;
  /** `--tail` value: a line count or "all". */
  tail?: string;
  /** Receives stdout and stderr of the remote command (default: this process's stdout). */
  stdout?: NodeJS.WritableStream;
  signal?: AbortSignal;
  /** Bound for a non-following call; following runs until the signal aborts. */
  timeoutMs?: number;
  /** The call log (the lab's labctl.log), as for remoteExec. */
  log?: RemoteExecOptions['log'];
}

/** A followed stream ends only when the caller aborts: its bound is a day, not a hang guard. */
export const FOLLOW_TIMEOUT_MS = 24 * 60 * 60 * 1000;
export const LOGS_TIMEOUT_MS = 60_000;

export function logsArgs(request: Pick<LogsRequest, 'service' | 'follow' | 'tail'>): string[] {
  return [
    'logs',
    '--no-color',
    ...(request.follow ? ['--follow'] : []),
    ...(request.tail === undefined ? [] : ['--tail', request.tail]),
    ...(request.service === undefined ? [] : ['--', request.service]),
  ];
}

/** The guest command behind streamComposeLogs, for any way of reaching the guest. */
export function composeLogsCommand(config: StackConfig, request: Pick<LogsRequest, 'service' | 'follow' | 'tail'>): { argv: string[]; opts: RemoteExecOptions } {
  return { argv: composeArgv(config, logsArgs(request)), opts: composeOpts(config) };
}

