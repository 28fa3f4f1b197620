import { loadLab, resolveLabName } from '../core/state.js';
import { composeLogsCommand, FOLLOW_TIMEOUT_MS, LOGS_TIMEOUT_MS } from '../adapters/compose-query.js';
import { guestSsh } from '../adapters/ssh-mux.js';
import { cachedSshTarget } from '../adapters/vagrant.js';

/** `docker compose logs` in the guest, over the lab's shared SSH connection, straight to this terminal. */
export async function streamLabLogs(name: string | undefined, opts: { service: string | undefined; follow: boolean; tail: string }, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const lab = await loadLab(await resolveLabName(name, env), env);
  await cachedSshTarget(lab.paths); // asks vagrant only when nothing is cached
  const command = composeLogsCommand(lab.config, opts);
  await guestSsh(lab.paths, command.argv, { ...command.opts, toTerminal: true, timeoutMs: opts.follow ? FOLLOW_TIMEOUT_MS : LOGS_TIMEOUT_MS });
}
