import { allReady, composePs, waitUntilReady } from '../../adapters/compose.js';
import type { ProvisionStep } from '../context.js';

export const waitHealthyStep: ProvisionStep = {
  title: 'Wait until every service is healthy',
  skip: async (ctx) => {
    // Seen all up by make's skip check just before (make did not run since).
    const services = ctx.readyServices ?? (await composePs(ctx.connection(), ctx.config, { signal: ctx.signal, log: ctx.log }));
    return allReady(services) ? `${services.length} ${services.length === 1 ? 'service' : 'services'} healthy` : false;
  },
  run: async (ctx) => {
    await waitUntilReady(ctx.connection(), ctx.config, { timeoutMs: ctx.timeouts.healthyMs, signal: ctx.signal, log: ctx.log, onProgress: (text) => ctx.progress(text) });
  },
};
