import { runsOwnProject, type LabConfig } from '../core/config.js';
import { guestPaths } from '../core/guest-paths.js';
import { RemoteCommandError, TimeoutError } from '../core/errors.js';
import { pollUntil } from '../core/poll.js';
import { ANY_EXIT_CODE, remoteExec, type Connection, type RemoteExecOptions } from './guest.js';

// Docker Compose in the guest, as root through sudo: the SSH user's new docker-group membership
// only applies to new logins, and root can read the 0600 srcs/.env that Compose interpolates.

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

function composeOpts(config: StackConfig, extra: RemoteExecOptions = {}): RemoteExecOptions {
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

/** Per-service state and health of the lab's stack. */
// The declared services, a record separator line, then ps: one sudo and one channel instead of two.
const SERVICES_THEN_PS = '"$@" config --services && printf "\\036\\n" && "$@" ps --all --format json';

export async function composePs(conn: Connection, config: StackConfig, opts: RemoteExecOptions = {}): Promise<ServiceStatus[]> {
  const r = await remoteExec(conn, ['sh', '-c', SERVICES_THEN_PS, 'sh', ...composeArgv(config, [])], composeOpts(config, opts));
  const cut = r.stdout.indexOf('\x1e\n');
  const declared = cut === -1 ? r.stdout : r.stdout.slice(0, cut);
  const names = declared.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return mergeServiceStatus(names, parseComposePs(cut === -1 ? '' : r.stdout.slice(cut + 2)));
}

export const HEALTH_POLL_INTERVAL_MS = 3_000;

export interface WaitReadyOptions extends RemoteExecOptions {
  timeoutMs: number;
  /** Told the services' state at each poll while not ready. */
  onProgress?: (text: string) => void;
}

/**
 * Polls `docker compose ps` until every service runs and is healthy; bounded by timeoutMs. Right
 * after a boot the Docker daemon may not answer yet: a failing `ps` counts as "not ready".
 */
export async function waitUntilReady(conn: Connection, config: StackConfig, opts: WaitReadyOptions): Promise<ServiceStatus[]> {
  const { timeoutMs, onProgress, ...execOpts } = opts;
  let services: ServiceStatus[] = [];
  let state = '';
  try {
    return await pollUntilReady();
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    throw await withLastLogLines(error);
  }

  function pollUntilReady(): Promise<ServiceStatus[]> {
    return pollUntil(
      async () => {
        services = [];
        try {
          services = await composePs(conn, config, execOpts);
          if (allReady(services)) return services;
          state = describeServices(services);
        } catch (error) {
          if (!(error instanceof RemoteCommandError)) throw error;
          state = `docker compose ps failed: ${error.message}`;
        }
        onProgress?.(state);
        return undefined;
      },
      {
        timeoutMs,
        intervalMs: HEALTH_POLL_INTERVAL_MS,
        signal: opts.signal,
        // A failing `ps` was taken as "not ready" above; what else escapes (an abort, a lost
        // connection) cannot be waited out.
        stopOn: () => true,
        onTimeout: () => {
          const bad = services.find((s) => !isServiceReady(s));
          throw new TimeoutError(`services not healthy after ${Math.round(timeoutMs / 1000)} s: ${state}`, {
            hint: `see why with \`labctl logs${bad ? ` ${bad.name}` : ''}\`, fix, then run \`labctl deploy\` (or \`labctl provision\`) again`,
          });
        },
      },
    );
  }

  /** The first service that is not ready: its last log lines, the last one in the message itself. */
  async function withLastLogLines(error: TimeoutError): Promise<TimeoutError> {
    const bad = services.find((s) => !isServiceReady(s));
    if (!bad) return error;
    const logs = await remoteExec(conn, composeArgv(config, ['logs', '--no-color', '--no-log-prefix', '--tail', String(FAILING_LOG_LINES), bad.name]), composeOpts(config, { ...execOpts, okCodes: ANY_EXIT_CODE, timeoutMs: 30_000 })).catch(() => undefined);
    const lines = `${logs?.stdout ?? ''}\n${logs?.stderr ?? ''}`.split('\n').map(printable).filter((l) => l !== '').slice(-FAILING_LOG_LINES);
    if (lines.length === 0) return error;
    return new TimeoutError(`${error.message}; ${bad.name}'s last log line: ${(lines.at(-1) ?? '').slice(0, 200)}`, { hint: error.hint, details: `last ${lines.length} log lines of ${bad.name}:\n${lines.join('\n')}`, cause: error });
  }
}

/** Compose's terminal codes (it erases lines even with --no-color) and other control bytes, out. */
function printable(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '').trimEnd();
}

/** How many of a failing service's log lines a health timeout carries (shown with --verbose). */
const FAILING_LOG_LINES = 15;

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

/** `docker compose logs [--follow] [--tail N] [service]`, streamed as it arrives. */
export async function streamComposeLogs(conn: Connection, config: StackConfig, request: LogsRequest): Promise<void> {
  const out = request.stdout ?? process.stdout;
  await remoteExec(
    conn,
    composeArgv(config, logsArgs(request)),
    composeOpts(config, {
      timeoutMs: request.timeoutMs ?? (request.follow ? FOLLOW_TIMEOUT_MS : LOGS_TIMEOUT_MS),
      onOutput: (chunk) => out.write(chunk),
      ...(request.signal ? { signal: request.signal } : {}),
      log: request.log,
    }),
  );
}
