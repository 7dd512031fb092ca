// IPv4 subnets and addresses: validation, overlap, and handing out the lowest free address.
// The only importer of ip-cidr; everything else here is plain 32-bit arithmetic.
import IPCIDR from 'ip-cidr';
import { MinictrError } from '../base/errors.js';

export interface Subnet {
  /** Normalised "a.b.c.d/n". */
  cidr: string;
  network: string;
  prefixLength: number;
  /** First host address (.1): the bridge holds it. */
  gateway: string;
  broadcast: string;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Dotted-quad IPv4 without leading zeros (as Go's net.ParseIP, which Docker uses). */
export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

export function ipToInt(ip: string): number {
  if (!isIPv4(ip)) throw new MinictrError('E_BAD_ADDRESS', `invalid IPv4 address "${ip}"`);
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

interface Range {
  first: number;
  last: number;
  prefixLength: number;
}

// ip-cidr's validation takes ~0.3 ms a call (~2 ms the first time), and a start asks about
// the same few subnets many times over: each valid one is checked once per process.
const ranges = new Map<string, Range>();

function rangeOf(cidr: string): Range {
  const known = ranges.get(cidr);
  if (known) return known;
  const [addr = '', bits = ''] = cidr.split('/');
  if (!isIPv4(addr) || !/^\d{1,2}$/.test(bits) || Number(bits) > 32 || !IPCIDR.isValidCIDR(cidr)) {
    const why = cidr.includes(':') ? 'IPv6 subnets are not supported' : 'expected an IPv4 CIDR such as 172.18.0.0/16';
    throw new MinictrError('E_BAD_SUBNET', `invalid subnet "${cidr}": ${why}`);
  }
  const prefixLength = Number(bits);
  const first = (ipToInt(addr) & maskOf(prefixLength)) >>> 0;
  const range = { first, last: (first + 2 ** (32 - prefixLength) - 1) >>> 0, prefixLength };
  ranges.set(cidr, range);
  return range;
}

/** Validate a bridge network's subnet; the gateway is its first host address. */
export function parseSubnet(cidr: string): Subnet {
  const { first, last, prefixLength } = rangeOf(cidr);
  const network = intToIp(first);
  const [addr] = cidr.split('/');
  if (addr !== network) {
    throw new MinictrError('E_BAD_SUBNET', `invalid subnet "${cidr}": it should be ${network}/${prefixLength}`);
  }
  if (prefixLength > 30) {
    throw new MinictrError(
      'E_BAD_SUBNET',
      `invalid subnet "${cidr}": too small, it needs room for a gateway and one container (/30 or larger)`,
    );
  }
  return {
    cidr: `${network}/${prefixLength}`,
    network,
    prefixLength,
    gateway: intToIp(first + 1),
    broadcast: intToIp(last),
  };
}

export function contains(subnet: string, ip: string): boolean {
  if (!isIPv4(ip)) return false;
  const { first, last } = rangeOf(subnet);
  const n = ipToInt(ip);
  return n >= first && n <= last;
}

export function subnetsOverlap(a: string, b: string): boolean {
  const ra = rangeOf(a);
  const rb = rangeOf(b);
  return ra.first <= rb.last && rb.first <= ra.last;
}

/** Where in a subnet addresses are handed out (a CNI config's `rangeStart`/`rangeEnd`); absent ends: the subnet's. */
export interface AddressRange {
  start?: string;
  end?: string;
}

/**
 * The lowest free host address, skipping the network, gateway and broadcast addresses and
 * every address in `used` (with the usual .1 gateway, containers get .2, .3, …).
 * Walks numbers, never builds the subnet's list.
 */
export function allocateIp(subnet: string, gateway: string, used: Iterable<string>, networkName?: string, range: AddressRange = {}): string {
  const { first, last } = rangeOf(subnet);
  const taken = new Set<number>();
  for (const ip of used) if (isIPv4(ip)) taken.add(ipToInt(ip));
  if (isIPv4(gateway)) taken.add(ipToInt(gateway));
  const lo = Math.max(first + 1, range.start ? ipToInt(range.start) : 0);
  const hi = Math.min(last - 1, range.end ? ipToInt(range.end) : last);
  for (let n = lo; n <= hi; n++) {
    if (!taken.has(n)) return intToIp(n);
  }
  const where = networkName === undefined ? '' : ` (network "${networkName}")`;
  const span = range.start || range.end ? ` between ${intToIp(lo)} and ${intToIp(hi)}` : '';
  throw new MinictrError('E_NO_ADDRESS', `no free address left in ${subnet}${span}${where}`);
}

/** `--ip`: an address the user picked, checked as Docker checks it (in the subnet, a host address, free). */
export function requestedIp(subnet: string, gateway: string, used: Iterable<string>, ip: string, networkName: string): string {
  if (!isIPv4(ip)) throw new MinictrError('E_BAD_ADDRESS', `invalid IPv4 address "${ip}" for --ip`);
  const { first, last } = rangeOf(subnet);
  const n = ipToInt(ip);
  if (n <= first || n >= last) {
    throw new MinictrError('E_BAD_ADDRESS', `invalid address ${ip}: it does not belong to the subnet ${subnet} of network "${networkName}" (or is its network or broadcast address)`);
  }
  if (ip === gateway || [...used].includes(ip)) {
    throw new MinictrError('E_ADDRESS_IN_USE', `address ${ip} is already in use on network "${networkName}"; pick another --ip or leave it out`);
  }
  return ip;
}
