import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { remoteCommand } from '../../usecases/ssh.js';
import { isDebianArchiveUri, renderAptProxy, rewriteAptSources } from '../../provision/apt-sources.js';
import { allReady, logsArgs, mergeServiceStatus, parseComposePs } from '../../adapters/compose.js';
import { ENV_KEYS, envValues, renderEnvFile } from '../../provision/env-file.js';
import { guestHostsBlock, upsertGuestHosts } from '../../provision/guest-hosts.js';
import { isExcludedFromPush, parseRemoteManifest, planPush, projectHash, sha256, substituteLogin, type ManifestEntry } from '../../provision/manifest.js';
import { commandLine, displayCommand, shQuote, wrapArgv } from '../../core/quote.js';

const ODD = ['two words', "it's", '"double"', '$HOME', '${PATH}', '`id`', '$(id)', 'a;b', 'a && b', 'line1\nline2', '*', '~', '', '\\', "'", "''", '-n', '#x', 'a|b', '>out'];

describe('shell quoting', () => {
  it('round-trips odd values through a real POSIX shell', () => {
    // The same parse sshd's login shell does: `sh -c "<command line>"`.
    const out = execFileSync('sh', ['-c', commandLine(['printf', '%s\\0', ...ODD])]);
    expect(out.toString().split('\0').slice(0, -1)).toEqual(ODD);
  });

  it('round-trips through bash as well (the usual login shell of a Vagrant user)', () => {
    const out = execFileSync('bash', ['-c', commandLine(['printf', '%s\\0', ...ODD])]);
    expect(out.toString().split('\0').slice(0, -1)).toEqual(ODD);
  });

  it('escapes a single quote as close-escape-reopen', () => {
    expect(shQuote("it's")).toBe(`'it'\\''s'`);
    expect(shQuote('')).toBe(`''`);
  });

  it('refuses NUL bytes and empty argv', () => {
    expect(() => shQuote('a\0b')).toThrow(/NUL/);
    expect(() => commandLine([])).toThrow(/program name/);
  });

  it('wraps argv with sudo, user, cwd and env without a shell string', () => {
    expect(wrapArgv(['make'], { user: 'jdoe', cwd: '/home/jdoe/inception' })).toEqual(['sudo', '-n', '-H', '-u', 'jdoe', '--', 'env', '-C', '/home/jdoe/inception', 'make']);
    expect(wrapArgv(['apt-get', 'update'], { sudo: true, env: { DEBIAN_FRONTEND: 'noninteractive' } })).toEqual(['sudo', '-n', '--', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'update']);
    expect(wrapArgv(['true'])).toEqual(['true']);
    expect(() => wrapArgv(['x'], { env: { 'A;B': '1' } })).toThrow(/invalid environment variable/);
  });

  it('labctl ssh: several words become one quoted command line, a single word stays a shell line', () => {
    const several = remoteCommand(['printf', '%s\\0', ...ODD]);
    expect(several).toHaveLength(1);
    expect(execFileSync('sh', ['-c', several[0]!]).toString().split('\0').slice(0, -1)).toEqual(ODD);
    expect(remoteCommand(['docker ps | grep nginx'])).toEqual(['docker ps | grep nginx']);
    expect(remoteCommand([])).toEqual([]);
  });

  it('displays commands readably', () => {
    expect(displayCommand(['docker', 'compose', '-f', '/a b/c.yml', 'ps'])).toBe(`docker compose -f '/a b/c.yml' ps`);
  });
});

describe('.env rendering', () => {
  it('renders every contract key with derived values', () => {
    const text = renderEnvFile(envValues({ login: 'jdoe', domain: 'jdoe.42.fr' }));
    const lines = text.trim().split('\n').filter((l) => !l.startsWith('#'));
    expect(lines.map((l) => l.split('=')[0])).toEqual([...ENV_KEYS]);
    expect(text).toContain('LOGIN=jdoe\n');
    expect(text).toContain('DOMAIN_NAME=jdoe.42.fr\n');
    expect(text).toContain('DATA_PATH=/home/jdoe/data\n');
    expect(text).toContain('WP_ADMIN_USER=webmaster\n');
    expect(text).toContain('WP_USER=writer\n');
    expect(text).toContain('MYSQL_DATABASE=wordpress\n');
    expect(text).toContain('MYSQL_USER=wpuser\n');
    expect(text).toContain('WP_ADMIN_EMAIL=webmaster@jdoe.42.fr\n');
    expect(text).not.toMatch(/PASSWORD/i);
  });

  it('keeps the administrator name free of "admin" (M11)', () => {
    expect(envValues({ login: 'jdoe', domain: 'jdoe.42.fr' }).WP_ADMIN_USER).not.toMatch(/admin/i);
  });

  it('refuses values that would need quoting', () => {
    const values = envValues({ login: 'jdoe', domain: 'jdoe.42.fr' });
    expect(renderEnvFile({ ...values, WP_TITLE: 'a b' })).toContain('WP_TITLE=a b\n');
    expect(() => renderEnvFile({ ...values, WP_TITLE: ' a' })).toThrow(/quoting/);
    expect(() => renderEnvFile({ ...values, WP_TITLE: '"a"' })).toThrow(/quoting/);
    expect(() => renderEnvFile({ ...values, WP_TITLE: '$x' })).toThrow(/quoting/);
  });
});

describe('guest /etc/hosts block', () => {
  const base = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n';

  it('appends one marked block and is idempotent', () => {
    const once = upsertGuestHosts(base, 'jdoe.42.fr');
    expect(once).toBe(base + guestHostsBlock('jdoe.42.fr'));
    expect(upsertGuestHosts(once, 'jdoe.42.fr')).toBe(once);
  });

  it('replaces an old block (login changed) and keeps every other line', () => {
    const old = upsertGuestHosts(base, 'old.42.fr') + '10.0.0.5 other\n';
    const next = upsertGuestHosts(old, 'jdoe.42.fr');
    expect(next).not.toContain('old.42.fr');
    expect(next).toContain('10.0.0.5 other\n');
    expect(next.match(/# BEGIN labctl/g)).toHaveLength(1);
  });

  it('handles a file without a final newline', () => {
    expect(upsertGuestHosts('127.0.0.1 localhost', 'jdoe.42.fr')).toBe(`127.0.0.1 localhost\n${guestHostsBlock('jdoe.42.fr')}`);
  });
});

describe('apt configuration', () => {
  // Hosts here are placeholders from the documentation range, not real mirrors.
  const mirror = 'http://mirror.example.test/debian';

  it('rewrites deb822 and one-line archive URIs, not security or third-party ones', () => {
    const deb822 = 'Types: deb\nURIs: http://archive.example.org/debian\nSuites: trixie trixie-updates\n\nTypes: deb\nURIs: http://archive.example.org/debian-security\nSuites: trixie-security\n';
    const out = rewriteAptSources(deb822, mirror);
    expect(out).toContain(`URIs: ${mirror}\n`);
    expect(out).toContain('URIs: http://archive.example.org/debian-security');
    const list = 'deb http://archive.example.org/debian trixie main\ndeb-src [arch=amd64] http://archive.example.org/debian trixie main\n# deb http://archive.example.org/debian sid main\n';
    const outList = rewriteAptSources(list, `${mirror}/`);
    expect(outList).toContain(`deb ${mirror} trixie main`);
    expect(outList).toContain(`deb-src [arch=amd64] ${mirror} trixie main`);
    expect(outList).toContain('# deb http://archive.example.org/debian sid main');
    expect(rewriteAptSources(out, mirror)).toBe(out);
  });

  it('classifies archive URIs', () => {
    expect(isDebianArchiveUri('http://archive.example.org/debian')).toBe(true);
    expect(isDebianArchiveUri('http://archive.example.org/debian/')).toBe(true);
    expect(isDebianArchiveUri('http://security.example.org/debian-security')).toBe(false);
    expect(isDebianArchiveUri('not a url')).toBe(false);
  });

  it('renders a proxy that cannot break out of its quotes', () => {
    expect(renderAptProxy('http://proxy.example.test:3142')).toContain('Acquire::http::Proxy "http://proxy.example.test:3142/";');
    expect(renderAptProxy('http://proxy.example.test/a"b')).not.toMatch(/a"b/);
  });
});

function entry(path: string, content: string, mode: '755' | '644' = '644'): ManifestEntry {
  return { path, content: Buffer.from(content), sha256: sha256(content), mode };
}

describe('push manifests', () => {
  it('excludes the host secrets and .env', () => {
    expect(isExcludedFromPush('secrets/db_password.txt')).toBe(true);
    expect(isExcludedFromPush('secrets/.gitkeep')).toBe(true);
    expect(isExcludedFromPush('srcs/.env')).toBe(true);
    expect(isExcludedFromPush('srcs/.env.example')).toBe(false);
    expect(isExcludedFromPush('srcs/secrets.md')).toBe(false);
  });

  it('substitutes {{LOGIN}} in *.md only', () => {
    expect(substituteLogin('README.md', Buffer.from('by {{LOGIN}} and {{LOGIN}}'), 'jdoe').toString()).toBe('by jdoe and jdoe');
    expect(substituteLogin('Makefile', Buffer.from('{{LOGIN}}'), 'jdoe').toString()).toBe('{{LOGIN}}');
  });

  it('parses NUL-separated sha256sum -z and find -printf records, odd names included', () => {
    const a = sha256('a');
    const b = sha256('b');
    const remote = parseRemoteManifest(`${a}  ./Makefile\0${b}  ./srcs/we ird\nname\0`, `644 Makefile\x00755 srcs/we ird\nname\0`);
    expect(remote.get('Makefile')).toEqual({ sha256: a, mode: '644' });
    expect(remote.get('srcs/we ird\nname')).toEqual({ sha256: b, mode: '755' });
  });

  it('uploads only new, changed or re-moded files and removes only what labctl pushed before', () => {
    const local = [entry('Makefile', 'all:'), entry('srcs/a.sh', 'x', '755'), entry('README.md', 'new')];
    const remote = parseRemoteManifest(
      [`${sha256('all:')}  ./Makefile`, `${sha256('x')}  ./srcs/a.sh`, `${sha256('old')}  ./README.md`, `${sha256('z')}  ./gone.txt`, `${sha256('m')}  ./made-by-make`].join('\0'),
      ['664 Makefile', '644 srcs/a.sh', '644 README.md', '644 gone.txt', '644 made-by-make'].join('\0'),
    );
    const plan = planPush(local, remote, ['Makefile', 'srcs/a.sh', 'README.md', 'gone.txt', 'secrets/db_password.txt']);
    expect(plan.upload.map((e) => e.path)).toEqual(['srcs/a.sh', 'README.md']);
    expect(plan.remove).toEqual(['gone.txt']);
  });

  it('plans nothing when the guest matches', () => {
    const local = [entry('Makefile', 'all:')];
    const remote = parseRemoteManifest(`${sha256('all:')}  ./Makefile\0`, '644 Makefile\0');
    expect(planPush(local, remote, ['Makefile'])).toEqual({ upload: [], remove: [] });
  });

  it('hashes the project so that any pushed file, .env or secret change alters the stamp', () => {
    const local = [entry('Makefile', 'all:')];
    const h = projectHash(local, new Map([['srcs/.env', 'A=1']]));
    expect(projectHash(local, new Map([['srcs/.env', 'A=1']]))).toBe(h);
    expect(projectHash(local, new Map([['srcs/.env', 'A=2']]))).not.toBe(h);
    expect(projectHash([entry('Makefile', 'all: x')], new Map([['srcs/.env', 'A=1']]))).not.toBe(h);
  });
});

describe('compose status', () => {
  it('parses both JSON shapes of `docker compose ps --format json`', () => {
    const ndjson = '{"Service":"nginx","State":"running","Health":"healthy"}\n{"Service":"mariadb","State":"running","Health":"starting"}\n';
    const array = '[{"Service":"nginx","State":"running","Health":""}]';
    expect(parseComposePs(ndjson)).toHaveLength(2);
    expect(parseComposePs(array)).toEqual([{ Service: 'nginx', State: 'running', Health: '' }]);
    expect(parseComposePs('')).toEqual([]);
  });

  it('reports declared services without a container as missing, and readiness needs all healthy', () => {
    const ps = parseComposePs('{"Service":"nginx","State":"running","Health":"healthy"}\n{"Service":"wordpress","State":"running","Health":""}');
    const merged = mergeServiceStatus(['nginx', 'wordpress', 'mariadb'], ps);
    expect(merged[2]).toEqual({ name: 'mariadb', state: 'missing', health: '' });
    expect(allReady(merged)).toBe(false);
    expect(allReady(merged.slice(0, 2))).toBe(true);
    expect(allReady([])).toBe(false);
    expect(allReady(mergeServiceStatus(['m'], parseComposePs('{"Service":"m","State":"running","Health":"unhealthy"}')))).toBe(false);
  });

  it('builds logs arguments with the service after --', () => {
    expect(logsArgs({ service: 'nginx', follow: true, tail: '100' })).toEqual(['logs', '--no-color', '--follow', '--tail', '100', '--', 'nginx']);
    expect(logsArgs({ follow: false })).toEqual(['logs', '--no-color']);
  });
});
