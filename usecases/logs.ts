import { loadLab, resolveLabName } from '../core/state.js';
import { streamComposeLogs } from '../adapters/compose.js';
import { withGuest } from '../adapters/guest.js';

export async function streamLabLogs(name: string | undefined, opts: { service: string | undefined; follow: boolean; tail: string }, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const lab = await loadLab(await resolveLabName(name, env), env);
  await withGuest(lab, (guest) => streamComposeLogs(guest.conn, lab.config, { ...opts, log: guest.callOptions.log }));
}
