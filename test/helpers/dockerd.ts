import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { execa } from 'execa';

// There is no systemd on the test machines: integration tests start Debian's dockerd themselves
// and stop it by PID, but only if they were the ones to start it (a developer's running engine
// is left alone).

export const DOCKERD_READY_TIMEOUT_MS = 60_000;
/** dockerd stops its containers before it exits; a new one cannot start until it has. */
export const DOCKERD_STOP_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 500;

export interface DockerdHandle {
  /** True when this process started dockerd and will stop it. */
  started: boolean;
  stop(): Promise<void>;
}

export async function dockerReady(): Promise<boolean> {
  const r = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false, timeout: 10_000 });
  return r.exitCode === 0;
}

export async function ensureDockerd(logFile = '/tmp/labctl-test-dockerd.log'): Promise<DockerdHandle> {
  if (await dockerReady()) return { started: false, stop: async () => {} };
  const out = openSync(logFile, 'a');
  const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  const deadline = Date.now() + DOCKERD_READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await dockerReady()) {
      return {
        started: true,
        stop: async () => {
          if (child.pid !== undefined) await stopAndWait(child.pid);
        },
      };
    }
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
  throw new Error(`dockerd did not answer within ${DOCKERD_READY_TIMEOUT_MS} ms; see ${logFile}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

async function stopAndWait(pid: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + DOCKERD_STOP_TIMEOUT_MS;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`dockerd (pid ${pid}) did not stop within ${DOCKERD_STOP_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
}
