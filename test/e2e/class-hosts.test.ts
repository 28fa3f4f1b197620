import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertRoutedToLan, createClassHosts, LAN_INTERFACE, type ClassHost, type ClassHosts } from '../helpers/class-hosts.js';
import { E2E_CACHE_DIR } from './harness.js';

// The classroom that class mode's e2e runs in (issue 18): two libvirt hosts in namespaces of their
// own, reached from the teacher's namespace by qemu+ssh only, and a student's namespace on the same
// LAN. No VM is booted here: this proves the plumbing in seconds, so that a failure of the class
// e2e is about labctl, not about the classroom.

const HOSTS = 2;
const NC_TIMEOUT_S = 3;
/** Setting up and tearing down 2 hosts takes ~10 s here; this is far below a minute on purpose. */
const CLASS_HOSTS_SETUP_BUDGET_MS = 45_000;

const logDir = join(E2E_CACHE_DIR, 'logs');
mkdirSync(logDir, { recursive: true });
const logFile = join(logDir, `class-hosts-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
const started = Date.now();
const log = (line: string) => appendFileSync(logFile, `${((Date.now() - started) / 1000).toFixed(1).padStart(7)} ${line}\n`);

let c: ClassHosts;
let setupMs = 0;

beforeAll(async () => {
  console.log(`class-hosts log: ${logFile}`);
  const t = Date.now();
  c = await createClassHosts({ log, hosts: HOSTS });
  setupMs = Date.now() - t;
  log(`set up in ${setupMs} ms`);
});

afterAll(async () => {
  await c?.teardown();
});

const host = (index: number): ClassHost => {
  const h = c.hosts[index - 1];
  if (h === undefined) throw new Error(`no host ${index}`);
  return h;
};

const ok = (r: { exitCode?: number | undefined; all?: unknown }, what: string) => {
  expect(r.exitCode, `${what} failed (log: ${logFile}):\n${String(r.all)}`).toBe(0);
  return String(r.all);
};

const names = (out: string) => out.split('\n').map((l) => l.trim()).filter(Boolean);

describe('class hosts: libvirt hosts reached by qemu+ssh from the teacher namespace', () => {
  it(`sets ${HOSTS} hosts up within ${CLASS_HOSTS_SETUP_BUDGET_MS / 1000} s`, () => {
    expect(c.hosts).toHaveLength(HOSTS);
    expect(setupMs).toBeLessThan(CLASS_HOSTS_SETUP_BUDGET_MS);
  });

  it('each host answers virsh nodeinfo and net-list over qemu+ssh, with strict host keys', async () => {
    await Promise.all(
      c.hosts.map(async (h) => {
        expect(h.uri).toBe(`qemu+ssh://root@${h.lanAddress}/system`);
        await assertRoutedToLan(c.teacher.ns, h.lanAddress);
        expect(ok(await c.teacher.virsh(h, ['nodeinfo']), `virsh nodeinfo on host ${h.index}`)).toMatch(/^CPU\(s\):\s+\d+/m);
        expect(names(ok(await c.teacher.virsh(h, ['net-list', '--all', '--name']), `virsh net-list on host ${h.index}`))).toContain('default');
      }),
    );
    // Strict checking is on (the config says so), so a host whose key is not the one known fails.
    const config = await readFile(c.teacher.sshConfigFile, 'utf8');
    expect(config).toMatch(/StrictHostKeyChecking yes/);
    const known = await readFile(c.teacher.knownHostsFile, 'utf8');
    for (const h of c.hosts) expect(known).toContain(`${h.lanAddress} ssh-ed25519 `);
  });

  it('each host answers with its own libvirtd', async () => {
    const net = `class-hosts-only-on-1-${process.pid}`;
    const xml = join(c.stateDir, `${net}.xml`);
    await writeFile(xml, `<network><name>${net}</name></network>\n`);
    // The XML file is read by virsh on the teacher's side and sent over the connection.
    ok(await c.teacher.virsh(host(1), ['net-define', xml]), 'virsh net-define on host 1');
    try {
      expect(names(ok(await c.teacher.virsh(host(1), ['net-list', '--all', '--name']), 'net-list on host 1'))).toContain(net);
      expect(names(ok(await c.teacher.virsh(host(2), ['net-list', '--all', '--name']), 'net-list on host 2'))).not.toContain(net);
      // What host 1 itself sees through its local socket: the connection landed on this libvirtd.
      expect(names(await host(1).libvirt.virsh(['net-list', '--all', '--name']))).toContain(net);
      expect(names(await host(2).libvirt.virsh(['net-list', '--all', '--name']))).not.toContain(net);
    } finally {
      ok(await c.teacher.virsh(host(1), ['net-undefine', net]), 'virsh net-undefine on host 1');
    }
  });

  // The hosts share this machine's /dev, where a macvtap's device is /dev/tap<ifindex>: hosts whose
  // macvtaps had equal indexes would share a node, and a VM would get another host's macvtap.
  it("a macvtap made on each host has a /dev/tap node of its own, as on separate machines", async () => {
    const made: ClassHost[] = [];
    try {
      const devices: string[] = [];
      for (const h of c.hosts) {
        await h.ns.exec(['ip', 'link', 'add', 'lctapcheck', 'link', LAN_INTERFACE, 'type', 'macvtap', 'mode', 'bridge']);
        made.push(h);
        const index = String((await h.ns.exec(['cat', '/sys/class/net/lctapcheck/ifindex'])).stdout).trim();
        const wanted = String((await h.ns.exec(['cat', `/sys/class/net/lctapcheck/macvtap/tap${index}/dev`])).stdout).trim();
        const node = (await execa('stat', ['--format', '%Hr:%Lr', `/dev/tap${index}`], { reject: false })).stdout.trim();
        expect(node, `host ${h.index}'s macvtap (index ${index}) is ${wanted}; /dev/tap${index} is ${node || 'missing'}`).toBe(wanted);
        devices.push(wanted);
      }
      expect(new Set(devices).size).toBe(c.hosts.length);
    } finally {
      for (const h of made) await h.ns.exec(['ip', 'link', 'del', 'lctapcheck'], { reject: false });
    }
  });

  it('the student reaches the hosts on the LAN, and neither student nor teacher has a route to their libvirt networks', async () => {
    for (const h of c.hosts) {
      await assertRoutedToLan(c.student.ns, h.lanAddress);
      const r = await c.student.ns.exec(['nc', '-z', '-w', String(NC_TIMEOUT_S), h.lanAddress, '22'], { reject: false, all: true });
      expect(r.exitCode, `student → ${h.lanAddress}:22: ${String(r.all)}`).toBe(0);

      const bridges = String((await h.ns.exec(['ip', '-4', '-o', 'addr', 'show'])).stdout)
        .split('\n')
        .filter((l) => / virbr\d+ /.test(l))
        .map((l) => /inet (\S+)\//.exec(l)?.[1] ?? '');
      expect(bridges.length, `host ${h.index} has no libvirt bridge`).toBeGreaterThan(0);
      for (const ip of bridges) {
        for (const ns of [c.student.ns, c.teacher.ns]) {
          const route = await ns.exec(['ip', 'route', 'get', ip], { reject: false, all: true });
          expect(route.exitCode, `${ns.name} has a route to ${ip} of host ${h.index}: ${String(route.all)}`).not.toBe(0);
          expect(String(route.all)).toMatch(/unreachable/i);
        }
      }
    }
    expect(String((await c.student.ns.exec(['ip', '-o', 'route'])).stdout)).not.toMatch(/^default/m);
    expect(String((await c.student.ns.exec(['ip', '-o', 'link', 'show', LAN_INTERFACE])).stdout)).toMatch(/state UP/);
  });

  it('a host whose libvirtd stopped fails the teacher\'s virsh alone, and answers again once restarted', async () => {
    await host(2).libvirt.stopDaemon();
    log('libvirtd of host 2 stopped');
    const down = await c.teacher.virsh(host(2), ['nodeinfo']);
    log(`virsh nodeinfo on host 2 with libvirtd stopped → exit ${down.exitCode}:\n${String(down.all)}`);
    expect(down.exitCode).not.toBe(0);
    expect(String(down.all)).toMatch(/failed to connect|libvirt-sock|no such file/i);
    ok(await c.teacher.virsh(host(1), ['nodeinfo']), 'virsh nodeinfo on host 1 while host 2 is down');
    await host(2).libvirt.startDaemon();
    log('libvirtd of host 2 started again');
    ok(await c.teacher.virsh(host(2), ['nodeinfo']), 'virsh nodeinfo on host 2 after the restart');
  });

  it('teardown leaves nothing in the root namespace', async () => {
    const members = [c.teacher.ns, c.student.ns, ...c.hosts.map((h) => h.ns)];
    const pids = c.hosts.flatMap((h): [number, string][] => [[h.sshdPid, 'sshd'], [h.libvirt.pids.libvirtd, 'libvirtd'], [h.libvirt.pids.virtlogd, 'virtlogd']]);
    const t = Date.now();
    await c.teardown();
    log(`torn down in ${Date.now() - t} ms`);

    const namespaces = String((await execa('ip', ['netns', 'list'])).stdout);
    for (const name of [c.lan.ns, ...members.map((m) => m.name)]) {
      expect(namespaces).not.toContain(name);
      expect(existsSync(join('/etc/netns', name)), `/etc/netns/${name}`).toBe(false);
    }
    const addresses = String((await execa('ip', ['-4', '-o', 'addr'])).stdout);
    const iptables = `${String((await execa('iptables-save', ['-t', 'nat'])).stdout)}\n${String((await execa('iptables-save', ['-t', 'filter'])).stdout)}`;
    for (const m of members) {
      expect(addresses).not.toContain(`${m.hostAddress}/`);
      expect(iptables).not.toContain(m.hostAddress.replace(/\.\d+$/, '.0/30'));
    }
    const lanPrefix = c.lan.cidr.replace(/\.0\/24$/, '.');
    expect(addresses).not.toContain(lanPrefix);
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    for (const m of members) expect(mounts).not.toContain(m.name);
    expect(mounts).not.toContain(c.stateDir);
    expect(existsSync(c.stateDir)).toBe(false);
    for (const [pid, daemon] of pids) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      expect(cmdline.includes(daemon), `${daemon} ${pid} still runs`).toBe(false);
    }
    // Idempotent: a second teardown (afterAll's) does nothing and does not throw.
    await c.teardown();
  });
});
