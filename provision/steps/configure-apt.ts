import { APT_PROXY_FILE, renderAptProxy, rewriteAptSources } from '../apt-sources.js';
import type { ProvisionContext, ProvisionStep } from '../context.js';

// Only Debian's own source files: third-party repositories (Docker's, for one) keep their URIs.
const LIST_SOURCE_FILES = 'for f in /etc/apt/sources.list /etc/apt/sources.list.d/debian.sources; do [ -f "$f" ] && printf "%s\\0" "$f"; done; true';

interface AptChange {
  path: string;
  /** New content, or null to delete the file. */
  content: string | null;
}

async function planApt(ctx: ProvisionContext): Promise<AptChange[]> {
  const changes: AptChange[] = [];
  const { apt_mirror: mirror, apt_proxy: proxy } = ctx.config;
  if (mirror !== undefined) {
    const files = (await ctx.exec(['sh', '-c', LIST_SOURCE_FILES])).stdout.split('\0').filter((f) => f !== '');
    for (const path of files) {
      const current = (await ctx.exec(['cat', '--', path])).stdout;
      const wanted = rewriteAptSources(current, mirror);
      if (wanted !== current) changes.push({ path, content: wanted });
    }
  }
  const proxyNow = (await ctx.exec(['sh', '-c', 'cat -- "$1" 2>/dev/null || true', 'sh', APT_PROXY_FILE])).stdout;
  if (proxy !== undefined && proxyNow !== renderAptProxy(proxy)) changes.push({ path: APT_PROXY_FILE, content: renderAptProxy(proxy) });
  // A proxy dropped from the config must not linger: an unreachable proxy breaks every apt run.
  if (proxy === undefined && proxyNow !== '') changes.push({ path: APT_PROXY_FILE, content: null });
  return changes;
}

export const configureAptStep: ProvisionStep = {
  title: 'Configure apt (mirror, proxy)',
  skip: async (ctx) => {
    const changes = await planApt(ctx);
    if (changes.length > 0) return false;
    if (ctx.config.apt_mirror === undefined && ctx.config.apt_proxy === undefined) return 'no apt_mirror or apt_proxy configured';
    return 'apt already uses the configured mirror/proxy';
  },
  run: async (ctx) => {
    for (const change of await planApt(ctx)) {
      ctx.progress(change.content === null ? `removing ${change.path}` : `writing ${change.path}`);
      if (change.content === null) await ctx.exec(['rm', '-f', '--', change.path], { sudo: true });
      else await ctx.writeFile(change.path, change.content, { mode: '644', owner: 'root:root' });
    }
  },
};
