import { ConflictError } from '../core/errors.js';

// The guest's /etc/hosts gets `127.0.0.1 <login>.42.fr` (L02: the domain resolves inside the VM
// too, so `curl https://<login>.42.fr` works there). The line lives in a marked block that is
// replaced as a whole, so re-runs and login changes never stack duplicates. A block labctl cannot
// read with certainty (BEGIN without END, END without BEGIN, two blocks, a body that is not one
// `<ip> <domain>` line) is refused: the lines after an orphan BEGIN may be the user's, and labctl
// never removes a line it did not write.

export const GUEST_HOSTS_BEGIN = '# BEGIN labctl';
export const GUEST_HOSTS_END = '# END labctl';
export const GUEST_HOSTS_WHERE = "the guest's /etc/hosts";

export function guestHostsBlock(domain: string): string {
  return `${GUEST_HOSTS_BEGIN}\n127.0.0.1 ${domain}\n${GUEST_HOSTS_END}\n`;
}

const BODY_RE = /^\S+[ \t]+\S+$/;

function malformed(where: string, line: number, problem: string): ConflictError {
  return new ConflictError(`${where}:${line}: ${problem}`, {
    hint: `fix or delete the labctl lines in ${where} by hand (\`vagrant ssh\`, then \`sudoedit /etc/hosts\`; labctl never removes lines it did not write), then run the command again`,
  });
}

/**
 * Returns the hosts text with exactly one labctl block holding the domain, in place of the old
 * one (or appended); every other byte untouched. Throws a ConflictError on a malformed block.
 */
export function upsertGuestHosts(text: string, domain: string, where = GUEST_HOSTS_WHERE): string {
  const lines = text.split(/(?<=\n)/);
  let offset = 0;
  let open: { no: number; start: number; body: string[] } | undefined;
  let block: { start: number; end: number } | undefined;
  lines.forEach((line, i) => {
    const bare = line.replace(/\r?\n$/, '').trim();
    const no = i + 1;
    if (bare === GUEST_HOSTS_BEGIN) {
      if (open) throw malformed(where, no, `a second \`${GUEST_HOSTS_BEGIN}\` before the \`${GUEST_HOSTS_END}\` of line ${open.no}'s block`);
      if (block) throw malformed(where, no, `a second labctl block (labctl writes one)`);
      open = { no, start: offset, body: [] };
    } else if (bare === GUEST_HOSTS_END) {
      if (!open) throw malformed(where, no, `\`${GUEST_HOSTS_END}\` has no matching \`${GUEST_HOSTS_BEGIN}\``);
      if (open.body.length !== 1 || !BODY_RE.test(open.body[0] ?? '')) {
        throw malformed(where, open.no, `the labctl block must hold exactly one \`<ip> <domain>\` line (it holds ${open.body.length})`);
      }
      block = { start: open.start, end: offset + line.length };
      open = undefined;
    } else if (open) {
      open.body.push(line.replace(/\r?\n$/, '').trim());
    }
    offset += line.length;
  });
  if (open) throw malformed(where, open.no, `\`${GUEST_HOSTS_BEGIN}\` has no matching \`${GUEST_HOSTS_END}\``);
  if (block) return text.slice(0, block.start) + guestHostsBlock(domain) + text.slice(block.end);
  return (text === '' || text.endsWith('\n') ? text : `${text}\n`) + guestHostsBlock(domain);
}
