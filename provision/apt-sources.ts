// Optional apt settings for the guest, from the lab config only: a mirror replaces the Debian
// archive URIs in the guest's own source files (security updates keep their own archive), and a
// proxy goes to its own apt.conf.d file. No mirror host is ever written by labctl itself.

export const APT_PROXY_FILE = '/etc/apt/apt.conf.d/90labctl-proxy';

export function renderAptProxy(proxyUrl: string): string {
  // URL.href percent-encodes quotes, so the value cannot break out of apt's "…" string.
  const href = new URL(proxyUrl).href;
  return `// Written by labctl from the lab's apt_proxy setting.\nAcquire::http::Proxy "${href}";\n`;
}

/** Is this URI the main Debian archive (not security, not a third-party repository)? */
export function isDebianArchiveUri(uri: string): boolean {
  try {
    const u = new URL(uri);
    return /\/debian\/?$/.test(u.pathname) && !/security/.test(u.hostname + u.pathname);
  } catch {
    return false;
  }
}

/** Rewrites `URIs:` (deb822 .sources) and `deb URI …` (one-line .list) entries to the mirror. */
export function rewriteAptSources(text: string, mirror: string): string {
  const target = mirror.replace(/\/+$/, '');
  return text
    .split('\n')
    .map((line) => {
      const deb822 = /^(URIs:\s*)(.+)$/i.exec(line);
      if (deb822) {
        const uris = deb822[2]!.trim().split(/\s+/);
        return `${deb822[1]}${uris.map((u) => (isDebianArchiveUri(u) ? target : u)).join(' ')}`;
      }
      const oneLine = /^(\s*deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?)(\S+)(.*)$/.exec(line);
      if (oneLine && isDebianArchiveUri(oneLine[2]!)) return `${oneLine[1]}${target}${oneLine[3]}`;
      return line;
    })
    .join('\n');
}
