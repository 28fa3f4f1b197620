import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { boxName } from '../../box/guest-files.js';
import { BAKED_BOX, DEFAULTS, mergeSources, resolveConfig, validateIp, type HostFacts, type RawConfig } from '../../core/config.js';

const host: HostFacts = { usableProvider: 'virtualbox', hardwareVirtualization: true };
const noVirt: HostFacts = { usableProvider: 'libvirt', hardwareVirtualization: false };

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).field;
  }
  throw new Error('expected a ConfigError');
}

describe('precedence: flags > LABCTL_* env > .env > defaults', () => {
  it('takes each field from the first source that sets it', () => {
    const raw = mergeSources({
      flags: { login: 'flaglogin' },
      env: { LABCTL_LOGIN: 'envlogin', LABCTL_MEMORY: '3072' },
      dotenv: { LABCTL_LOGIN: 'dotlogin', LABCTL_MEMORY: '1024', LABCTL_CPUS: '3' },
    });
    expect(raw).toEqual({ login: 'flaglogin', memory: '3072', cpus: '3' });
  });

  it('ignores empty values so that an empty variable does not hide a lower source', () => {
    const raw = mergeSources({ flags: { login: undefined }, env: { LABCTL_LOGIN: '' }, dotenv: { LABCTL_LOGIN: 'dot' } });
    expect(raw.login).toBe('dot');
  });

  it('fills defaults and derives the domain', () => {
    const c = resolveConfig({ login: 'jdoe' }, host);
    expect(c).toMatchObject({ name: 'inception', domain: 'jdoe.42.fr', provider: 'virtualbox', ip: '192.168.56.10', memory: 2048, cpus: 2, libvirt_driver: 'kvm', bonus: false });
  });

  it('picks the qemu driver when the CPU has no hardware virtualization', () => {
    expect(resolveConfig({ login: 'jdoe' }, noVirt)).toMatchObject({ provider: 'libvirt', libvirt_driver: 'qemu' });
    expect(resolveConfig({ login: 'jdoe', libvirt_driver: 'kvm' }, noVirt).libvirt_driver).toBe('kvm');
  });

  it('takes the baked box by default where `box build --bake` added it for the provider, and a --box given over it', () => {
    const baked: HostFacts = { ...noVirt, bakedBoxProviders: ['libvirt'] };
    expect(BAKED_BOX).toBe(boxName('trixie', true));
    expect(resolveConfig({ login: 'jdoe' }, baked).box).toBe(BAKED_BOX);
    expect(resolveConfig({ login: 'jdoe', box: 'debian/trixie64' }, baked).box).toBe('debian/trixie64');
    expect(resolveConfig({ login: 'jdoe', provider: 'virtualbox' }, baked).box).toBe(DEFAULTS.box);
    expect(resolveConfig({ login: 'jdoe' }, noVirt).box).toBe(DEFAULTS.box);
  });

  it('parses booleans from env-style strings', () => {
    expect(resolveConfig({ login: 'a', bonus: 'yes' }, host).bonus).toBe(true);
    expect(resolveConfig({ login: 'a', bonus: 'false' }, host).bonus).toBe(false);
  });
});

describe('validation names the field', () => {
  const cases: [string, RawConfig, string][] = [
    ['missing login', {}, 'login'],
    ['uppercase login', { login: 'JDoe' }, 'login'],
    ['login starting with a digit', { login: '1abc' }, 'login'],
    ['login too long', { login: `a${'b'.repeat(32)}` }, 'login'],
    ['login with underscore', { login: 'j_doe' }, 'login'],
    ['bad name', { login: 'a', name: 'My Lab' }, 'name'],
    ['unknown provider', { login: 'a', provider: 'vmware' }, 'provider'],
    ['not an ip', { login: 'a', ip: '192.168.56' }, 'ip'],
    ['octet out of range', { login: 'a', ip: '192.168.56.300' }, 'ip'],
    ['leading zero', { login: 'a', ip: '192.168.056.10' }, 'ip'],
    ['public ip', { login: 'a', ip: '8.8.8.8' }, 'ip'],
    ['host address .1', { login: 'a', ip: '192.168.56.1' }, 'ip'],
    ['broadcast', { login: 'a', ip: '192.168.56.255' }, 'ip'],
    ['virtualbox outside /21', { login: 'a', provider: 'virtualbox', ip: '10.0.0.5' }, 'ip'],
    ['memory not a number', { login: 'a', memory: '2G' }, 'memory'],
    ['memory too small', { login: 'a', memory: '512' }, 'memory'],
    ['cpus zero', { login: 'a', cpus: '0' }, 'cpus'],
    ['cpus fractional', { login: 'a', cpus: '1.5' }, 'cpus'],
    ['box with spaces', { login: 'a', box: 'debian trixie' }, 'box'],
    ['box_version garbage', { login: 'a', box_version: '1.0;rm' }, 'box_version'],
    ['apt_mirror not a url', { login: 'a', apt_mirror: 'mirror' }, 'apt_mirror'],
    ['apt_mirror ftp', { login: 'a', apt_mirror: 'ftp://x.invalid/debian' }, 'apt_mirror'],
    ['apt_proxy not a url', { login: 'a', apt_proxy: 'proxy:3128' }, 'apt_proxy'],
    ['libvirt_driver unknown', { login: 'a', libvirt_driver: 'xen' }, 'libvirt_driver'],
    ['bonus not boolean', { login: 'a', bonus: 'maybe' }, 'bonus'],
    ['base_image unknown', { login: 'a', base_image: 'hub' }, 'base_image'],
    ['docker_source unknown', { login: 'a', docker_source: 'snap' }, 'docker_source'],
  ];
  it.each(cases)('%s', (_label, raw, field) => {
    expect(fieldOf(() => resolveConfig(raw, host))).toBe(field);
  });

  it('errors when no provider was given and none is usable', () => {
    expect(fieldOf(() => resolveConfig({ login: 'a' }, { usableProvider: undefined, hardwareVirtualization: false }))).toBe('provider');
  });

  it('gives the VirtualBox fix for addresses outside 192.168.56.0/21', () => {
    expect(() => validateIp('192.168.64.10', 'virtualbox')).toThrow(/outside 192\.168\.56\.0\/21/);
    try {
      validateIp('192.168.64.10', 'virtualbox');
    } catch (error) {
      expect((error as ConfigError).hint).toMatch(/networks\.conf/);
    }
    expect(validateIp('192.168.63.254', 'virtualbox')).toBe('192.168.63.254');
    expect(validateIp('10.20.30.40', 'libvirt')).toBe('10.20.30.40');
  });

  it('messages start with the field name and carry a fix', () => {
    const error = (() => {
      try {
        resolveConfig({ login: 'Bad' }, host);
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error.message).toMatch(/^login: /);
    expect(error.hint).toMatch(/lowercase/);
  });
});
