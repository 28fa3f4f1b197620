import { TimeoutError } from '../core/errors.js';
import { httpsGet } from '../adapters/net-probes.js';
import { pollUntil } from '../core/poll.js';
import { errorText } from '../adapters/guest.js';

// The last proof: the site answers over TLS from the host (M13), through the VM's IP, whatever
// the host's hosts file says (like `curl --resolve domain:443:ip`). The certificate is the lab's
// self-signed one, so it is not verified here; TLS versions are checked by `labctl check`.

export const PROBE_RETRY_INTERVAL_MS = 2_000;

export interface ProbeOptions {
  domain: string;
  /** The address the domain is pinned to (the VM's host-only IP; a loopback port in tests). */
  address: string;
  port?: number;
  path?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface ProbeResult {
  url: string;
  status: number;
  tlsProtocol: string | undefined;
}

/** One HTTPS GET with the domain pinned to `address` and sent as SNI and Host. */
export async function probeOnce(opts: ProbeOptions): Promise<ProbeResult> {
  const port = opts.port ?? 443;
  const r = await httpsGet({ address: opts.address, domain: opts.domain, port, path: opts.path ?? '/' });
  return { url: `https://${opts.domain}${port === 443 ? '' : `:${port}`}${opts.path ?? '/'}`, status: r.status, tlsProtocol: r.tlsProtocol };
}

/** Retries until the site answers with a status below 500, or the bound runs out. */
export async function probeSite(opts: ProbeOptions): Promise<ProbeResult> {
  let last = 'no attempt';
  return pollUntil(
    async () => {
      try {
        const result = await probeOnce(opts);
        if (result.status > 0 && result.status < 500) return result;
        last = `HTTP ${result.status}`;
      } catch (error) {
        // A refused or reset connection, a TLS error: nginx may still be starting.
        last = errorText(error);
      }
      return undefined;
    },
    {
      timeoutMs: opts.timeoutMs,
      intervalMs: PROBE_RETRY_INTERVAL_MS,
      signal: opts.signal,
      onTimeout: () => {
        throw new TimeoutError(`https://${opts.domain} (pinned to ${opts.address}:${opts.port ?? 443}) did not answer within ${Math.round(opts.timeoutMs / 1000)} s: ${last}`, {
          hint: `check the stack with \`labctl status\` and \`labctl logs nginx\`; from the host try curl -k --resolve ${opts.domain}:${opts.port ?? 443}:${opts.address} https://${opts.domain}/`,
        });
      },
    },
  );
}
