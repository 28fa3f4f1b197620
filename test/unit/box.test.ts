import { describe, expect, it } from 'vitest';
import { cachedBoxPaths } from '../../box/build.js';
import { boxMetadata, boxName, fstab, sudoersFile } from '../../box/guest-files.js';
import { parseBoxList } from '../../adapters/vagrant.js';

describe('local box recipe (pure parts)', () => {
  it('names boxes after suite and bake', () => {
    expect(boxName('trixie', false)).toBe('labctl/trixie');
    expect(boxName('trixie', true)).toBe('labctl/trixie-baked');
  });

  it('caches per suite, bake and provider', () => {
    expect(cachedBoxPaths('/c', 'trixie', true)).toEqual({ key: 'trixie-baked-libvirt', boxFile: '/c/trixie-baked-libvirt.box', recordFile: '/c/trixie-baked-libvirt.box.json' });
  });

  it('writes vagrant-libvirt metadata for a qcow2 disk', () => {
    expect(JSON.parse(boxMetadata('id-1', 20))).toMatchObject({ provider: 'libvirt', format: 'qcow2', virtual_size: 20 });
  });

  it('gives the vagrant user password-less sudo and mounts root by UUID', () => {
    expect(sudoersFile()).toMatch(/^vagrant ALL=\(ALL(:ALL)?\) NOPASSWD: ?ALL$/m);
    expect(fstab('1234-abcd')).toMatch(/^UUID=1234-abcd\s+\/\s+ext4/m);
  });

  it('parses `vagrant box list --machine-readable`', () => {
    const out = [
      '1700000000,,ui,info,labctl/trixie (libvirt%!(VAGRANT_COMMA) 0)',
      '1700000000,,box-name,labctl/trixie',
      '1700000000,,box-provider,libvirt',
      '1700000000,,box-version,0',
      '1700000000,,box-name,debian/trixie64',
      '1700000000,,box-provider,virtualbox',
      '1700000000,,box-version,13.20251001.1',
    ].join('\n');
    expect(parseBoxList(out)).toEqual([
      { name: 'labctl/trixie', provider: 'libvirt', version: '0' },
      { name: 'debian/trixie64', provider: 'virtualbox', version: '13.20251001.1' },
    ]);
  });
});
