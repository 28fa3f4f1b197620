// The guest's /etc/hosts gets `127.0.0.1 <login>.42.fr` (L02: the domain resolves inside the VM
// too, so `curl https://<login>.42.fr` works there). The line lives in a marked block that is
// replaced as a whole, so re-runs and login changes never stack duplicates.

export const GUEST_HOSTS_BEGIN = '# BEGIN labctl';
export const GUEST_HOSTS_END = '# END labctl';

export function guestHostsBlock(domain: string): string {
  return `${GUEST_HOSTS_BEGIN}\n127.0.0.1 ${domain}\n${GUEST_HOSTS_END}\n`;
}

/** Returns the hosts text with exactly one labctl block holding the domain; other lines untouched. */
export function upsertGuestHosts(text: string, domain: string): string {
  const lines = text.split('\n');
  const kept: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (line.trim() === GUEST_HOSTS_BEGIN) {
      inside = true;
      continue;
    }
    if (inside) {
      if (line.trim() === GUEST_HOSTS_END) inside = false;
      continue;
    }
    kept.push(line);
  }
  let base = kept.join('\n');
  if (base !== '' && !base.endsWith('\n')) base += '\n';
  return base + guestHostsBlock(domain);
}
