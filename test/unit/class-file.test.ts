import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadClass, MAX_CLASS_FILE_BYTES, parseClassText } from '../../core/class-file.js';
import { ConfigError, NotFoundError } from '../../core/errors.js';
import { expandAddresses, MAX_ADDRESSES_PER_HOST } from '../../core/ip-range.js';
import { tempDir } from '../helpers/temp.js';

const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'class');

/** The ConfigError fn throws: its field, its one-line message and its fix. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

const HOST = '  - name: a\n    uri: qemu:///system\n    addresses: 192.168.50.10-192.168.50.12\n';
const classText = (over: { top?: string; settings?: string; hosts?: string } = {}) =>
  `name: c1\nroster: roster.csv\n${over.top ?? ''}${over.settings === undefined ? '' : `settings:\n${over.settings}`}hosts:\n${over.hosts ?? HOST}`;

describe('loadClass', () => {
  it('reads the hosts, the settings and the roster, with absolute paths', async () => {
    const spec = await loadClass(join(FIXTURES, 'two-hosts.yaml'));
    expect(spec.file).toBe(join(FIXTURES, 'two-hosts.yaml'));
    expect(spec.name).toBe('inception-test');
    expect(spec.rosterFile).toBe(join(FIXTURES, 'roster.csv'));
    expect(spec.settings).toEqual({
      box: 'labctl/trixie-baked',
      project: resolve(FIXTURES, '..', 'tiny-other'),
      bonus: true,
      aptProxy: 'http://192.168.50.2:3142/',
      memoryMiB: 1024,
      cpus: 1,
      libvirtDriver: 'qemu',
    });
    expect(spec.hosts).toEqual([
      { name: 'near', uri: 'qemu:///system', capacity: 2, addresses: ['192.168.50.10', '192.168.50.11', '192.168.50.12'], bridge: undefined },
      // The /30's network and broadcast addresses are not hosts.
      { name: 'far', uri: 'qemu+ssh://teacher@192.168.50.3:2222/system', capacity: undefined, addresses: ['192.168.50.20', '192.168.51.2'], bridge: 'eno1' },
    ]);
    expect(spec.roster).toEqual([
      { login: 'adupont', name: 'Dupont, Alice', email: 'adupont@student.42.fr', line: 2 },
      { login: 'bmartin', name: 'Bruno Martin', line: 3 },
      { login: 'cnguyen', line: 4 },
    ]);
  });

  it('leaves out the settings a class file does not set (create\'s defaults apply)', async () => {
    const spec = await loadClass(join(FIXTURES, 'minimal.yaml'));
    expect(spec.settings).toEqual({ bonus: false });
    expect(spec.hosts[0]?.addresses).toEqual(['10.0.0.5']);
  });

  it('reads a roster a spreadsheet exported: BOM, CRLF, no header, blank and empty rows', async () => {
    const dir = await tempDir('labctl-class-');
    await writeFile(join(dir, 'class.yaml'), classText().replace('roster.csv', join(FIXTURES, 'roster-spreadsheet.csv')));
    const spec = await loadClass(join(dir, 'class.yaml'));
    expect(spec.roster).toEqual([
      { login: 'adupont', name: 'Dupont, Alice', email: 'adupont@student.42.fr', line: 1 },
      { login: 'bmartin', name: 'Bruno Martin', line: 4 },
    ]);
  });

  it('names a missing class file (exit 5), a missing roster and a folder given as the file (exit 3)', async () => {
    const dir = await tempDir('labctl-class-');
    await expect(loadClass(join(dir, 'nope.yaml'))).rejects.toBeInstanceOf(NotFoundError);
    await writeFile(join(dir, 'class.yaml'), classText());
    const roster = await configErrorOf(loadClass(join(dir, 'class.yaml')));
    expect(roster.message).toBe(`roster: ${join(dir, 'roster.csv')} does not exist`);
    expect((await configErrorOf(loadClass(dir))).message).toMatch(/is not a file$/);
  });

  it('refuses a class file bigger than a class file is', async () => {
    const dir = await tempDir('labctl-class-');
    await writeFile(join(dir, 'class.yaml'), `${classText()}#${'x'.repeat(MAX_CLASS_FILE_BYTES)}\n`);
    expect((await configErrorOf(loadClass(join(dir, 'class.yaml')))).message).toMatch(/more than a class file holds/);
  });

  it('checks the project as create does, resolved against the class file\'s folder', async () => {
    const dir = await tempDir('labctl-class-');
    await writeFile(join(dir, 'roster.csv'), 'jdoe\n');
    await mkdir(join(dir, 'proj'));
    await writeFile(join(dir, 'class.yaml'), classText({ settings: '  project: proj\n' }));
    const e = await configErrorOf(loadClass(join(dir, 'class.yaml')));
    expect(e.field).toBe('settings.project');
    expect(e.message).toBe(`settings.project: ${join(dir, 'proj')} has no Makefile at its root`);
  });

  it('gives the roster\'s errors with its file and line', async () => {
    const dir = await tempDir('labctl-class-');
    await writeFile(join(dir, 'roster.csv'), 'login\njdoe\n\nJohn\n');
    await writeFile(join(dir, 'class.yaml'), classText());
    const e = await configErrorOf(loadClass(join(dir, 'class.yaml')));
    expect(e.message).toBe(`${join(dir, 'roster.csv')}:4: login "John" is not valid`);
  });
});

describe('the class file\'s errors name the field, its line and the fix', () => {
  const parse = (text: string) => configError(() => parseClassText(text, '/x/class.yaml'));

  it.each([
    ['a YAML syntax error', 'name: c1\nhosts: [\n', 'class.yaml', /^class\.yaml: is not valid YAML at line \d/],
    ['an empty file', '', 'class.yaml', /^class\.yaml: is empty$/],
    ['a key written twice', 'name: a\nname: b\n', 'class.yaml', /^class\.yaml: is not valid YAML at line 2: Map keys must be unique/],
    ['a misspelt key', classText({ top: 'rooster: x\n' }), 'rooster', /^rooster: is not a key labctl knows \(class\.yaml:3\)$/],
    ['a misspelt host key', classText({ hosts: `${HOST}    adresses: x\n` }), 'hosts[0].adresses', /\(class\.yaml:7\)$/],
    ['no hosts', 'name: c1\nroster: r.csv\n', 'hosts', /^hosts: is missing \(class\.yaml:1\)$/],
    ['an empty host list', 'name: c1\nroster: r.csv\nhosts: []\n', 'hosts', /^hosts: has 0 entries \(class\.yaml:3\)$/],
    ['a class name with capitals', classText().replace('name: c1', 'name: Class1'), 'name', /^name: "Class1" is not a class name \(class\.yaml:1\)$/],
    ['a host name with a space', classText({ hosts: HOST.replace('name: a', 'name: lab a') }), 'hosts[0].name', /is not a host name \(class\.yaml:4\)$/],
    ['a URI of another driver', classText({ hosts: HOST.replace('qemu:///system', 'xen:///system') }), 'hosts[0].uri', /^hosts\[0\]\.uri: "xen:\/\/\/system" is not a qemu:\/\/ or qemu\+ssh:\/\/ URI \(class\.yaml:5\)$/],
    ['a URI of the session daemon', classText({ hosts: HOST.replace('qemu:///system', 'qemu+ssh://u@h/session') }), 'hosts[0].uri', /does not name the system daemon/],
    ['a capacity in words', classText({ hosts: `${HOST}    capacity: ten\n` }), 'hosts[0].capacity', /^hosts\[0\]\.capacity: is text \("ten"\), not a number \(class\.yaml:7\)$/],
    ['a negative capacity', classText({ hosts: `${HOST}    capacity: -1\n` }), 'hosts[0].capacity', /^hosts\[0\]\.capacity: -1 is too small/],
    ['a bridge that is no interface name', classText({ hosts: `${HOST}    bridge: "eno1; reboot"\n` }), 'hosts[0].bridge', /is not a network interface name/],
    ['a range that ends before it starts', classText({ hosts: HOST.replace('192.168.50.10-192.168.50.12', '192.168.50.12-192.168.50.10') }), 'hosts[0].addresses', /ends before it starts \(class\.yaml:6\)$/],
    ['a public address', classText({ hosts: HOST.replace('192.168.50.10-192.168.50.12', '8.8.8.8') }), 'hosts[0].addresses', /is not a private address/],
    ['a list with a bad entry', classText({ hosts: HOST.replace('192.168.50.10-192.168.50.12', '[192.168.50.10, 192.168.50.300]') }), 'hosts[0].addresses[1]', /"192\.168\.50\.300" is not an IPv4 address/],
    ['bonus as yes', classText({ settings: '  bonus: yes\n' }), 'settings.bonus', /^settings\.bonus: is text \("yes"\), not true or false \(class\.yaml:4\)$/],
    ['memory below create\'s minimum', classText({ settings: '  memory: 512\n' }), 'settings.memory', /^settings\.memory: 512 is too small/],
    ['an apt proxy with credentials', classText({ settings: '  apt_proxy: http://u:p@proxy:3142\n' }), 'settings.apt_proxy', /has credentials, a query or a fragment \(class\.yaml:4\)$/],
    ['an unknown libvirt driver', classText({ settings: '  libvirt_driver: xen\n' }), 'settings.libvirt_driver', /^settings\.libvirt_driver: "xen" is not one of auto, kvm, qemu/],
    ['a box name with a space', classText({ settings: '  box: "my box"\n' }), 'settings.box', /is not a Vagrant box name/],
    ['settings as a list', classText({ settings: '  - box\n' }), 'settings', /^settings: is a list, not a mapping/],
  ])('%s', (_label, text, field, message) => {
    const e = parse(text);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('\n');
    expect(e.hint).toBeTruthy();
  });

  it('reports the first problem in the file\'s order', () => {
    const e = parse('name: c1\nroster: 5\nhosts:\n  - name: a\n    uri: 7\n    addresses: x\n');
    expect(e.field).toBe('roster');
  });

  it('refuses two hosts of one name, one URI or one address', () => {
    const second = (name: string, uri: string, addresses: string) => `  - name: ${name}\n    uri: ${uri}\n    addresses: ${addresses}\n`;
    expect(parse(classText({ hosts: HOST + second('a', 'qemu+ssh://u@h/system', '10.0.0.2') })).message).toMatch(/^hosts\[1\]\.name: "a" is also the name of hosts\[0\]/);
    expect(parse(classText({ hosts: HOST + second('b', 'qemu:///system', '10.0.0.2') })).message).toMatch(/^hosts\[1\]\.uri: qemu:\/\/\/system is also the URI of hosts\[0\]/);
    expect(parse(classText({ hosts: HOST + second('b', 'qemu+ssh://u@h/system', '192.168.50.12') })).message).toMatch(/^hosts\[1\]\.addresses: 192\.168\.50\.12 is also an address of hosts\[0\] \(a\)/);
  });
});

describe('expandAddresses', () => {
  it('expands ranges, blocks and lists in the order written, leaving out .0, .1 and .255', () => {
    expect(expandAddresses('192.168.50.253-192.168.51.3', 'f')).toEqual(['192.168.50.253', '192.168.50.254', '192.168.51.2', '192.168.51.3']);
    expect(expandAddresses(['10.0.0.9', '10.0.0.0/29'], 'f')).toEqual(['10.0.0.9', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  });

  it('bounds what one host gets, and refuses an address twice', () => {
    expect(expandAddresses('10.0.0.0/20', 'f').length).toBeLessThanOrEqual(MAX_ADDRESSES_PER_HOST);
    expect(configError(() => expandAddresses('10.0.0.0/8', 'f')).message).toMatch(/more than 4096 addresses/);
    expect(configError(() => expandAddresses(['10.0.0.0/29', '10.0.0.4'], 'f')).message).toMatch(/^f\[1\]: 10\.0\.0\.4 is listed twice$/);
  });

  it('refuses a block written from its middle, a range from a reserved address, an empty list', () => {
    expect(configError(() => expandAddresses('10.0.0.7/29', 'f')).hint).toMatch(/10\.0\.0\.0\/29/);
    expect(configError(() => expandAddresses('10.0.0.255-10.0.1.9', 'f')).message).toMatch(/^f: range start 10\.0\.0\.255 is reserved/);
    expect(configError(() => expandAddresses([], 'f')).message).toBe('f: is empty');
  });
});
