import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BONUS_CONTAINERS } from '../../check/bonus.js';
import { resolveConfig } from '../../core/config.js';
import { packageRoot } from '../../core/paths.js';
import { renderVagrantfile } from '../../core/vagrantfile.js';
import type { LayersReport } from '../../core/layers-report.js';
import { findChromium, openInChromium } from '../helpers/chromium.js';
import { assertRoutedToLocalBridge } from '../helpers/netns.js';
import { setUpHarness, type Harness } from './harness.js';
import { createPostPhp, labctl, LABCTL_CHECK_DESTRUCTIVE_TIMEOUT_MS, LABCTL_CREATE_TIMEOUT_MS, LABCTL_QUICK_TIMEOUT_MS, why } from './labctl.js';
import { httpsGet, plainHttpAnswers, tcpOpen, tlsHandshake } from './probes.js';

// End to end on a real VM: local Debian box → vagrant-libvirt (software emulation here: no hardware
// KVM on these machines) → … → https://<login>.42.fr, all inside the test's own network namespace.
// Part 1 boots the VM with plain vagrant from labctl's own Vagrantfile template, so that a failure
// there is about the box, libvirt or the template, not about provisioning.

const LOGIN = 'e2etest';
const LAB_IP = '192.168.56.10';
/** `vagrant up` of a fresh VM under TCG, box upload into the pool included (measured ≈ 3.6 min). */
const VAGRANT_UP_TIMEOUT_MS = 20 * 60_000;
const VAGRANT_HALT_TIMEOUT_MS = 5 * 60_000;
const VAGRANT_DESTROY_TIMEOUT_MS = 3 * 60_000;
const SSH_TIMEOUT_MS = 60_000;
const GUEST_APT_TIMEOUT_MS = 5 * 60_000;
/** labctl layers --measure under TCG: one guest script over 8 containers, docker stats, one restart until healthy. */
const LABCTL_LAYERS_TIMEOUT_MS = 5 * 60_000;

let h: Harness;

// Part 1 boots the box with plain vagrant (box, libvirt and template plumbing, for diagnosis);
// part 2 drives the real labctl binary: create → HTTPS → check --destructive (kill -9, guest
// reboot) → halt/up → destroy, which
// covers part 1's ground too, so CI runs part 2 only. LABCTL_E2E_PLUMBING=1 adds part 1;
// LABCTL_E2E_CREATE=0 leaves part 2 out.
const PART2 = process.env.LABCTL_E2E_CREATE !== '0';
const PART1 = process.env.LABCTL_E2E_PLUMBING === '1' || !PART2;
// Part 2 creates a bonus lab (issue 8): the mandatory services are the same containers either way,
// so one VM covers both. LABCTL_E2E_BONUS=0 creates the mandatory lab only (its images build faster).
const BONUS = process.env.LABCTL_E2E_BONUS !== '0';
const MANDATORY_SERVICES = ['nginx', 'wordpress', 'mariadb'];
const SERVICES = BONUS ? [...MANDATORY_SERVICES, ...BONUS_CONTAINERS] : MANDATORY_SERVICES;
/** PID 1 of each container, the daemon itself (compose/'s Dockerfiles: CMD, exec'd by the entrypoint). */
const DAEMONS: Record<string, RegExp> = {
  nginx: /^nginx$/, wordpress: /^php-fpm/, mariadb: /^(mariadbd|mysqld)$/,
  redis: /^redis-server$/, ftp: /^proftpd$/, website: /^lighttpd$/, adminer: /^php-fpm/, status: /^python3/,
};
/** nginx's routes to the bonus services, which create and status print. */
const BONUS_PATHS = BONUS ? ['/site/', '/adminer/', '/status/'] : [];
/** What `labctl check --destructive` must report as passing on the lab made by `labctl create`. */
const EXPECTED_PASSES = [
  'L01.vm-running', 'L02.guest-hosts', 'L03.compose-v2', 'M05.tls12-accepted', 'M05.tls13-accepted', 'M05.tls11-refused', 'M05.http-refused', 'M05.only-443-open', 'M11.admin-name', 'M13.site',
  'M09.kill-nginx', 'M09.kill-wordpress', 'M09.kill-mariadb', 'M13.data-after-kill', 'M13.after-reboot', 'M13.data-after-reboot',
  ...(BONUS ? ['B01.healthy', 'B01.redis-keys', 'B02.healthy', 'B02.ftp-port', 'B02.ftp-login', 'B02.ftp-anonymous', 'B03.healthy', 'B03.static-site', 'B04.healthy', 'B04.adminer', 'B05.healthy', 'B05.status'] : []),
];

beforeAll(async () => {
  h = await setUpHarness();
});

afterAll(async () => {
  await h?.teardown();
  if (h) console.log(`e2e timings (s): ${JSON.stringify(Object.fromEntries([...h.timings].map(([k, v]) => [k, Math.round(v / 100) / 10])))}`);
});

describe.runIf(PART1)('part 1: the local box boots under vagrant-libvirt in the namespace', () => {
  let vmDir: string;
  let sshConfig: string;

  const vagrant = async (args: string[], timeout: number) => {
    const r = await h.ns.exec(['vagrant', ...args], { cwd: vmDir, env: h.env, timeout, all: true, reject: false });
    h.log(`vagrant ${args.join(' ')} → exit ${r.exitCode}\n${String(r.all)}`);
    return r;
  };

  const expectOk = (r: { exitCode?: number | undefined; all?: unknown }, what: string) => {
    expect(r.exitCode, `${what} failed; see ${h.logFile}\n${String(r.all).split('\n').slice(-15).join('\n')}`).toBe(0);
  };

  it('renders a libvirt Vagrantfile for the local box and boots it', async () => {
    const config = resolveConfig(
      { login: LOGIN, name: 'boot', provider: 'libvirt', ip: LAB_IP, box: h.box.name, libvirt_driver: 'qemu' },
      { usableProvider: 'libvirt', hardwareVirtualization: false },
    );
    vmDir = join(h.workDir, 'vm-boot');
    await mkdir(vmDir, { recursive: true });
    await writeFile(join(vmDir, 'Vagrantfile'), renderVagrantfile(config));
    const r = await h.timed('vagrant up (fresh VM)', () => vagrant(['up', '--provider', 'libvirt'], VAGRANT_UP_TIMEOUT_MS));
    expectOk(r, 'vagrant up');
    expect(await h.libvirt.virsh(['list', '--name'])).toMatch(/labctl-boot-/);
  });

  it('answers SSH through `vagrant ssh-config` + `ssh -F`', async () => {
    const cfg = await h.timed('vagrant ssh-config', () => vagrant(['ssh-config'], SSH_TIMEOUT_MS));
    expectOk(cfg, 'vagrant ssh-config');
    sshConfig = join(vmDir, 'ssh-config');
    await writeFile(sshConfig, String(cfg.stdout), { mode: 0o600 });
    const r = await h.timed('ssh -F true', () =>
      h.ns.exec(['ssh', '-F', sshConfig, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', 'default', 'true'], { timeout: SSH_TIMEOUT_MS, reject: false, all: true }),
    );
    expectOk(r, 'ssh -F <ssh-config> default true');
  });

  it('has the lab IP on the private network, routed to a local bridge, port 22 open', async () => {
    const bridge = await assertRoutedToLocalBridge(h.ns, LAB_IP);
    h.log(`${LAB_IP} is on ${bridge}`);
    expect(await tcpOpen(h.ns, LAB_IP, 22)).toBe(true);
    const addr = await h.ns.exec(['ssh', '-F', sshConfig, '-o', 'BatchMode=yes', 'default', 'ip', '-o', '-4', 'addr', 'show'], { timeout: SSH_TIMEOUT_MS });
    expect(String(addr.stdout)).toContain(`inet ${LAB_IP}/24`);
    // The management NIC's DHCP gave the guest a route and DNS through the namespace's uplink:
    // the guest's apt (its own sources, from debootstrap) reaches the Debian mirror, as provisioning needs.
    const apt = await h.timed('guest apt-get update', () =>
      h.ns.exec(['ssh', '-F', sshConfig, '-o', 'BatchMode=yes', 'default', 'sudo', 'apt-get', 'update', '-q'], { timeout: GUEST_APT_TIMEOUT_MS, reject: false, all: true }),
    );
    expectOk(apt, 'apt-get update in the guest');
  });

  it('halts, comes back up with the same address, and is destroyed without leftovers', async () => {
    expectOk(await h.timed('vagrant halt', () => vagrant(['halt'], VAGRANT_HALT_TIMEOUT_MS)), 'vagrant halt');
    expect(await h.libvirt.virsh(['list', '--name'])).not.toMatch(/labctl-boot-/);
    expectOk(await h.timed('vagrant up (existing VM)', () => vagrant(['up', '--provider', 'libvirt'], VAGRANT_UP_TIMEOUT_MS)), 'vagrant up (again)');
    expect(await tcpOpen(h.ns, LAB_IP, 22)).toBe(true);
    expectOk(await h.timed('vagrant destroy', () => vagrant(['destroy', '--force'], VAGRANT_DESTROY_TIMEOUT_MS)), 'vagrant destroy');
    expect(await h.libvirt.virsh(['list', '--all', '--name'])).not.toMatch(/labctl-boot-/);
  });
});

const DOMAIN = `${LOGIN}.42.fr`;

describe.runIf(PART2)('part 2: labctl create → https://<login>.42.fr', () => {
  const postTitle = `labctl-e2e-${Date.now()}`;
  let postId = '';
  let created = false;
  let destroyed = false;

  // After a failed create the later checks cannot say anything: they are skipped (reported as
  // such), not run against a half-made lab for another half hour. Destroy always runs.
  beforeEach((ctx) => {
    if (!created && !ctx.task.name.startsWith('labctl create') && !ctx.task.name.startsWith('labctl destroy')) ctx.skip();
  });

  afterAll(async () => {
    // A failing check must not leave the lab's VM to the namespace teardown alone.
    if (!destroyed) await labctl(h, ['destroy', '--yes']);
  });

  const createArgs = (bonus: boolean) => ['create', '--provider', 'libvirt', '--login', LOGIN, '--box', h.box.name, '--libvirt-driver', 'qemu', '--base-image', 'host', '--yes', ...(bonus ? ['--bonus'] : [])];
  const labLog = (): string => join(h.env.LABCTL_HOME ?? '', 'inception', 'labctl.log');
  const siteServesPost = async () => {
    const page = await httpsGet(h.ns, LAB_IP, `https://${DOMAIN}/?p=${postId}`);
    return page.status === 200 && page.body.includes(postTitle);
  };

  it(`labctl create --provider libvirt${BONUS ? ' --bonus' : ''} boots and provisions the lab`, async () => {
    // --base-image host: debian:bookworm is made with debootstrap on the host (minutes faster than
    // in the emulated guest) and imported; no registry this machine cannot (and must not) reach.
    // The in-guest build (local) is the stack test's (provision-fullstack).
    const r = await labctl(h, createArgs(BONUS), {
      timeout: LABCTL_CREATE_TIMEOUT_MS,
    });
    expect(r.exitCode, why(r, h)).toBe(0);
    expect(String(r.stdout)).toContain(`https://${DOMAIN}`);
    created = true;
    // The bonus services' addresses are told once they answer (on stderr, beside the other notes).
    for (const path of BONUS_PATHS) expect(String(r.stderr)).toContain(`https://${DOMAIN}${path}`);
    // Every vagrant call of create is in the lab's log, beside create's own steps.
    const log = await readFile(labLog(), 'utf8');
    expect(log).toMatch(/\bvagrant up\b/);
    expect(log).toMatch(/\bvagrant ssh-config\b/);
    expect(log).toMatch(/create inception: step "provisioning": ran/);
  });

  it('maps the domain in the (namespace) hosts file', async () => {
    expect(await readFile(h.ns.hostsFile, 'utf8')).toMatch(new RegExp(`^${LAB_IP.replaceAll('.', '\\.')}\\s+${DOMAIN.replaceAll('.', '\\.')}\\b`, 'm'));
  });

  it('serves TLS 1.2 and 1.3 on 443, refuses TLS 1.1, and has no plain HTTP (M05)', async () => {
    expect(await tlsHandshake(h.ns, LAB_IP, DOMAIN, '1.2')).toBe(true);
    expect(await tlsHandshake(h.ns, LAB_IP, DOMAIN, '1.3')).toBe(true);
    expect(await tlsHandshake(h.ns, LAB_IP, DOMAIN, '1.1')).toBe(false);
    expect(await plainHttpAnswers(h.ns, LAB_IP, DOMAIN)).toBe(false);
  });

  it('answers with the WordPress site at https://<login>.42.fr', async () => {
    const page = await httpsGet(h.ns, LAB_IP, `https://${DOMAIN}/`);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/wp-content|wp-includes/);
  });

  it(`labctl status and labctl ssh -- docker ps show the ${SERVICES.length} services`, async () => {
    const status = await labctl(h, ['status'], { timeout: LABCTL_QUICK_TIMEOUT_MS });
    expect(status.exitCode, why(status, h)).toBe(0);
    expect(String(status.all)).toMatch(/running/i);
    for (const path of BONUS_PATHS) expect(String(status.stdout)).toContain(`https://${DOMAIN}${path}`);
    const ps = await labctl(h, ['ssh', '--', 'docker', 'ps', '--format', '{{.Names}} {{.Status}}'], { timeout: LABCTL_QUICK_TIMEOUT_MS });
    expect(ps.exitCode, why(ps, h)).toBe(0);
    // create returns once every service is healthy; exactly the lab's services run, no leftovers.
    const running = String(ps.stdout).trim().split('\n').map((l) => l.split(' ')[0]).sort();
    expect(running).toEqual([...SERVICES].sort());
    for (const name of SERVICES) expect(String(ps.stdout)).toMatch(new RegExp(`^${name} .*\\(healthy\\)`, 'm'));
  });

  // Issue 19: the lesson read on the lab create made. One run (--json --measure --html) keeps the VM
  // time short; --measure restarts adminer (nginx without the bonus) and waits until it is healthy.
  it('labctl layers: two kernels (host, VM), the VM\'s in every container, own pid/net/mnt namespaces, PID 1 = the daemon; --measure and the --html page', async () => {
    const html = join(h.workDir, 'layers.html');
    const r = await labctl(h, ['layers', '--json', '--measure', '--html', html], { timeout: LABCTL_LAYERS_TIMEOUT_MS });
    expect(r.exitCode, why(r, h)).toBe(0);
    const report = JSON.parse(String(r.stdout)) as LayersReport;
    expect(report.host.kernel, why(r, h)).toMatch(/\S/);
    expect(report.vm.kernel, why(r, h)).toMatch(/\S/);
    expect(report.vm.kernel).not.toBe(report.host.kernel);
    expect(report.vm.pid1).toBe('systemd');
    expect(report.host.vmProcesses.map((p) => p.name)).toEqual([expect.stringMatching(/^qemu-system-/)]);
    expect(report.host.hypervisor.acceleration).toBe('tcg');
    expect(report.containers.map((c) => c.name).sort()).toEqual([...SERVICES].sort());
    for (const c of report.containers) {
      expect(c.kernel, c.name).toBe(report.vm.kernel);
      expect(c.pid1, `PID 1 of ${c.name}`).toMatch(DAEMONS[c.name] ?? /^$/);
      expect(c.nsPids, c.name).toEqual([c.vmPid, 1]);
      for (const t of ['pid', 'net', 'mnt'] as const) expect(c.namespaces[t]?.sharedWithVm, `${c.name} ${t}`).toBe(false);
    }
    for (const t of ['pid', 'net', 'mnt'] as const) {
      const ids = report.containers.map((c) => c.namespaces[t]?.id);
      expect(new Set(ids).size, `${t} namespaces: ${ids.join(' ')}`).toBe(SERVICES.length);
    }
    const m = report.measure;
    expect(m?.containerRestart, why(r, h)).toMatchObject({ container: BONUS ? 'adminer' : 'nginx', timedOut: false });
    expect(m?.containerRestart?.runningMs).toBeGreaterThan(0);
    expect(m?.vmBoot?.ms).toBeGreaterThan(m?.containerRestart?.healthyMs ?? Number.MAX_SAFE_INTEGER);
    // Under TCG QEMU's RSS holds its translation cache beside the guest's memory: no upper bound.
    expect(m?.memory.vmRssBytes).toBeGreaterThan(256 * 1024 * 1024);
    for (const c of m?.memory.containers ?? []) expect(c.bytes, c.name).toBeGreaterThan(0);
    expect(m?.disk.boxBytes).toBeGreaterThan(50 * 1024 * 1024);
    for (const i of m?.disk.images ?? []) expect(i.bytes, i.image).toBeGreaterThan(10 * 1024 * 1024);
    // systemd-analyze answers only once every unit has started; everything else must have been read.
    expect(report.problems.filter((p) => p.fact !== 'vm.boot'), why(r, h)).toEqual([]);
    // The page as a browser renders it: the nesting's labels are its text.
    const chromium = await findChromium();
    expect(chromium, 'chromium is not installed (apt-get install chromium; .ci/host-packages.sh has it)').toBeDefined();
    const page = await openInChromium(chromium ?? '', html, join(h.workDir, 'layers.png'));
    for (const label of ['bare-metal host', 'VM inception', `VM kernel ${report.vm.kernel ?? ''}`, ...SERVICES.map((s) => `container ${s}`)]) expect(page.text).toContain(label);
  });

  it('labctl deploy with nothing changed pushes nothing, skips make, and probes the site', async () => {
    const r = await labctl(h, ['deploy'], { timeout: LABCTL_QUICK_TIMEOUT_MS });
    expect(r.exitCode, why(r, h)).toBe(0);
    expect(String(r.stdout)).toMatch(/^Deployed compose\/ \(built in\) in [\d.]+ s: no file changed\./m);
    expect(String(r.stdout)).toMatch(/Build and start the stack \(make\) +skipped \(nothing changed/);
    expect(String(r.stdout)).toMatch(/Probe the site from the host +[\d.]+ s/);
  });

  // --destructive also kills each container's PID 1 and reboots the guest from inside (M09, M13):
  // the reboot resets check's SSH connection, which once crashed it (defect 16). This is the e2e's
  // reboot; `labctl reboot` (vagrant reload) goes through vagrant's halt + up, as halt/up below does.
  it(`labctl check --destructive grades the lab across kills and a reboot: every rule passes${BONUS ? ', B01–B05 included' : ''}`, async () => {
    const r = await labctl(h, ['check', '--destructive', '--json'], { timeout: LABCTL_CHECK_DESTRUCTIVE_TIMEOUT_MS });
    expect(String(r.stderr), why(r, h)).not.toMatch(/Unhandled/);
    let report: { summary: { passed: number; failed: number }; results: { id: string; verdict: string; reason: string }[] };
    try {
      report = JSON.parse(String(r.stdout)) as typeof report;
    } catch {
      throw new Error(`labctl check --destructive --json printed no JSON report; ${why(r, h)}`);
    }
    const verdict = (id: string) => report.results.find((x) => x.id === id);
    expect(verdict('M13.after-reboot'), why(r, h)).toMatchObject({ verdict: 'pass' });
    expect(verdict('M13.data-after-reboot'), why(r, h)).toMatchObject({ verdict: 'pass' });
    expect(report.results.filter((x) => x.verdict === 'fail'), why(r, h)).toEqual([]);
    expect(r.exitCode).toBe(0);
    const ids = report.results.filter((x) => x.verdict === 'pass').map((x) => x.id);
    for (const id of EXPECTED_PASSES) expect(ids).toContain(id);
  });

  it('labctl check sees a deliberately broken lab: a stopped service fails its rule', async () => {
    const stop = await labctl(h, ['ssh', '--', 'sudo', 'docker', 'stop', 'wordpress'], { timeout: LABCTL_QUICK_TIMEOUT_MS });
    expect(stop.exitCode, why(stop, h)).toBe(0);
    const r = await labctl(h, ['check', '--json'], { timeout: LABCTL_QUICK_TIMEOUT_MS * 3 });
    expect(r.exitCode).not.toBe(0);
    const failed = (JSON.parse(String(r.stdout)) as { results: { id: string; verdict: string }[] }).results.filter((x) => x.verdict === 'fail').map((x) => x.id);
    expect(failed).toContain('M02.running-wordpress');
    const start = await labctl(h, ['ssh', '--', 'sudo', 'docker', 'start', 'wordpress'], { timeout: LABCTL_QUICK_TIMEOUT_MS });
    expect(start.exitCode, why(start, h)).toBe(0);
    const again = await labctl(h, ['provision'], { timeout: LABCTL_CREATE_TIMEOUT_MS });
    expect(again.exitCode, why(again, h)).toBe(0);
  });

  it('keeps a post across labctl halt + labctl up', async () => {
    const r = await labctl(h, ['ssh', '--', 'docker', 'exec', '-i', 'wordpress', 'php'], { timeout: LABCTL_QUICK_TIMEOUT_MS, input: createPostPhp(postTitle) });
    postId = /POST_ID=(\d+)/.exec(String(r.stdout))?.[1] ?? '';
    expect(postId, why(r, h)).not.toBe('');
    expect(await siteServesPost()).toBe(true);
    const halt = await labctl(h, ['halt']);
    expect(halt.exitCode, why(halt, h)).toBe(0);
    // LabState: one word for every provider, libvirt's own beside it.
    const stopped = await labctl(h, ['status', '--json'], { timeout: LABCTL_QUICK_TIMEOUT_MS });
    expect(JSON.parse(String(stopped.stdout)), why(stopped, h)).toEqual([expect.objectContaining({ name: 'inception', state: 'stopped', vm: 'shutoff' })]);
    const up = await labctl(h, ['up']);
    expect(up.exitCode, why(up, h)).toBe(0);
    expect(await siteServesPost()).toBe(true);
    const running = await labctl(h, ['status', '--json'], { timeout: LABCTL_QUICK_TIMEOUT_MS });
    expect(JSON.parse(String(running.stdout)), why(running, h)).toEqual([expect.objectContaining({ state: 'running', vm: 'running' })]);
    const log = await readFile(labLog(), 'utf8');
    expect(log).toMatch(/\bvagrant halt\b/);
    expect(log.slice(log.search(/\bvagrant halt\b/))).toMatch(/\bvagrant up\b/);
  });

  // Issue 15: the lab made by create gets a student's own project (the test's second, independent
  // Inception project: services web/php/db, no container_name, its own env and secret names) and
  // grades it live. Last before destroy: it replaces the WordPress stack the checks above need.
  it("a student's own project replaces compose/ in the lab (create --project), is graded live, and a rule-breaking deploy fails its rule", async () => {
    const project = join(h.workDir, 'student-project');
    await cp(join(packageRoot(), 'test', 'fixtures', 'other-project'), project, { recursive: true });
    const create = await labctl(h, [...createArgs(false), '--project', project], { timeout: LABCTL_CREATE_TIMEOUT_MS });
    expect(create.exitCode, why(create, h)).toBe(0);
    expect(String(create.stderr)).toMatch(/changes the lab's settings: .*project/);
    const status = await labctl(h, ['status'], { timeout: LABCTL_QUICK_TIMEOUT_MS });
    expect(String(status.stdout), why(status, h)).toContain(`project\t${project}`);

    const grade = async () => {
      const r = await labctl(h, ['check', '--json'], { timeout: LABCTL_QUICK_TIMEOUT_MS * 3 });
      const results = (JSON.parse(String(r.stdout)) as { results: { id: string; verdict: string; reason: string }[] }).results;
      return { r, verdict: (id: string) => results.find((x) => x.id === id) };
    };
    const first = await grade();
    for (const id of ['M02.running-nginx', 'M02.running-wordpress', 'M02.running-mariadb', 'M05.tls13-accepted', 'M05.tls11-refused', 'M05.only-443-open', 'M05.live-published', 'M12.no-leak-docker-inspect']) {
      expect(first.verdict(id), `${id}; ${why(first.r, h)}`).toMatchObject({ verdict: 'pass' });
    }
    for (const service of ['web', 'php', 'db']) expect(first.verdict(`M10.live-pid1-${service}`), why(first.r, h)).toMatchObject({ verdict: 'pass' });
    expect(first.verdict('M02.running-mariadb')?.reason).toMatch(/service db/);
    // One PHP page, not WordPress: a failure, never a pass.
    expect(first.verdict('M11.db-not-empty')).toMatchObject({ verdict: 'fail' });
    // The static rules read the copy in the VM: no fallback to the host's.
    expect(first.verdict('M01.pushed-copy')).toBeUndefined();

    const composeFile = join(project, 'srcs', 'compose.yaml');
    const text = await readFile(composeFile, 'utf8');
    await writeFile(composeFile, text.replace('    networks:\n      - backend\n\n  php:', '    ports:\n      - "3306:3306"\n    networks:\n      - backend\n\n  php:'));
    const deploy = await labctl(h, ['deploy'], { timeout: LABCTL_CREATE_TIMEOUT_MS });
    expect(deploy.exitCode, why(deploy, h)).toBe(0);
    expect(String(deploy.stdout)).toMatch(/1 pushed \(srcs\/compose\.yaml\)/);
    const broken = await grade();
    expect(broken.r.exitCode).not.toBe(0);
    expect(broken.verdict('M05.live-published'), why(broken.r, h)).toMatchObject({ verdict: 'fail', reason: expect.stringContaining('db:3306') });
    expect(broken.verdict('M05.only-443-open')).toMatchObject({ verdict: 'fail' });
  });

  it('labctl destroy --yes leaves no domain, network, hosts line or lab dir', async () => {
    const r = await labctl(h, ['destroy', '--yes']);
    destroyed = true;
    expect(r.exitCode, why(r, h)).toBe(0);
    expect(await h.libvirt.virsh(['list', '--all', '--name'])).not.toMatch(/labctl-inception-/);
    expect(await h.libvirt.virsh(['net-list', '--all', '--name'])).not.toMatch(/labctl-192-168-56/);
    expect(await readFile(h.ns.hostsFile, 'utf8')).not.toContain(DOMAIN);
    expect(existsSync(join(h.env.LABCTL_HOME ?? '', 'inception'))).toBe(false);
    // The lab's log outlives it, destroy's own vagrant call included.
    const kept = await readFile(join(h.env.LABCTL_HOME ?? '', 'destroyed.log'), 'utf8');
    expect(kept).toMatch(/=== lab inception destroyed/);
    expect(kept).toMatch(/\bvagrant destroy\b/);
  });
});
