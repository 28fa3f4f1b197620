import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig, type LabConfig } from '../../core/config.js';
import { ConflictError } from '../../core/errors.js';
import { SECRET_FILES } from '../../core/secrets.js';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { changedSettings, checkConflicts, listLabs, parseLabJson, resolveLabName, scanLabs, writeLab, type Lab } from '../../core/state.js';
import { tempDir } from '../helpers/temp.js';

const host = { usableProvider: 'libvirt' as const, hardwareVirtualization: false };
const cfg = (over: Record<string, string>): LabConfig => resolveConfig({ login: 'jdoe', ...over }, host);
const lab = (config: LabConfig): Lab => ({ config, paths: { name: '', dir: '', config: '', vagrantfile: '', secrets: '', sshConfig: '', log: '', sshControl: undefined } });

describe('conflicts between labs', () => {
  it('refuses an IP another lab uses, and suggests a free one', () => {
    const error = (() => {
      try {
        checkConflicts(cfg({ name: 'two', login: 'jdoe2' }), [lab(cfg({ name: 'one' }))]);
      } catch (e) {
        return e as ConflictError;
      }
      throw new Error('expected a conflict');
    })();
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toBe('ip 192.168.56.10 is already used by lab "one"');
    expect(error.hint).toContain('192.168.56.11');
  });

  it('refuses a second lab for the same login (one domain), with or without the hosts file', () => {
    expect(() => checkConflicts(cfg({ name: 'two', ip: '192.168.56.11' }), [lab(cfg({ name: 'one' }))])).toThrow(/login jdoe already has lab "one"/);
  });

  it('refuses re-creating a lab with another identity', () => {
    expect(() => checkConflicts(cfg({ name: 'one', login: 'other' }), [lab(cfg({ name: 'one' }))])).toThrow(/already exists with other settings \(login jdoe → other\)/);
  });

  it('allows re-creating the same lab (create is resumable), even with other memory', () => {
    expect(() => checkConflicts(cfg({ name: 'one', memory: '4096' }), [lab(cfg({ name: 'one' }))])).not.toThrow();
  });

  it('names the settings a re-run of create changes, such as a --bonus left out', () => {
    const before = cfg({ bonus: 'true', memory: '4096' });
    expect(changedSettings(before, cfg({ bonus: 'true', memory: '4096' }))).toEqual([]);
    expect(changedSettings(before, cfg({}))).toEqual(['memory 4096 → 2048', 'bonus true → false']);
    // Identity fields are checkConflicts' business, not listed here.
    expect(changedSettings(before, cfg({ bonus: 'true', memory: '4096', login: 'other' }))).toEqual([]);
  });
});

describe('lab state on disk', () => {
  it('writes lab.json, the Vagrantfile and 0600 secrets in a 0700 directory, keeping secrets on re-write', async () => {
    const env = { LABCTL_HOME: await tempDir('labctl-state-') };
    const written = await writeLab(cfg({}), 'Vagrantfile text', env);
    expect(JSON.parse(await readFile(written.paths.config, 'utf8'))).toMatchObject({ login: 'jdoe', domain: 'jdoe.42.fr' });
    expect((await stat(written.paths.dir)).mode & 0o777).toBe(0o700);
    expect((await stat(written.paths.secrets)).mode & 0o777).toBe(0o700);
    const before = new Map<string, string>();
    for (const f of SECRET_FILES) {
      const p = join(written.paths.secrets, f);
      expect((await stat(p)).mode & 0o777).toBe(0o600);
      const value = (await readFile(p, 'utf8')).trim();
      expect(value).toMatch(/^[A-Za-z0-9_-]{32}$/);
      before.set(f, value);
    }
    await writeLab(cfg({ memory: '4096' }), 'Vagrantfile text', env);
    for (const f of SECRET_FILES) expect((await readFile(join(written.paths.secrets, f), 'utf8')).trim()).toBe(before.get(f));
    expect(new Set(before.values()).size).toBe(SECRET_FILES.length);
  });

  it('names the default lab: the only one, else inception', async () => {
    const env = { LABCTL_HOME: await tempDir('labctl-state-') };
    expect(await resolveLabName(undefined, env)).toBe('inception');
    await writeLab(cfg({ name: 'solo' }), '', env);
    expect(await resolveLabName(undefined, env)).toBe('solo');
    await writeLab(cfg({ name: 'second', ip: '192.168.56.11' }), '', env);
    expect(await resolveLabName(undefined, env)).toBe('inception');
    expect((await listLabs(env)).map((l) => l.config.name)).toEqual(['second', 'solo']);
    expect(await resolveLabName('given', env)).toBe('given');
  });

  it('tightens an existing secret with loose mode to 0600 and says so', async () => {
    const env = { LABCTL_HOME: await tempDir('labctl-state-') };
    const first = await writeLab(cfg({}), '', env);
    const loose = join(first.paths.secrets, 'db_password.txt');
    await chmod(loose, 0o644);
    const again = await writeLab(cfg({}), '', env);
    expect(again.secrets.tightened).toEqual(['db_password.txt']);
    expect((await stat(loose)).mode & 0o777).toBe(0o600);
  });
});

describe('lab.json is untrusted input', () => {
  const good = JSON.stringify(cfg({ name: 'one' }));
  it.each([
    ['null', 'null', /expected object/],
    ['not JSON', '{', /not valid JSON/],
    ['a name that is a path', good.replace('"name": "one"', '"name": "../x"').replace('"name":"one"', '"name":"../x"'), /name/],
    ['a copied lab (another name)', good, /names lab "one", but it is in the directory of lab "two"/],
    ['a bad provider', good.replace('"libvirt"', '"hyperv"'), /provider/],
    ['memory as text', good.replace('"memory":2048', '"memory":"lots"'), /memory/],
  ])('%s is refused with the reason', (_label, text, reason) => {
    const dir = _label === 'a copied lab (another name)' ? 'two' : 'one';
    const result = parseLabJson(text, dir);
    expect(typeof result).toBe('string');
    expect(result).toMatch(reason);
  });

  it('a valid lab.json is read back as written', () => {
    expect(parseLabJson(good, 'one')).toEqual(cfg({ name: 'one' }));
  });

  it('a broken lab is listed as broken and never hides the others', async () => {
    const home = await tempDir('labctl-state-');
    const env = { LABCTL_HOME: home };
    await writeLab(cfg({ name: 'good' }), '', env);
    await mkdir(join(home, 'bad'));
    await writeFile(join(home, 'bad', 'lab.json'), 'null');
    await mkdir(join(home, 'not.a.lab'));
    const { labs, broken } = await scanLabs(env);
    expect(labs.map((l) => l.config.name)).toEqual(['good']);
    expect(broken.map((b) => b.name)).toEqual(['bad']);
  });
});
