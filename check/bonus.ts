import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { DEFAULT_FTP_USER } from '../core/endpoints.js';
import { httpsGet, PROBE_TIMEOUT_MS, tcpProbe } from '../adapters/net-probes.js';
import { fail, pass, skip, type CheckResult } from './types.js';

// Live checks of the bonus services (B01–B05) of a lab started with `make bonus`: inside the VM
// through `remote` (docker exec/inspect as root), from the host only towards the lab's IP (HTTPS
// through nginx, FTPS on 21 and the passive range).

export const BONUS_CONTAINERS = ['redis', 'ftp', 'website', 'adminer', 'status'] as const;
export const FTP_SECRET_FILE = 'ftp_password.txt';
/** The whole FTPS session (connect, TLS, login, one listing), whatever the server does. */
export const FTP_SESSION_TIMEOUT_MS = 30_000;
const RULE_OF: Record<(typeof BONUS_CONTAINERS)[number], string> = { redis: 'B01', ftp: 'B02', website: 'B03', adminer: 'B04', status: 'B05' };

export interface BonusIo {
  remote: (argv: string[], opts?: { okCodes?: readonly number[] }) => Promise<{ stdout: string; code: number }>;
  ip: string;
  domain: string;
  secrets: ReadonlyMap<string, string>;
}

export async function bonusLiveChecks(io: BonusIo): Promise<CheckResult[]> {
  return [
    ...(await containersHealthy(io)),
    await redisKeys(io),
    ...(await ftpChecks(io)),
    await staticSite(io),
    await adminer(io),
    await statusPage(io),
  ];
}

// ---------- pure parts (unit-tested) ----------

export interface ContainerHealth {
  name: string;
  status: string;
  health: string;
}

/** Lines of `docker inspect -f '{{.Name}} {{.State.Status}} {{health or none}}'`. */
export function parseHealthLines(stdout: string): ContainerHealth[] {
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length === 3 && cols[0]!.startsWith('/'))
    .map(([name, status, health]) => ({ name: name!.slice(1), status: status!, health: health! }));
}

export function evaluateHealth(states: readonly ContainerHealth[]): CheckResult[] {
  return BONUS_CONTAINERS.map((name) => {
    const id = `${RULE_OF[name]}.healthy`;
    const s = states.find((x) => x.name === name);
    if (!s) return fail(id, `no ${name} container`, 'run `make bonus` in the project (labctl create --bonus does it)');
    const evidence = `docker inspect ${name}: ${s.status}, health ${s.health}`;
    return s.status === 'running' && s.health === 'healthy' ? pass(id, `${name} is running and healthy`, evidence) : fail(id, `${name} is ${s.status} (health: ${s.health})`, evidence);
  });
}

/** The value of one variable in `docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}'`. */
export function envValue(stdout: string, key: string): string | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith(`${key}=`));
  return line?.slice(key.length + 1).trim();
}

export interface FtpReply {
  code: number;
  text: string;
}

/**
 * Takes one complete FTP reply off the front of the buffer: a single line `ddd text`, or a
 * multi-line reply from `ddd-` to the line starting with the same `ddd ` (RFC 959, 4.2).
 */
export function takeFtpReply(buffer: string): { reply: FtpReply | undefined; rest: string } {
  const first = /^(\d{3})([ -])/.exec(buffer);
  if (!first) return { reply: undefined, rest: buffer };
  const code = first[1]!;
  const end = first[2] === ' ' ? /^.*\r?\n/.exec(buffer) : new RegExp(`^[\\s\\S]*?\\r?\\n${code} .*\\r?\\n`).exec(buffer);
  if (!end) return { reply: undefined, rest: buffer };
  return { reply: { code: Number(code), text: end[0].trimEnd() }, rest: buffer.slice(end[0].length) };
}

/** The data port of an EPSV answer: `229 Entering Extended Passive Mode (|||21104|)`. */
export function epsvPort(text: string): number | undefined {
  const m = /\((.)\1\1(\d{1,5})\1\)/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  return Number.isInteger(port) && port > 0 && port < 65_536 ? port : undefined;
}

/** Keys of the WordPress object cache in `redis-cli --scan` output. */
export function wordpressKeys(stdout: string): string[] {
  return stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('wp:'));
}

export interface StatusReport {
  services: { name: string; up: boolean; detail: string }[];
}

export function parseStatusReport(body: string): StatusReport | undefined {
  try {
    const data = JSON.parse(body) as { services?: unknown };
    if (!Array.isArray(data.services)) return undefined;
    const services = data.services.filter((s): s is { name: string; up: boolean; detail: string } => typeof s === 'object' && s !== null && typeof (s as { name?: unknown }).name === 'string' && typeof (s as { up?: unknown }).up === 'boolean');
    return { services };
  } catch {
    return undefined;
  }
}

// ---------- checks ----------

async function containersHealthy(io: BonusIo): Promise<CheckResult[]> {
  // Exit 1 when some container does not exist: the others are still printed.
  const r = await io.remote(['docker', 'inspect', '-f', '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}', ...BONUS_CONTAINERS], { okCodes: [0, 1] });
  return evaluateHealth(parseHealthLines(r.stdout));
}

async function redisKeys(io: BonusIo): Promise<CheckResult> {
  const id = 'B01.redis-keys';
  try {
    // A page view first, so that WordPress has something to cache even on a fresh Redis.
    const page = await httpsGet({ address: io.ip, domain: io.domain });
    const dropIn = await io.remote(['docker', 'exec', 'wordpress', 'grep', '-c', 'inception-object-cache', '/var/www/html/wp-content/object-cache.php'], { okCodes: [0, 1, 2] });
    if (dropIn.code !== 0) return fail(id, 'WordPress has no Redis object-cache drop-in (wp-content/object-cache.php)', 'was the stack started with `make bonus`? (it sets WP_REDIS_HOST)');
    const scan = await io.remote(['docker', 'exec', 'redis', 'redis-cli', '--scan', '--pattern', 'wp:*']);
    const keys = wordpressKeys(scan.stdout);
    const evidence = `GET https://${io.domain}/ → ${page.status}; redis-cli --scan --pattern 'wp:*' → ${keys.length} key(s)${keys.length > 0 ? `, e.g. ${keys.slice(0, 3).join(', ')}` : ''}`;
    return keys.length > 0 ? pass(id, 'WordPress keeps its object cache in Redis', evidence) : fail(id, 'no WordPress key in Redis after a page view', evidence);
  } catch (error) {
    return fail(id, `could not check Redis: ${(error as Error).message}`);
  }
}

async function ftpChecks(io: BonusIo): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const port21 = await tcpProbe(io.ip, 21);
  out.push(port21 === 'open' ? pass('B02.ftp-port', `${io.ip}:21 accepts connections`) : fail('B02.ftp-port', `${io.ip}:21 is ${port21}`, 'is the ftp container running and its ports published? (make bonus)'));
  if (port21 !== 'open') return out;

  const password = io.secrets.get(FTP_SECRET_FILE);
  if (password === undefined) {
    out.push(skip('B02.ftp-login', `no ${FTP_SECRET_FILE} among the lab's secrets`));
  } else {
    const env = await io.remote(['docker', 'inspect', '-f', '{{range .Config.Env}}{{println .}}{{end}}', 'ftp'], { okCodes: [0, 1] });
    const user = envValue(env.stdout, 'FTP_USER') || DEFAULT_FTP_USER;
    try {
      const listing = await ftpsList(io.ip, io.domain, user, password);
      const evidence = `FTPS (AUTH TLS) as ${user} on ${io.ip}:21, EPSV data port ${listing.dataPort}: ${listing.names.length} entries`;
      out.push(
        listing.names.includes('wp-config.php')
          ? pass('B02.ftp-login', 'the FTP user logs in over TLS and sees the WordPress files', evidence)
          : fail('B02.ftp-login', 'the FTP listing does not show the WordPress files (wp-config.php)', evidence),
      );
    } catch (error) {
      out.push(fail('B02.ftp-login', `FTPS login as ${user} failed: ${(error as Error).message}`, `password from ${FTP_SECRET_FILE}`));
    }
  }
  try {
    const anonymous = await ftpsLogin(io.ip, io.domain, 'anonymous', 'labctl@example.invalid');
    out.push(anonymous.code === 230 ? fail('B02.ftp-anonymous', 'anonymous FTP login is accepted', anonymous.text) : pass('B02.ftp-anonymous', 'anonymous FTP login is refused', anonymous.text));
  } catch (error) {
    out.push(fail('B02.ftp-anonymous', `could not try an anonymous login: ${(error as Error).message}`));
  }
  return out;
}

async function staticSite(io: BonusIo): Promise<CheckResult> {
  const id = 'B03.static-site';
  try {
    const r = await httpsGet({ address: io.ip, domain: io.domain, path: '/site/' });
    const evidence = `GET https://${io.domain}/site/ → ${r.status}, ${r.body.length} bytes`;
    if (r.status !== 200) return fail(id, `the static site answers ${r.status}`, evidence);
    if (/<\?php|wp-content/.test(r.body)) return fail(id, 'the page at /site/ is not the static site (PHP or WordPress content)', evidence);
    return /<html/i.test(r.body) ? pass(id, 'the static site answers through nginx over TLS', evidence) : fail(id, 'the page at /site/ is not HTML', evidence);
  } catch (error) {
    return fail(id, `no answer at /site/: ${(error as Error).message}`);
  }
}

async function adminer(io: BonusIo): Promise<CheckResult> {
  const id = 'B04.adminer';
  try {
    const r = await httpsGet({ address: io.ip, domain: io.domain, path: '/adminer/' });
    const evidence = `GET https://${io.domain}/adminer/ → ${r.status}`;
    const loginForm = /name=["']?auth\[username\]/.test(r.body) && /adminer/i.test(r.body);
    return r.status === 200 && loginForm ? pass(id, "Adminer's login page answers over TLS", evidence) : fail(id, "no Adminer login page at /adminer/", evidence);
  } catch (error) {
    return fail(id, `no answer at /adminer/: ${(error as Error).message}`);
  }
}

async function statusPage(io: BonusIo): Promise<CheckResult> {
  const id = 'B05.status';
  try {
    const r = await httpsGet({ address: io.ip, domain: io.domain, path: '/status/api' });
    const report = r.status === 200 ? parseStatusReport(r.body) : undefined;
    if (!report) return fail(id, `the status service does not answer with its report (HTTP ${r.status})`, `GET https://${io.domain}/status/api`);
    const down = report.services.filter((s) => !s.up);
    const evidence = `GET https://${io.domain}/status/api: ${report.services.length - down.length}/${report.services.length} up`;
    return down.length === 0 ? pass(id, 'the status page answers and reports every service up', evidence) : fail(id, `the status page reports down: ${down.map((s) => `${s.name} (${s.detail})`).join(', ')}`, evidence);
  } catch (error) {
    return fail(id, `no answer at /status/: ${(error as Error).message}`);
  }
}

// ---------- a minimal FTPS (explicit TLS) client, enough for a login and one listing ----------

class FtpControl {
  private buffer = '';
  private waiting: ((r: FtpReply | Error) => void) | undefined;
  private readonly replies: FtpReply[] = [];
  private failure: Error | undefined;

  constructor(private socket: Socket | TLSSocket) {
    this.listen(socket);
  }

  private listen(socket: Socket | TLSSocket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (;;) {
        const { reply, rest } = takeFtpReply(this.buffer);
        if (!reply) break;
        this.buffer = rest;
        this.deliver(reply);
      }
    });
    socket.on('error', (e) => this.deliver(e));
    socket.on('close', () => this.deliver(new Error('the server closed the control connection')));
  }

  private deliver(r: FtpReply | Error): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w(r);
    } else if (r instanceof Error) this.failure ??= r;
    else this.replies.push(r);
  }

  /** The next reply, at most PROBE_TIMEOUT_MS away. */
  next(): Promise<FtpReply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`no FTP reply within ${PROBE_TIMEOUT_MS} ms`));
      }, PROBE_TIMEOUT_MS);
      this.waiting = (r) => {
        clearTimeout(timer);
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
    });
  }

  async send(command: string, expected: readonly number[]): Promise<FtpReply> {
    this.socket.write(`${command}\r\n`);
    const reply = await this.next();
    if (!expected.includes(reply.code)) throw new Error(`${command.split(' ')[0]} → ${reply.text.split('\n')[0]}`);
    return reply;
  }

  /** AUTH TLS done: the same TCP connection continues inside TLS. */
  async upgrade(servername: string): Promise<TLSSocket> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tlsConnect({ socket: plain, servername, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure);
    return secure;
  }

  close(): void {
    this.socket.destroy();
  }
}

async function withFtpSession<T>(ip: string, domain: string, body: (ctl: FtpControl, secure: TLSSocket) => Promise<T>): Promise<T> {
  const socket = netConnect({ host: ip, port: 21 });
  const ctl = new FtpControl(socket);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`FTPS session took more than ${FTP_SESSION_TIMEOUT_MS} ms`)), FTP_SESSION_TIMEOUT_MS);
  });
  const session = (async () => {
    const greeting = await ctl.next();
    if (greeting.code !== 220) throw new Error(`greeting: ${greeting.text}`);
    await ctl.send('AUTH TLS', [234]);
    const secure = await ctl.upgrade(domain);
    return body(ctl, secure);
  })();
  try {
    return await Promise.race([session, deadline]);
  } finally {
    clearTimeout(timer);
    ctl.close();
    session.catch(() => undefined);
  }
}

/** USER/PASS over TLS; returns the final reply (230 = logged in). */
export function ftpsLogin(ip: string, domain: string, user: string, password: string): Promise<FtpReply> {
  return withFtpSession(ip, domain, async (ctl) => {
    const u = await ctl.send(`USER ${user}`, [230, 331, 530]);
    return u.code === 331 ? await ctl.send(`PASS ${password}`, [230, 530]) : u;
  });
}

/** Logs in and lists the FTP root over a TLS-protected passive (EPSV) data connection. */
export function ftpsList(ip: string, domain: string, user: string, password: string): Promise<{ names: string[]; dataPort: number }> {
  return withFtpSession(ip, domain, async (ctl, secure) => {
    await ctl.send(`USER ${user}`, [331]);
    await ctl.send(`PASS ${password}`, [230]);
    await ctl.send('PBSZ 0', [200]);
    await ctl.send('PROT P', [200]);
    const epsv = await ctl.send('EPSV', [229]);
    const dataPort = epsvPort(epsv.text);
    if (dataPort === undefined) throw new Error(`no port in the EPSV reply: ${epsv.text}`);
    // The data connection goes to the lab's IP (the address of the control connection), never to
    // an address the server would announce.
    const data = tlsConnect({ host: ip, port: dataPort, servername: domain, rejectUnauthorized: false, session: secure.getSession() });
    const received = new Promise<string>((resolve, reject) => {
      let text = '';
      data.setEncoding('utf8');
      data.on('data', (chunk: string) => (text += chunk));
      data.once('end', () => resolve(text));
      data.once('error', reject);
    });
    try {
      await ctl.send('NLST', [125, 150]);
      const names = (await received).split(/\r?\n/).map((n) => n.replace(/^\.\//, '').trim()).filter(Boolean);
      await ctl.next();
      return { names, dataPort };
    } finally {
      data.destroy();
    }
  });
}
