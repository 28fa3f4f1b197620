import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BONUS_CONTAINERS, bonusLiveChecks, type BonusIo } from '../../check/bonus.js';
import { ensureDockerd, type DockerdHandle } from '../helpers/dockerd.js';
import { STACK_CONTAINERS, SiteClient, containerState, copyComposeProject, docker, make, readSecret, waitHealthy, writeEnvFile, type StackSettings } from '../helpers/stack.js';

// The bonus services of compose/ (../shared/SUBJECT.md B01–B05) built by the project's own
// Makefile (`make bonus`) on a real dockerd and probed from the host on loopback only: every
// container healthy with its daemon as PID 1, WordPress's object cache in Redis (and the site
// still up without Redis), FTPS listing and uploading a file that nginx then serves, the static
// site, Adminer's login page and a real Adminer login, the status page, check/bonus.ts against
// the live stack; then `make` alone right after it: only the mandatory containers, only
// port 443, no bonus route in nginx, no object cache in WordPress.
//
// Container names and port 443 are the real ones (shared with stack.test.ts; the stack project
// runs its files one after the other), so the test refuses to run beside a stack that is up.

const BUILD_TIMEOUT_MS = 1_500_000;
const UP_TIMEOUT_MS = 600_000;
const FCLEAN_TIMEOUT_MS = 300_000;
const REDIS_BACK_TIMEOUT_MS = 60_000;
const CURL_TIMEOUT_MS = 30_000;
const ALL_CONTAINERS = [...STACK_CONTAINERS, ...BONUS_CONTAINERS] as const;
const FTP_USER = 'ftpuser';
/** The order of the status page (its conf/services.json). */
const STATUS_ORDER = ['nginx', 'wordpress', 'mariadb', 'redis', 'ftp', 'website', 'adminer', 'status'];

const settings: Omit<StackSettings, 'dataPath'> = { login: 'labbonus', title: 'Labctl bonus test site', adminUser: 'webmaster', user: 'writer' };
const domain = `${settings.login}.42.fr`;

let dockerd: DockerdHandle | undefined;
let workDir = '';
let projectDir = '';
let logFile = '';
let site: SiteClient;
const makeVars = { LOGIN: settings.login };
const timings: Record<string, string> = {};

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** curl towards the published FTP port on loopback, FTPS with explicit TLS (AUTH TLS). */
async function ftps(args: string[], opts: { tls?: boolean } = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const password = await readSecret(projectDir, 'ftp_password.txt');
  const tls = opts.tls === false ? [] : ['--ssl-reqd', '--insecure'];
  // The credentials go through a curl config on stdin, never on a command line.
  const r = await execa('curl', ['--silent', '--show-error', '--max-time', '20', ...tls, '--config', '-', ...args], {
    input: `user = "${FTP_USER}:${password}"\n`,
    reject: false,
    timeout: CURL_TIMEOUT_MS,
  });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Every container of the compose project "inception" with its published ports. */
async function projectPorts(): Promise<Record<string, string>> {
  const lines = await docker(['ps', '--filter', 'label=com.docker.compose.project=inception', '--format', '{{.Names}}']);
  const names = lines.split('\n').filter(Boolean).sort();
  const entries = await Promise.all(names.map(async (name) => [name, (await docker(['port', name])).split('\n').filter((l) => l.includes('0.0.0.0')).sort().join(', ')] as const));
  return Object.fromEntries(entries);
}

async function pid1(name: string): Promise<string> {
  return (await docker(['exec', name, 'cat', '/proc/1/cmdline'])).replace(/\0/g, ' ').trim();
}

beforeAll(async () => {
  dockerd = await ensureDockerd();
  for (const name of ALL_CONTAINERS) {
    if (await containerState(name)) throw new Error(`a container named ${name} already exists: stop that stack first (make -C <project> down); the bonus test needs the names and ports 443 and 21`);
  }
  for (const volume of ['inception_mariadb', 'inception_wordpress']) await execa('docker', ['volume', 'rm', volume], { reject: false });

  workDir = await mkdtemp(join(tmpdir(), 'labctl-bonus-'));
  projectDir = join(workDir, 'inception');
  logFile = join(workDir, 'make.log');
  await copyComposeProject(projectDir);
  await writeEnvFile(projectDir, { ...settings, dataPath: join(workDir, 'data') });

  timings['build, 8 images (no cache)'] = seconds(await make(projectDir, 'build', { ...makeVars, BONUS: '1', BUILD_FLAGS: '--no-cache' }, BUILD_TIMEOUT_MS, logFile));
  timings['make bonus (cold start to healthy)'] = seconds(await make(projectDir, 'bonus', makeVars, UP_TIMEOUT_MS, logFile));
  site = new SiteClient(domain, join(projectDir, 'secrets', 'tls.crt'));
}, BUILD_TIMEOUT_MS + UP_TIMEOUT_MS);

afterAll(async () => {
  try {
    if (projectDir) {
      const sizes = await Promise.all(ALL_CONTAINERS.map(async (name) => `${name}:inception ${(Number(await docker(['image', 'inspect', '-f', '{{.Size}}', `${name}:inception`]).catch(() => 'NaN')) / 1e6).toFixed(0)} MB`));
      timings['image sizes'] = sizes.join(', ');
      // Always, even after a failure: nothing of the test may stay on the engine.
      await make(projectDir, 'fclean', makeVars, FCLEAN_TIMEOUT_MS, logFile).catch((error: unknown) => console.error(`bonus test clean-up: ${String(error)}`));
    }
    console.info(`bonus timings: ${JSON.stringify(timings, null, 2)}`);
  } finally {
    if (workDir) await rm(workDir, { recursive: true, force: true });
    await dockerd?.stop();
  }
}, FCLEAN_TIMEOUT_MS + 60_000);

describe('the bonus services on a real Docker engine (make bonus)', () => {
  it('runs all eight containers healthy, each PID 1 being its daemon, each image named after its service', async () => {
    const expectedPid1: Record<string, RegExp> = {
      mariadb: /^mariadbd\b/,
      wordpress: /^php-fpm: master process/,
      nginx: /^nginx: master process/,
      redis: /^redis-server\b/,
      ftp: /^proftpd\b/,
      website: /^lighttpd -D\b/,
      adminer: /^php-fpm: master process/,
      status: /^python3 \/usr\/local\/lib\/inception-status\/status\.py$/,
    };
    for (const name of ALL_CONTAINERS) {
      expect((await containerState(name))?.health, name).toBe('healthy');
      expect(await pid1(name), `PID 1 of ${name}`).toMatch(expectedPid1[name]!);
      expect(await docker(['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}} {{.Config.Image}}', name])).toBe(`unless-stopped ${name}:inception`);
    }
  });

  it('publishes 443 (nginx) and 21 + the passive range (ftp), nothing else, nothing on 80', async () => {
    expect(await projectPorts()).toEqual({
      adminer: '',
      ftp: ['21/tcp -> 0.0.0.0:21', ...Array.from({ length: 11 }, (_, i) => `${21_100 + i}/tcp -> 0.0.0.0:${21_100 + i}`)].sort().join(', '),
      mariadb: '',
      nginx: '443/tcp -> 0.0.0.0:443',
      redis: '',
      status: '',
      website: '',
      wordpress: '',
    });
    expect((await site.raw(['http://127.0.0.1:80/'])).exitCode, 'nothing answers on port 80').not.toBe(0);
  });

  it('B01: WordPress keeps its object cache in Redis, and keeps working while Redis is stopped', async () => {
    expect(await docker(['exec', 'wordpress', 'grep', '-c', 'inception-object-cache', '/var/www/html/wp-content/object-cache.php'])).toBe('1');
    await docker(['exec', 'redis', 'redis-cli', 'flushall']);
    expect((await site.request('/')).status).toBe(200);
    const keys = (await docker(['exec', 'redis', 'redis-cli', '--scan', '--pattern', 'wp:*'])).split('\n').filter(Boolean);
    expect(keys.length).toBeGreaterThan(0);
    // WordPress's autoloaded options are the first thing any page reads.
    expect(keys).toContain('wp:options:alloptions');
    // Logins read and write user meta and sessions through the cache: they must still work.
    const jar = join(workDir, 'wp-cookies.txt');
    const login = await site.logIn(settings.adminUser, await readSecret(projectDir, 'wp_admin_password.txt'), jar);
    expect([login.status, login.location]).toEqual([302, `https://${domain}/wp-admin/`]);
    expect((await site.request('/wp-admin/', ['--cookie', jar])).body).toContain(`<span class="display-name">${settings.adminUser}</span>`);

    await docker(['stop', 'redis'], CURL_TIMEOUT_MS);
    try {
      const home = await site.request('/');
      expect(home.status).toBe(200);
      expect(home.body).toContain(`<title>${settings.title}</title>`);
      expect((await site.request('/wp-login.php')).status).toBe(200);
    } finally {
      await docker(['start', 'redis'], CURL_TIMEOUT_MS);
    }
    await waitHealthy(['redis'], REDIS_BACK_TIMEOUT_MS);
    expect((await site.request('/')).status).toBe(200);
    expect(Number(await docker(['exec', 'redis', 'redis-cli', 'dbsize']))).toBeGreaterThan(0);
  });

  it('B02: FTPS lists the WordPress files and uploads a file that nginx then serves; anonymous and clear-text logins fail', async () => {
    const listing = await ftps(['--list-only', 'ftp://127.0.0.1/']);
    expect(listing.exitCode, listing.stderr).toBe(0);
    expect(listing.stdout.split(/\r?\n/)).toEqual(expect.arrayContaining(['wp-config.php', 'wp-content', 'index.php']));

    const name = `ftp-upload-${Date.now()}.txt`;
    const content = `uploaded over FTPS by the bonus test at ${new Date().toISOString()}\n`;
    const local = join(workDir, name);
    await writeFile(local, content);
    const upload = await ftps(['--upload-file', local, `ftp://127.0.0.1/${name}`]);
    expect(upload.exitCode, upload.stderr).toBe(0);
    const served = await site.request(`/${name}`);
    expect(served.status).toBe(200);
    expect(served.body).toBe(content);
    // Owned like WordPress's own files, so that WordPress can manage it.
    expect(await docker(['exec', 'wordpress', 'stat', '-c', '%U %a', `/var/www/html/${name}`])).toBe('www-data 644');

    const clearText = await ftps(['--list-only', 'ftp://127.0.0.1/'], { tls: false });
    expect(clearText.exitCode, 'a login without TLS must fail').not.toBe(0);
    const anonymous = await execa('curl', ['--silent', '--max-time', '20', '--ssl-reqd', '--insecure', '--list-only', 'ftp://127.0.0.1/'], { reject: false, timeout: CURL_TIMEOUT_MS });
    expect(anonymous.exitCode, 'anonymous login must fail').not.toBe(0);
  });

  it('B03: the static site answers at /site/ through nginx over TLS, without PHP', async () => {
    const page = await site.request('/site/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Inception: the layers of this lab</title>');
    expect(page.body).not.toContain('wp-content');
    expect((await site.request('/site/style.css')).body).toContain('font-family');
    const bare = await site.request('/site');
    expect([bare.status, bare.location]).toEqual([301, `https://${domain}/site/`]);
  });

  it("B04: Adminer's login page answers over TLS and logs into MariaDB with the WordPress database user", async () => {
    const login = await site.request('/adminer/');
    expect(login.status).toBe(200);
    expect(login.body).toMatch(/name=["']?auth\[username\]/);
    const jar = join(workDir, 'adminer-cookies.txt');
    await site.request('/adminer/', ['--cookie-jar', jar, '--output', '/dev/null']);
    const password = await readSecret(projectDir, 'db_password.txt');
    const form = { 'auth[driver]': 'server', 'auth[server]': 'mariadb', 'auth[username]': 'wpuser', 'auth[password]': password, 'auth[db]': 'wordpress' };
    const data = Object.entries(form).flatMap(([k, v]) => ['--data-urlencode', `${k}=${v}`]);
    const posted = await site.request('/adminer/', ['--cookie', jar, '--cookie-jar', jar, ...data]);
    expect(posted.status, 'a successful Adminer login redirects').toBe(302);
    const tables = await site.request(posted.location.replace(`https://${domain}`, ''), ['--cookie', jar]);
    expect(tables.status).toBe(200);
    expect(tables.body).toContain('wp_posts');
  });

  it('B05: the status page shows every service up', async () => {
    const page = await site.request('/status/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('8/8 services up');
    const api = JSON.parse((await site.request('/status/api')).body) as { services: { name: string; up: boolean }[] };
    expect(api.services.map((s) => [s.name, s.up])).toEqual(STATUS_ORDER.map((name) => [name, true]));
  });

  it('check/bonus.ts passes every B01–B05 check against the live stack', async () => {
    const secrets = new Map([['ftp_password.txt', await readSecret(projectDir, 'ftp_password.txt')]]);
    const io: BonusIo = {
      // The lab's `remote` runs argv as root in the VM; here the engine is local.
      remote: async (argv, opts = {}) => {
        const r = await execa(argv[0]!, argv.slice(1), { reject: false, timeout: CURL_TIMEOUT_MS });
        const code = r.exitCode ?? -1;
        if (!(opts.okCodes ?? [0]).includes(code)) throw new Error(`${argv.join(' ')} exited ${code}: ${r.stderr}`);
        return { stdout: r.stdout, code };
      },
      ip: '127.0.0.1',
      domain,
      secrets,
    };
    const results = await bonusLiveChecks(io);
    expect(results.filter((r) => r.verdict !== 'pass')).toEqual([]);
    expect(results.map((r) => r.id).sort()).toEqual(
      ['B01.healthy', 'B01.redis-keys', 'B02.healthy', 'B02.ftp-port', 'B02.ftp-login', 'B02.ftp-anonymous', 'B03.healthy', 'B03.static-site', 'B04.healthy', 'B04.adminer', 'B05.healthy', 'B05.status'].sort(),
    );
  });
});

describe('the same project without bonus (make)', () => {
  it('make right after make bonus: only the mandatory containers, only 443, no bonus route, no object cache', async () => {
    timings['make after make bonus (switch bonus off)'] = seconds(await make(projectDir, undefined, makeVars, UP_TIMEOUT_MS, logFile));
    for (const name of BONUS_CONTAINERS) expect(await containerState(name), name).toBeUndefined();
    for (const name of STACK_CONTAINERS) expect((await containerState(name))?.health, name).toBe('healthy');

    expect(await projectPorts()).toEqual({ mariadb: '', nginx: '443/tcp -> 0.0.0.0:443', wordpress: '' });
    expect((await execa('curl', ['--silent', '--max-time', '5', 'ftp://127.0.0.1/'], { reject: false })).exitCode, 'nothing on port 21').not.toBe(0);
    // nginx starts and serves WordPress; /site/, /adminer/, /status/ are plain WordPress URLs
    // again (with WordPress's default plain permalinks, any path shows the home page).
    expect((await site.request('/')).status).toBe(200);
    for (const path of ['/site/', '/adminer/', '/status/']) {
      const r = await site.request(path);
      expect(r.body, path).toContain(settings.title);
      expect(r.body, path).not.toMatch(/Inception: the layers|auth\[username\]|services up/);
    }
    expect(await docker(['exec', 'nginx', 'ls', '/etc/nginx/bonus.d'])).toBe('');
    const wpConfig = await docker(['exec', 'wordpress', 'cat', '/var/www/html/wp-config.php']);
    expect(wpConfig).not.toContain('WP_REDIS_HOST');
    expect((await execa('docker', ['exec', 'wordpress', 'test', '-e', '/var/www/html/wp-content/object-cache.php'], { reject: false })).exitCode).not.toBe(0);
  });

  it('make bonus brings the bonus services back from their images, and make down stops all eight', async () => {
    timings['make bonus again (warm)'] = seconds(await make(projectDir, 'bonus', makeVars, UP_TIMEOUT_MS, logFile));
    for (const name of ALL_CONTAINERS) expect((await containerState(name))?.health, name).toBe('healthy');
    await make(projectDir, 'down', makeVars, UP_TIMEOUT_MS, logFile);
    for (const name of ALL_CONTAINERS) expect(await containerState(name), name).toBeUndefined();
  });
});
