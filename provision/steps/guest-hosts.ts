import type { ProvisionContext, ProvisionStep } from '../context.js';
import { upsertGuestHosts } from '../guest-hosts.js';

const HOSTS = '/etc/hosts';
// /etc/hosts cannot be replaced by rename where it is a bind mount (containers, some VM images),
// so the new text is first written out in full, then copied over the file in place.
const WRITE_HOSTS_IN_PLACE = 'set -eu; cat > /etc/hosts.labctl-new; cat /etc/hosts.labctl-new > /etc/hosts; rm -f /etc/hosts.labctl-new';

async function readHosts(ctx: ProvisionContext): Promise<string> {
  return (await ctx.exec(['cat', HOSTS])).stdout;
}

export const guestHostsStep: ProvisionStep = {
  title: 'Map the lab domain to 127.0.0.1 in the guest',
  skip: async (ctx) => {
    const current = await readHosts(ctx);
    return upsertGuestHosts(current, ctx.config.domain) === current ? `${HOSTS} already maps ${ctx.config.domain}` : false;
  },
  run: async (ctx) => {
    const wanted = upsertGuestHosts(await readHosts(ctx), ctx.config.domain);
    await ctx.exec(['sh', '-c', WRITE_HOSTS_IN_PLACE], { sudo: true, stdin: wanted });
  },
};
