import { existsSync } from 'node:fs';
import { lstat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabPaths } from '../../core/paths.js';
import { writeLab } from '../../core/state.js';
import { closeSshMaster, sshMasterRuns } from '../../adapters/ssh-mux.js';
import { CLI, labctl } from '../helpers/cli.js';
import { writeFakeTools } from '../helpers/fake-tools.js';
import { targetLabConfig } from '../helpers/lab-config.js';
import { ensureTargetImage, startSshTarget, type SshTargetHandle } from '../helpers/ssh-target.js';
import { tempDir } from '../helpers/temp.js';

// Issue 17: one OpenSSH connection per lab (ControlMaster), against a real sshd (the Docker-in-Docker
// target on 127.0.0.1) and the real ssh client. Only `halt` and `destroy` meet fakes: there is no VM
// here, so vagrant is the stand-in of test/helpers/fake-tools.ts (state "running", halt and destroy
// succeed); the master they must close is real.

/** A piped `labctl ssh` must end as soon as the remote command does, not when the master does. */
const PIPE_RETURNS_WITHIN_MS = 15_000;
/** A master told to exit is gone within this. */
const MASTER_EXIT_MS = 5_000;

describe('the lab\'s shared SSH connection (real sshd, real ssh)', () => {
  let target: SshTargetHandle;
  let home: string;
  let paths: LabPaths;
  let env: Record<string, string>;

  beforeAll(async () => {
    await ensureTargetImage();
    target = await startSshTarget('ssh-master');
    const root = await tempDir('labctl-mux-');
    const bin = await writeFakeTools(root);
    home = join(root, 'home');
    env = { LABCTL_HOME: home, LABCTL_HOSTS_FILE: join(root, 'hosts'), PATH: `${bin}:${process.env.PATH ?? ''}` };
    await writeFile(join(root, 'hosts'), '127.0.0.1 localhost\n');
    const config = targetLabConfig({ name: 'mux', login: 'jdoe' });
    ({ paths } = await writeLab(config, '# not used: the fake vagrant reads nothing\n', { LABCTL_HOME: home }));
    const { host, port, username, privateKeyPath } = target.target;
    await writeFile(
      paths.sshConfig,
      ['Host default', `  HostName ${host}`, `  Port ${port}`, `  User ${username}`, `  IdentityFile ${privateKeyPath}`, '  IdentitiesOnly yes', '  StrictHostKeyChecking no', '  UserKnownHostsFile /dev/null', '  LogLevel ERROR', ''].join('\n'),
      { mode: 0o600 },
    );
  });

  afterAll(async () => {
    if (paths) await closeSshMaster(paths);
    await target?.stop();
  });

  /** The master's PID as `ssh -O check` reports it, or undefined when none answers. */
  async function masterPid(): Promise<number | undefined> {
    const r = await execa('ssh', ['-F', '/dev/null', '-o', `ControlPath=${paths.sshControl ?? 'none'}`, '-O', 'check', 'x'], { reject: false, timeout: 10_000 });
    const pid = /pid=(\d+)/.exec(r.stderr)?.[1];
    return pid === undefined ? undefined : Number(pid);
  }

  /** Whether the process is still there MASTER_EXIT_MS after `ssh -O exit` was answered (it exits just after). */
  async function stillAlive(pid: number): Promise<boolean> {
    const deadline = Date.now() + MASTER_EXIT_MS;
    for (;;) {
      const state = (await execa('ps', ['-o', 'stat=', '-p', String(pid)], { reject: false })).stdout.trim();
      // A zombie has exited: the container's init may reap it later.
      if (state === '' || state.startsWith('Z')) return false;
      if (Date.now() > deadline) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('the first labctl ssh starts the master (socket 0600 in the lab directory), the second reuses it', async () => {
    expect(paths.sshControl).toBe(join(home, 'mux', 'ssh.sock'));
    const first = await labctl(['ssh', 'mux', '--', 'true'], { env });
    expect(first.exitCode, first.stderr).toBe(0);
    const socket = await lstat(paths.sshControl ?? '');
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o600);
    expect(await sshMasterRuns(paths)).toBe(true);
    const pid = await masterPid();
    expect(pid).toBeGreaterThan(1);

    const second = await labctl(['ssh', 'mux', '--', 'true'], { env });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(await masterPid()).toBe(pid);
    // Both are printed for the report: the second call skips TCP, key exchange and authentication.
    console.log(`labctl ssh -- true: first ${first.ms} ms (starts the master), second ${second.ms} ms (reuses it)`);
    // The remote command's status and output travel as before.
    const failing = await labctl(['ssh', 'mux', '--', 'sh', '-c', 'echo out; exit 7'], { env });
    expect(failing.exitCode).toBe(7);
    expect(failing.stdout).toBe('out');
  });

  it('piped into another program, a labctl ssh that starts the master returns at once', async () => {
    await closeSshMaster(paths);
    expect(await sshMasterRuns(paths)).toBe(false);
    const started = Date.now();
    const r = await execa(process.execPath, [CLI, 'ssh', 'mux', '--', 'echo', 'piped'], { env: { ...env, LABCTL_LOGIN: '', LABCTL_PROVIDER: '' }, stdin: 'ignore', timeout: PIPE_RETURNS_WITHIN_MS, reject: false }).pipe('cat', [], { timeout: PIPE_RETURNS_WITHIN_MS });
    expect(r.stdout).toBe('piped');
    expect(Date.now() - started).toBeLessThan(PIPE_RETURNS_WITHIN_MS);
    // It did become the master, in the background, holding none of the pipes.
    expect(await sshMasterRuns(paths)).toBe(true);
  });

  it('labctl halt closes the master; labctl destroy closes it and still removes the lab directory', async () => {
    const beforeHalt = await masterPid();
    expect(beforeHalt).toBeGreaterThan(1);
    const halted = await labctl(['halt', 'mux'], { env });
    expect(halted.exitCode, halted.stderr).toBe(0);
    expect(await sshMasterRuns(paths)).toBe(false);
    expect(existsSync(paths.sshControl ?? '')).toBe(false);
    expect(await stillAlive(beforeHalt ?? 0)).toBe(false);

    expect((await labctl(['ssh', 'mux', '--', 'true'], { env })).exitCode).toBe(0);
    const beforeDestroy = await masterPid();
    expect(beforeDestroy).toBeGreaterThan(1);
    // The fake vagrant recorded no machine id: destroy closes the master itself before removing the directory.
    const destroyed = await labctl(['destroy', 'mux', '--yes'], { env });
    expect(destroyed.exitCode, destroyed.stderr).toBe(0);
    expect(existsSync(paths.dir)).toBe(false);
    expect(await stillAlive(beforeDestroy ?? 0)).toBe(false);
  });
});
