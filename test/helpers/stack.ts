import { cp, readFile, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

// Helpers for the stack test: a copy of compose/ in a temp dir, driven through its own Makefile
// against a real dockerd, and probed from the host on loopback only (curl --resolve, openssl).

export const COMPOSE_SOURCE_DIR = fileURLToPath(new URL('../../compose/', import.meta.url));
export const STACK_CONTAINERS = ['mariadb', 'wordpress', 'nginx'] as const;
export type StackContainer = (typeof STACK_CONTAINERS)[number];

const POLL_INTERVAL_MS = 1_000;
const PROBE_TIMEOUT_MS = 20_000;

export interface StackSettings {
  login: string;
  dataPath: string;
  title: string;
  adminUser: string;
  user: string;
}

/** Copies compose/ without the machine's own secrets and settings (they are git-ignored). */
export async function copyComposeProject(dest: string): Promise<void> {
  await cp(COMPOSE_SOURCE_DIR, dest, {
    recursive: true,
    filter: (src) => {
      const rel = relative(COMPOSE_SOURCE_DIR, src).split(sep).join('/');
      if (rel.startsWith('secrets/')) return rel === 'secrets/.gitkeep';
      return rel !== 'srcs/.env';
    },
  });
}

/** Writes srcs/.env as labctl would, from the keys of srcs/.env.example. */
export async function writeEnvFile(projectDir: string, s: StackSettings): Promise<void> {
  const domain = `${s.login}.42.fr`;
  const values: Record<string, string> = {
    LOGIN: s.login,
    DOMAIN_NAME: domain,
    DATA_PATH: s.dataPath,
    WP_TITLE: s.title,
    WP_ADMIN_USER: s.adminUser,
    WP_ADMIN_EMAIL: `${s.adminUser}@${domain}`,
    WP_USER: s.user,
    WP_USER_EMAIL: `${s.user}@${domain}`,
    MYSQL_DATABASE: 'wordpress',
    MYSQL_USER: 'wpuser',
  };
  const example = await readFile(join(projectDir, 'srcs', '.env.example'), 'utf8');
  const keys = example.match(/^[A-Z_]+(?==)/gm) ?? [];
  const missing = keys.filter((key) => !(key in values));
  if (missing.length > 0) throw new Error(`the stack test does not know the .env keys ${missing.join(', ')}`);
  await writeFile(join(projectDir, 'srcs', '.env'), keys.map((key) => `${key}=${values[key]}\n`).join(''), { mode: 0o644 });
}

export async function readSecret(projectDir: string, name: string): Promise<string> {
  return (await readFile(join(projectDir, 'secrets', name), 'utf8')).trim();
}

/** Runs `make TARGET` in the project; returns the elapsed time in ms. Output goes to logFile. */
export async function make(projectDir: string, target: string | undefined, vars: Record<string, string>, timeoutMs: number, logFile: string): Promise<number> {
  const args = ['-C', projectDir, ...(target ? [target] : []), ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)];
  const started = Date.now();
  const result = await execa('make', args, { reject: false, timeout: timeoutMs, all: true });
  await writeFile(logFile, `$ make ${args.join(' ')}\n${result.all ?? ''}\n`, { flag: 'a' });
  if (result.exitCode !== 0) {
    throw new Error(`make ${target ?? ''} failed (exit ${result.exitCode ?? 'timeout'}); last output:\n${(result.all ?? '').split('\n').slice(-30).join('\n')}\nfull log: ${logFile}`);
  }
  return Date.now() - started;
}

export async function docker(args: string[], timeoutMs = PROBE_TIMEOUT_MS): Promise<string> {
  const result = await execa('docker', args, { timeout: timeoutMs });
  return result.stdout.trim();
}

export interface ContainerState {
  status: string;
  health: string;
  pid: number;
  restartCount: number;
}

export async function containerState(name: string): Promise<ContainerState | undefined> {
  const r = await execa('docker', ['inspect', '-f', '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.State.Pid}} {{.RestartCount}}', name], {
    reject: false,
    timeout: PROBE_TIMEOUT_MS,
  });
  if (r.exitCode !== 0) return undefined;
  const [status = '', health = '', pid = '0', restarts = '0'] = r.stdout.trim().split(' ');
  return { status, health, pid: Number(pid), restartCount: Number(restarts) };
}

/** Polls check() until it returns a value, at most timeoutMs; the error names what was awaited. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

export async function waitHealthy(names: readonly string[], timeoutMs: number): Promise<void> {
  await waitFor(`${names.join(', ')} to be healthy`, timeoutMs, async () => {
    const states = await Promise.all(names.map(containerState));
    return states.every((s) => s?.status === 'running' && s.health === 'healthy') ? true : undefined;
  });
}

/** A site probe: curl pinned to 127.0.0.1 for the domain, trusting the stack's own certificate. */
export class SiteClient {
  constructor(
    readonly domain: string,
    private readonly caFile: string,
  ) {}

  private baseArgs(): string[] {
    return ['--silent', '--show-error', '--max-time', '15', '--resolve', `${this.domain}:443:127.0.0.1`, '--cacert', this.caFile];
  }

  /** GET/POST over HTTPS; returns the status and body (curl's own failure throws). */
  async request(path: string, extra: string[] = []): Promise<{ status: number; body: string; location: string }> {
    const marker = '\n--labctl-status--';
    const r = await execa('curl', [...this.baseArgs(), ...extra, '--write-out', `${marker}%{http_code} %{redirect_url}`, `https://${this.domain}${path}`], {
      timeout: PROBE_TIMEOUT_MS,
    });
    const at = r.stdout.lastIndexOf(marker);
    const [status = '0', location = ''] = r.stdout.slice(at + marker.length).split(' ');
    return { status: Number(status), body: r.stdout.slice(0, at), location };
  }

  /** Any curl invocation towards the site, for the negative probes; never throws. */
  async raw(args: string[]): Promise<{ exitCode: number; stdout: string }> {
    const r = await execa('curl', ['--silent', '--max-time', '10', ...args], { reject: false, timeout: PROBE_TIMEOUT_MS });
    return { exitCode: r.exitCode ?? -1, stdout: r.stdout };
  }

  /** Logs in through wp-login.php like a browser; the cookies land in cookieJar. */
  async logIn(user: string, password: string, cookieJar: string): Promise<{ status: number; location: string }> {
    // The first GET sets WordPress's test cookie, which the login form requires.
    await this.request('/wp-login.php', ['--cookie-jar', cookieJar, '--output', '/dev/null']);
    const form = ['log', user, 'pwd', password, 'wp-submit', 'Log In', 'testcookie', '1', 'redirect_to', `https://${this.domain}/wp-admin/`];
    const data: string[] = [];
    for (let i = 0; i < form.length; i += 2) data.push('--data-urlencode', `${form[i]}=${form[i + 1]}`);
    const r = await this.request('/wp-login.php', ['--cookie', cookieJar, '--cookie-jar', cookieJar, ...data]);
    return { status: r.status, location: r.location };
  }
}

/** One TLS handshake with openssl s_client at a fixed protocol version; returns its output. */
export async function tlsHandshake(port: number, serverName: string, protocolFlag: string): Promise<{ ok: boolean; output: string }> {
  // SECLEVEL=0 lets the client offer old protocols, so that a refusal comes from the server.
  const r = await execa('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', serverName, protocolFlag, '-cipher', 'DEFAULT:@SECLEVEL=0'], {
    input: '',
    reject: false,
    timeout: PROBE_TIMEOUT_MS,
    all: true,
  });
  return { ok: r.exitCode === 0, output: r.all ?? '' };
}
