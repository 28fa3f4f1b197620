import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../core/config.js';
import { ExitCode } from '../../core/errors.js';
import { writeLab } from '../../core/state.js';
import { renderVagrantfile } from '../../core/vagrantfile.js';
import { readHostFacts } from '../../adapters/libvirt-host.js';
import { labctl } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { snapshotTree } from '../helpers/tree-snapshot.js';

// `labctl class plan` and `class hosts-file` through the built binary, with the real virsh. No
// libvirt host is reachable here, so the class's hosts are two real faults that virsh meets at
// once: an SSH host whose sshd does not answer (loopback port 1: connection refused), and a machine
// without libvirtd (a socket path where none listens). The path of a reachable host is tested
// below on libvirt's own test driver, which answers as a host would without a daemon.

let root: string;
let env: Record<string, string>;
let sshDown: string;
let noDaemon: string;

beforeAll(async () => {
  root = await tempDir('labctl-class-');
  env = { LABCTL_HOME: join(root, 'home'), LIBVIRT_DEFAULT_URI: '' };
  sshDown = 'qemu+ssh://labctl-test@127.0.0.1:1/system';
  noDaemon = `qemu:///system?socket=${join(root, 'no-libvirtd.sock')}`;
});

interface ClassDir {
  dir: string;
  file: string;
}

const ROSTER = 'login,name,email\nadupont,"Dupont, Alice",adupont@student.42.fr\nbmartin,Bruno Martin,\ncnguyen\n';

/** A class folder: class.yaml (hosts given as YAML lines) and roster.csv. */
async function classDir(hosts: string, roster = ROSTER): Promise<ClassDir> {
  const dir = await tempDir('labctl-class-dir-');
  await writeFile(join(dir, 'roster.csv'), roster);
  await writeFile(join(dir, 'class.yaml'), `name: test-class\nroster: roster.csv\nsettings:\n  memory: 1024\n  cpus: 1\nhosts:\n${hosts}`);
  return { dir, file: join(dir, 'class.yaml') };
}

const twoHosts = () =>
  `  - name: near\n    uri: "${noDaemon}"\n    capacity: 2\n    addresses: 192.168.50.10-192.168.50.19\n` +
  `  - name: far\n    uri: ${sshDown}\n    capacity: 1\n    addresses: [192.168.50.30]\n    bridge: eno1\n`;

describe('labctl class plan', () => {
  it('prints the whole plan when no host answers, each host\'s row saying why, and exits 1', async () => {
    const c = await classDir(twoHosts());
    const r = await labctl(['class', 'plan', c.file], { env });
    expect(r.exitCode).toBe(ExitCode.checkFailed);
    expect(r.stdout).toMatch(/^Class test-class: 3 student\(s\) on 2 host\(s\); a lab takes 1\.0 GiB of RAM, 1 CPU\(s\) and about 8 GiB of disk \(estimate\)\./);
    expect(r.stdout).toMatch(/│ adupont +│ near +│ 192\.168\.50\.10 +│ adupont\.42\.fr +│ to create +│/);
    expect(r.stdout).toMatch(/│ bmartin +│ far +│ 192\.168\.50\.30 +│ bmartin\.42\.fr +│ to create +│/);
    expect(r.stdout).toMatch(/│ cnguyen +│ near +│ 192\.168\.50\.11 +│ cnguyen\.42\.fr +│ to create +│/);
    expect(r.stdout).toMatch(/│ near .*│ 2 \/ 2 \(class file\) +│ 2\.0 GiB \/ \? +│ 16 GiB \/ \? +│ unreachable: Failed to connect socket/);
    expect(r.stdout).toMatch(/│ far .*│ 1 \/ 1 \(class file\) +│ 1\.0 GiB \/ \? +│ 8 GiB \/ \? +│ unreachable: /);
    // The status cell wraps: its words, read across the table's lines. libvirt words the end of
    // ssh's connection as it sees it first ("Cannot recv data", "End of file while reading data").
    expect(cellText(r.stdout, 4)).toMatch(/unreachable: [^:]+: ssh: connect to host 127\.0\.0\.1 port 1: Connection refused/);
    expect(r.stdout).toContain('far: check that `ssh -p 1 labctl-test@127.0.0.1` logs in without a password');
    expect(r.stderr).toBe('labctl: the plan cannot be carried out as it is: near, far could not be asked\n  fix: the lines above say what to change in the class file, or on which host');
    expect(existsSync(env.LABCTL_HOME ?? '')).toBe(false);
  });

  it('--json: the plan for scripts, the reason in each host\'s record', async () => {
    const c = await classDir(twoHosts());
    const r = await labctl(['class', 'plan', c.file, '--json'], { env });
    expect(r.exitCode).toBe(ExitCode.checkFailed);
    const plan = JSON.parse(r.stdout) as { labs: { login: string; ip: string; bridge?: string }[]; hosts: { host: string; factsError?: string }[]; unplaced: string[] };
    expect(plan.labs.map((l) => `${l.login} ${l.ip} ${l.bridge ?? '-'}`)).toEqual(['adupont 192.168.50.10 -', 'bmartin 192.168.50.30 eno1', 'cnguyen 192.168.50.11 -']);
    expect(plan.hosts.map((h) => h.factsError?.startsWith(`cannot reach libvirt at ${h.host === 'near' ? noDaemon : sshDown}: `))).toEqual([true, true]);
    expect(plan.unplaced).toEqual([]);
  });

  it('lists the students beyond every host\'s capacity and says what to add', async () => {
    const c = await classDir(`  - name: near\n    uri: "${noDaemon}"\n    capacity: 1\n    addresses: 192.168.50.10-192.168.50.19\n  - name: far\n    uri: ${sshDown}\n    addresses: [192.168.50.30]\n`);
    const r = await labctl(['class', 'plan', c.file], { env });
    expect(r.exitCode).toBe(ExitCode.checkFailed);
    expect(r.stdout).toMatch(/│ bmartin +│ — +│ — +│ — +│ not placed +│/);
    expect(r.stdout).toContain('far: capacity unknown: give it `capacity:` in the class file, or make the host reachable');
    expect(r.stdout).toContain("Not placed: bmartin, cnguyen (the hosts' capacity is 1 for 3 students: add a host or raise a capacity).");
    expect(r.stderr).toMatch(/^labctl: the plan cannot be carried out as it is: 2 student\(s\) not placed; near, far could not be asked\n/);
  });
});

describe('labctl class hosts-file', () => {
  it('prints a line per student under a header naming the class, without asking any host', async () => {
    const c = await classDir(twoHosts());
    const r = await labctl(['class', 'hosts-file', c.file], { env });
    expect(r).toMatchObject({ exitCode: ExitCode.ok, stderr: '' });
    expect(r.stdout).toBe(
      '# labctl class test-class: add to the hosts file (/etc/hosts; Windows: C:\\Windows\\System32\\drivers\\etc\\hosts)\n' +
        '192.168.50.10 adupont.42.fr\n192.168.50.30 bmartin.42.fr\n192.168.50.11 cnguyen.42.fr',
    );
    // No host was asked: a plan that asked would have waited for both faults, and said so.
    expect(r.ms).toBeLessThan(10_000);
    const one = await labctl(['class', 'hosts-file', c.file, '--login', 'bmartin'], { env });
    expect(one.stdout.split('\n').slice(1)).toEqual(['192.168.50.30 bmartin.42.fr']);
  });

  it('gives an existing lab\'s own address, read from its lab.json', async () => {
    const c = await classDir(twoHosts());
    const home = await tempDir('labctl-class-home-');
    const lab = resolveConfig({ name: 'cnguyen', login: 'cnguyen', provider: 'libvirt', libvirt_driver: 'qemu', ip: '192.168.50.17', libvirt_uri: noDaemon }, { usableProvider: 'libvirt', hardwareVirtualization: false });
    await writeLab(lab, renderVagrantfile(lab), { LABCTL_HOME: home });
    // The teacher's own lab holds an address of the range too: nobody else gets it.
    const own = resolveConfig({ name: 'mine', login: 'teacher', provider: 'libvirt', libvirt_driver: 'qemu', ip: '192.168.50.10' }, { usableProvider: 'libvirt', hardwareVirtualization: false });
    await writeLab(own, renderVagrantfile(own), { LABCTL_HOME: home });
    const r = await labctl(['class', 'hosts-file', c.file], { env: { ...env, LABCTL_HOME: home } });
    expect(r.exitCode).toBe(ExitCode.ok);
    // cnguyen keeps .17 on near, so far has the most room for adupont; .10 is the teacher's.
    expect(r.stdout.split('\n').slice(1)).toEqual(['192.168.50.30 adupont.42.fr', '192.168.50.11 bmartin.42.fr', '192.168.50.17 cnguyen.42.fr']);
  });

  it('refuses to guess a capacity it would have to ask a host for (exit 3), unless the lab exists', async () => {
    const c = await classDir(`  - name: near\n    uri: "${noDaemon}"\n    addresses: 192.168.50.10-192.168.50.19\n`);
    const r = await labctl(['class', 'hosts-file', c.file], { env });
    expect(r.exitCode).toBe(ExitCode.config);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^labctl: hosts\[0\]\.capacity: is not in the class file, and hosts-file asks no host for its RAM to derive it \(host near\)\n {2}fix: give every host a capacity/);
  });

  it('names a login that is not in the roster (exit 5), and the students without an address (exit 1)', async () => {
    const c = await classDir(`  - name: near\n    uri: "${noDaemon}"\n    capacity: 1\n    addresses: 192.168.50.10\n`);
    const r = await labctl(['class', 'hosts-file', c.file, '--login', 'zz'], { env });
    expect(r.exitCode).toBe(ExitCode.notFound);
    expect(r.stderr).toBe(`labctl: "zz" is not in the roster ${join(c.dir, 'roster.csv')}\n  fix: check the spelling of the login, or add the student to the roster`);
    const all = await labctl(['class', 'hosts-file', c.file], { env });
    expect(all.exitCode).toBe(ExitCode.checkFailed);
    expect(all.stdout.split('\n').slice(1)).toEqual(['192.168.50.10 adupont.42.fr', '# not placed (no capacity or address left): bmartin cnguyen']);
    expect(all.stderr).toMatch(/^labctl: 2 student\(s\) have no address: bmartin, cnguyen\n/);
  });
});

describe('hostile class files and rosters: one line naming the field or the line, the documented code, nothing written', () => {
  const rows: { label: string; hosts?: string; roster?: string; yaml?: string; args?: (c: ClassDir) => string[]; exit: number; stderr: (c: ClassDir) => RegExp }[] = [
    { label: 'an invalid login', roster: 'login\nadupont\nJohn Smith\n', exit: ExitCode.config, stderr: (c) => new RegExp(`^labctl: ${esc(c.dir)}/roster\\.csv:3: login "John Smith" is not valid\\n {2}fix: `) },
    { label: 'a login twice', roster: 'adupont\nbmartin\nadupont\n', exit: ExitCode.config, stderr: (c) => new RegExp(`^labctl: ${esc(c.dir)}/roster\\.csv:3: login "adupont" is also on line 1\\n`) },
    { label: 'a roster that is a folder', yaml: 'name: x\nroster: .\nhosts:\n  - name: a\n    uri: qemu:///system\n    addresses: 10.0.0.2\n', exit: ExitCode.config, stderr: (c) => new RegExp(`^labctl: roster: ${esc(c.dir)} is not a file\\n`) },
    { label: 'a URI of another driver', hosts: '  - name: a\n    uri: lxc:///system\n    addresses: 10.0.0.2\n', exit: ExitCode.config, stderr: () => /^labctl: hosts\[0\]\.uri: "lxc:\/\/\/system" is not a qemu:\/\/ or qemu\+ssh:\/\/ URI \(class\.yaml:8\)\n {2}fix: /m },
    { label: 'a misspelt key', hosts: '  - name: a\n    uri: qemu:///system\n    adresses: 10.0.0.2\n', exit: ExitCode.config, stderr: () => /^labctl: hosts\[0\]\.adresses: is not a key labctl knows \(class\.yaml:9\)\n {2}fix: the keys here are name, uri, capacity, addresses, bridge$/ },
    { label: 'YAML that is not', yaml: 'name: x\n  roster: [\n', exit: ExitCode.config, stderr: () => /^labctl: class\.yaml: is not valid YAML at line \d+: /m },
    { label: 'a list for a file', yaml: '- a\n- b\n', exit: ExitCode.config, stderr: () => /^labctl: class file: is a list, not a mapping \(key: value lines\) \(class\.yaml:1\)\n/ },
    { label: 'a class file that does not exist', args: (c) => ['class', 'plan', join(c.dir, 'nope.yaml')], exit: ExitCode.notFound, stderr: (c) => new RegExp(`^labctl: class file ${esc(c.dir)}/nope\\.yaml does not exist\\n`) },
    { label: 'no class file', args: () => ['class', 'plan'], exit: ExitCode.usage, stderr: () => /^labctl: Not enough non-option arguments/ },
    { label: 'no action', args: () => ['class'], exit: ExitCode.usage, stderr: () => /^labctl: Not enough non-option arguments: got 0, need at least 1\n {2}fix: see labctl class --help$/ },
  ];

  it.each(rows)('$label', async (row) => {
    const c = await classDir(row.hosts ?? twoHosts(), row.roster ?? ROSTER);
    if (row.yaml !== undefined) await writeFile(c.file, row.yaml);
    const before = await snapshotTree(c.dir);
    for (const argv of row.args ? [row.args(c)] : [['class', 'plan', c.file], ['class', 'hosts-file', c.file]]) {
      const r = await labctl(argv, { env });
      expect(r.exitCode, `${argv.join(' ')}\n${r.stderr}`).toBe(row.exit);
      expect(r.stderr).toMatch(row.stderr(c));
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(r.stdout).toBe('');
    }
    expect(await snapshotTree(c.dir)).toEqual(before);
    expect(existsSync(env.LABCTL_HOME ?? '')).toBe(false);
  });
});

describe('readHostFacts on a libvirt that answers (libvirt\'s test driver: a made-up host, no daemon)', () => {
  it('reads RAM and CPUs from nodeinfo and free disk from the default pool', async () => {
    const dir = await tempDir('labctl-class-node-');
    // The test driver's description of a node: 8 CPUs, 32 GiB and a `default` pool, as a real host has once vagrant-libvirt used it.
    await writeFile(
      join(dir, 'node.xml'),
      "<node><cpu><mhz>2400</mhz><model>x86_64</model><active>8</active><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>2</threads></cpu><memory>33554432</memory><pool type='dir'><name>default</name><target><path>/var/lib/libvirt/images</path></target></pool></node>\n",
    );
    const facts = await readHostFacts(`test://${join(dir, 'node.xml')}`);
    expect(facts.memoryMiB).toBe(32_768);
    expect(facts.cpus).toBe(8);
    expect(facts.freeDiskGiB).toBeGreaterThan(0);
  });

  it('leaves free disk unknown without a default pool', async () => {
    const facts = await readHostFacts('test:///default');
    expect(facts).toEqual({ memoryMiB: 3072, cpus: 16 });
  });

  it('names the URI and what to check when it cannot connect', async () => {
    await expect(readHostFacts(sshDown)).rejects.toMatchObject({ name: 'HostNotReadyError', message: expect.stringMatching(/^cannot reach libvirt at qemu\+ssh:\/\/labctl-test@127\.0\.0\.1:1\/system: .*Connection refused/), hint: expect.stringContaining('ssh -p 1 labctl-test@127.0.0.1') });
  });
});

/** The text of column `n` (0-based) of every row of the tables in `out`, joined with spaces. */
function cellText(out: string, n: number): string {
  return out
    .split('\n')
    .filter((l) => l.startsWith('│'))
    .map((l) => l.split('│')[n + 1]?.trim() ?? '')
    .filter((t) => t !== '')
    .join(' ');
}

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
