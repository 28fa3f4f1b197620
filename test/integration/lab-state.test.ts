import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../core/config.js';
import { ExitCode } from '../../core/errors.js';
import { addBlock } from '../../core/hosts-file.js';
import { renderVagrantfile } from '../../core/vagrantfile.js';
import { writeLab } from '../../core/state.js';
import { labctl } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

// Commands that work on lab state without a VM, through the built binary and the real vagrant
// (a lab whose VM was never created: `vagrant status` says not_created).

async function fixture(extra: Record<string, string> = {}) {
  const root = await tempDir('labctl-labs-');
  const env = { LABCTL_HOME: join(root, 'home'), LABCTL_HOSTS_FILE: join(root, 'hosts') };
  const config = resolveConfig({ login: 'jdoe', provider: 'libvirt', libvirt_driver: 'qemu', ...extra }, { usableProvider: 'libvirt', hardwareVirtualization: false });
  const lab = await writeLab(config, renderVagrantfile(config), env);
  const originalHosts = '127.0.0.1 localhost\n';
  await writeFile(env.LABCTL_HOSTS_FILE, addBlock(originalHosts, { name: 'inception', ip: config.ip, domain: config.domain }));
  return { env, lab, originalHosts, root };
}

describe('lab state commands', () => {
  it('status --json reports a lab whose VM does not exist yet', async () => {
    const { env } = await fixture();
    const r = await labctl(['status', '--json'], { env });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      expect.objectContaining({ name: 'inception', login: 'jdoe', provider: 'libvirt', ip: '192.168.56.10', url: 'https://jdoe.42.fr', state: 'absent', vm: 'not_created', bonusEndpoints: [] }),
    ]);
  });

  it('status of a bonus lab lists where each bonus service is reached', async () => {
    const { env } = await fixture({ bonus: 'true' });
    const r = await labctl(['status'], { env });
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('inception\tabsent\tlibvirt\t192.168.56.10\thttps://jdoe.42.fr');
    expect(lines.slice(1).filter(Boolean).map((l) => l.split('\t')[0]!.trim())).toEqual([
      'https://jdoe.42.fr/site/',
      'https://jdoe.42.fr/adminer/',
      'https://jdoe.42.fr/status/',
      'ftp://jdoe.42.fr:21/',
    ]);
  });

  it('create refuses an IP another lab holds, before touching anything', async () => {
    const { env } = await fixture();
    const hostsBefore = await readFile(env.LABCTL_HOSTS_FILE, 'utf8');
    const r = await labctl(['create', '--login', 'other', '--name', 'second', '--provider', 'libvirt'], { env });
    expect(r.exitCode).toBe(ExitCode.conflict);
    expect(r.stderr).toMatch(/^labctl: ip 192\.168\.56\.10 is already used by lab "inception"/);
    expect(existsSync(join(env.LABCTL_HOME, 'second'))).toBe(false);
    expect(await readFile(env.LABCTL_HOSTS_FILE, 'utf8')).toBe(hostsBefore);
  });

  it('destroy without --yes and without a terminal refuses and changes nothing', async () => {
    const { env, lab } = await fixture();
    const r = await labctl(['destroy'], { env });
    expect(r.exitCode).toBe(ExitCode.usage);
    expect(r.stderr).toMatch(/--yes/);
    expect(existsSync(lab.paths.config)).toBe(true);
  });

  it('destroy --yes removes the hosts block byte-exactly and the lab directory', async () => {
    const { env, lab, originalHosts } = await fixture();
    const r = await labctl(['destroy', '--yes'], { env });
    expect(r.stderr).toContain('destroyed');
    expect(r.exitCode).toBe(0);
    expect(await readFile(env.LABCTL_HOSTS_FILE, 'utf8')).toBe(originalHosts);
    expect(existsSync(lab.paths.dir)).toBe(false);
  });

  it('commands on a missing lab say how to find one', async () => {
    const { env } = await fixture();
    const r = await labctl(['halt', 'nosuchlab'], { env });
    expect(r.exitCode).toBe(ExitCode.notFound);
    expect(r.stderr).toMatch(/no lab named "nosuchlab"[\s\S]*labctl list/);
  });
});
