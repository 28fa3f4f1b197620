import { ConflictError } from '../../core/errors.js';
import type { ProvisionContext, ProvisionStep } from '../context.js';
import { GUEST_HOSTS_WHERE, upsertGuestHosts } from '../guest-hosts.js';

const HOSTS = '/etc/hosts';
// /etc/hosts cannot be replaced by rename where it is a bind mount (containers, some VM images),
// so the new text is first written out in full, then copied over the file in place.
const WRITE_HOSTS_IN_PLACE = 'set -eu; cat > /etc/hosts.labctl-new; cat /etc/hosts.labctl-new > /etc/hosts; rm -f /etc/hosts.labctl-new';

async function readHosts(ctx: ProvisionContext): Promise<string> {
  const text = (await ctx.exec(['cat', HOSTS])).stdout;
  // The command output arrives decoded as UTF-8: bytes that are not UTF-8 are already U+FFFD
  // here, and writing the text back would destroy them, so such a file is left alone.
  if (text.includes('\uFFFD')) {
    throw new ConflictError(`${GUEST_HOSTS_WHERE} holds bytes that are not UTF-8, which labctl would not write back unchanged`, {
      hint: `add \`127.0.0.1 ${ctx.config.domain}\` to /etc/hosts in the guest by hand (\`vagrant ssh\`, then \`sudoedit /etc/hosts\`), or remove those bytes`,
    });
  }
  return text;
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
