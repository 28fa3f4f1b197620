import { loadLab, resolveLabName } from '../core/state.js';
import { streamComposeLogs } from '../adapters/compose.js';
import { connect } from '../adapters/guest.js';
import { refreshSshConfig } from '../adapters/vagrant.js';

export async function streamLabLogs(name: string | undefined, opts: { service: string | undefined; follow: boolean; tail: string }, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const lab = await loadLab(await resolveLabName(name, env), env);
  const conn = await connect(await refreshSshConfig(lab.paths));
  try {
    await streamComposeLogs(conn, lab.config, opts);
  } finally {
    conn.dispose();
  }
}
