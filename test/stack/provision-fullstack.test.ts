import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabConfig } from '../../core/config.js';
import { labPaths, packageRoot, type LabPaths } from '../../core/paths.js';
import { SECRET_FILES } from '../../core/secrets.js';
import { composePs } from '../../adapters/compose.js';
import { connect } from '../../adapters/guest.js';
import { runProvisioning } from '../../provision/index.js';
import { probeSite } from '../../provision/probe.js';
import { ensureDockerd, type DockerdHandle } from '../helpers/dockerd.js';
import { ensureTargetImage, startSshTarget, type SshTargetHandle } from '../helpers/ssh-target.js';
import { ensureSecrets } from '../../core/secrets.js';

// HEAVY (2–3 min with the target image cached, ~10 min cold; in the stack project): the real compose/ project,
// provisioned into a fresh Debian 13 sshd + Docker-in-Docker target. Nothing is preloaded: the
// base-image step builds debian:bookworm inside the guest with debootstrap (base_image local —
// `auto` would first try a registry pull, which this machine must not attempt), then make builds
// and starts NGINX, WordPress and MariaDB. The site is probed from the host through a loopback
// port published by the target container, standing in for the VM's host-only IP.

const LOGIN = 'fstest';

function labConfig(): LabConfig {
  return {
    name: 'fullstack', login: LOGIN, domain: `${LOGIN}.42.fr`, provider: 'libvirt', ip: '192.168.56.10', memory: 2048, cpus: 2,
    box: 'debian/trixie64', box_version: undefined, apt_mirror: undefined, apt_proxy: undefined, libvirt_driver: 'qemu',
    bonus: false, base_image: 'local', docker_source: 'debian',
  };
}

describe('full stack: compose/ provisioned into a Debian 13 guest over SSH', () => {
  let dockerd: DockerdHandle;
  let target: SshTargetHandle;
  let home: string;
  let paths: LabPaths;
  let composeDir: string;
  const captured: string[] = [];

  beforeAll(async () => {
    dockerd = await ensureDockerd();
    await ensureTargetImage();
    target = await startSshTarget('fullstack', { extraPorts: [443] });
    home = await mkdtemp(join(tmpdir(), 'labctl-fullstack-'));
    paths = labPaths('fullstack', { LABCTL_HOME: home });
    // create makes a lab's secrets before provisioning reads them; these tests skip create.
    await ensureSecrets(paths.secrets);
    // A snapshot: compose/ may be edited while this long test runs, and an edit would rightly
    // make the second run push and rebuild.
    composeDir = join(home, 'compose');
    await cp(join(packageRoot(), 'compose'), composeDir, { recursive: true });
  }, 1_800_000);

  afterAll(async () => {
    await target?.stop();
    if (home) await rm(home, { recursive: true, force: true });
    await dockerd?.stop();
  });

  it('first run builds the base image in the guest and brings every service up healthy', async () => {
    const output = new PassThrough();
    output.on('data', (c: Buffer) => captured.push(c.toString()));
    const started = Date.now();
    const report = await runProvisioning({ config: labConfig(), paths, ssh: target.target, renderer: 'simple', composeDir, output });
    console.log(`full-stack first run: ${Math.round((Date.now() - started) / 1000)} s`, report.steps.map((s) => `${s.title}: ${s.status} ${s.ms} ms`));
    expect(report.steps.find((s) => s.title === 'Ensure the debian:bookworm base image')?.status).toBe('ran');
    expect(report.steps.find((s) => s.title === 'Build and start the stack (make)')?.status).toBe('ran');

    const conn = await connect(target.target);
    try {
      const services = await composePs(conn, labConfig());
      expect(services.map((s) => s.name).sort()).toEqual(['mariadb', 'nginx', 'wordpress']);
      for (const s of services) expect(s).toMatchObject({ state: 'running', health: 'healthy' });
    } finally {
      conn.dispose();
    }
    const readme = (await target.exec(['head', '-n', '1', `/home/${LOGIN}/inception/README.md`])).stdout;
    expect(readme).toBe(`*This project has been created as part of the 42 curriculum by ${LOGIN}.*`);

    const probe = await probeSite({ domain: `${LOGIN}.42.fr`, address: '127.0.0.1', port: target.ports.get(443)!, timeoutMs: 60_000 });
    expect(probe.status).toBeLessThan(500);
    expect(['TLSv1.2', 'TLSv1.3']).toContain(probe.tlsProtocol);

    const secrets = await Promise.all(SECRET_FILES.map(async (n) => (await readFile(join(paths.secrets, n), 'utf8')).trim()));
    const logText = captured.join('') + (await readFile(paths.log, 'utf8'));
    for (const secret of secrets) expect(logText).not.toContain(secret);
  }, 3_000_000);

  it('second run skips every step but the SSH wait', async () => {
    const report = await runProvisioning({ config: labConfig(), paths, ssh: target.target, renderer: 'silent', composeDir });
    expect(report.steps.filter((s) => s.status === 'ran').map((s) => s.title)).toEqual(['Wait for SSH']);
  }, 300_000);
});
