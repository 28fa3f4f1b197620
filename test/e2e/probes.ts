import { assertRoutedToLocalBridge, type Netns } from '../helpers/netns.js';

// Probes of the lab from "the host", i.e. from inside the test's namespace, where the lab's
// addresses are the test's own. Each first checks the route (see the trap in helpers/netns.ts).

export const PROBE_TIMEOUT_MS = 20_000;
export const TCP_CONNECT_TIMEOUT_S = 5;

export async function tcpOpen(ns: Netns, ip: string, port: number): Promise<boolean> {
  await assertRoutedToLocalBridge(ns, ip);
  const r = await ns.exec(['nc', '-z', '-w', String(TCP_CONNECT_TIMEOUT_S), ip, String(port)], { reject: false, timeout: PROBE_TIMEOUT_MS });
  return r.exitCode === 0;
}

export type TlsVersion = '1.1' | '1.2' | '1.3';

/**
 * True when a TLS handshake at exactly `version` succeeds. SECLEVEL=0 so that *our* OpenSSL 3 is
 * willing to offer TLS 1.1: a refusal then proves the server refused it (M05), not the client.
 */
export async function tlsHandshake(ns: Netns, ip: string, servername: string, version: TlsVersion): Promise<boolean> {
  await assertRoutedToLocalBridge(ns, ip);
  const flag = { '1.1': '-tls1_1', '1.2': '-tls1_2', '1.3': '-tls1_3' }[version];
  const argv = ['openssl', 's_client', '-connect', `${ip}:443`, '-servername', servername, flag, '-brief'];
  if (version !== '1.3') argv.push('-cipher', 'DEFAULT@SECLEVEL=0');
  const r = await ns.exec(argv, { reject: false, timeout: PROBE_TIMEOUT_MS, input: '' });
  return r.exitCode === 0 && /Protocol version: TLSv1\.[123]/.test(String(r.stderr) + String(r.stdout));
}

/** GET through the namespace's hosts file (where labctl wrote `<domain> → ip`), self-signed cert accepted. */
export async function httpsGet(ns: Netns, ip: string, url: string): Promise<{ status: number; body: string }> {
  await assertRoutedToLocalBridge(ns, ip);
  const r = await ns.exec(['curl', '--silent', '--insecure', '--max-time', '15', '--location', '--write-out', '\n%{http_code}', url], {
    reject: false,
    timeout: PROBE_TIMEOUT_MS,
  });
  const out = String(r.stdout);
  const cut = out.lastIndexOf('\n');
  return { status: Number(out.slice(cut + 1)) || 0, body: out.slice(0, cut) };
}

/** Plain HTTP must not be served (M05): true when anything answers on port 80. */
export async function plainHttpAnswers(ns: Netns, ip: string, domain: string): Promise<boolean> {
  await assertRoutedToLocalBridge(ns, ip);
  const r = await ns.exec(['curl', '--silent', '--max-time', '10', '--output', '/dev/null', `http://${domain}/`], { reject: false, timeout: PROBE_TIMEOUT_MS });
  return r.exitCode === 0;
}
