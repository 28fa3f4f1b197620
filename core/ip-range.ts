import { isIP } from 'node:net';
import { ipToInt, validateIp } from './config.js';
import { ConfigError, shorten } from './errors.js';

// A class host's addresses, as a teacher writes them: one address, a range "first-last", a CIDR
// block "network/bits", or a list of these. Expanded in the order written; each lab on the host
// takes one. Every address is one `labctl create --ip` accepts (core/config.ts validateIp): inside a
// range or a block, the addresses it would refuse (.0, .1, .255 of each /24) are left out rather
// than refused, so that "192.168.50.0/23" means the usable addresses of that block.

/** More than a /20 for one host is a typo (a /8), not a classroom; expanding it would eat memory. */
export const MAX_ADDRESSES_PER_HOST = 4096;

const DOTTED_QUAD = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** `value` (a string or a list of strings) expanded; ConfigError naming `field` (`hosts[0].addresses`) otherwise. */
export function expandAddresses(value: string | readonly string[], field: string): string[] {
  const items = typeof value === 'string' ? [value] : value;
  if (items.length === 0) throw new ConfigError(field, 'is empty', 'give the addresses of this host\'s labs, e.g. 192.168.50.10-192.168.50.40');
  const out: string[] = [];
  const seen = new Set<string>();
  items.forEach((raw, i) => {
    const where = typeof value === 'string' ? field : `${field}[${i}]`;
    for (const ip of expandOne(raw.trim(), where, MAX_ADDRESSES_PER_HOST - out.length)) {
      if (seen.has(ip)) throw new ConfigError(where, `${ip} is listed twice`, 'give each address once: ranges and blocks must not overlap');
      seen.add(ip);
      out.push(ip);
    }
  });
  return out;
}

function expandOne(item: string, field: string, room: number): string[] {
  const range = /^([^-/]+)-([^-/]+)$/.exec(item);
  const block = /^([^-/]+)\/(\d{1,2})$/.exec(item);
  if (range) {
    const first = ipToInt(address(range[1] ?? '', field, 'range start'));
    const last = ipToInt(address(range[2] ?? '', field, 'range end'));
    if (first > last) throw new ConfigError(field, `"${shorten(item)}" ends before it starts`, 'write the lower address first, e.g. 192.168.50.10-192.168.50.40');
    return usable(first, last, item, field, room);
  }
  if (block) {
    const bits = Number(block[2]);
    const base = ipToInt(quad(block[1] ?? '', field));
    if (bits < 8 || bits > 30) throw new ConfigError(field, `"${shorten(item)}": /${bits} is not a block of lab addresses`, 'use a prefix from /8 to /30, or a range such as 192.168.50.10-192.168.50.40');
    const mask = (0xffffffff << (32 - bits)) >>> 0;
    if ((base & mask) >>> 0 !== base) throw new ConfigError(field, `"${shorten(item)}" is not the start of a /${bits} block`, `write the network address, e.g. ${intToIp((base & mask) >>> 0)}/${bits}`);
    // The block's own network and broadcast addresses are not hosts.
    return usable(base + 1, ((base | ~mask) >>> 0) - 1, item, field, room);
  }
  return [address(item, field, 'address')];
}

/** The addresses of [first, last] that validateIp accepts; at most `room`. */
function usable(first: number, last: number, item: string, field: string, room: number): string[] {
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const lastOctet = n & 0xff;
    if (lastOctet === 0 || lastOctet === 1 || lastOctet === 255) continue;
    if (out.length >= room) {
      throw new ConfigError(field, `"${shorten(item)}" gives more than ${MAX_ADDRESSES_PER_HOST} addresses to one host`, 'give a host the addresses of its labs only, e.g. 192.168.50.10-192.168.50.40');
    }
    const ip = intToIp(n);
    address(ip, field, 'address');
    out.push(ip);
  }
  if (out.length === 0) throw new ConfigError(field, `"${shorten(item)}" holds no usable address (.0, .1 and .255 are left out)`, 'widen the range, e.g. 192.168.50.10-192.168.50.40');
  return out;
}

function quad(text: string, field: string): string {
  const s = text.trim();
  if (!DOTTED_QUAD.test(s) || isIP(s) !== 4 || s.split('.').some((o) => o.length > 1 && o.startsWith('0'))) {
    throw new ConfigError(field, `"${shorten(s)}" is not an IPv4 address`, 'write addresses as dotted quads: 192.168.50.10, 192.168.50.10-192.168.50.40 or 192.168.50.0/24');
  }
  return s;
}

/** A lab address as `labctl create --ip` checks it, the error naming this field. */
function address(text: string, field: string, what: string): string {
  const s = quad(text, field);
  try {
    return validateIp(s, 'libvirt');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const problem = error.message.slice(error.field.length + 2);
    throw new ConfigError(field, `${what} ${problem}`, 'use private addresses from .2 to .254 of the classroom network, e.g. 192.168.50.10-192.168.50.40');
  }
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 0xff).join('.');
}
