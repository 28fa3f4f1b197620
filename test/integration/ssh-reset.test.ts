import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionLostError, connect, remoteExec, waitForSsh, withSftp, type Connection } from '../../adapters/guest.js';
import { ensureTargetImage, startSshTarget, type SshTargetHandle } from '../helpers/ssh-target.js';

// Defect 16: a VM reboot reset labctl's SSH connection, ssh2 emitted an 'error' nobody listened
// to, and Node died with "Unhandled 'error' event". Here the faults are real, against a real
// OpenSSH server (the Docker-in-Docker target, on 127.0.0.1):
// - the sshd processes serving the session are SIGKILLed by PID (a guest going down kills them);
// - the kernel resets the TCP connection (`ss -K` destroys the server end of the loopback socket:
//   the peer receives an RST, the packet a rebooted guest answers with), which is what makes ssh2
//   emit 'error' ECONNRESET.

/** How soon a running command must learn that its connection is gone. */
const DETECT_MS = 5_000;
/** A later call on the dead connection must not wait for anything. */
const FAIL_FAST_MS = 500;
const LONG_COMMAND = ['sh', '-c', 'echo "ppid=$PPID"; exec sleep 30'];

describe('an SSH connection that drops under a running command (real sshd)', () => {
  let target: SshTargetHandle;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);

  beforeAll(async () => {
    // A listener here also keeps vitest alive long enough to report what it caught.
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    await ensureTargetImage();
    target = await startSshTarget('ssh-reset');
  });

  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    await target?.stop();
  });

  /** Starts LONG_COMMAND and resolves with its pending result and the PID of the sshd process serving it. */
  async function startLongCommand(conn: Connection): Promise<{ pending: Promise<unknown>; sessionPid: number }> {
    let output = '';
    const pending = remoteExec(conn, LONG_COMMAND, { timeoutMs: 60_000, onOutput: (chunk) => (output += chunk) });
    pending.catch(() => undefined);
    const deadline = Date.now() + DETECT_MS;
    while (!/ppid=\d+/.test(output) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const sessionPid = Number(/ppid=(\d+)/.exec(output)?.[1]);
    expect(sessionPid, `the remote command printed no $PPID: ${output}`).toBeGreaterThan(1);
    return { pending, sessionPid };
  }

  async function expectLost(pending: Promise<unknown>): Promise<ConnectionLostError> {
    const started = Date.now();
    const error = await pending.then(
      () => new Error('the command finished although its connection was killed'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect(Date.now() - started).toBeLessThan(DETECT_MS);
    return error as ConnectionLostError;
  }

  async function expectFailsFast(conn: Connection): Promise<void> {
    const started = Date.now();
    await expect(remoteExec(conn, ['true'])).rejects.toBeInstanceOf(ConnectionLostError);
    await expect(withSftp(conn, async () => undefined)).rejects.toBeInstanceOf(ConnectionLostError);
    expect(Date.now() - started).toBeLessThan(FAIL_FAST_MS);
  }

  it('killing the sshd session by PID: the command rejects with ConnectionLostError, later calls fail fast, waitForSsh reconnects', async () => {
    const conn = await connect(target.target);
    try {
      const { pending, sessionPid } = await startLongCommand(conn);
      // $PPID is the unprivileged sshd-session child; its parent is the session's privileged monitor.
      const monitor = (await target.exec(['ps', '-o', 'ppid=', '-p', String(sessionPid)])).stdout.trim();
      expect(Number(monitor)).toBeGreaterThan(1);
      const killed = await target.exec(['kill', '-KILL', String(sessionPid), monitor]);
      expect(killed.exitCode).toBe(0);
      const error = await expectLost(pending);
      expect(error.message).toContain('sleep 30');
      expect(error.exitCode).toBe(7);
      await expectFailsFast(conn);
    } finally {
      conn.dispose();
    }
    const again = await waitForSsh(target.target, { timeoutMs: 30_000 });
    try {
      expect((await remoteExec(again, ['echo', 'back'])).stdout.trim()).toBe('back');
    } finally {
      again.dispose();
    }
    expect(uncaught).toEqual([]);
  });

  it('a TCP reset from the kernel: the ssh2 error event is handled, the command rejects with ConnectionLostError', async () => {
    const conn = await connect(target.target);
    try {
      const { pending } = await startLongCommand(conn);
      // Our end of the connection: the socket of this process to the target's published port.
      const ours = String((await execa('ss', ['-Htnp', 'state', 'established', 'dport', '=', `:${target.target.port}`])).stdout)
        .split('\n')
        .filter((line) => line.includes(`pid=${process.pid},`));
      expect(ours, 'exactly one connection of this process to the target').toHaveLength(1);
      const localPort = /127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:\d+/.exec(ours[0] ?? '')?.[1];
      expect(localPort).toBeDefined();
      // Destroys the other end (docker-proxy's, or sshd's under DNAT): the kernel sends us an RST.
      const reset = await execa('ss', ['-K', '-Htn', 'src', `127.0.0.1:${target.target.port}`, 'dst', `127.0.0.1:${localPort}`], { reject: false });
      expect(reset.exitCode, String(reset.stderr)).toBe(0);
      const error = await expectLost(pending);
      expect(error.message).toMatch(/ECONNRESET/);
      await expectFailsFast(conn);
    } finally {
      conn.dispose();
    }
    const again = await waitForSsh(target.target, { timeoutMs: 30_000 });
    try {
      expect((await remoteExec(again, ['true'])).code).toBe(0);
    } finally {
      again.dispose();
    }
    expect(uncaught).toEqual([]);
  });
});
