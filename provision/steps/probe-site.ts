import type { ProvisionStep } from '../context.js';
import { probeSite } from '../probe.js';

export const probeSiteStep: ProvisionStep = {
  title: 'Probe the site from the host',
  skip: async (ctx) => (ctx.probeUrl ? false : 'probe not requested'),
  run: async (ctx) => {
    const result = await probeSite({
      domain: ctx.config.domain,
      address: ctx.config.ip,
      timeoutMs: ctx.timeouts.probeMs,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    ctx.url = result.url;
    ctx.progress(`${result.url} answered HTTP ${result.status} over ${result.tlsProtocol ?? 'TLS'}`);
  },
};
