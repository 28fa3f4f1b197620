import { describe, expect, it } from 'vitest';
import { layersText } from '../../cli/layers-report.js';
import type { Section } from '../../core/layers-parse.js';
import { comparisonRows, formatBytes, formatMs, NAMESPACE_TYPES, type LayersReport } from '../../core/layers-report.js';
import { assembleReport, type RawLayers } from '../../layers/assemble.js';
import { chooseRestartContainer, remoteLibvirtHost, vagrantBoxDir } from '../../layers/collect.js';
import { escapeHtml, renderLayersHtml } from '../../layers/html.js';
import { explain, guestScript, hostScript, RESTART_SCRIPT } from '../../layers/probes.js';
import { targetLabConfig } from '../helpers/lab-config.js';
import { fixtureSections, layersFixture } from '../helpers/layers-fixtures.js';

// The report `labctl layers` builds from the scripts' sections (layers/assemble.ts), and what it
// prints (text, --explain, JSON) or writes (--html), on the recorded fixtures of test/fixtures/layers/.

const VM_ID = '02819abb-9112-493f-a2d6-5eec986da3e0';
const config = targetLabConfig({ name: 'inception', login: 'jdoe', libvirt_driver: 'qemu', box: 'labctl/trixie' });

async function labRaw(over: Partial<RawLayers> = {}): Promise<RawLayers> {
  return {
    config,
    labJsonPath: '/home/jdoe/.labctl/inception/lab.json',
    collectedAt: '2026-12-05T10:30:00.000Z',
    host: await fixtureSections('host-debian-tcg.txt'),
    vmId: VM_ID,
    guest: await fixtureSections('guest-trixie-lab.txt'),
    measure: {
      log: await layersFixture('labctl-log.txt'),
      logPath: '/home/jdoe/.labctl/inception/labctl.log',
      boxDir: '/home/jdoe/.vagrant.d/boxes/labctl-VAGRANTSLASH-trixie',
      restart: { container: 'nginx', section: { output: 'running_ms=1203 healthy_ms=6410 timed_out=0\n', code: 0, error: '' } },
    },
    ...over,
  };
}

describe('the report of a lab from create (fixtures)', () => {
  it('host and VM run different kernels; every container runs the VM\'s', async () => {
    const r = assembleReport(await labRaw());
    expect(r.host.kernel).toBe('6.1.0-28-amd64');
    expect(r.vm.kernel).toBe('6.12.57+deb13-amd64');
    expect(r.containers.map((c) => c.kernel)).toEqual([r.vm.kernel, r.vm.kernel, r.vm.kernel]);
    expect(r.problems).toEqual([]);
  });

  it('each container: PID 1 is its daemon, the VM sees it under another PID, its own pid/net/mnt namespaces', async () => {
    const r = assembleReport(await labRaw());
    expect(r.containers.map((c) => [c.name, c.pid1, c.vmPid, c.nsPids])).toEqual([
      ['mariadb', 'mariadbd', 2981, [2981, 1]],
      ['nginx', 'nginx', 4120, [4120, 1]],
      ['wordpress', 'php-fpm8.2', 3544, [3544, 1]],
    ]);
    for (const c of r.containers) {
      for (const t of ['pid', 'net', 'mnt', 'uts', 'ipc', 'cgroup'] as const) expect(c.namespaces[t]?.sharedWithVm, `${c.name} ${t}`).toBe(false);
      expect(c.namespaces.user?.sharedWithVm).toBe(true);
    }
    const pidNamespaces = r.containers.map((c) => c.namespaces.pid?.id);
    expect(new Set(pidNamespaces).size).toBe(3);
    const mariadb = r.containers[0];
    expect(mariadb?.cgroup).toEqual({ path: '/system.slice/docker-5ba9c3b850cf956fedece970932e529f197eee0a38c89fdf6282004c176c25c6.scope', memoryMax: '536870912', cpuMax: '150000 100000', pidsMax: '200', memoryCurrentBytes: 104595456 });
    expect(mariadb?.rootfs).toEqual({ driver: 'overlay2', type: 'overlay', lowerLayers: 5, upperDir: '/var/lib/docker/overlay2/e27d93b0c4a1/diff', sharedLayers: 1 });
    // The three images start from the same debian:bookworm layer: one directory under every container's /.
    expect(r.containers.map((c) => c.rootfs.sharedLayers)).toEqual([1, 1, 1]);
    expect(mariadb?.imageBytes).toBe(418904327);
    expect(mariadb?.imageLayers).toHaveLength(8);
  });

  it('the host: QEMU under TCG seen on the VM process\'s command line, its RSS, the host\'s side of the lab network', async () => {
    const r = assembleReport(await labRaw());
    expect(r.host.hypervisor).toEqual({ provider: 'libvirt', name: 'QEMU software emulation (TCG, no hardware virtualization)', acceleration: 'tcg' });
    expect(r.host.vmProcesses).toEqual([expect.objectContaining({ pid: 20571, name: 'qemu-system-x86', rssBytes: 1218352 * 1024, threads: 7 })]);
    expect(r.host.virtualizationFlags).toEqual([]);
    expect(r.host.kvmDevice).toBe(false);
    expect(r.host.labNetworkIp).toBe('192.168.56.1');
    // lab.json says kvm, the process says tcg: what runs wins.
    const said = assembleReport(await labRaw({ config: { ...config, libvirt_driver: 'kvm' } }));
    expect(said.host.hypervisor.acceleration).toBe('tcg');
  });

  it('--measure: boot from the log, the restart, memory and disk', async () => {
    const m = assembleReport(await labRaw()).measure;
    expect(m?.vmBoot).toEqual({ at: '2026-12-05T10:06:12.448Z', command: 'vagrant up --provider libvirt --no-provision', ms: 72358 });
    expect(m?.containerRestart).toEqual({ container: 'nginx', runningMs: 1203, healthyMs: 6410, timedOut: false });
    expect(m?.memory.vmRssBytes).toBe(1218352 * 1024);
    expect(m?.memory.vmConfiguredBytes).toBe(2048 * 1024 * 1024);
    expect(m?.memory.containers.find((c) => c.name === 'nginx')?.bytes).toBe(Math.round(14.8 * 1024 * 1024));
    expect(m?.disk).toEqual({
      boxBytes: 412387328,
      boxPath: '/home/jdoe/.vagrant.d/boxes/labctl-VAGRANTSLASH-trixie/0/libvirt',
      images: [
        { image: 'mariadb:inception', bytes: 418904327 },
        { image: 'nginx:inception', bytes: 152318840 },
        { image: 'wordpress:inception', bytes: 201652113 },
      ],
    });
  });

  it('each fact has the command that produced it, values filled in, and where it ran', async () => {
    const r = assembleReport(await labRaw());
    expect(r.sources['host.kernel']).toEqual({ where: 'host', command: 'uname -r' });
    expect(r.sources['host.vmProcesses']?.command).toBe(`pgrep -a -f -- ${VM_ID}`);
    expect(r.sources['vm.pid1']).toEqual({ where: 'vm', command: 'ps -o comm= -p 1' });
    expect(r.sources['containers.nginx.kernel']).toEqual({ where: 'vm', command: 'nsenter --target 4120 --mount --uts uname -r', inside: 'docker exec nginx uname -r' });
    expect(r.sources['containers.nginx.namespaces']?.command).toContain('readlink /proc/4120/ns/$n');
    expect(r.sources['containers.nginx.imageLayers']?.command).toBe("docker history --human=false --no-trunc --format '{{.Size}} {{json .CreatedBy}}' nginx:inception");
    expect(r.sources['measure.containerRestart']?.command).toContain('time docker restart nginx');
    expect(r.sources['measure.box']?.command).toBe('du -sb /home/jdoe/.vagrant.d/boxes/labctl-VAGRANTSLASH-trixie/*/libvirt /home/jdoe/.vagrant.d/boxes/labctl-VAGRANTSLASH-trixie/*/*/libvirt');
    expect(r.sources.containers?.command).toBe('docker inspect mariadb nginx wordpress');
  });

  it('prints as stable JSON: the document survives a round trip, schema 1', async () => {
    const r = assembleReport(await labRaw());
    const back = JSON.parse(JSON.stringify(r)) as LayersReport;
    expect(back).toEqual(r);
    expect(back.schema).toBe(1);
    expect(Object.keys(back)).toEqual(['schema', 'lab', 'collectedAt', 'host', 'vm', 'containers', 'measure', 'sources', 'problems']);
  });
});

describe('what could not be read is said, the rest still shown', () => {
  it('the recorded run (no systemd, PID 1\'s namespaces unreadable, no VM process): problem lines, facts kept', async () => {
    const r = assembleReport(await labRaw({ guest: await fixtureSections('guest-recorded-cgroup-v1.txt'), vmId: null, measure: undefined }));
    expect(r.problems.map((p) => p.fact)).toEqual(expect.arrayContaining(['host.vmProcesses', 'vm.boot', 'vm.namespaces']));
    expect(r.problems.find((p) => p.fact === 'vm.boot')?.problem).toMatch(/^exit 1: System has not been booted with systemd/);
    expect(r.containers).toHaveLength(1);
    expect(r.containers[0]).toMatchObject({ name: 'layersscratch-sleeper', pid1: 'sleep', kernel: '6.18.44-fc-v1272', nsPids: [27554, 1], limits: { memoryBytes: 64 * 1024 * 1024, nanoCpus: 0, pidsLimit: 50 } });
    expect(r.measure).toBeUndefined();
  });

  it('a VM without containers, and a guest script cut short', async () => {
    const guest = await fixtureSections('guest-trixie-lab.txt');
    const vmOnly = new Map([...guest].filter(([k]) => k.startsWith('vm.')));
    const r = assembleReport(await labRaw({ guest: vmOnly, measure: undefined }));
    expect(r.containers).toEqual([]);
    expect(r.problems).toEqual([{ fact: 'containers', problem: expect.stringContaining('no running container') }]);
    const cut = assembleReport(await labRaw({ guest: new Map([['vm.kernel', guest.get('vm.kernel') as Section]]), measure: undefined }));
    expect(cut.vm.kernel).toBe('6.12.57+deb13-amd64');
    expect(cut.problems.find((p) => p.fact === 'vm.docker')?.problem).toBe('not read (the probe did not run)');
  });

  it('a VM on a remote libvirt host: CPU and memory from virsh nodeinfo, its RSS from domstats', async () => {
    const remote = {
      hostName: 'host1.example',
      nodeinfo: { output: 'CPU model:           x86_64\nCPU(s):              16\nMemory size:         65776564 KiB\n', code: 0, error: '' },
      nodeinfoCommand: 'virsh -c qemu+ssh://root@host1.example/system nodeinfo',
      domstats: { output: "Domain: 'labctl-jdoe'\n  balloon.rss=1489016\n", code: 0, error: '' },
      domstatsCommand: `virsh -c qemu+ssh://root@host1.example/system domstats --balloon ${VM_ID}`,
    };
    const r = assembleReport(await labRaw({ remote, host: new Map(), measure: undefined, config: { ...config, libvirt_uri: 'qemu+ssh://root@host1.example/system' } }));
    expect(r.host).toMatchObject({ where: 'remote', hostName: 'host1.example', cpus: 16, memoryBytes: 65776564 * 1024, kernel: null });
    expect(r.host.vmProcesses).toEqual([{ pid: null, name: 'qemu on host1.example', rssBytes: 1489016 * 1024, threads: null, command: '' }]);
    expect(r.problems.map((p) => p.fact)).toEqual(['host.kernel']);
    expect(r.sources['host.vmProcesses']?.command).toContain('domstats --balloon');
  });
});

describe('the text, the --explain lines and the comparison table', () => {
  it('one block per layer; --explain adds the command under each fact', async () => {
    const r = assembleReport(await labRaw());
    const plain = layersText(r, { explain: false });
    expect(plain).toMatch(/^bare-metal host \(this machine\)$/m);
    expect(plain).toMatch(/^ {2}kernel {10}6\.1\.0-28-amd64 \(Debian GNU\/Linux 12 \(bookworm\)\)$/m);
    expect(plain).toMatch(/^ {2}the VM {10}qemu-system-x86 pid 20571, RSS 1\.2 GiB, 7 threads$/m);
    expect(plain).toMatch(/^ {4}PID 1 {11}nginx: pid 4120 in the VM, 1 inside \(nginx: master process nginx -g daemon off;\)$/m);
    expect(plain).toMatch(/^ {4}namespaces {6}own: pid net mnt uts ipc cgroup · the VM's: user$/m);
    expect(plain).not.toContain('↳');
    const explained = layersText(r, { explain: true });
    expect(explained).toContain('↳ VM: nsenter --target 4120 --mount --uts uname -r');
    expect(explained).toContain('↳ inside: docker exec nginx uname -r');
    expect(explained).toContain('↳ host: uname -r');
    expect(explained).toMatch(/VM commands run as root: labctl ssh, then sudo -i/);
  });

  it('the seeds\' table with this lab\'s numbers', async () => {
    const rows = comparisonRows(assembleReport(await labRaw()));
    expect(rows.map((row) => row.aspect)).toEqual(['start-up time', 'memory', 'disk (what each starts from)', 'kernel', 'isolation', 'portability']);
    expect(rows[0]).toEqual({ aspect: 'start-up time', vm: '72.4 s (vagrant up --provider libvirt --no-provision, 2026-12-05)', container: '1.2 s to run again (docker restart nginx), 6.4 s to healthy' });
    expect(rows[3]?.container).toBe("the VM's: 6.12.57+deb13-amd64 in all 3");
    expect(rows[4]?.container).toContain('namespaces of their own: pid, net, mnt, uts, ipc, cgroup; shared with the VM: user');
    const unmeasured = comparisonRows(assembleReport(await labRaw({ measure: undefined })));
    expect(unmeasured.map((row) => row.aspect)).toEqual(['kernel', 'isolation', 'portability']);
  });

  it('units', () => {
    expect(formatBytes(1536 * 1024 * 1024)).toBe('1.5 GiB');
    expect(formatBytes(900)).toBe('900 B');
    expect(formatBytes(null)).toBe('?');
    expect(formatMs(812)).toBe('0.8 s');
    expect(formatMs(272_000)).toBe('4 min 32 s');
  });
});

describe('the HTML page', () => {
  it('is one file: the SVG nesting with its labels, no script, nothing loaded from elsewhere', async () => {
    const html = renderLayersHtml(assembleReport(await labRaw()));
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    for (const label of ['bare-metal host', 'VM inception', 'container nginx', 'container wordpress', 'container mariadb']) expect(html).toContain(label);
    expect(html).not.toMatch(/<script|<link|<img|\bsrc=|\bhref=|@import|url\(/i);
    expect(html).toContain("default-src 'none'");
  });

  it('escapes every value the lab gives it', async () => {
    const raw = await labRaw();
    const guest = new Map(raw.guest);
    const inspect = guest.get('containers.inspect') as Section;
    guest.set('containers.inspect', { ...inspect, output: inspect.output.replace('"Name": "/nginx"', '"Name": "/<script>alert(1)</script>"').replace('"Image": "nginx:inception"', '"Image": "x\\" onload=\\"y"') });
    const html = renderLayersHtml(assembleReport({ ...raw, guest }));
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('x" onload="y');
    expect(escapeHtml(`<a href='x'>&"`)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&quot;');
  });
});

describe('the scripts and their choices', () => {
  it('the guest script reads every namespace type and skips stats without --measure', () => {
    const script = guestScript({ measure: false });
    expect(script).toContain(`for n in ${NAMESPACE_TYPES.join(' ')}; do`);
    expect(script).not.toContain('docker stats');
    expect(guestScript({ measure: true })).toContain('docker stats --no-stream');
    // Read whole before it runs, with stdin closed (it reaches sh on stdin).
    expect(script.trimEnd().split('\n').at(-1)).toBe('main "$@" </dev/null');
    expect(RESTART_SCRIPT).toContain('docker restart "$c"');
  });

  it('the host script leaves this machine out for a remote libvirt host', () => {
    expect(hostScript({ local: true, vmProcess: true, box: false })).toContain('pgrep -a -f');
    const remote = hostScript({ local: false, vmProcess: true, box: true });
    expect(remote).not.toContain('/proc/cpuinfo');
    expect(remote).toContain('du -sb');
  });

  it('explain fills the variables in, quoting what is not a plain word', () => {
    expect(explain('cat /proc/"$pid"/comm', { pid: '4120' })).toBe('cat /proc/4120/comm');
    expect(explain('docker inspect $ids', { ids: 'nginx wordpress' })).toBe('docker inspect nginx wordpress');
    expect(explain('du -sb "$LAYERS_BOX_DIR"/x', { LAYERS_BOX_DIR: '/home/j doe/.vagrant.d' })).toBe("du -sb '/home/j doe/.vagrant.d'/x");
    expect(explain('echo "$id" $ids', { id: 'a', ids: 'b c' })).toBe('echo a b c');
  });

  it('the container --measure restarts: the one asked for, else adminer, else nginx', () => {
    const stack = [{ name: 'nginx', service: 'nginx' }, { name: 'mariadb', service: 'mariadb' }, { name: 'inception-adminer-1', service: 'adminer' }];
    expect(chooseRestartContainer(stack, undefined)).toBe('inception-adminer-1');
    expect(chooseRestartContainer(stack.slice(0, 2), undefined)).toBe('nginx');
    expect(chooseRestartContainer([{ name: 'db', service: 'db' }], undefined)).toBe('db');
    expect(chooseRestartContainer(stack, 'mariadb')).toBe('mariadb');
    expect(() => chooseRestartContainer(stack, 'redis')).toThrow(/--restart: no running container of service "redis"/);
  });

  it('where the box and the VM\'s host are', () => {
    expect(vagrantBoxDir('labctl/trixie', { VAGRANT_HOME: '/v' })).toBe('/v/boxes/labctl-VAGRANTSLASH-trixie');
    expect(remoteLibvirtHost({ provider: 'libvirt', libvirt_uri: 'qemu+ssh://root@host1.example/system' })).toBe('host1.example');
    expect(remoteLibvirtHost({ provider: 'libvirt', libvirt_uri: 'qemu:///system' })).toBeUndefined();
    expect(remoteLibvirtHost({ provider: 'virtualbox', libvirt_uri: undefined })).toBeUndefined();
  });
});
