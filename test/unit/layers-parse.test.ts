import { describe, expect, it } from 'vitest';
import {
  accelerationOf,
  dockerfileLine,
  addressOnNetworkOf,
  isVmProcessName,
  newestBoxVersion,
  parseBalloonRss,
  parseCgroupFiles,
  parseCgroupPath,
  parseContainerInspect,
  parseContainerList,
  parseCount,
  parseCpuModel,
  parseDockerSize,
  parseDockerStats,
  parseDu,
  parseImageHistory,
  parseImageSizes,
  parseIpAddresses,
  parseLastBoot,
  parseMemTotal,
  parseNamespaces,
  parseOsName,
  parsePgrep,
  parseProcStatus,
  parseRestartTiming,
  parseRootMount,
  parseSystemdAnalyze,
  parseTimespan,
  parseVirshNodeinfo,
  parseVirtualizationFlags,
  splitSections,
} from '../../core/layers-parse.js';
import { fixtureSections, layersFixture } from '../helpers/layers-fixtures.js';

// Each parser of core/layers-parse.ts on recorded output: the lab VM and host fixtures written
// from these programs' shapes, and one run of the guest script recorded on this project's CI
// machine (cgroup v1, no systemd). See test/fixtures/layers/.

const out = async (fixture: string, section: string): Promise<string> => {
  const s = (await fixtureSections(fixture)).get(section);
  if (s === undefined) throw new Error(`${fixture} has no section ${section}`);
  return s.output;
};

const NGINX = '572f5ab6d860f2345974f4bc76b0b5ac8085ee42ed5c828de858f6260f75fdff';
const MARIADB = '5ba9c3b850cf956fedece970932e529f197eee0a38c89fdf6282004c176c25c6';
const RECORDED = '5cdfa56e634968c2e8b15391d882c40e43d04f270edb313ed6ffe3621e72d648';

describe('splitSections: the scripts\' wire format', () => {
  it('reads name, output, exit status and the stderr line; output keeps its own newlines', () => {
    const wire = '\x1ea\nline 1\nline 2\n\n\x1f0 \n\x1eb\n\n\x1f2 ls: cannot access \'/dev/kvm\'\n\x1ec d\nno newline\n\x1f0 \n';
    const s = splitSections(wire);
    expect([...s.keys()]).toEqual(['a', 'b', 'c d']);
    expect(s.get('a')).toEqual({ output: 'line 1\nline 2\n', code: 0, error: '' });
    expect(s.get('b')).toEqual({ output: '', code: 2, error: "ls: cannot access '/dev/kvm'" });
    expect(s.get('c d')?.output).toBe('no newline');
  });

  it('drops a section cut short (no trailer) and keeps the ones before it', () => {
    const s = splitSections('\x1eone\nok\n\n\x1f0 \n\x1etwo\nhalf of it');
    expect([...s.keys()]).toEqual(['one']);
  });

  it('reads every section of the recorded run', async () => {
    const s = await fixtureSections('guest-recorded-cgroup-v1.txt');
    expect(s.get('vm.boot')).toMatchObject({ code: 1, error: expect.stringContaining('not been booted with systemd') });
    expect(s.get(`c.kernel ${RECORDED}`)?.output.trim()).toBe('6.18.44-fc-v1272');
    expect(s.size).toBe(23);
  });
});

describe('host facts', () => {
  it('CPU model, count, flags, memory, OS name', async () => {
    expect(parseCpuModel(await out('host-debian-tcg.txt', 'host.cpu'))).toBe('Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz');
    expect(parseCpuModel('Model\t\t: Raspberry Pi 4 Model B Rev 1.4\n')).toBe('Raspberry Pi 4 Model B Rev 1.4');
    expect(parseCpuModel('')).toBeNull();
    expect(parseCount(await out('host-debian-tcg.txt', 'host.cpus'))).toBe(8);
    expect(parseCount('zero\n')).toBeNull();
    expect(parseVirtualizationFlags(await out('host-debian-tcg.txt', 'host.flags'))).toEqual([]);
    expect(parseVirtualizationFlags('vmx\n')).toEqual(['vmx']);
    expect(parseMemTotal(await out('host-debian-tcg.txt', 'host.memory'))).toBe(32823820 * 1024);
    expect(parseOsName(await out('host-debian-tcg.txt', 'host.os'))).toBe('Debian GNU/Linux 12 (bookworm)');
  });

  it('the host\'s address on the VM\'s network, never the VM\'s own', async () => {
    const addresses = parseIpAddresses(await out('host-debian-tcg.txt', 'host.ip'));
    expect(addresses.map((a) => a.interface)).toEqual(['lo', 'eno1', 'virbr0', 'virbr1']);
    expect(addressOnNetworkOf(addresses, '192.168.56.10')).toBe('192.168.56.1');
    expect(addressOnNetworkOf(addresses, '192.168.57.10')).toBeNull();
    expect(addressOnNetworkOf([{ interface: 'eth1', cidr: '192.168.56.10/24' }], '192.168.56.10')).toBeNull();
    expect(addressOnNetworkOf(addresses, 'not an ip')).toBeNull();
  });

  it('the VM\'s processes: pgrep lines, their status, their accelerator', async () => {
    const listed = parsePgrep(await out('host-debian-tcg.txt', 'host.vm'));
    expect(listed.map((p) => p.pid)).toEqual([20571, 20633]);
    expect(accelerationOf(listed[0]?.command ?? '')).toBe('tcg');
    expect(accelerationOf('/usr/bin/qemu-system-x86_64 -machine pc-q35-8.2,accel=kvm,usb=off')).toBe('kvm');
    expect(accelerationOf('/usr/bin/kvm -enable-kvm -m 2048')).toBe('kvm');
    expect(accelerationOf(listed[1]?.command ?? '')).toBeUndefined();
    const qemu = parseProcStatus(await out('host-debian-tcg.txt', 'host.vmstatus 20571'));
    expect(qemu).toEqual({ name: 'qemu-system-x86', rssBytes: 1218352 * 1024, threads: 7, nsPids: [] });
    expect(isVmProcessName('qemu-system-x86')).toBe(true);
    expect(isVmProcessName('VBoxHeadless')).toBe(true);
    expect(isVmProcessName('virsh')).toBe(false);
  });

  it('the box: du lines, the newest version of the box only', async () => {
    const entries = parseDu(await out('host-debian-tcg.txt', 'host.box'));
    expect(entries).toEqual([{ bytes: 412387328, path: '/home/jdoe/.vagrant.d/boxes/labctl-VAGRANTSLASH-trixie/0/libvirt' }]);
    const dir = '/v/boxes/debian-VAGRANTSLASH-trixie64';
    const versions = [
      { bytes: 1, path: `${dir}/12.20240503.1/amd64/libvirt` },
      { bytes: 2, path: `${dir}/13.20251001.2/amd64/libvirt` },
      { bytes: 3, path: `${dir}/13.2025.1/amd64/libvirt` },
      { bytes: 4, path: '/v/boxes/other/99/libvirt' },
    ];
    expect(newestBoxVersion(versions, dir)?.bytes).toBe(2);
    expect(newestBoxVersion([], dir)).toBeNull();
  });

  it('a remote libvirt host: virsh nodeinfo and domstats --balloon', () => {
    const nodeinfo = 'CPU model:           x86_64\nCPU(s):              16\nCPU frequency:       3400 MHz\nCPU socket(s):       1\nCore(s) per socket:  8\nThread(s) per core:  2\nNUMA cell(s):        1\nMemory size:         65776564 KiB\n\n';
    expect(parseVirshNodeinfo(nodeinfo)).toEqual({ cpuModel: 'x86_64', cpus: 16, memoryBytes: 65776564 * 1024 });
    const domstats = "Domain: 'labctl-jdoe-1764906000_default'\n  balloon.current=2097152\n  balloon.maximum=2097152\n  balloon.rss=1489016\n\n";
    expect(parseBalloonRss(domstats)).toBe(1489016 * 1024);
    expect(parseBalloonRss("Domain: 'x'\n  balloon.current=2097152\n")).toBeNull();
  });
});

describe('VM facts', () => {
  it('namespaces of PID 1, addresses, boot time', async () => {
    expect(parseNamespaces(await out('guest-trixie-lab.txt', 'vm.namespaces'))).toEqual({
      pid: 'pid:[4026531836]', net: 'net:[4026531840]', mnt: 'mnt:[4026531841]', uts: 'uts:[4026531838]', ipc: 'ipc:[4026531839]', user: 'user:[4026531837]', cgroup: 'cgroup:[4026531835]',
    });
    // readlink answered nothing for this sandbox's PID 1: no ids, not made-up ones.
    expect(parseNamespaces(await out('guest-recorded-cgroup-v1.txt', 'vm.namespaces'))).toEqual({});
    const addresses = parseIpAddresses(await out('guest-trixie-lab.txt', 'vm.ip'));
    expect(addresses).toContainEqual({ interface: 'eth1', cidr: '192.168.56.10/24' });
    expect(addresses).toHaveLength(5);
    expect(parseSystemdAnalyze(await out('guest-trixie-lab.txt', 'vm.boot'))).toEqual({ kernelMs: 4812, userspaceMs: 62345, totalMs: 67157 });
    expect(parseSystemdAnalyze('Startup finished in 2.116s (firmware) + 1.002s (loader) + 1.913s (kernel) + 9.321s (userspace) = 14.353s\n')).toEqual({ kernelMs: 1913, userspaceMs: 9321, totalMs: 14353 });
    expect(parseSystemdAnalyze('Bootup is not yet finished (org.freedesktop.systemd1.Manager.FinishTimestampMonotonic=0).\n')).toBeNull();
  });

  it('systemd time spans', () => {
    expect(parseTimespan('812ms')).toBe(812);
    expect(parseTimespan('1min 2.345s')).toBe(62345);
    expect(parseTimespan('1h 2min 3s')).toBe(3_723_000);
    expect(parseTimespan('soon')).toBeNull();
  });
});

describe('container facts', () => {
  it('docker inspect: name, service, PID as the VM sees it, image, networks, limits', async () => {
    const containers = parseContainerInspect(await out('guest-trixie-lab.txt', 'containers.inspect'));
    expect(containers.map((c) => [c.name, c.service, c.pid, c.image])).toEqual([
      ['nginx', 'nginx', 4120, 'nginx:inception'],
      ['wordpress', 'wordpress', 3544, 'wordpress:inception'],
      ['mariadb', 'mariadb', 2981, 'mariadb:inception'],
    ]);
    const mariadb = containers[2];
    expect(mariadb).toMatchObject({ memoryBytes: 536870912, nanoCpus: 1500000000, pidsLimit: 200, graphDriver: 'overlay2', networks: [{ network: 'inception_inception', ip: '172.18.0.2' }] });
    expect(containers[0]?.command).toBe('/usr/local/bin/entrypoint.sh nginx -g daemon off;');
    expect(containers[0]?.pidsLimit).toBeNull();
    const recorded = parseContainerInspect(await out('guest-recorded-cgroup-v1.txt', 'containers.inspect'));
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ id: RECORDED, name: 'layersscratch-sleeper', service: 'sleeper', running: true, pid: 27554, image: 'debian:bookworm', memoryBytes: 64 * 1024 * 1024, pidsLimit: 50 });
    expect(recorded[0]?.networks).toEqual([{ network: 'bridge', ip: expect.stringMatching(/^172\.17\./) }]);
    expect(parseContainerInspect('not json')).toEqual([]);
    expect(parseContainerInspect('[{"Id": 3}, 7]')).toEqual([]);
  });

  it('the loop\'s list: id, PID, image', async () => {
    expect(parseContainerList(await out('guest-trixie-lab.txt', 'containers.list'))).toEqual([
      { id: NGINX, pid: 4120, imageId: 'sha256:1618238653697edd0d97773b5982c614913c430e8e384a94e6580b506cf8cd43' },
      { id: 'd7a13568039c84f443c41973adfce4901f24633b387001addcb41f9ff8102e2e', pid: 3544, imageId: 'sha256:6cade87727fdd4aa0ce3f59095964e48e56e1d43113d25c37643ef9c522e5d3a' },
      { id: MARIADB, pid: 2981, imageId: 'sha256:74942fb09b5b4dbd62d48d25d2dc956ed5edd22de867d7afc641b21a422385da' },
    ]);
  });

  it('/proc/<pid>/status: the same process has a PID in the VM and PID 1 inside', async () => {
    expect(parseProcStatus(await out('guest-trixie-lab.txt', `c.status ${NGINX}`))).toEqual({ name: null, rssBytes: 9844 * 1024, threads: null, nsPids: [4120, 1] });
    expect(parseProcStatus(await out('guest-recorded-cgroup-v1.txt', `c.status ${RECORDED}`)).nsPids).toEqual([27554, 1]);
  });

  it('cgroup: the v2 path and its files; the v1 controllers\' path', async () => {
    expect(parseCgroupPath(await out('guest-trixie-lab.txt', `c.cgroup ${NGINX}`))).toBe(`/system.slice/docker-${NGINX}.scope`);
    expect(parseCgroupPath(await out('guest-recorded-cgroup-v1.txt', `c.cgroup ${RECORDED}`))).toBe(`/docker/${RECORDED}`);
    expect(parseCgroupPath('')).toBeNull();
    expect(parseCgroupFiles(await out('guest-trixie-lab.txt', `c.limits ${MARIADB}`))).toEqual({ memoryMax: '536870912', cpuMax: '150000 100000', pidsMax: '200', memoryCurrentBytes: 104595456 });
    expect(parseCgroupFiles(await out('guest-recorded-cgroup-v1.txt', `c.limits ${RECORDED}`))).toEqual({ memoryMax: null, cpuMax: null, pidsMax: null, memoryCurrentBytes: null });
  });

  it('the union mount at the container\'s /', async () => {
    expect(parseRootMount(await out('guest-trixie-lab.txt', `c.root ${NGINX}`))).toMatchObject({ type: 'overlay', lowerLayers: 8, upperDir: '/var/lib/docker/overlay2/9b0e1f7d5c3a/diff' });
    expect(parseRootMount(await out('guest-trixie-lab.txt', `c.root ${NGINX}`)).lowerDirs.at(-1)).toBe('/var/lib/docker/overlay2/l/Z5M2QWE7TGBK');
    expect(parseRootMount(await out('guest-recorded-cgroup-v1.txt', `c.root ${RECORDED}`))).toMatchObject({ type: 'overlay', lowerLayers: 2 });
    expect(parseRootMount('')).toEqual({ type: null, lowerLayers: null, upperDir: null, lowerDirs: [] });
  });

  it('namespaces differ from the VM\'s, except user', async () => {
    const vm = parseNamespaces(await out('guest-trixie-lab.txt', 'vm.namespaces'));
    const nginx = parseNamespaces(await out('guest-trixie-lab.txt', `c.namespaces ${NGINX}`));
    expect(Object.keys(nginx)).toHaveLength(7);
    expect(Object.entries(nginx).filter(([t, id]) => vm[t as keyof typeof vm] === id).map(([t]) => t)).toEqual(['user']);
  });

  it('image layers and sizes', async () => {
    const layers = parseImageHistory(await out('guest-trixie-lab.txt', 'image.history sha256:1618238653697edd0d97773b5982c614913c430e8e384a94e6580b506cf8cd43'));
    expect(layers).toHaveLength(12);
    expect(layers[0]).toEqual({ sizeBytes: 0, createdBy: 'CMD ["nginx" "-g" "daemon off;"]' });
    expect(layers.at(-1)).toEqual({ sizeBytes: 78800899, createdBy: 'Imported from -' });
    expect(layers.reduce((sum, l) => sum + l.sizeBytes, 0)).toBeGreaterThan(150_000_000);
    expect(parseImageHistory(await out('guest-recorded-cgroup-v1.txt', 'image.history sha256:20ce98f09f80e96e71c61f8557368a4295445dab06cd50ff2e0aaef09897d6cb'))).toEqual([{ sizeBytes: 74924487, createdBy: '' }]);
    const sizes = parseImageSizes(await out('guest-trixie-lab.txt', 'containers.images'));
    expect(sizes.get('sha256:74942fb09b5b4dbd62d48d25d2dc956ed5edd22de867d7afc641b21a422385da')).toBe(418904327);
    expect(sizes.size).toBe(3);
  });

  it('docker stats: memory in use per container', async () => {
    const stats = parseDockerStats(await out('guest-trixie-lab.txt', 'containers.stats'));
    expect(stats.get(MARIADB)).toBe(Math.round(99.75 * 1024 * 1024));
    expect(parseDockerStats(await out('guest-recorded-cgroup-v1.txt', 'containers.stats')).get(RECORDED)).toBe(660 * 1024);
    expect(parseDockerSize('1.921GiB')).toBe(Math.round(1.921 * 1024 ** 3));
    expect(parseDockerSize('25.3MB')).toBe(25_300_000);
    expect(parseDockerSize('0B')).toBe(0);
    expect(parseDockerSize('lots')).toBeNull();
  });
});

describe('measurements', () => {
  it('the last vagrant up that succeeded in labctl.log', async () => {
    const log = await layersFixture('labctl-log.txt');
    expect(parseLastBoot(log)).toEqual({ at: '2026-12-05T10:06:12.448Z', command: 'vagrant up --provider libvirt --no-provision', ms: 72358 });
    expect(parseLastBoot(log.split('\n').slice(0, 12).join('\n'))).toMatchObject({ ms: 230229 });
    expect(parseLastBoot('2026-12-05T10:00:00.000Z vagrant reload --no-provision → exit 0 in 91234 ms\n')).toMatchObject({ command: 'vagrant reload --no-provision', ms: 91234 });
    expect(parseLastBoot('')).toBeNull();
  });

  it('the restart probe\'s line', () => {
    expect(parseRestartTiming('running_ms=1203 healthy_ms=6410 timed_out=0\n')).toEqual({ runningMs: 1203, healthyMs: 6410, timedOut: false });
    expect(parseRestartTiming('running_ms=950 healthy_ms= timed_out=0\n')).toEqual({ runningMs: 950, healthyMs: null, timedOut: false });
    expect(parseRestartTiming('running_ms=950 healthy_ms= timed_out=1\n')).toMatchObject({ timedOut: true });
    expect(parseRestartTiming('Error response from daemon: No such container: x\n')).toBeNull();
  });
});

describe('image history as Dockerfile lines', () => {
  it.each([
    ['RUN |1 DEBIAN_FRONTEND=noninteractive /bin/sh -c apt-get update     && apt-get install -y mariadb-server # buildkit', 'RUN apt-get update && apt-get install -y mariadb-server'],
    ['RUN /bin/sh -c chmod 0755 /usr/local/bin/entrypoint.sh # buildkit', 'RUN chmod 0755 /usr/local/bin/entrypoint.sh'],
    ['COPY conf/nginx.conf /etc/nginx/nginx.conf # buildkit', 'COPY conf/nginx.conf /etc/nginx/nginx.conf'],
    ['/bin/sh -c #(nop)  CMD ["nginx" "-g" "daemon off;"]', 'CMD ["nginx" "-g" "daemon off;"]'],
    ['/bin/sh -c apt-get update', 'RUN apt-get update'],
    ['Imported from -', 'Imported from -'],
  ])('%s', (createdBy, line) => expect(dockerfileLine(createdBy)).toBe(line));
});
