import { RemoteCommandError, TimeoutError } from '../core/errors.js';
import { pollUntil } from '../core/poll.js';
import { ANY_EXIT_CODE, remoteExec, type Connection, type RemoteExecOptions } from './guest.js';
import { allReady, composeArgv, composeOpts, composePsCommand, describeServices, FOLLOW_TIMEOUT_MS, isServiceReady, LOGS_TIMEOUT_MS, logsArgs, parseServicesThenPs, type LogsRequest, type ServiceStatus, type StackConfig } from './compose-query.js';

export * from './compose-query.js';

/** Per-service state and health of the lab's stack. */
export async function composePs(conn: Connection, config: StackConfig, opts: RemoteExecOptions = {}): Promise<ServiceStatus[]> {
  const command = composePsCommand(config);
  const r = await remoteExec(conn, command.argv, { ...command.opts, ...opts });
  return parseServicesThenPs(r.stdout);
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
