import { TimeoutError } from '../../lib/errors.js';
import { allReady, composePs, describeServices, isServiceReady, type ServiceStatus } from '../compose.js';
import type { ProvisionContext, ProvisionStep } from '../context.js';
import { sleep } from '../ssh.js';

export const HEALTH_POLL_INTERVAL_MS = 3_000;

function ps(ctx: ProvisionContext): Promise<ServiceStatus[]> {
  return composePs(ctx.connection(), ctx.config, { signal: ctx.signal, log: ctx.log });
}

export const waitHealthyStep: ProvisionStep = {
  title: 'Wait until every service is healthy',
  skip: async (ctx) => {
    const services = await ps(ctx);
    return allReady(services) ? `${services.length} services healthy` : false;
  },
  run: async (ctx) => {
    const deadline = Date.now() + ctx.timeouts.healthyMs;
    let services = await ps(ctx);
    while (!allReady(services)) {
      ctx.progress(describeServices(services));
      if (Date.now() > deadline) {
        const bad = services.find((s) => !isServiceReady(s));
        throw new TimeoutError(`services not healthy after ${Math.round(ctx.timeouts.healthyMs / 1000)} s: ${describeServices(services)}`, {
          hint: `see why with \`labctl logs${bad ? ` ${bad.name}` : ''}\`, fix, then run \`labctl provision\` again`,
        });
      }
      await sleep(HEALTH_POLL_INTERVAL_MS, ctx.signal);
      services = await ps(ctx);
    }
  },
};
