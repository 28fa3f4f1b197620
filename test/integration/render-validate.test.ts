import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExternalCommandError } from '../../core/errors.js';
import { validate } from '../../adapters/vagrant.js';
import { labctl } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

// Every rendered Vagrantfile goes through the real `vagrant validate`. VirtualBox is not packaged
// for Debian, so its file is validated with --ignore-provider, the strongest check possible here.

const variants: { label: string; args: string[]; provider: 'libvirt' | 'virtualbox' }[] = [
  { label: 'libvirt, qemu driver', args: ['--provider', 'libvirt', '--libvirt-driver', 'qemu'], provider: 'libvirt' },
  { label: 'libvirt, kvm driver', args: ['--provider', 'libvirt', '--libvirt-driver', 'kvm'], provider: 'libvirt' },
  { label: 'virtualbox', args: ['--provider', 'virtualbox'], provider: 'virtualbox' },
  { label: 'virtualbox with box version', args: ['--provider', 'virtualbox', '--box-version', '>= 13.0', '--memory', '4096', '--cpus', '3'], provider: 'virtualbox' },
];

async function renderTo(dir: string, args: string[]): Promise<string> {
  const r = await labctl(['render', '--login', 'jdoe', '--ip', '192.168.56.42', ...args], { env: { LABCTL_HOME: join(dir, 'home') } });
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  await mkdir(join(dir, 'vf'), { recursive: true });
  await writeFile(join(dir, 'vf', 'Vagrantfile'), r.stdout);
  return r.stdout;
}

describe('labctl render → vagrant validate', () => {
  it.each(variants)('$label', async ({ args, provider }) => {
    const dir = await tempDir('labctl-render-');
    const text = await renderTo(dir, args);
    expect(text).toContain('config.vm.network "private_network", ip: "192.168.56.42"');
    expect(text).toContain('config.vm.synced_folder ".", "/vagrant", disabled: true');
    expect(text).not.toContain('vm.provision');
    await validate(join(dir, 'vf'), provider, provider === 'virtualbox');
  });

  it('the libvirt qemu variant emulates a plain CPU', async () => {
    const text = await renderTo(await tempDir('labctl-render-'), variants[0]?.args ?? []);
    expect(text).toMatch(/lv\.driver = "qemu"\n[\s\S]*lv\.cpu_mode = "custom"\n\s+lv\.cpu_model = "qemu64"/);
  });

  // vagrant-libvirt checks a public_network's `dev` against the libvirt host's interfaces, through
  // libvirtd and (for a remote host) over SSH: no host may be contacted here, so the provider part
  // is left to the class e2e, which has real hosts.
  it('a lab on another machine\'s libvirt (class mode) renders lv.uri and validates', async () => {
    const dir = await tempDir('labctl-render-');
    const uri = 'qemu+ssh://root@host1.invalid/system?keyfile=/tmp/k&no_verify=1';
    const text = await renderTo(dir, ['--provider', 'libvirt', '--libvirt-driver', 'qemu', '--libvirt-uri', uri, '--bridge', 'eno1']);
    expect(text).toContain(`lv.uri = "${uri}"`);
    expect(text).toContain('config.vm.network "public_network", ip: "192.168.56.42", netmask: "255.255.255.0", dev: "eno1", mode: "bridge", type: "direct"');
    expect(text).not.toContain('private_network');
    await validate(join(dir, 'vf'), 'libvirt', true);
  });

  it.each([
    [['--libvirt-uri', 'http://host/system'], /libvirt_uri: .*not a qemu:\/\/ or qemu\+ssh:\/\/ URI/],
    [['--libvirt-uri', 'qemu+ssh://root@host/session'], /libvirt_uri: .*\/system/],
    [['--libvirt-uri', 'qemu+ssh:///system'], /libvirt_uri: .*names no host/],
    [['--bridge', 'eth 0'], /bridge: .*not a network interface name/],
  ])('refuses %j with a one-line error naming the field', async (args, message) => {
    const dir = await tempDir('labctl-render-');
    const r = await labctl(['render', '--login', 'jdoe', '--provider', 'libvirt', ...args], { env: { LABCTL_HOME: join(dir, 'home') } });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
  });

  it('refuses libvirt settings for a VirtualBox lab', async () => {
    const dir = await tempDir('labctl-render-');
    const r = await labctl(['render', '--login', 'jdoe', '--provider', 'virtualbox', '--bridge', 'eth0'], { env: { LABCTL_HOME: join(dir, 'home') } });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/bridge: is a libvirt setting/);
  });

  it('render has no side effect: no lab state is written', async () => {
    const dir = await tempDir('labctl-render-');
    await renderTo(dir, variants[0]?.args ?? []);
    const list = await labctl(['list', '--json'], { env: { LABCTL_HOME: join(dir, 'home') } });
    expect(JSON.parse(list.stdout)).toEqual([]);
  });

  it('vagrant validate really rejects a broken provider block (the check is not a no-op)', async () => {
    const dir = await tempDir('labctl-render-');
    const text = await renderTo(dir, variants[0]?.args ?? []);
    await writeFile(join(dir, 'vf', 'Vagrantfile'), text.replace('lv.memory = 2048', 'lv.memory = 2048\n    lv.no_such_option = 1'));
    await expect(validate(join(dir, 'vf'), 'libvirt', false)).rejects.toBeInstanceOf(ExternalCommandError);
  });
});
