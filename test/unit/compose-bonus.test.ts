import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { epsvPort, envValue, evaluateHealth, parseHealthLines, parseStatusReport, takeFtpReply, wordpressKeys } from '../../check/bonus.js';
import { checkStatic } from '../../check/static.js';
import { bonusEndpoints } from '../../core/endpoints.js';

// Static checks of the bonus services of compose/ (../shared/SUBJECT.md B01–B05), read from the
// files as graders read them, plus the pure parts of check/bonus.ts. No Docker needed.

const COMPOSE_DIR = fileURLToPath(new URL('../../compose/', import.meta.url));
const SRCS = join(COMPOSE_DIR, 'srcs');
const BONUS_SERVICES = ['redis', 'ftp', 'website', 'adminer', 'status'] as const;
const MANDATORY_SERVICES = ['nginx', 'wordpress', 'mariadb'] as const;
const ALLOWED_RESTART_POLICIES = ['always', 'unless-stopped', 'on-failure'];
const FTP_PASSIVE_RANGE = '21100-21110';

interface ComposeService {
  image?: string;
  build?: string | { context?: string };
  restart?: string;
  profiles?: string[];
  ports?: string[];
  expose?: string[];
  networks?: unknown;
  network_mode?: string;
  healthcheck?: { test?: unknown };
  environment?: Record<string, string>;
  secrets?: string[];
  volumes?: string[];
}
const compose = parse(readFileSync(join(SRCS, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
};
const bonusDir = (name: string): string => join(SRCS, 'requirements', 'bonus', name);
const read = (...parts: string[]): string => readFileSync(join(...parts), 'utf8');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

/** Host ports a set of services publishes, as compose writes them ("443", "21100-21110"). */
function publishedHostPorts(names: readonly string[]): string[] {
  return names.flatMap((name) => (compose.services[name]!.ports ?? []).map((p) => p.split(':').slice(-2, -1)[0] ?? p)).sort();
}

describe('bonus services in the compose file (B01–B05)', () => {
  it('defines exactly the five bonus services, all in the profile "bonus", and leaves the mandatory ones without profile', () => {
    const withProfile = Object.entries(compose.services).filter(([, s]) => s.profiles !== undefined);
    expect(withProfile.map(([name]) => name).sort()).toEqual([...BONUS_SERVICES].sort());
    for (const [, service] of withProfile) expect(service.profiles).toEqual(['bonus']);
    for (const name of MANDATORY_SERVICES) expect(compose.services[name]!.profiles, name).toBeUndefined();
  });

  it.each(BONUS_SERVICES)('%s: own folder under requirements/bonus/ with Dockerfile FROM debian:bookworm, conf/, tools/, .dockerignore', (name) => {
    const dir = bonusDir(name);
    for (const sub of ['conf', 'tools']) expect(statSync(join(dir, sub)).isDirectory(), `${name}/${sub}`).toBe(true);
    expect(read(dir, '.dockerignore')).toMatch(/^\*$/m);
    const dockerfile = read(dir, 'Dockerfile');
    const instructions = dockerfile.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
    expect(instructions[0]).toBe('FROM debian:bookworm');
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(1);
    expect(dockerfile).not.toMatch(/\b(curl|wget)\b[^\n]*https?:\/\//);
    expect(dockerfile).not.toMatch(/^ADD\s/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/entrypoint\.sh"\]$/m);
    expect(dockerfile).toMatch(/^CMD \[/m);
  });

  it.each(BONUS_SERVICES)('%s: image named after the service, built from its folder, restart policy, health check, private network', (name) => {
    const s = compose.services[name]!;
    expect(s.image).toBe(`${name}:inception`);
    expect(typeof s.build === 'string' ? s.build : s.build?.context).toBe(`./requirements/bonus/${name}`);
    expect(ALLOWED_RESTART_POLICIES).toContain(s.restart);
    expect(s.healthcheck?.test).toEqual(['CMD', '/usr/local/bin/healthcheck.sh']);
    expect(s.networks).toEqual(['inception']);
    expect(s.network_mode).toBeUndefined();
  });

  it.each(BONUS_SERVICES)('%s: the entrypoint execs the daemon; no waiting loop or background process in its files (M10)', (name) => {
    const entrypoint = read(bonusDir(name), 'tools', 'entrypoint.sh');
    expect(entrypoint).toMatch(/^\s*exec\s+\S/m);
    for (const file of filesUnder(bonusDir(name))) {
      const text = readFileSync(file, 'utf8');
      const rel = relative(COMPOSE_DIR, file);
      expect(text, rel).not.toMatch(/tail\s+-f|sleep\s+infinity|while\s+(true|:|\[\s*1\s*\])|for\s*\(\(\s*;\s*;\s*\)\)/);
      expect(text, rel).not.toMatch(/(^|[^&])&\s*$/m);
      expect(text, rel).not.toMatch(/latest/i);
    }
  });

  it('publishes exactly 443 without bonus, and 443 + 21 + the passive range with it; nothing on 80', () => {
    expect(publishedHostPorts(MANDATORY_SERVICES)).toEqual(['443']);
    expect(publishedHostPorts(Object.keys(compose.services))).toEqual(['21', FTP_PASSIVE_RANGE, '443'].sort());
    expect(compose.services.ftp!.ports).toEqual(['21:21', `${FTP_PASSIVE_RANGE}:${FTP_PASSIVE_RANGE}`]);
    for (const name of ['redis', 'website', 'adminer', 'status']) expect(compose.services[name]!.ports, name).toBeUndefined();
  });

  it('takes the FTP password from a Docker secret, never from the environment', () => {
    expect(compose.secrets.ftp_password).toEqual({ file: '../secrets/ftp_password.txt' });
    expect(compose.services.ftp!.secrets).toContain('ftp_password');
    expect(compose.services.ftp!.environment?.FTP_PASSWORD_FILE).toBe('/run/secrets/ftp_password');
    for (const name of BONUS_SERVICES) {
      for (const key of Object.keys(compose.services[name]!.environment ?? {}).filter((k) => /PASS|SECRET|KEY/i.test(k))) expect(key).toMatch(/_FILE$/);
    }
    expect(read(SRCS, 'requirements', 'tools', 'make-secrets.sh')).toMatch(/PASSWORD_FILES=\([^)]*\bftp_password\.txt\b/);
  });

  it('ftp: serves the WordPress volume over FTPS only, one allowed user, no anonymous, passive range matching the published ports', () => {
    expect(compose.services.ftp!.volumes).toEqual(['wordpress:/var/www/html']);
    const conf = read(bonusDir('ftp'), 'conf', 'proftpd.conf')
      .split('\n')
      .filter((line) => !/^\s*#/.test(line))
      .join('\n');
    const directive = (name: string): string | undefined => new RegExp(`^\\s*${name}\\s+(.+)$`, 'm').exec(conf)?.[1]?.trim();
    expect(directive('ServerType')).toBe('standalone');
    expect(directive('TLSEngine')).toBe('on');
    expect(directive('TLSRequired')).toBe('on');
    expect(directive('TLSProtocol')).toBe('TLSv1.2 TLSv1.3');
    expect(directive('DefaultRoot')).toBe('~');
    expect(directive('RootLogin')).toBe('off');
    expect(directive('PassivePorts')?.replace(/\s+/, '-')).toBe(FTP_PASSIVE_RANGE);
    expect(directive('MasqueradeAddress')).toBeUndefined();
    // No anonymous section at all, and logins limited to the generated AllowUser list.
    expect(conf).not.toMatch(/<Anonymous/i);
    expect(conf).toMatch(/<Limit LOGIN>\s*\n\s*Include \/run\/proftpd\/allowed-user\.conf\s*\n\s*DenyAll\s*\n<\/Limit>/);
    expect(read(bonusDir('ftp'), 'Dockerfile')).toMatch(new RegExp(`^EXPOSE 21 ${FTP_PASSIVE_RANGE}$`, 'm'));
    expect(read(bonusDir('ftp'), 'Dockerfile')).toMatch(/^CMD \["proftpd", "--nodaemon"/m);
  });

  it('redis: a pure cache without persistence, WordPress using it only through WP_REDIS_HOST', () => {
    const conf = read(bonusDir('redis'), 'conf', 'redis.conf');
    expect(conf).toMatch(/^save ""$/m);
    expect(conf).toMatch(/^appendonly no$/m);
    expect(conf).toMatch(/^daemonize no$/m);
    expect(compose.services.redis!.volumes).toBeUndefined();
    expect(compose.services.wordpress!.environment?.WP_REDIS_HOST).toBe('${WP_REDIS_HOST:-}');
    expect(read(SRCS, 'requirements', 'wordpress', 'Dockerfile')).toMatch(/php8\.2-redis/);
    const dropIn = read(SRCS, 'requirements', 'wordpress', 'conf', 'object-cache.php');
    expect(dropIn).toContain('inception-object-cache');
    // The object cache API WordPress 6.1 calls without a fallback of its own (cache-compat.php
    // covers only the *_multiple, flush_runtime, flush_group and supports functions).
    for (const fn of ['wp_cache_init', 'wp_cache_add', 'wp_cache_replace', 'wp_cache_set', 'wp_cache_get', 'wp_cache_delete', 'wp_cache_incr', 'wp_cache_decr', 'wp_cache_flush', 'wp_cache_close', 'wp_cache_add_global_groups', 'wp_cache_add_non_persistent_groups', 'wp_cache_switch_to_blog', 'wp_cache_reset']) {
      expect(dropIn).toMatch(new RegExp(`^function ${fn}\\(`, 'm'));
    }
  });

  it('website, adminer, status: no PHP in the static site; nginx routes them only when BONUS_ROUTES=yes, resolving at request time', () => {
    expect(read(bonusDir('website'), 'conf', 'lighttpd.conf')).not.toMatch(/mod_(fastcgi|cgi|proxy)/);
    for (const file of filesUnder(join(bonusDir('website'), 'conf', 'site'))) expect(file).toMatch(/\.(html|css)$/);
    expect(read(bonusDir('adminer'), 'Dockerfile')).toMatch(/install[^\n]*\badminer\b/);
    const nginx = join(SRCS, 'requirements', 'nginx');
    const locations = read(nginx, 'conf', 'bonus-locations.conf');
    for (const path of ['/site/', '/adminer/', '/status/']) expect(locations).toContain(`location ^~ ${path}`);
    // Upstreams only as variables: nginx resolves them through Docker's DNS per request.
    expect(locations).not.toMatch(/(proxy|fastcgi)_pass\s+(http:\/\/)?[a-z]+:\d+/);
    expect(read(nginx, 'conf', 'inception.conf.template')).toMatch(/^\s*include \/etc\/nginx\/bonus\.d\/\*\.conf;$/m);
    expect(read(nginx, 'tools', 'entrypoint.sh')).toMatch(/BONUS_ROUTES/);
    expect(compose.services.nginx!.environment?.BONUS_ROUTES).toBe('${BONUS_ROUTES:-}');
  });

  it('status: probes every service of the compose file, on the port it exposes, without the Docker socket', () => {
    const listed = (JSON.parse(read(bonusDir('status'), 'conf', 'services.json')) as { services: { name: string; port: number }[] }).services;
    expect(listed.map((s) => s.name).sort()).toEqual(Object.keys(compose.services).sort());
    for (const { name, port } of listed) {
      const s = compose.services[name]!;
      expect([...(s.expose ?? []), ...(s.ports ?? []).map((p) => p.split(':').at(-1)!)], name).toContain(String(port));
    }
    expect(JSON.stringify(compose.services.status)).not.toMatch(/docker\.sock/);
  });
});

describe('the Makefile: make = mandatory only, make bonus = with the profile', () => {
  const work = mkdtempSync(join(tmpdir(), 'labctl-compose-bonus-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  cpSync(join(COMPOSE_DIR, 'Makefile'), join(work, 'Makefile'));
  /** `make -n`: the commands make would run, run nowhere. */
  const dryRun = (...args: string[]): string => execFileSync('make', ['-n', '-C', work, ...args], { encoding: 'utf8', env: { ...process.env, MAKEFLAGS: '' } });

  it('passes --profile bonus to compose up/build only for bonus', () => {
    const up = dryRun('up', 'LOGIN=tester');
    expect(up).toMatch(/docker compose .* up -d --wait/);
    expect(up.split('\n').find((l) => l.includes(' up -d '))).not.toContain('--profile');
    // …but it looks for bonus containers left by an earlier make bonus, to remove them.
    expect(up).toMatch(/--profile bonus rm --stop --force redis ftp website adminer status/);
    expect(dryRun('up', 'BONUS=1', 'LOGIN=tester')).not.toContain(' rm --stop');
    expect(dryRun('up', 'BONUS=1', 'LOGIN=tester')).toMatch(/docker compose .* --profile bonus up -d --wait/);
    expect(dryRun('build', 'BONUS=1', 'LOGIN=tester')).toMatch(/--profile bonus build/);
    expect(dryRun('build-nginx', 'BONUS=1', 'LOGIN=tester')).toMatch(/--profile bonus build +nginx/);
    expect(dryRun('build-nginx', 'LOGIN=tester')).not.toContain('--profile');
    expect(dryRun('bonus', 'LOGIN=tester')).toMatch(/--profile bonus up -d --wait/);
  });

  it('builds with one plain compose build when compose names no service, instead of making its default goal again', () => {
    // `make build` runs one make per service; with none, an inner make would build `all` → `build` → …
    const r = spawnSync('make', ['-n', '-C', work, 'build', 'LOGIN=tester'], { encoding: 'utf8', env: { ...process.env, MAKEFLAGS: '' }, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^docker compose .* build *$/m);
    expect(r.stdout).not.toContain('--no-print-directory');
  });

  it('stops and removes bonus containers too on down, clean and fclean', () => {
    for (const target of ['down', 'clean', 'fclean']) expect(dryRun(target, 'LOGIN=tester'), target).toMatch(/--profile bonus down/);
  });

  it('exports the bonus switches empty unless BONUS is set', () => {
    const makefile = read(COMPOSE_DIR, 'Makefile');
    expect(makefile).toMatch(/^export WP_REDIS_HOST := \$\(if \$\(BONUS\),redis\)$/m);
    expect(makefile).toMatch(/^export BONUS_ROUTES {2}:= \$\(if \$\(BONUS\),yes\)$/m);
  });
});

describe('labctl check --static on compose/ with the bonus services', () => {
  it('reports no failure and finds B01–B05', async () => {
    const results = await checkStatic(COMPOSE_DIR);
    expect(results.filter((r) => r.verdict === 'fail')).toEqual([]);
    for (const id of ['B01.service', 'B02.service', 'B03.service', 'B04.service', 'B05.service']) {
      expect(results.find((r) => r.id === id)?.verdict, id).toBe('pass');
    }
  });
});

describe('docs cover each bonus service', () => {
  const docs = ['README.md', 'USER_DOC.md', 'DEV_DOC.md'].map((f) => read(COMPOSE_DIR, f)).join('\n');
  it.each(['/site/', '/adminer/', '/status/', 'ftp_password.txt', 'make bonus', 'redis', 'FTPS'])('mentions %s', (needle) => {
    expect(docs).toContain(needle);
  });
  it('DEV_DOC.md justifies the status service and its choice about the Docker socket', () => {
    expect(read(COMPOSE_DIR, 'DEV_DOC.md')).toMatch(/docker\.sock[\s\S]{0,400}(read-only|:ro)/i);
  });
});

describe('check/bonus.ts pure parts', () => {
  it('reads container states and names each missing or unhealthy bonus container', () => {
    const states = parseHealthLines('/redis running healthy\n/ftp running starting\n/website exited none\n/adminer running healthy\n');
    expect(states).toEqual([
      { name: 'redis', status: 'running', health: 'healthy' },
      { name: 'ftp', status: 'running', health: 'starting' },
      { name: 'website', status: 'exited', health: 'none' },
      { name: 'adminer', status: 'running', health: 'healthy' },
    ]);
    const verdicts = Object.fromEntries(evaluateHealth(states).map((r) => [r.id, r.verdict]));
    expect(verdicts).toEqual({ 'B01.healthy': 'pass', 'B02.healthy': 'fail', 'B03.healthy': 'fail', 'B04.healthy': 'pass', 'B05.healthy': 'fail' });
  });

  it('splits FTP replies, single- and multi-line, and waits for incomplete ones', () => {
    expect(takeFtpReply('220 (vsFTPd 3.0.3)\r\n331 Please specify')).toEqual({ reply: { code: 220, text: '220 (vsFTPd 3.0.3)' }, rest: '331 Please specify' });
    expect(takeFtpReply('211-Features:\r\n EPSV\r\n PASV\r\n211 End\r\n')).toEqual({ reply: { code: 211, text: '211-Features:\r\n EPSV\r\n PASV\r\n211 End' }, rest: '' });
    expect(takeFtpReply('211-Features:\r\n EPSV\r\n').reply).toBeUndefined();
    expect(takeFtpReply('230 Login').reply).toBeUndefined();
  });

  it('reads the EPSV data port and rejects malformed answers', () => {
    expect(epsvPort('229 Entering Extended Passive Mode (|||21104|)')).toBe(21104);
    expect(epsvPort('229 Entering Extended Passive Mode (!!!21100!)')).toBe(21100);
    expect(epsvPort('229 Entering Extended Passive Mode (|||99999|)')).toBeUndefined();
    expect(epsvPort('227 Entering Passive Mode (172,18,0,5,82,60)')).toBeUndefined();
  });

  it('reads env values, Redis keys and the status report', () => {
    expect(envValue('PATH=/usr/bin\nFTP_USER=ftpuser\nFTP_PASSWORD_FILE=/run/secrets/ftp_password\n', 'FTP_USER')).toBe('ftpuser');
    expect(envValue('PATH=/usr/bin\n', 'FTP_USER')).toBeUndefined();
    expect(wordpressKeys('wp:options:alloptions\nwp:site-transient:x\nother\n\n')).toEqual(['wp:options:alloptions', 'wp:site-transient:x']);
    expect(parseStatusReport('{"services":[{"name":"redis","up":true,"detail":"PONG"},{"bad":1}]}')).toEqual({ services: [{ name: 'redis', up: true, detail: 'PONG' }] });
    expect(parseStatusReport('<html>')).toBeUndefined();
    expect(parseStatusReport('{"services":3}')).toBeUndefined();
  });
});

describe('the bonus addresses labctl prints for a lab (core/endpoints.ts)', () => {
  const config = (bonus: boolean) => ({ domain: 'jdoe.42.fr', bonus });

  it('lists nothing without bonus', () => {
    expect(bonusEndpoints(config(false))).toEqual([]);
  });

  it('names with bonus one address per compose service that a user reaches, each routed or published by compose/', () => {
    const endpoints = bonusEndpoints(config(true));
    expect(endpoints.map((e) => e.service).sort()).toEqual(['adminer', 'ftp', 'status', 'website']);
    const routes = read(SRCS, 'requirements', 'nginx', 'conf', 'bonus-locations.conf');
    for (const e of endpoints.filter((x) => x.address.startsWith('https://'))) {
      const path = new URL(e.address).pathname;
      expect(routes, `nginx routes ${path}`).toContain(`location ^~ ${path} {`);
      expect(compose.services[e.service], e.service).toBeDefined();
    }
    const ftp = endpoints.find((e) => e.service === 'ftp')!;
    expect(publishedHostPorts(['ftp'])).toEqual(['21', FTP_PASSIVE_RANGE]);
    expect(ftp.address).toBe('ftp://jdoe.42.fr:21/');
    expect(ftp.what).toContain(`passive ports ${FTP_PASSIVE_RANGE}`);
    expect(ftp.what).toContain(`user ${compose.services.ftp!.environment!.FTP_USER!.replace(/^\$\{FTP_USER:-(.*)\}$/, '$1')}`);
  });
});
