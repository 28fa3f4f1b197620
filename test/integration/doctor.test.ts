import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Check, preflight, preflightError } from '../../adapters/host-probes.js';
import { HostNotReadyError, NotFoundError } from '../../core/errors.js';
import { CLI, labctl } from '../helpers/cli.js';
import { startLibvirt, type Libvirt } from '../helpers/libvirt.js';
import { createNetns, type Netns } from '../helpers/netns.js';
import { tempDir } from '../helpers/temp.js';

// doctor and create's preflight against the real programs of this machine: virsh connecting to a
// socket that is not there, and to a libvirtd this file starts; hosts files that are missing, a
// directory, or on a read-only mount. The libvirt cases need virsh and vagrant-libvirt installed.

const which = async (program: string) => {
  const r = await execa('which', [program], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
};
const virsh = await which('virsh');
const plugin = /^vagrant-libvirt /m.test(String((await execa('vagrant', ['plugin', 'list'], { reject: false })).stdout ?? ''));
const vbox = (await execa('VBoxManage', ['--version'], { reject: false })).exitCode === 0;
const haveLibvirt = virsh !== undefined && plugin;
const unshare = await which('unshare');
const mountBin = await which('mount');

let dir: string;
/** A hosts file and a LABCTL_HOME of the test's own, so that only the case under test varies. */
let base: Record<string, string>;

beforeAll(async () => {
  dir = await tempDir('labctl-doctor-');
  await writeFile(join(dir, 'hosts'), '127.0.0.1 localhost\n');
  base = { LABCTL_HOME: join(dir, 'home'), LABCTL_HOSTS_FILE: join(dir, 'hosts'), LIBVIRT_DEFAULT_URI: '' };
});

interface Doctor {
  exitCode: number;
  byId: Map<string, Check>;
  checks: Check[];
  /** The summary: stderr's `labctl: …` line on failure, else the line doctor --json writes there. */
  summary: string;
}

function parse(r: { exitCode: number; stdout: string; stderr: string }): Doctor {
  const checks = JSON.parse(r.stdout) as Check[];
  const lines = r.stderr.trim().split('\n');
  const summary = (lines.find((l) => l.startsWith('labctl: ')) ?? lines.at(-1) ?? '').replace(/^labctl: /, '');
  return { exitCode: r.exitCode, checks, byId: new Map(checks.map((c) => [c.id, c])), summary };
}

async function doctor(env: Record<string, string>): Promise<Doctor> {
  return parse(await labctl(['doctor', '--json'], { env: { ...base, ...env } }));
}

function expectExitMatchesVerdicts(d: Doctor): void {
  const failed = d.checks.filter((c) => c.verdict === 'fail');
  expect(d.exitCode).toBe(failed.length > 0 ? 1 : 0);
  if (failed.length === 0) expect(d.summary).toMatch(/^no problems: create can run here/);
  else expect(d.summary).toMatch(new RegExp(`^${failed.length} problems?: ${failed.map((c) => `${c.id} \\(`).join('.*')}`));
}

describe('doctor connects to libvirt the way vagrant-libvirt will', () => {
  it.skipIf(!haveLibvirt)('a socket that does not exist: the libvirt check fails with virsh\'s reason', async () => {
    const socket = join(dir, 'nope.sock');
    const uri = `qemu:///system?socket=${socket}`;
    const d = await doctor({ LIBVIRT_DEFAULT_URI: uri });
    const libvirt = d.byId.get('libvirt');
    // Only a failure when libvirt is the provider create would use (no VirtualBox here).
    expect(libvirt?.verdict).toBe(vbox ? 'warn' : 'fail');
    expect(libvirt?.summary).toBe(`cannot connect to ${uri}: Failed to connect socket to '${socket}': No such file or directory`);
    expect(libvirt?.fix).toContain('sudo systemctl start libvirtd');
    expect(libvirt?.fix).toContain('usermod -aG libvirt');
    expectExitMatchesVerdicts(d);
    if (!vbox) {
      expect(d.exitCode).toBe(1);
      expect(d.summary).toContain(`libvirt (cannot connect to ${uri}: Failed to connect socket to '${socket}'`);
    }
  });

  describe.skipIf(!haveLibvirt)('a real libvirtd', () => {
    let ns: Netns | undefined;
    let libvirt: Libvirt | undefined;
    let socket: string;

    beforeAll(async () => {
      const logs: string[] = [];
      const log = (line: string) => logs.push(line);
      // The e2e helpers: a private mount namespace in which libvirtd's /run/libvirt is a directory
      // of ours, so its socket is reachable from here by path and no other libvirtd is touched.
      ns = await createNetns({ log, prefix: 'labctl-dr' });
      const stateDir = join(await tempDir('labctl-doctor-libvirt-'), 'libvirt');
      libvirt = await startLibvirt(ns, { stateDir, log });
      socket = join(stateDir, 'run', 'libvirt-sock');
      expect(existsSync(socket), logs.join('\n')).toBe(true);
    });

    afterAll(async () => {
      await libvirt?.stop();
      await ns?.teardown();
    });

    it('the libvirt check passes and names the URI', async () => {
      const uri = `qemu:///system?socket=${socket}`;
      const d = await doctor({ LIBVIRT_DEFAULT_URI: uri });
      const check = d.byId.get('libvirt');
      expect(check?.verdict).toBe('ok');
      expect(check?.summary).toMatch(new RegExp(`^libvirt .*, vagrant-libvirt \\S+, connected to ${uri.replace(/[?]/g, '\\?')}$`));
      expectExitMatchesVerdicts(d);
    });

    it('create\'s preflight passes with the same connection', async () => {
      const env = { ...process.env, ...base, LIBVIRT_DEFAULT_URI: `qemu:///system?socket=${socket}` };
      const checks = await preflight({ provider: 'libvirt', hosts: true, env });
      expect(checks.map((c) => [c.id, c.verdict])).toEqual([
        ['vagrant', 'ok'],
        ['libvirt', 'ok'],
        ['labctl-home', 'ok'],
        ['hosts-file', 'ok'],
      ]);
      expect(preflightError(checks)).toBeUndefined();
    });
  });
});

describe('doctor checks the hosts file create will edit', () => {
  it('missing: fail, with its path', async () => {
    const path = join(dir, 'absent', 'hosts');
    const d = await doctor({ LABCTL_HOSTS_FILE: path });
    expect(d.byId.get('hosts-file')).toMatchObject({ verdict: 'fail', summary: `${path} does not exist` });
    expect(d.byId.get('hosts-file')?.fix).toContain('LABCTL_HOSTS_FILE');
    expect(d.summary).toContain(`hosts-file (${path} does not exist)`);
    expect(d.exitCode).toBe(1);
    expectExitMatchesVerdicts(d);
  });

  it('a directory: fail', async () => {
    const path = join(dir, 'hosts.d');
    await mkdir(path, { recursive: true });
    const d = await doctor({ LABCTL_HOSTS_FILE: path });
    expect(d.byId.get('hosts-file')).toMatchObject({ verdict: 'fail', summary: `${path} is a directory, not a hosts file` });
    expect(d.exitCode).toBe(1);
    expectExitMatchesVerdicts(d);
  });

  it('writable: ok', async () => {
    const d = await doctor({});
    expect(d.byId.get('hosts-file')).toMatchObject({ verdict: 'ok', summary: `${base.LABCTL_HOSTS_FILE} is writable` });
    expect(d.byId.get('labctl-home')?.verdict).toBe('ok');
  });

  // Root may write any file, so "not writable" is made for real with a read-only bind mount in a
  // private mount namespace. What sudo answers is the one fault faked: as root a real `sudo -n
  // true` always succeeds (and sudo is not installed on every test machine), so a `sudo` script
  // that exits 1 or 0 stands first on PATH; the third case has no sudo on PATH at all.
  describe.skipIf(unshare === undefined || mountBin === undefined || process.getuid?.() !== 0)('not writable (read-only mount)', () => {
    let roDir: string;
    let fakes: string;

    beforeAll(async () => {
      roDir = join(dir, 'ro');
      await mkdir(roDir, { recursive: true });
      await writeFile(join(roDir, 'hosts'), '127.0.0.1 localhost\n');
      fakes = join(dir, 'fakes');
      for (const [name, code] of [['fails', 1], ['works', 0]] as const) {
        await mkdir(join(fakes, name), { recursive: true });
        await writeFile(join(fakes, name, 'sudo'), `#!/bin/sh\n# fake: stands for sudo -n answering ${code}\nexit ${code}\n`);
        await chmod(join(fakes, name, 'sudo'), 0o755);
      }
      await mkdir(join(fakes, 'none'), { recursive: true });
    });

    async function doctorReadOnly(path: string): Promise<Doctor> {
      const script = `${mountBin} --bind -o ro "$1" "$1" || exit 99; shift; exec "$@"`;
      const r = await execa(unshare ?? 'unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', script, 'sh', roDir, process.execPath, CLI, 'doctor', '--json'], {
        reject: false,
        env: { ...base, LABCTL_HOSTS_FILE: join(roDir, 'hosts'), PATH: path, LABCTL_LOGIN: '', LABCTL_PROVIDER: '' },
        stdin: 'ignore',
        timeout: 60_000,
      });
      expect(r.exitCode, r.stderr).not.toBe(99);
      return parse({ exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) });
    }

    it('sudo -n fails: warn with the fix', async () => {
      const d = await doctorReadOnly(`${join(fakes, 'fails')}:${process.env.PATH ?? ''}`);
      const hosts = d.byId.get('hosts-file');
      expect(hosts).toMatchObject({ verdict: 'warn', summary: `${join(roDir, 'hosts')} is not writable and \`sudo -n true\` failed (exit 1)` });
      expect(hosts?.fix).toBe('run create with sudo available, or --no-hosts and add the printed line yourself');
      expect(d.summary).toMatch(/warnings?: .*hosts-file/);
      expectExitMatchesVerdicts(d);
    });

    it('sudo -n works: ok, create will use sudo', async () => {
      const d = await doctorReadOnly(`${join(fakes, 'works')}:${process.env.PATH ?? ''}`);
      expect(d.byId.get('hosts-file')).toMatchObject({ verdict: 'ok', summary: `${join(roDir, 'hosts')} is not writable; create will use sudo` });
    });

    it('no sudo at all: warn', async () => {
      // An empty PATH: the other checks find nothing either, which is beside the point here.
      const d = await doctorReadOnly(join(fakes, 'none'));
      expect(d.byId.get('hosts-file')).toMatchObject({ verdict: 'warn', summary: `${join(roDir, 'hosts')} is not writable and sudo is not installed` });
      expect(d.byId.get('vagrant')?.verdict).toBe('fail');
      expect(d.exitCode).toBe(1);
      expectExitMatchesVerdicts(d);
    });
  });
});

describe('doctor checks LABCTL_HOME', () => {
  it('a file where the directory must be: fail, and both problems in one line', async () => {
    const home = join(dir, 'home-file');
    await writeFile(home, '');
    const hosts = join(dir, 'no-such-hosts');
    const d = await doctor({ LABCTL_HOME: home, LABCTL_HOSTS_FILE: hosts });
    expect(d.byId.get('labctl-home')).toMatchObject({ verdict: 'fail', summary: `${home} is not a directory` });
    expect(d.summary).toMatch(new RegExp(`^\\d+ problems: .*labctl-home \\(${home} is not a directory\\), hosts-file \\(${hosts} does not exist\\)`));
    expect(d.exitCode).toBe(1);
    expectExitMatchesVerdicts(d);
  });
});

describe('preflight: the checks create runs before it writes anything', () => {
  it.skipIf(!haveLibvirt)('libvirt unreachable and hosts file missing: one error, the summary line, the first fix', async () => {
    const socket = join(dir, 'nope.sock');
    const hosts = join(dir, 'gone');
    const env = { ...process.env, ...base, LIBVIRT_DEFAULT_URI: `qemu:///system?socket=${socket}`, LABCTL_HOSTS_FILE: hosts };
    const checks = await preflight({ provider: 'libvirt', hosts: true, env });
    expect(checks.map((c) => c.id)).toEqual(['vagrant', 'libvirt', 'labctl-home', 'hosts-file']);
    const error = preflightError(checks);
    expect(error).toBeInstanceOf(HostNotReadyError);
    expect(error?.message).toBe(
      `2 problems: libvirt (cannot connect to qemu:///system?socket=${socket}: Failed to connect socket to '${socket}': No such file or directory), hosts-file (${hosts} does not exist)`,
    );
    expect(error?.hint).toContain('sudo systemctl start libvirtd');

    // --no-hosts: the hosts file is not create's business, so it is not checked.
    const noHosts = await preflight({ provider: 'libvirt', hosts: false, env });
    expect(noHosts.map((c) => c.id)).toEqual(['vagrant', 'libvirt', 'labctl-home']);
  });

  it.skipIf(vbox)('virtualbox chosen but not installed: NotFoundError', async () => {
    const checks = await preflight({ provider: 'virtualbox', hosts: true, env: { ...process.env, ...base } });
    expect(checks.find((c) => c.id === 'virtualbox')).toMatchObject({ verdict: 'fail', missing: true });
    const error = preflightError(checks);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error?.message).toMatch(/^1 problem: virtualbox \(VirtualBox is not installed/);
    expect(error?.hint).toContain('install VirtualBox');
  });
});
