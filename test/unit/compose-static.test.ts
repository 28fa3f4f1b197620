import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// Static checks of compose/ against the subject's rules (../shared/SUBJECT.md), the way graders
// read the files before they run anything: no Docker needed.

const COMPOSE_DIR = fileURLToPath(new URL('../../compose/', import.meta.url));
const SRCS = join(COMPOSE_DIR, 'srcs');
const MANDATORY_SERVICES = ['nginx', 'wordpress', 'mariadb'] as const;
const ALLOWED_RESTART_POLICIES = ['always', 'unless-stopped', 'on-failure'];

interface ComposeService {
  image?: string;
  profiles?: string[];
  build?: string | { context?: string };
  restart?: string;
  ports?: unknown[];
  network_mode?: string;
  links?: unknown;
  volumes?: unknown[];
  networks?: unknown;
  healthcheck?: { test?: unknown };
  depends_on?: Record<string, { condition?: string }> | string[];
  environment?: Record<string, string> | string[];
  secrets?: unknown[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, { driver?: string; driver_opts?: Record<string, string> } | null>;
  networks?: Record<string, { driver?: string } | null>;
  secrets?: Record<string, { file?: string }>;
}

const composeText = readFileSync(join(SRCS, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as ComposeFile;

/** Every regular file under dir, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

/** What graders grep: the project's own files (compose, Dockerfiles, scripts, conf, Makefile). */
const projectFiles = filesUnder(COMPOSE_DIR).filter((path) => {
  const rel = relative(COMPOSE_DIR, path);
  return !rel.startsWith('secrets/') && rel !== 'srcs/.env';
});
const codeFiles = projectFiles.filter((path) => !path.endsWith('.md'));

function serviceDir(name: string): string {
  return join(SRCS, 'requirements', name);
}

function mountSources(service: ComposeService): string[] {
  return (service.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0]! : String((v as { source?: string }).source)));
}

describe('compose/ layout (M01, M14)', () => {
  it('has the Makefile, compose file, .env.example, secrets folder and the three docs', () => {
    for (const rel of ['Makefile', 'srcs/docker-compose.yml', 'srcs/.env.example', 'secrets/.gitkeep', 'README.md', 'USER_DOC.md', 'DEV_DOC.md']) {
      expect(statSync(join(COMPOSE_DIR, rel)).isFile(), rel).toBe(true);
    }
    expect(statSync(join(SRCS, 'requirements', 'bonus')).isDirectory()).toBe(true);
  });

  it('has one folder per mandatory service with Dockerfile, conf/, tools/ and .dockerignore', () => {
    for (const name of MANDATORY_SERVICES) {
      const dir = serviceDir(name);
      expect(statSync(join(dir, 'Dockerfile')).isFile(), `${name}/Dockerfile`).toBe(true);
      expect(statSync(join(dir, 'conf')).isDirectory(), `${name}/conf`).toBe(true);
      expect(statSync(join(dir, 'tools')).isDirectory(), `${name}/tools`).toBe(true);
      expect(statSync(join(dir, '.dockerignore')).isFile(), `${name}/.dockerignore`).toBe(true);
    }
  });

  it('has the Makefile targets graders and labctl use, all being the default', () => {
    const makefile = readFileSync(join(COMPOSE_DIR, 'Makefile'), 'utf8');
    const targets = [...makefile.matchAll(/^([a-z][a-z-]*):/gm)].map((m) => m[1]);
    expect(targets[0]).toBe('all');
    for (const target of ['all', 'down', 'clean', 'fclean', 're', 'ps', 'logs', 'bonus']) expect(targets).toContain(target);
  });

  it('README.md starts with the curriculum line (login filled in by labctl) and has the required sections', () => {
    const readme = readFileSync(join(COMPOSE_DIR, 'README.md'), 'utf8');
    expect(readme.split('\n')[0]).toBe('*This project has been created as part of the 42 curriculum by {{LOGIN}}.*');
    for (const section of ['Description', 'Instructions', 'Resources']) expect(readme).toMatch(new RegExp(`^#+ ${section}`, 'm'));
    for (const topic of [/virtual machines?.*docker/i, /secrets.*environment variables/i, /docker network.*host network/i, /docker volumes.*bind mounts/i]) {
      expect(readme).toMatch(topic);
    }
  });
});

describe('images (M03, M04)', () => {
  it('builds exactly the three mandatory services without a profile (the bonus ones are in the profile "bonus")', () => {
    const mandatory = Object.entries(compose.services).filter(([, s]) => s.profiles === undefined).map(([name]) => name);
    expect(mandatory.sort()).toEqual([...MANDATORY_SERVICES].sort());
  });

  it.each(MANDATORY_SERVICES)('%s: Dockerfile starts FROM debian:bookworm and uses Debian packages only', (name) => {
    const dockerfile = readFileSync(join(serviceDir(name), 'Dockerfile'), 'utf8');
    const instructions = dockerfile.split('\n').filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
    expect(instructions[0]).toBe('FROM debian:bookworm');
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(1);
    // Nothing fetched from outside Debian's archive: no curl/wget of URLs, no ADD of a URL.
    expect(dockerfile).not.toMatch(/\b(curl|wget)\b[^\n]*https?:\/\//);
    expect(dockerfile).not.toMatch(/^ADD\s+https?:/m);
  });

  it.each(MANDATORY_SERVICES)('%s: image is named after the service, built from its own folder, never latest', (name) => {
    const service = compose.services[name]!;
    const [repository, tag] = (service.image ?? '').split(':');
    expect(repository).toBe(name);
    // Without a tag Docker would call it name:latest.
    expect(tag).toBeTruthy();
    expect(tag).not.toBe('latest');
    const context = typeof service.build === 'string' ? service.build : service.build?.context;
    expect(context).toBe(`./requirements/${name}`);
  });

  it('no file of the project contains the word graders grep for: latest', () => {
    for (const file of projectFiles) expect(readFileSync(file, 'utf8'), relative(COMPOSE_DIR, file)).not.toMatch(/latest/i);
  });
});

describe('forbidden patterns (M08, M10)', () => {
  const forbidden: [string, RegExp][] = [
    ['network_mode: host', /network_mode\s*:\s*["']?host/],
    ['links:', /^\s*links\s*:/m],
    ['--link', /--link\b/],
    ['tail -f', /tail\s+-f/],
    ['sleep infinity', /sleep\s+infinity/],
    ['while true', /while\s+(true|:|\[\s*1\s*\])/],
    ['a process sent to the background (&)', /(^|[^&])&\s*$/m],
  ];
  it.each(forbidden)('no %s in compose, Dockerfiles, scripts or Makefile', (_label, pattern) => {
    for (const file of codeFiles) expect(readFileSync(file, 'utf8'), relative(COMPOSE_DIR, file)).not.toMatch(pattern);
  });

  it.each(MANDATORY_SERVICES)('%s: the entrypoint ends by exec-ing the daemon (PID 1)', (name) => {
    const entrypoint = readFileSync(join(serviceDir(name), 'tools', 'entrypoint.sh'), 'utf8');
    expect(entrypoint).toMatch(/^\s*exec\s+\S/m);
    const dockerfile = readFileSync(join(serviceDir(name), 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ENTRYPOINT \[/m);
    expect(dockerfile).toMatch(/^CMD \[/m);
  });
});

describe('services (M05, M06, M09)', () => {
  it.each(MANDATORY_SERVICES)('%s: has a restart policy, a health check and the private network', (name) => {
    const service = compose.services[name]!;
    expect(ALLOWED_RESTART_POLICIES).toContain(service.restart);
    expect(service.healthcheck?.test).toBeTruthy();
    expect(service.network_mode).toBeUndefined();
    expect(service.networks).toEqual(['inception']);
  });

  it('only nginx publishes a port, and only 443', () => {
    expect(compose.services.nginx!.ports).toEqual(['443:443']);
    expect(compose.services.wordpress!.ports).toBeUndefined();
    expect(compose.services.mariadb!.ports).toBeUndefined();
  });

  it('starts in order: nginx after a healthy wordpress, wordpress after a healthy mariadb', () => {
    expect(compose.services.nginx!.depends_on).toEqual({ wordpress: { condition: 'service_healthy' } });
    expect(compose.services.wordpress!.depends_on).toEqual({ mariadb: { condition: 'service_healthy' } });
  });

  it('nginx speaks TLS 1.2/1.3 only, listens on 443 only and passes PHP to wordpress:9000', () => {
    const conf = readFileSync(join(serviceDir('nginx'), 'conf', 'nginx.conf'), 'utf8');
    const site = readFileSync(join(serviceDir('nginx'), 'conf', 'inception.conf.template'), 'utf8');
    expect(conf).toMatch(/^\s*ssl_protocols TLSv1\.2 TLSv1\.3;/m);
    const allNginx = `${conf}\n${site}`;
    expect(allNginx).not.toMatch(/TLSv1(\.1)?[\s;]/);
    expect([...allNginx.matchAll(/^\s*listen\s+([^;]+);/gm)].map((m) => m[1])).toEqual(['443 ssl http2']);
    expect(site).toMatch(/wordpress:9000/);
  });

  it('wordpress has no web server and mariadb no nginx (M06)', () => {
    expect(readFileSync(join(serviceDir('wordpress'), 'Dockerfile'), 'utf8')).not.toMatch(/\b(nginx|apache2)\b.*install|install[^\n]*\b(nginx|apache2)\b/);
    expect(readFileSync(join(serviceDir('mariadb'), 'Dockerfile'), 'utf8')).not.toMatch(/nginx/);
  });
});

describe('volumes and network (M07, M08)', () => {
  it('has two named local volumes bound under DATA_PATH', () => {
    expect(compose.volumes).toEqual({
      mariadb: { driver: 'local', driver_opts: { type: 'none', o: 'bind', device: '${DATA_PATH}/mariadb' } },
      wordpress: { driver: 'local', driver_opts: { type: 'none', o: 'bind', device: '${DATA_PATH}/wordpress' } },
    });
  });

  it('mounts only named volumes (no host path bind mounts)', () => {
    expect(mountSources(compose.services.mariadb!)).toEqual(['mariadb']);
    expect(mountSources(compose.services.wordpress!)).toEqual(['wordpress']);
    expect(mountSources(compose.services.nginx!)).toEqual(['wordpress']);
  });

  it('declares one user-defined bridge network', () => {
    expect(compose.networks).toEqual({ inception: { name: 'inception', driver: 'bridge' } });
  });
});

describe('secrets (M12)', () => {
  it('takes every password and the TLS key from Docker secret files in ../secrets/', () => {
    expect(Object.values(compose.secrets ?? {}).map((s) => s.file).sort()).toEqual(
      ['db_password.txt', 'db_root_password.txt', 'ftp_password.txt', 'tls.crt', 'tls.key', 'wp_admin_password.txt', 'wp_user_password.txt'].map((f) => `../secrets/${f}`),
    );
  });

  it('passes no password through the environment', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const env = service.environment ?? {};
      const keys = Array.isArray(env) ? env.map((e) => e.split('=')[0]!) : Object.keys(env);
      for (const key of keys.filter((k) => /PASSWORD|PASS|SECRET|KEY/i.test(k))) {
        expect(key, `${name}: ${key}`).toMatch(/_FILE$/);
      }
    }
  });

  it('has no password, private key or secret value in any project file', () => {
    for (const file of codeFiles) {
      const text = readFileSync(file, 'utf8');
      const rel = relative(COMPOSE_DIR, file);
      expect(text, rel).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
      expect(text, rel).not.toMatch(/(PASSWORD|PASSWD|_PASS)\s*[=:]\s*["']?[A-Za-z0-9_\-+/]{8,}/i);
      expect(text, rel).not.toMatch(/IDENTIFIED BY '[^'$]/);
    }
    // The settings file holds no password either: no key of .env.example is about one.
    const keys = readFileSync(join(SRCS, '.env.example'), 'utf8').match(/^[A-Z_]+(?==)/gm) ?? [];
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((key) => /PASS|SECRET/.test(key))).toEqual([]);
  });

  it('keeps secrets/ and srcs/.env out of git', () => {
    const ignored = (path: string): boolean => {
      try {
        execFileSync('git', ['check-ignore', '-q', '--no-index', path], { cwd: COMPOSE_DIR, stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    };
    for (const path of ['secrets/db_password.txt', 'secrets/db_root_password.txt', 'secrets/ftp_password.txt', 'secrets/wp_admin_password.txt', 'secrets/wp_user_password.txt', 'secrets/tls.key', 'secrets/tls.crt', 'srcs/.env']) {
      expect(ignored(path), path).toBe(true);
    }
    expect(ignored('secrets/.gitkeep')).toBe(false);
    expect(ignored('srcs/.env.example')).toBe(false);
  });
});

describe('the wordpress install (M11)', () => {
  it('.env.example names an administrator without "admin" and a second, different user', () => {
    const env = Object.fromEntries(
      readFileSync(join(SRCS, '.env.example'), 'utf8')
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    for (const key of ['LOGIN', 'DOMAIN_NAME', 'DATA_PATH', 'WP_TITLE', 'WP_ADMIN_USER', 'WP_ADMIN_EMAIL', 'WP_USER', 'WP_USER_EMAIL', 'MYSQL_DATABASE', 'MYSQL_USER']) {
      expect(env[key], key).toBeTruthy();
    }
    expect(env.WP_ADMIN_USER).not.toMatch(/admin/i);
    expect(env.WP_USER).not.toBe(env.WP_ADMIN_USER);
    expect(env.DOMAIN_NAME).toBe('{{LOGIN}}.42.fr');
    expect(env.DATA_PATH).toBe('/home/{{LOGIN}}/data');
  });
});
