import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../core/config.js';
import { renderVagrantfile } from '../../core/vagrantfile.js';
import { setUpHarness, type Harness } from './harness.js';

// `labctl box build --bake`: the VM made from the baked box has Docker, Compose v2, make and the
// debian:bookworm base image (imported from the baked tarball on first boot) with no network
// install. Opt-in (LABCTL_E2E_BAKED=1): it builds a second, larger box.

const BAKED = process.env.LABCTL_E2E_BAKED === '1';
const VAGRANT_UP_TIMEOUT_MS = 20 * 60_000;
const SSH_TIMEOUT_MS = 60_000;
/** First boot imports the base image after dockerd starts; under TCG that takes a while. */
const BASE_IMAGE_IMPORT_TIMEOUT_MS = 5 * 60_000;
const POLL_MS = 5_000;

describe.runIf(BAKED)('baked box', () => {
  let h: Harness;
  let vmDir: string;
  const guest = (argv: string[]) =>
    h.ns.exec(['ssh', '-F', join(vmDir, 'ssh-config'), '-o', 'BatchMode=yes', 'default', ...argv], { timeout: SSH_TIMEOUT_MS, reject: false, all: true });

  beforeAll(async () => {
    h = await setUpHarness({ bake: true });
  });
  afterAll(async () => {
    if (vmDir !== undefined) await h?.ns.exec(['vagrant', 'destroy', '--force'], { cwd: vmDir, env: h.env, reject: false, timeout: 180_000 });
    await h?.teardown();
  });

  it('boots with Docker, Compose v2, make and debian:bookworm ready', async () => {
    const config = resolveConfig(
      { login: 'baked', name: 'baked', provider: 'libvirt', ip: '192.168.56.10', box: h.box.name, libvirt_driver: 'qemu' },
      { usableProvider: 'libvirt', hardwareVirtualization: false },
    );
    vmDir = join(h.workDir, 'vm-baked');
    await mkdir(vmDir, { recursive: true });
    await writeFile(join(vmDir, 'Vagrantfile'), renderVagrantfile(config));
    const up = await h.timed('vagrant up (baked box)', () =>
      h.ns.exec(['vagrant', 'up', '--provider', 'libvirt'], { cwd: vmDir, env: h.env, timeout: VAGRANT_UP_TIMEOUT_MS, reject: false, all: true }),
    );
    h.log(String(up.all));
    expect(up.exitCode, `vagrant up failed; see ${h.logFile}`).toBe(0);
    const cfg = await h.ns.exec(['vagrant', 'ssh-config'], { cwd: vmDir, env: h.env });
    await writeFile(join(vmDir, 'ssh-config'), String(cfg.stdout), { mode: 0o600 });

    expect((await guest(['sudo', 'docker', 'compose', 'version'])).exitCode).toBe(0);
    expect((await guest(['make', '--version'])).exitCode).toBe(0);
    const deadline = Date.now() + BASE_IMAGE_IMPORT_TIMEOUT_MS;
    // ssh hands its arguments to the guest's shell as one string: the format has no space in it.
    const inspectCmd = ['sudo', 'docker', 'image', 'inspect', '--format', '{{.Config.Cmd}}', 'debian:bookworm'];
    let inspect = await guest(inspectCmd);
    while (inspect.exitCode !== 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      inspect = await guest(inspectCmd);
    }
    expect(inspect.exitCode, String(inspect.all)).toBe(0);
    expect(String(inspect.stdout).trim()).toBe('[bash]');
    const run = await guest(['sudo', 'docker', 'run', '--rm', '--network', 'none', 'debian:bookworm', 'cat', '/etc/debian_version']);
    expect(String(run.stdout)).toMatch(/^12\./m);
    // The tarball is deleted once imported: it must not weigh on every VM's disk.
    expect((await guest(['test', '-e', '/var/lib/labctl/base-images/debian-bookworm.tar'])).exitCode).not.toBe(0);
  });
});

describe.skipIf(BAKED)('baked box (opt-in: LABCTL_E2E_BAKED=1)', () => {
  it.todo('boots with Docker, Compose v2, make and debian:bookworm ready');
});
