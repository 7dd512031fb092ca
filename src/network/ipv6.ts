// IPv6 subnets and addresses (pure): parsing, the canonical text form (RFC 5952, as ip, nft and
// ip6tables-save print it back), overlap, a ULA subnet chosen from a network's id, and handing
// out the lowest free address. 128-bit arithmetic on BigInt; no library needed.
import { createHash } from 'node:crypto';
import { MinictrError } from '../base/errors.js';

const HEXTET = /^[0-9a-fA-F]{1,4}$/;
const V4_TAIL = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The 128-bit value of an IPv6 address, or undefined when the text is not one. */
export function parseIPv6(text: string): bigint | undefined {
  if (!text.includes(':') || text.includes(':::')) return undefined;
  let words: string[];
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const split = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = split(halves[0] ?? '');
  const tail = halves.length === 2 ? split(halves[1] ?? '') : [];
  // A dotted IPv4 tail (::ffff:1.2.3.4) counts as two hextets.
  const expandV4 = (parts: string[]): string[] | undefined => {
    const last = parts[parts.length - 1];
    const m = last === undefined ? null : V4_TAIL.exec(last);
    if (!m) return parts;
    const bytes = m.slice(1).map(Number);
    if (bytes.some((b) => b > 255)) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = bytes;
    return [...parts.slice(0, -1), ((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
  };
  const h = halves.length === 2 ? head : expandV4(head);
  const t = halves.length === 2 ? expandV4(tail) : [];
  if (!h || !t) return undefined;
  if (halves.length === 2) {
    const missing = 8 - h.length - t.length;
    if (missing < 1) return undefined;
    words = [...h, ...Array<string>(missing).fill('0'), ...t];
  } else {
    words = h;
  }
  if (words.length !== 8 || !words.every((w) => HEXTET.test(w))) return undefined;
  return words.reduce((acc, w) => (acc << 16n) | BigInt(parseInt(w, 16)), 0n);
}

export function isIPv6(text: string): boolean {
  return parseIPv6(text) !== undefined;
}

/** RFC 5952: lower case, no leading zeros, the longest run (≥ 2) of zero hextets as `::`. */
export function formatIPv6(value: bigint): string {
  const words = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (best.len < 2) return hex(words);
  return `${hex(words.slice(0, best.at))}::${hex(words.slice(best.at + best.len))}`;
}

/** The canonical form of an address as given (what the kernel and the firewalls print back). */
export function canonicalIPv6(text: string): string {
  const value = parseIPv6(text);
  if (value === undefined) throw new MinictrError('E_BAD_ADDRESS', `invalid IPv6 address "${text}"`);
  return formatIPv6(value);
}

/** The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, canonical `::ffff:7f00:1`) stands for. */
export function mappedIPv4(canonical: string): string | undefined {
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!m) return undefined;
  const hi = parseInt(m[1] ?? '0', 16);
  const lo = parseInt(m[2] ?? '0', 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

export interface Subnet6 {
  /** Canonical "fd00:1::/64". */
  cidr: string;
  prefixLength: number;
  /** The subnet's first host address (::1): the bridge holds it, as Docker's. */
  gateway: string;
}

interface Range6 {
  first: bigint;
  last: bigint;
  prefixLength: number;
}

const ALL = (1n << 128n) - 1n;

function rangeOf(cidr: string): Range6 {
  const [addr = '', bits = '', ...rest] = cidr.split('/');
  const value = parseIPv6(addr);
  if (value === undefined || rest.length > 0 || !/^\d{1,3}$/.test(bits) || Number(bits) > 128) {
    throw new MinictrError('E_BAD_SUBNET', `invalid IPv6 subnet "${cidr}": expected a CIDR such as fd00:1::/64`);
  }
  const prefixLength = Number(bits);
  const hostMask = prefixLength === 128 ? 0n : ALL >> BigInt(prefixLength);
  const first = value & (ALL ^ hostMask);
  return { first, last: first | hostMask, prefixLength };
}

/** Is this an IPv6 CIDR at all (for telling a v4 subnet given with --ipv6 from a bad one)? */
export function looksIPv6Subnet(cidr: string): boolean {
  return cidr.includes(':');
}

/** A bridge network's IPv6 subnet: its address must be the network's, with room for hosts (/64 … /120). */
export function parseSubnet6(cidr: string): Subnet6 {
  const { first, prefixLength } = rangeOf(cidr);
  const [addr = ''] = cidr.split('/');
  const network = formatIPv6(first);
  if (parseIPv6(addr) !== first) throw new MinictrError('E_BAD_SUBNET', `invalid IPv6 subnet "${cidr}": it should be ${network}/${prefixLength}`);
  if (prefixLength > 120) {
    throw new MinictrError('E_BAD_SUBNET', `invalid IPv6 subnet "${cidr}": too small, give a /120 or larger (Docker's default is a /64)`);
  }
  return { cidr: `${network}/${prefixLength}`, prefixLength, gateway: formatIPv6(first + 1n) };
}

export function contains6(cidr: string, ip: string): boolean {
  const value = parseIPv6(ip);
  if (value === undefined) return false;
  const { first, last } = rangeOf(cidr);
  return value >= first && value <= last;
}

export function subnetsOverlap6(a: string, b: string): boolean {
  const ra = rangeOf(a);
  const rb = rangeOf(b);
  return ra.first <= rb.last && rb.first <= ra.last;
}

/** Refuse a gateway outside the subnet or on its first (Subnet-Router anycast) address. */
export function checkGateway6(cidr: string, gateway: string): string {
  const value = parseIPv6(gateway);
  const { first } = rangeOf(cidr);
  if (value === undefined || !contains6(cidr, gateway) || value === first) {
    throw new MinictrError('E_BAD_GATEWAY', `IPv6 gateway ${gateway} is not a host address of ${cidr}`);
  }
  return formatIPv6(value);
}

/**
 * A ULA /64 (RFC 4193: fd + a 40-bit global id + a 16-bit subnet id), the global id taken from
 * the network's id so one network always gets the same subnet; `attempt` moves to the next
 * candidate when one clashes.
 */
export function ulaSubnet(networkId: string, attempt = 0): string {
  const digest = createHash('sha256').update(`${networkId}\0${attempt}`).digest();
  const bytes = [0xfd, ...digest.subarray(0, 5)];
  const word = (i: number): string => (((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16);
  return `${formatIPv6(parseIPv6(`${word(0)}:${word(2)}:${word(4)}::`) ?? 0n)}/64`;
}

/**
 * The lowest free address after the gateway, skipping the subnet's first address and every
 * address in `used`. Walks numbers, never builds a list.
 */
export function allocateIp6(cidr: string, gateway: string, used: Iterable<string>, networkName?: string): string {
  const { first, last } = rangeOf(cidr);
  const taken = new Set<bigint>();
  for (const ip of used) {
    const v = parseIPv6(ip);
    if (v !== undefined) taken.add(v);
  }
  const gw = parseIPv6(gateway);
  if (gw !== undefined) taken.add(gw);
  const stop = last < first + 70_000n ? last : first + 70_000n;
  for (let n = first + 1n; n <= stop; n++) {
    if (!taken.has(n)) return formatIPv6(n);
  }
  const where = networkName === undefined ? '' : ` (network "${networkName}")`;
  throw new MinictrError('E_NO_ADDRESS', `no free IPv6 address left in ${cidr}${where}`);
}

/**
 * `--ip6`: the address asked for, in its canonical form, checked as `--ip` is: an IPv6 address,
 * a host address of the network's IPv6 subnet (not its first), not the gateway, not taken.
 */
export function requestedIp6(cidr: string, gateway: string, used: Iterable<string>, ip: string, networkName: string): string {
  const value = ip.includes('/') ? undefined : parseIPv6(ip);
  if (value === undefined) throw new MinictrError('E_BAD_ADDRESS', `invalid IPv6 address "${ip}" for --ip6`);
  const { first, last } = rangeOf(cidr);
  if (value <= first || value > last) {
    throw new MinictrError('E_BAD_ADDRESS', `invalid address ${ip}: it does not belong to the IPv6 subnet ${cidr} of network "${networkName}" (or is its first address)`);
  }
  const taken = new Set([gateway, ...used].map((u) => parseIPv6(u)));
  if (taken.has(value)) throw new MinictrError('E_ADDRESS_IN_USE', `address ${formatIPv6(value)} is already in use on network "${networkName}"; pick another --ip6 or leave it out`);
  return formatIPv6(value);
}

/** `--ip6` on a network without IPv6: nothing to give it from. */
export function checkHasIPv6(net: { name: string; subnet6?: string }, ip: string): void {
  if (!net.subnet6) throw new MinictrError('E_NO_IPV6', `cannot give --ip6 ${ip}: network ${net.name} has no IPv6 (create one with: minictr network create --ipv6 NAME)`);
}

/** `--ip6` checked before anything is made (whether it is free is known at start, as for --ip). */
export function checkRequestedIp6(net: { name: string; subnet6?: string; gateway6?: string }, ip: string): void {
  checkHasIPv6(net, ip);
  requestedIp6(net.subnet6 ?? '', net.gateway6 ?? '', [], ip, net.name);
}

/** `[addr]` as a v6 host address is written beside a port. */
export function bracketed(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}
