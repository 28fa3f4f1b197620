import { execa, type ResultPromise } from 'execa';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { layersText } from '../../cli/layers-report.js';
import type { LayersReport } from '../../core/layers-report.js';
import { labPaths } from '../../core/paths.js';
import { writeLab } from '../../core/state.js';
import { closeSshMaster } from '../../adapters/ssh-mux.js';
import { machineIdPath } from '../../adapters/provider-state.js';
import { showLayers } from '../../usecases/layers.js';
import type { DockerdHandle } from '../helpers/dockerd.js';
import { writeFakeTools } from '../helpers/fake-tools.js';
import { targetLabConfig } from '../helpers/lab-config.js';
import { startBookwormTarget, type SshTargetHandle } from '../helpers/ssh-target.js';
import { tempDir } from '../helpers/temp.js';

// `labctl layers --measure --html` for real, short of a VM: the guest script runs over real SSH
// with sudo in the Debian 13 sshd + Docker-in-Docker target (the "VM"), on two containers labelled
// as a compose project; the host script runs on this machine, where a real QEMU process (paused
// before its first instruction, no disk, no board) carries the lab's VM id on its command line as
// libvirt's would. Only the provider's answer "the VM runs" is a stand-in (test/helpers/fake-tools.ts
// virsh), since there is no libvirt domain to ask. Every expected value is read from the target
// or this machine independently, never written down here.

const SERVICES = ['web', 'db'] as const;
const BOOT_MS = 81234;
const BOX_BYTES = 3 * 1024 * 1024;

describe('labctl layers on a real sshd + Docker guest and a real QEMU process', () => {
  let dockerd: DockerdHandle;
  let target: SshTargetHandle;
  let qemu: ResultPromise | undefined;
  let report: LayersReport;
  let htmlPath: string;
  let home: string;
  const progress: string[] = [];

  const inTarget = async (argv: string[]): Promise<string> => {
    const r = await target.exec(argv);
    if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} in the target: exit ${r.exitCode}`);
    return r.stdout.trim();
  };

  beforeAll(async () => {
    ({ dockerd, target } = await startBookwormTarget('layers'));
    for (const service of SERVICES) {
      // sleep as PID 1 ignores SIGTERM: a short stop timeout keeps the timed restart short.
      await inTarget([
        'docker', 'run', '-d', '--name', service, '--stop-timeout', '1',
        '--label', 'com.docker.compose.project=layers', '--label', `com.docker.compose.service=${service}`,
        ...(service === 'web' ? ['--memory', '96m', '--pids-limit', '64', '--health-cmd', 'true', '--health-interval', '1s'] : []),
        'debian:bookworm', 'sleep', 'infinity',
      ]);
    }
    const root = await tempDir('labctl-layers-');
    home = join(root, 'home');
    const bin = await writeFakeTools(root);
    vi.stubEnv('PATH', `${bin}:${process.env.PATH ?? ''}`);
    vi.stubEnv('FAKE_VIRSH_DOMSTATE', 'running');
    const vagrantHome = join(root, 'vagrant.d');
    vi.stubEnv('VAGRANT_HOME', vagrantHome);
    const config = targetLabConfig({ name: 'layers', login: 'jdoe', box: 'labctl/trixie' });
    const { paths } = await writeLab(config, '# not used: no vagrant runs here\n', { LABCTL_HOME: home });
    const { host, port, username, privateKeyPath } = target.target;
    await writeFile(
      paths.sshConfig,
      ['Host default', `  HostName ${host}`, `  Port ${port}`, `  User ${username}`, `  IdentityFile ${privateKeyPath}`, '  IdentitiesOnly yes', '  StrictHostKeyChecking no', '  UserKnownHostsFile /dev/null', '  LogLevel ERROR', ''].join('\n'),
      { mode: 0o600 },
    );
    const vmId = randomUUID();
    await mkdir(join(paths.dir, '.vagrant', 'machines', 'default', 'libvirt'), { recursive: true });
    await writeFile(machineIdPath(paths, 'libvirt'), `${vmId}\n`);
    qemu = execa('qemu-system-x86_64', ['-name', 'guest=labctl-layers-test', '-machine', 'none', '-accel', 'tcg', '-S', '-display', 'none', '-nodefaults', '-uuid', vmId], { reject: false });
    await writeFile(paths.log, `2026-12-05T10:06:12.448Z vagrant up --provider libvirt --no-provision → exit 0 in ${BOOT_MS} ms\n`, { mode: 0o600 });
    const boxDir = join(vagrantHome, 'boxes', 'labctl-VAGRANTSLASH-trixie', '0', 'libvirt');
    await mkdir(boxDir, { recursive: true });
    await writeFile(join(boxDir, 'box.img'), Buffer.alloc(BOX_BYTES));
    htmlPath = join(root, 'layers.html');
    const outcome = await showLayers('layers', { measure: true, restart: 'web', html: htmlPath }, { info: (l) => progress.push(l), warn: (l) => progress.push(l), streamTools: false }, { ...process.env, LABCTL_HOME: home });
    report = outcome.report;
  }, 1_800_000);

  afterAll(async () => {
    vi.unstubAllEnvs();
    if (home) await closeSshMaster(labPaths('layers', { LABCTL_HOME: home }));
    if (qemu?.pid !== undefined) qemu.kill('SIGTERM');
    await qemu;
    await target?.stop();
    await dockerd?.stop();
  });

  it('the host: this machine\'s kernel, and the VM as the QEMU process that carries its id', async () => {
    expect(report.host.kernel).toBe((await execa('uname', ['-r'])).stdout.trim());
    expect(report.host.vmProcesses.map((p) => p.pid)).toEqual([qemu?.pid]);
    expect(report.host.vmProcesses[0]?.name).toMatch(/^qemu-system-/);
    expect(report.host.vmProcesses[0]?.rssBytes).toBeGreaterThan(0);
    expect(report.host.hypervisor.acceleration).toBe('tcg');
  });

  it('the "VM": its PID 1 and Docker, as the target says; the containers run its kernel', async () => {
    expect(report.vm.pid1).toBe(await inTarget(['ps', '-o', 'comm=', '-p', '1']));
    expect(report.vm.docker).toBe(await inTarget(['docker', 'version', '--format', '{{.Server.Version}}']));
    expect(report.vm.kernel).toBe(await inTarget(['uname', '-r']));
    expect(report.containers.map((c) => c.kernel)).toEqual([report.vm.kernel, report.vm.kernel]);
  });

  it('each container: PID 1 is its command, seen under another PID in the VM, in pid/net/mnt namespaces of its own', async () => {
    expect(report.containers.map((c) => c.service).sort()).toEqual([...SERVICES].sort());
    for (const c of report.containers) {
      expect(c.pid1, c.name).toBe('sleep');
      expect(c.nsPids.at(-1), c.name).toBe(1);
      expect(c.nsPids[0], c.name).toBe(c.vmPid);
      for (const t of ['pid', 'net', 'mnt'] as const) expect(c.namespaces[t]?.sharedWithVm, `${c.name} ${t}`).toBe(false);
      expect(c.cgroup.path, c.name).not.toBeNull();
      expect(c.rootfs.driver).toBe(await inTarget(['docker', 'info', '--format', '{{.Driver}}']));
      expect(c.imageBytes).toBe(Number(await inTarget(['docker', 'image', 'inspect', '--format', '{{.Size}}', 'debian:bookworm'])));
    }
    // db was not restarted by --measure: its process and namespaces are still the ones read.
    const db = report.containers.find((c) => c.name === 'db');
    for (const t of ['pid', 'net', 'mnt', 'uts', 'ipc'] as const) expect(db?.namespaces[t]?.id).toBe(await inTarget(['readlink', `/proc/${db?.vmPid}/ns/${t}`]));
    expect(db?.vmPid).toBe(Number(await inTarget(['docker', 'inspect', '--format', '{{.State.Pid}}', 'db'])));
    expect(db?.networks.map((n) => n.ip)).toEqual([await inTarget(['docker', 'inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'db'])]);
    const pidNamespaces = new Set(report.containers.map((c) => c.namespaces.pid?.id));
    expect(pidNamespaces.size).toBe(2);
    expect(report.containers.find((c) => c.name === 'web')?.limits).toEqual({ memoryBytes: 96 * 1024 * 1024, nanoCpus: 0, pidsLimit: 64 });
    expect(report.problems.filter((p) => p.fact.startsWith('containers'))).toEqual([]);
  });

  it('--measure: the boot in labctl.log, web restarted and timed (it has a new PID now), the box, memory', async () => {
    const m = report.measure;
    expect(m?.vmBoot?.ms).toBe(BOOT_MS);
    expect(m?.containerRestart).toMatchObject({ container: 'web', timedOut: false });
    expect(m?.containerRestart?.runningMs).toBeGreaterThan(0);
    expect(m?.containerRestart?.healthyMs).toBeGreaterThanOrEqual(m?.containerRestart?.runningMs ?? 0);
    const before = report.containers.find((c) => c.name === 'web')?.vmPid;
    expect(Number(await inTarget(['docker', 'inspect', '--format', '{{.State.Pid}}', 'web']))).not.toBe(before);
    expect(m?.disk.boxBytes).toBeGreaterThanOrEqual(BOX_BYTES);
    expect(m?.memory.containers.every((c) => c.bytes !== null && c.bytes > 0)).toBe(true);
    expect(progress.join('\n')).toMatch(/restarting container web/);
  });

  it('the text and the page', async () => {
    const text = layersText(report, { explain: true });
    expect(text).toMatch(/^containers \(2, processes of the VM on its kernel\)$/m);
    expect(text).toContain(`↳ VM: cat /proc/${report.containers[0]?.vmPid}/comm`);
    const html = await readFile(htmlPath, 'utf8');
    expect((await stat(htmlPath)).isFile()).toBe(true);
    for (const label of ['bare-metal host', 'VM layers', 'container web', 'container db']) expect(html).toContain(label);
  });
});
