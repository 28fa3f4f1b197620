import { cp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { gitignores, interpolate } from '../../check/project.js';
import { checkStatic, passwordAssignment, passwordLeak } from '../../check/static.js';
import { tempDir } from '../helpers/temp.js';

// Each fixture is labctl's own compose/ with one small edit made at test time; `check --static`
// must flag it under the right rule id. compose/ itself must pass.

const COMPOSE = resolve(import.meta.dirname, '..', '..', 'compose');
const FILE = 'srcs/docker-compose.yml';

async function copyProject(): Promise<string> {
  const dir = join(await tempDir('labctl-check-'), 'project');
  await cp(COMPOSE, dir, { recursive: true, filter: (src) => !src.includes(`${COMPOSE}/secrets/`) });
  await mkdir(join(dir, 'secrets'), { recursive: true });
  return dir;
}

async function edit(dir: string, file: string, change: (text: string) => string): Promise<void> {
  const path = join(dir, file);
  const before = await readFile(path, 'utf8');
  const after = change(before);
  if (after === before) throw new Error(`fixture edit of ${file} changed nothing`);
  await writeFile(path, after);
}

type Compose = { services: Record<string, Record<string, unknown>>; volumes: Record<string, Record<string, unknown>>; networks?: unknown };
const editCompose = (dir: string, change: (c: Compose) => void) =>
  edit(dir, FILE, (text) => {
    const c = parse(text) as Compose;
    change(c);
    return stringify(c);
  });

const violations: [string, string, (dir: string) => Promise<void>][] = [
  ['no Makefile', 'M01.makefile', (d) => rm(join(d, 'Makefile'))],
  ['no compose file', 'M01.compose-file', (d) => rm(join(d, FILE))],
  ['a mandatory service missing', 'M02.service-mariadb', (d) => editCompose(d, (c) => void delete c.services.mariadb)],
  ['a ready-made image', 'M03.build-nginx', (d) => editCompose(d, (c) => void delete c.services.nginx?.build)],
  ['FROM another image', 'M03.from-nginx', (d) => edit(d, 'srcs/requirements/nginx/Dockerfile', (t) => t.replace(/^FROM debian:bookworm/m, 'FROM nginx:1.27'))],
  ['FROM the newest Debian', 'M03.from-mariadb', (d) => edit(d, 'srcs/requirements/mariadb/Dockerfile', (t) => t.replace(/^FROM debian:bookworm/m, 'FROM debian:trixie'))],
  ['nginx in the wordpress image through apt-get -y install', 'M06.no-nginx-wordpress', (d) => edit(d, 'srcs/requirements/wordpress/Dockerfile', (t) => `${t}\nRUN apt-get -y install --no-install-recommends nginx\n`)],
  ['FROM a floating alias (oldstable)', 'M03.from-mariadb', (d) => edit(d, 'srcs/requirements/mariadb/Dockerfile', (t) => t.replace(/^FROM debian:bookworm/m, 'FROM debian:oldstable'))],
  ['FROM without a tag (latest)', 'M04.no-latest', (d) => edit(d, 'srcs/requirements/nginx/Dockerfile', (t) => t.replace(/^FROM debian:bookworm/m, 'FROM debian'))],
  ['an ARG default that floats', 'M03.from-nginx', (d) => edit(d, 'srcs/requirements/nginx/Dockerfile', (t) => t.replace(/^FROM debian:bookworm/m, 'ARG SUITE=stable\nFROM debian:${SUITE}'))],
  ['image not named after its service', 'M04.image-wordpress', (d) => editCompose(d, (c) => void ((c.services.wordpress ?? {}).image = 'wp:inception'))],
  ['the latest tag', 'M04.no-latest', (d) => editCompose(d, (c) => void ((c.services.nginx ?? {}).image = 'nginx:latest'))],
  ['port 80 published', 'M05.only-443', (d) => editCompose(d, (c) => void ((c.services.nginx ?? {}).ports = ['443:443', '80:80']))],
  ['wordpress published', 'M05.only-443', (d) => editCompose(d, (c) => void ((c.services.wordpress ?? {}).ports = ['9000:9000']))],
  ['TLS 1.1 allowed', 'M05.tls-protocols', (d) => editProtocols(d)],
  ['nginx in the wordpress image', 'M06.no-nginx-wordpress', (d) => edit(d, 'srcs/requirements/wordpress/Dockerfile', (t) => t.replace(/(apt-get install[^\n]*)/, '$1 nginx'))],
  ['a bind mount for the database', 'M07.named-mariadb', (d) => editCompose(d, (c) => void ((c.services.mariadb ?? {}).volumes = ['/home/jdoe/data/mariadb:/var/lib/mysql']))],
  ['volume data outside /home/<login>/data', 'M07.location-wordpress', (d) => editCompose(d, (c) => void ((c.volumes.wordpress ?? {}).driver_opts = { type: 'none', o: 'bind', device: '/tmp/wordpress' }))],
  ['network_mode host', 'M08.network-mode-nginx', (d) => editCompose(d, (c) => void ((c.services.nginx ?? {}).network_mode = 'host'))],
  ['links', 'M08.links-nginx', (d) => editCompose(d, (c) => void ((c.services.nginx ?? {}).links = ['wordpress']))],
  ['no network', 'M08.network', (d) => editCompose(d, (c) => {
    delete c.networks;
    for (const s of Object.values(c.services)) delete s.networks;
  })],
  ['no restart policy', 'M09.restart-mariadb', (d) => editCompose(d, (c) => void delete c.services.mariadb?.restart)],
  ['tail -f as a keep-alive', 'M10.no-waiting-loops', (d) => edit(d, 'srcs/requirements/nginx/tools/entrypoint.sh', (t) => `${t}\ntail -f /dev/null\n`)],
  ['compose command: tail -f on mariadb', 'M10.pid1-mariadb', (d) => editCompose(d, (c) => void ((c.services.mariadb ?? {}).command = 'tail -f /dev/null'))],
  ['an entrypoint that runs the daemon without exec', 'M10.pid1-nginx', (d) => edit(d, 'srcs/requirements/nginx/tools/entrypoint.sh', (t) => t.replace(/^exec "\$@"$/m, '"$@"'))],
  ['a shell as PID 1', 'M10.pid1-nginx', (d) => edit(d, 'srcs/requirements/nginx/Dockerfile', (t) => `${t}\nCMD ["bash"]\n`)],
  ['a password in a Dockerfile', 'M12.no-passwords', (d) => edit(d, 'srcs/requirements/mariadb/Dockerfile', (t) => `${t}\nENV MYSQL_ROOT_PASSWORD=hunter22\n`)],
  ['a secret tracked by git', 'M12.secrets-untracked', async (d) => {
    await writeFile(join(d, 'secrets', 'db_password.txt'), 'x\n');
    await execa('git', ['init', '-q'], { cwd: d });
    await execa('git', ['add', '-f', 'secrets/db_password.txt'], { cwd: d });
  }],
  ['a password in an entrypoint script', 'M12.no-passwords', (d) => edit(d, 'srcs/requirements/mariadb/tools/entrypoint.sh', (t) => `${t}\nDB_PASS=hunter2secret\n`)],
  ['a password in a committed .sql file', 'M12.no-passwords', async (d) => writeFile(join(d, 'srcs/requirements/mariadb/conf/init.sql'), "CREATE USER 'wp'@'%' IDENTIFIED BY 'hunter2secret';\n")],
  ['a password as a build argument', 'M12.no-passwords', (d) => edit(d, 'srcs/requirements/wordpress/Dockerfile', (t) => `${t}\nARG FTP_PASSWORD\n`)],
  ['a password in wp-config.php', 'M12.no-passwords', async (d) => writeFile(join(d, 'srcs/requirements/wordpress/conf/wp-config.php'), "<?php\ndefine('DB_PASSWORD', 'hunter2secret');\n")],
  ['an administrator named Admin42 in .env', 'M11.admin-name-in-files', (d) => edit(d, 'srcs/.env.example', (t) => t.replace(/^WP_ADMIN_USER=.*$/m, 'WP_ADMIN_USER=Admin42'))],
  ['an install that creates no second user', 'M11.creates-two-users', (d) => edit(d, 'srcs/requirements/wordpress/tools/wp-setup.php', (t) => t.replace(/wp_insert_user\s*\(/g, 'wp_update_user(').replace(/wp_insert_user/g, 'wp_update_user'))],
  ['two volumes on one folder', 'M07.distinct-dirs', (d) => editCompose(d, (c) => void ((c.volumes.wordpress ?? {}).driver_opts = (c.volumes.mariadb ?? {}).driver_opts))],
  ['no .gitignore', 'M12.gitignored', (d) => rm(join(d, '.gitignore'))],
  ['a .gitignore that misses srcs/.env', 'M12.gitignored', (d) => writeFile(join(d, '.gitignore'), 'secrets/\n')],
  ['README first line', 'M14.readme-first-line', (d) => edit(d, 'README.md', (t) => t.replace(/^[^\n]*/, '# Inception'))],
  ['README without Resources', 'M14.readme-sections', (d) => edit(d, 'README.md', (t) => t.replace(/^#+\s*Resources.*$/im, '## Links'))],
  ['no DEV_DOC.md', 'M14.dev-doc', (d) => rm(join(d, 'DEV_DOC.md'))],
];

async function editProtocols(dir: string): Promise<void> {
  const { readdir } = await import('node:fs/promises');
  const confDir = join(dir, 'srcs/requirements/nginx/conf');
  for (const f of await readdir(confDir)) {
    const text = await readFile(join(confDir, f), 'utf8');
    if (/ssl_protocols/.test(text)) {
      await writeFile(join(confDir, f), text.replace(/ssl_protocols[^;]*;/, 'ssl_protocols TLSv1.1 TLSv1.2 TLSv1.3;'));
      return;
    }
  }
  throw new Error('no ssl_protocols line to edit');
}

describe('labctl check --static', () => {
  it('passes labctl\'s own compose/', async () => {
    const results = await checkStatic(await copyProject());
    expect(results.filter((r) => r.verdict === 'fail')).toEqual([]);
    expect(results.filter((r) => r.verdict === 'pass').length).toBeGreaterThan(40);
  });

  it('takes pinned bases and a "latest" download URL for what they are (no failure)', async () => {
    const dir = await copyProject();
    await edit(dir, 'srcs/requirements/mariadb/Dockerfile', (t) => t.replace(/^FROM debian:bookworm/m, 'FROM debian:bookworm@sha256:0123456789abcdef'));
    await edit(dir, 'srcs/requirements/nginx/Dockerfile', (t) => t.replace(/^FROM debian:bookworm/m, 'ARG SUITE=bookworm\nFROM debian:${SUITE}-slim'));
    await edit(dir, 'srcs/requirements/wordpress/Dockerfile', (t) => `${t}\n# fetched like many projects do:\nRUN echo https://wordpress.org/latest.tar.gz >/dev/null\n`);
    const results = await checkStatic(dir);
    expect(results.filter((r) => r.verdict === 'fail')).toEqual([]);
    expect(results.find((r) => r.id === 'M03.from-nginx')).toMatchObject({ verdict: 'pass' });
  });

  it('a volume folder from a variable srcs/.env does not set is a skip naming it, not "/data/mariadb"', async () => {
    const dir = await copyProject();
    await editCompose(dir, (c) => void ((c.volumes.mariadb ?? {}).driver_opts = { type: 'none', o: 'bind', device: '${HOME}/data/mariadb' }));
    expect((await checkStatic(dir)).find((r) => r.id === 'M07.location-mariadb')).toMatchObject({ verdict: 'skip', reason: expect.stringContaining('${HOME}') });
  });

  it.each([
    ['secrets/', 'secrets/x', true], ['/secrets', 'secrets/x', true], ['secrets/*\n!secrets/.gitkeep', 'secrets/x', true], ['*.env', 'srcs/.env', true],
    ['.env', 'srcs/.env', true], ['srcs/.env', 'srcs/.env', true], ['**/.env', 'srcs/.env', true], ['/.env', 'srcs/.env', false],
    ['secrets\n!secrets', 'secrets/x', false], ['# secrets/', 'secrets/x', false], ['srcs/*.example', 'srcs/.env', false],
  ])('.gitignore %j ignores %s: %s', (text, path, want) => {
    expect(gitignores(text, path)).toBe(want);
  });

  it('finds a bonus service by what its image installs, and wants an extra one explained in the docs', async () => {
    const dir = await copyProject();
    const site = join(dir, 'srcs/requirements/bonus/custom_page');
    await mkdir(site, { recursive: true });
    await writeFile(join(site, 'Dockerfile'), 'FROM debian:bookworm\nRUN apt-get update && apt-get install -y lighttpd\nCMD ["lighttpd", "-D", "-f", "/etc/lighttpd/lighttpd.conf"]\n');
    const extra = join(dir, 'srcs/requirements/bonus/webring');
    await mkdir(extra, { recursive: true });
    await writeFile(join(extra, 'Dockerfile'), 'FROM debian:bookworm\nRUN apt-get update && apt-get install -y apache2\nCMD ["apache2ctl", "-D", "FOREGROUND"]\n');
    await editCompose(dir, (c) => {
      delete c.services.website;
      c.services.custom_page = { build: 'requirements/bonus/custom_page', image: 'custom_page', restart: 'always', networks: ['inception'], profiles: ['bonus'] };
      c.services.webring = { build: 'requirements/bonus/webring', image: 'webring', restart: 'always', networks: ['inception'], profiles: ['bonus'] };
    });
    const results = await checkStatic(dir);
    expect(results.find((r) => r.id === 'B03.service')).toMatchObject({ verdict: 'pass', reason: 'bonus service custom_page (by what its image installs)' });
    expect(results.find((r) => r.id === 'B05.service')).toMatchObject({ verdict: 'fail', reason: expect.stringContaining('webring not explained') });
  });

  it('a service or secret with no body (extra:) is named under M01.compose-shape, and every other rule still has its verdict', async () => {
    const dir = await copyProject();
    await edit(dir, FILE, (t) => t.replace(/^services:\n/m, 'services:\n  extra:\n').replace(/^secrets:\n/m, 'secrets:\n  empty_secret:\n'));
    const results = await checkStatic(dir);
    expect(results.find((r) => r.id === 'M01.compose-shape')).toMatchObject({ verdict: 'fail', reason: expect.stringMatching(/services\.extra: expected a mapping .* got null \(and 1 more\)/) });
    expect(results.find((r) => r.id === 'M02.service-nginx')?.verdict).toBe('pass');
    expect(results.filter((r) => r.verdict === 'fail').map((r) => r.id)).toEqual(['M01.compose-shape']);
  });

  it("a tail -f in the Makefile's logs target is no container's PID 1", async () => {
    const dir = await copyProject();
    await edit(dir, 'Makefile', (t) => `${t}\nfollow:\n\tdocker compose -f srcs/docker-compose.yml logs | tail -f\n`);
    expect((await checkStatic(dir)).find((r) => r.id === 'M10.no-waiting-loops')).toMatchObject({ verdict: 'pass' });
  });

  it('a password leak names the file, the line and the variable, never the value', async () => {
    const dir = await copyProject();
    await edit(dir, 'srcs/requirements/mariadb/tools/entrypoint.sh', (t) => `${t}\nexport DB_PASS="hunter2secret"\n`);
    const leak = (await checkStatic(dir)).find((r) => r.id === 'M12.no-passwords');
    const lines = (await readFile(join(dir, 'srcs/requirements/mariadb/tools/entrypoint.sh'), 'utf8')).split('\n').length - 1;
    expect(leak).toMatchObject({ verdict: 'fail', evidence: `srcs/requirements/mariadb/tools/entrypoint.sh:${lines}: DB_PASS=***` });
    expect(JSON.stringify(leak)).not.toContain('hunter2secret');
  });

  it.each([
    ['PASSWORD_FILES=(a.txt b.txt)'], ['$password = file_get_contents($secret);'], ['  die "check the secrets: section of the file"'],
    ['DB_PASSWORD_FILE=/run/secrets/db_password'], ['WP_ADMIN_PASSWORD="$(cat /run/secrets/wp_admin)"'], ["define('DB_PASSWORD', getenv('DB_PASSWORD'));"],
    ['mysql -e "CREATE USER wp IDENTIFIED BY \'${DB_PASS}\'"'], ['PASS=<your password here>'],
  ])('is no password literal in a script or doc: %s', (line) => {
    expect(passwordLeak(line, true)).toBeUndefined();
  });

  it('a base chosen at build time (ARG without default) is a skip naming the variable', async () => {
    const dir = await copyProject();
    await edit(dir, 'srcs/requirements/nginx/Dockerfile', (t) => t.replace(/^FROM debian:bookworm/m, 'ARG BASE\nFROM ${BASE}'));
    expect((await checkStatic(dir)).find((r) => r.id === 'M03.from-nginx')).toMatchObject({ verdict: 'skip', reason: expect.stringContaining('${BASE}') });
  });

  it.each(violations)('flags %s as %s', async (_label, id, breakIt) => {
    const dir = await copyProject();
    await breakIt(dir);
    const failed = (await checkStatic(dir)).filter((r) => r.verdict === 'fail');
    expect(failed.map((r) => r.id)).toContain(id);
  });
});

// The patterns that were quadratic in line length (issue 13) were rewritten; on ordinary lines the
// new code must decide exactly as the old patterns did. These are the old patterns, verbatim.
const OLD_PASSWORD = /\b[A-Z0-9_]*(PASSWORD|PASSWD|PASS|PWD|SECRET)[A-Z0-9_]*\s*[=:]\s*["']?([^\s"'$]{3,})/i;
const oldInterpolate = (value: string, env: Record<string, string>) =>
  value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, braced?: string, op?: string, fallback?: string, bare?: string) => {
    if (m === '$$') return '$';
    const v = env[braced ?? bare ?? ''];
    if (op === ':-') return v === undefined || v === '' ? (fallback ?? '') : v;
    if (op === '-') return v === undefined ? (fallback ?? '') : v;
    return v ?? '';
  });

describe('linear rewrites decide as the old patterns', () => {
  const assignments = [
    'ENV MYSQL_ROOT_PASSWORD=hunter22', 'ENV DB_PASS ab', 'password: "s3cret"', "x_pwd='abc'", 'PASS=ab PASS=abcd', 'FOO=PASSWORD=secret', 'MY_SECRET :  /run/secrets/x',
    'WORDPRESS_DB_PASSWORD_FILE: /run/secrets/db', 'passwd=$VAR', 'secretary=bob', 'a PASSWORD= "xy"', 'PWD=${HOME}', 'export SECRET_KEY=k3y', 'nothing here', 'PASSPASSPASS', 'S=PASS:abcd',
  ];
  it.each(assignments)('password assignment in %j', (line) => {
    const old = OLD_PASSWORD.exec(line);
    const now = passwordAssignment(line);
    expect(now?.value).toBe(old?.[2]);
    if (now && old) expect(line.slice(now.start, now.start + now.value.length)).toBe(old[2]);
  });

  const env = { A: 'a', E: '', LONG_NAME: 'v' };
  const strings = ['${A}', '$A-$B', '${A:-x}', '${E:-x}', '${E-x}', '${B-y}z', '$$A', '${A', '${A-', '${A:x}', '${1}', '$', '$1', 'a${A}b${LONG_NAME}c', '${A-${B}}', '${B:-${A-q}} tail }', '$$$A'];
  it.each(strings)('interpolation of %j', (s) => expect(interpolate(s, env)).toBe(oldInterpolate(s, env)));
});

describe('check --static time limit', () => {
  it('reports skip "time limit" for every rule group once the deadline has passed', async () => {
    const results = await checkStatic(await copyProject(), { timeoutMs: 0 });
    expect(results.filter((r) => r.verdict === 'fail')).toEqual([]);
    expect(results.filter((r) => r.id.endsWith('.time-limit')).length).toBe(14);
  });
});
