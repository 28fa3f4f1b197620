import { connect as netConnect } from 'node:net';
import { request } from 'node:https';
import { connect as tlsConnect, type SecureVersion, type TLSSocket } from 'node:tls';

// Host-side probes of a lab (provisioning's last step, `labctl check`): they connect only to the
// address they are given — the lab's own IP, or loopback in tests — each bounded by PROBE_TIMEOUT_MS.

export const PROBE_TIMEOUT_MS = 8_000;

export type TlsOutcome = { ok: true; protocol: string } | { ok: false; error: string };

/** A TLS handshake pinned to one protocol version, SNI = the lab's domain. */
export function tlsHandshake(ip: string, domain: string, version: SecureVersion, port = 443): Promise<TlsOutcome> {
  return new Promise((resolve) => {
    const old = version === 'TLSv1' || version === 'TLSv1.1';
    const socket = tlsConnect({
      host: ip,
      port,
      servername: domain,
      minVersion: version,
      maxVersion: version,
      rejectUnauthorized: false,
      // OpenSSL 3 refuses TLS 1.0/1.1 at its default security level; lower it so that a refusal
      // comes from the server, not from our own client.
      ...(old ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
      timeout: PROBE_TIMEOUT_MS,
    });
    const done = (outcome: TlsOutcome) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.once('secureConnect', () => done({ ok: true, protocol: socket.getProtocol() ?? version }));
    socket.once('error', (e) => done({ ok: false, error: e.message.split('\n')[0] ?? 'error' }));
    socket.once('timeout', () => done({ ok: false, error: `no handshake within ${PROBE_TIMEOUT_MS} ms` }));
  });
}

export type TcpOutcome = 'open' | 'refused' | 'timeout' | 'error';

export function tcpProbe(ip: string, port: number): Promise<TcpOutcome> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: ip, port, timeout: PROBE_TIMEOUT_MS });
    const done = (o: TcpOutcome) => {
      socket.destroy();
      resolve(o);
    };
    socket.once('connect', () => done('open'));
    socket.once('timeout', () => done('timeout'));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'error'));
  });
}

export interface HttpsResponse {
  status: number;
  location: string | undefined;
  body: string;
  tlsProtocol: string | undefined;
}

export interface HttpsTarget {
  /** Where to connect: the lab's IP (no DNS, no hosts file needed). */
  address: string;
  /** Sent as SNI and Host, like `curl --resolve domain:port:address`. */
  domain: string;
  port?: number;
  path?: string;
  headers?: Record<string, string>;
}

const MAX_BODY_BYTES = 512 * 1024;

/** GET https://<domain>:<port><path> sent to `address`; the lab's self-signed certificate is not verified. */
export function httpsGet(target: HttpsTarget): Promise<HttpsResponse> {
  const port = target.port ?? 443;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.address,
        port,
        path: target.path ?? '/',
        method: 'GET',
        servername: target.domain,
        headers: { Host: port === 443 ? target.domain : `${target.domain}:${port}`, ...target.headers },
        rejectUnauthorized: false,
        agent: false,
        timeout: PROBE_TIMEOUT_MS,
      },
      (res) => {
        const tlsProtocol = (res.socket as TLSSocket).getProtocol?.() ?? undefined;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < MAX_BODY_BYTES) body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body, tlsProtocol }));
      },
    );
    req.once('timeout', () => req.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    req.once('error', reject);
    req.end();
  });
}

/** Plain HTTP to port 80: anything but a refused or silent connection means HTTP answers. */
export async function plainHttpAnswers(ip: string, domain: string): Promise<{ answers: boolean; detail: string }> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: ip, port: 80, timeout: PROBE_TIMEOUT_MS });
    let data = '';
    const done = (answers: boolean, detail: string) => {
      socket.destroy();
      resolve({ answers, detail });
    };
    socket.once('connect', () => socket.write(`GET / HTTP/1.0\r\nHost: ${domain}\r\n\r\n`));
    socket.on('data', (d: Buffer) => {
      data += d.toString();
      done(true, data.split('\r\n')[0] ?? 'answered');
    });
    socket.once('end', () => done(data !== '', data ? (data.split('\r\n')[0] ?? '') : 'closed without answering'));
    socket.once('timeout', () => done(false, 'no answer'));
    socket.once('error', (e: NodeJS.ErrnoException) => done(false, e.code ?? e.message));
  });
}
