import { describe, expect, it } from 'vitest';
import type { ClassHost, ClassSpec } from '../../core/class-file.js';
import { capacityFromFacts, DISK_PER_LAB_GIB, HOST_RESERVE_MIB, planClass, type HostFacts } from '../../core/class-plan.js';
import { DEFAULTS } from '../../core/config.js';
import { HostNotReadyError } from '../../core/errors.js';
import { batchUri, parseNodeinfo, parsePoolAvailable, reachHint } from '../../adapters/libvirt-host.js';

const range = (prefix: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${prefix}.${from + i}`);

function host(name: string, over: Partial<ClassHost> = {}): ClassHost {
  return { name, uri: `qemu+ssh://t@${name}/system`, capacity: undefined, addresses: range('192.168.50', 10, 40), bridge: undefined, ...over };
}

function spec(hosts: ClassHost[], logins: string[], settings: ClassSpec['settings'] = { bonus: false }): ClassSpec {
  return { file: '/c/class.yaml', name: 'c1', hosts, settings, rosterFile: '/c/roster.csv', roster: logins.map((login, i) => ({ login, line: i + 1 })) };
}

const students = (n: number) => Array.from({ length: n }, (_, i) => `s${String(i + 1).padStart(2, '0')}`);
const where = (plan: ReturnType<typeof planClass>) => Object.fromEntries(plan.labs.map((l) => [l.login, `${l.host} ${l.ip}`]));

describe('planClass', () => {
  it('uses the capacity written in the file, spreading labs in proportion to it', () => {
    const s = spec([host('a', { capacity: 2, addresses: range('10.0.0', 10, 20) }), host('b', { capacity: 4, addresses: range('10.0.1', 10, 20) })], students(6));
    const plan = planClass(s, new Map());
    expect(where(plan)).toEqual({
      s01: 'a 10.0.0.10', // a and b both empty: the first in the file
      s02: 'b 10.0.1.10',
      s03: 'b 10.0.1.11', // a is half full, b a quarter
      s04: 'a 10.0.0.11',
      s05: 'b 10.0.1.12',
      s06: 'b 10.0.1.13',
    });
    expect(plan.unplaced).toEqual([]);
    expect(plan.hosts.map((h) => [h.host, h.labs, h.capacity, h.capacitySource])).toEqual([
      ['a', 2, 2, 'file'],
      ['b', 4, 4, 'file'],
    ]);
    expect(plan.labs[0]).toEqual({ login: 's01', lab: 's01', host: 'a', uri: 'qemu+ssh://t@a/system', ip: '10.0.0.10', domain: 's01.42.fr', kept: false });
  });

  it('derives a capacity from the facts: RAM less the reserve over a lab\'s RAM, bounded by vCPUs', () => {
    const lab = { memoryMiB: DEFAULTS.memory, cpus: DEFAULTS.cpus };
    expect(capacityFromFacts({ memoryMiB: 16_384, cpus: 16 }, lab)).toBe(Math.floor((16_384 - HOST_RESERVE_MIB) / 2048));
    expect(capacityFromFacts({ memoryMiB: 262_144, cpus: 4 }, lab)).toBe(4); // 8 vCPUs over 2 a lab
    expect(capacityFromFacts({ memoryMiB: 1024, cpus: 4 }, lab)).toBe(0);

    const s = spec([host('a'), host('b', { addresses: range('192.168.51', 10, 40) })], students(5), { bonus: false, memoryMiB: 4096, cpus: 1 });
    const facts = new Map<string, HostFacts>([
      ['a', { memoryMiB: 2048 + 3 * 4096, cpus: 8, freeDiskGiB: 500 }],
      ['b', { memoryMiB: 2048 + 1 * 4096 + 100, cpus: 8 }],
    ]);
    const plan = planClass(s, facts);
    expect(plan.hosts.map((h) => [h.host, h.capacity, h.capacitySource, h.labs])).toEqual([
      ['a', 3, 'facts', 3],
      ['b', 1, 'facts', 1],
    ]);
    expect(plan.unplaced).toEqual(['s05']);
    expect(plan.hosts[0]).toMatchObject({ memoryMiB: 3 * 4096, diskGiB: 3 * DISK_PER_LAB_GIB, overcommitted: false, facts: { freeDiskGiB: 500 } });
  });

  it('gives no lab to a host it could not ask and whose capacity is not written; says why', () => {
    const down = new HostNotReadyError('cannot reach libvirt at qemu+ssh://t@b/system: Connection refused', { hint: 'check ssh' });
    const plan = planClass(spec([host('a', { capacity: 1 }), host('b')], students(2)), new Map([['b', down]]));
    expect(where(plan)).toEqual({ s01: 'a 192.168.50.10' });
    expect(plan.unplaced).toEqual(['s02']);
    expect(plan.hosts[1]).toMatchObject({ capacity: 0, capacitySource: 'unknown', factsError: down.message, factsHint: 'check ssh', overcommitted: false });
    expect(plan.hosts[1]?.facts).toBeUndefined();
  });

  it('keeps existing labs where they are, even beyond a capacity lowered since, and moves nobody', () => {
    const s = spec([host('a', { capacity: 1, addresses: range('10.0.0', 10, 20) }), host('b', { capacity: 2, addresses: range('10.0.1', 10, 20) })], ['new1', 'old1', 'old2', 'new2']);
    const existing = new Map([
      ['old1', { host: 'a', ip: '10.0.0.10' }],
      ['old2', { host: 'a', ip: '10.0.0.15' }],
    ]);
    const plan = planClass(s, new Map(), existing);
    expect(where(plan)).toEqual({ new1: 'b 10.0.1.10', old1: 'a 10.0.0.10', old2: 'a 10.0.0.15', new2: 'b 10.0.1.11' });
    expect(plan.labs.map((l) => l.login)).toEqual(['new1', 'old1', 'old2', 'new2']); // roster order
    expect(plan.labs.filter((l) => l.kept).map((l) => l.login)).toEqual(['old1', 'old2']);
    expect(plan.hosts[0]).toMatchObject({ labs: 2, newLabs: 0, diskGiB: 0, capacity: 1 });
  });

  it('is the same plan after a student is added at the end of the roster, for everyone already placed', () => {
    const hosts = [host('a', { capacity: 3 }), host('b', { capacity: 3, addresses: range('192.168.51', 10, 40) })];
    const before = planClass(spec(hosts, students(4)), new Map());
    const existing = new Map(before.labs.map((l) => [l.login, { host: l.host, ip: l.ip }]));
    const after = planClass(spec(hosts, [...students(4), 'late']), new Map(), existing);
    expect(after.labs.slice(0, 4).map((l) => `${l.host} ${l.ip}`)).toEqual(before.labs.map((l) => `${l.host} ${l.ip}`));
    expect(after.labs[4]).toMatchObject({ login: 'late', kept: false });
    // The same inputs, the same plan.
    expect(planClass(spec(hosts, students(4)), new Map())).toEqual(before);
  });

  it('plans anew a lab whose host left the file, and never reuses an address another lab holds', () => {
    const s = spec([host('a', { capacity: 5, addresses: range('10.0.0', 10, 14) })], ['moved', 'fresh']);
    const plan = planClass(s, new Map(), new Map([['moved', { host: 'gone', ip: '10.0.0.10' }]]), new Set(['10.0.0.11']));
    expect(where(plan)).toEqual({ moved: 'a 10.0.0.12', fresh: 'a 10.0.0.13' });
    expect(plan.hosts[0]).toMatchObject({ addresses: 5, addressesLeft: 1 });
  });

  it('leaves students unplaced when the addresses run out before the capacity', () => {
    const plan = planClass(spec([host('a', { capacity: 10, addresses: ['10.0.0.10', '10.0.0.11'] })], students(3)), new Map());
    expect(plan.unplaced).toEqual(['s03']);
    expect(plan.hosts[0]).toMatchObject({ labs: 2, capacity: 10, addressesLeft: 0 });
  });

  it('says a host is overcommitted when its facts cannot hold the capacity written in the file', () => {
    const s = spec([host('a', { capacity: 4 })], students(4));
    const small = planClass(s, new Map([['a', { memoryMiB: 8192, cpus: 8, freeDiskGiB: 100 }]]));
    expect(small.hosts[0]).toMatchObject({ memoryMiB: 8192, overcommitted: true });
    const lowDisk = planClass(s, new Map([['a', { memoryMiB: 65_536, cpus: 8, freeDiskGiB: 4 * DISK_PER_LAB_GIB - 1 }]]));
    expect(lowDisk.hosts[0]?.overcommitted).toBe(true);
    const fine = planClass(s, new Map([['a', { memoryMiB: 65_536, cpus: 8, freeDiskGiB: 4 * DISK_PER_LAB_GIB }]]));
    expect(fine.hosts[0]?.overcommitted).toBe(false);
  });

  it('carries the bridge and what a lab takes', () => {
    const plan = planClass(spec([host('a', { capacity: 1, bridge: 'eno1' })], ['jdoe'], { bonus: false, memoryMiB: 3072, cpus: 3 }), new Map());
    expect(plan.labs[0]?.bridge).toBe('eno1');
    expect(plan.perLab).toEqual({ memoryMiB: 3072, cpus: 3, diskGiB: DISK_PER_LAB_GIB });
  });
});

describe('what virsh answers about a host', () => {
  // The shape of virsh 9's `nodeinfo` and `pool-info --bytes` (taken from libvirt's test driver).
  const NODEINFO = 'CPU model:           x86_64\nCPU(s):              8\nCPU frequency:       2400 MHz\nCPU socket(s):       1\nCore(s) per socket:  4\nThread(s) per core:  2\nNUMA cell(s):        1\nMemory size:         33554432 KiB\n';
  const POOL = 'Name:           default\nUUID:           55dba5af-9b07-496f-b114-80794d34374b\nState:          running\nPersistent:     yes\nAutostart:      no\nCapacity:       107374182400\nAllocation:     0\nAvailable:      107374182400\n';

  it('reads RAM and CPUs from nodeinfo, free GiB from pool-info', () => {
    expect(parseNodeinfo(NODEINFO)).toEqual({ memoryMiB: 32_768, cpus: 8 });
    expect(parseNodeinfo('CPU(s): 8\n')).toBeUndefined();
    expect(parsePoolAvailable(POOL)).toBe(100);
    expect(parsePoolAvailable('Available:      56277741568\n')).toBe(52.4);
    expect(parsePoolAvailable('Available:      52.41 GiB\n')).toBeUndefined();
  });

  it('asks over SSH in batch mode, so that no host prompts for a password', () => {
    expect(batchUri('qemu+ssh://t@h/system')).toBe('qemu+ssh://t@h/system?no_tty=1');
    expect(batchUri('qemu+ssh://t@h/system?keyfile=/k')).toBe('qemu+ssh://t@h/system?keyfile=/k&no_tty=1');
    expect(batchUri('qemu+ssh://t@h/system?no_tty=0')).toBe('qemu+ssh://t@h/system?no_tty=0');
    expect(batchUri('qemu:///system')).toBe('qemu:///system');
  });

  it('says what to check, in the terms of the URI', () => {
    expect(reachHint('qemu+ssh://teacher@lab-b:2222/system')).toMatch(/^check that `ssh -p 2222 teacher@lab-b` logs in without a password .* libvirt-daemon-system .* teacher is in its libvirt group/);
    expect(reachHint('qemu:///system')).toMatch(/this machine has libvirt-daemon-system .* libvirt group/);
  });
});
