// Docker's `-p` specs: parsing, choosing host ports, and the docker ps / docker port text.
import { MinictrError } from '../base/errors.js';
import { isIPv4 } from './ipam.js';
import { bracketed, canonicalIPv6, isIPv6, mappedIPv4 } from './ipv6.js';
import type { PortMapping, Protocol } from '../base/records.js';

/** A parsed `-p` entry before host ports are chosen: hostPort 0 means "pick a free one". */
export interface PortRequest {
  /** '' = every host address. */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  proto: Protocol;
}

/** Linux's default ip_local_port_range, where Docker picks host ports when the kernel's cannot be read. */
export const LINUX_EPHEMERAL_RANGE: readonly [number, number] = [32768, 60999];

/** Something bound on the host: a listener from /proc/net/* or an existing publication. */
export interface HostBinding {
  ip: string;
  port: number;
  proto: Protocol;
}

export type TakenCheck = (hostIp: string, port: number, proto: Protocol) => boolean;

function bad(spec: string, problem: string): MinictrError {
  return new MinictrError('E_BAD_PORT', `invalid port spec "${spec}": ${problem}`);
}

interface PortRange {
  first: number;
  last: number;
}

function parsePort(spec: string, text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw bad(spec, `${what} "${text}" is not a number`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw bad(spec, `port ${text} is out of range 1-65535`);
  return port;
}

function parseRange(spec: string, text: string, what: string): PortRange {
  if (text === '') throw bad(spec, `missing ${what}`);
  if (!/^\d+(-\d+)?$/.test(text)) throw bad(spec, `${what} "${text}" is not a number`);
  const dash = text.indexOf('-');
  if (dash < 0) {
    const port = parsePort(spec, text, what);
    return { first: port, last: port };
  }
  const first = parsePort(spec, text.slice(0, dash), what);
  const last = parsePort(spec, text.slice(dash + 1), what);
  if (last < first) throw bad(spec, `port range ${text} is reversed`);
  return { first, last };
}

function splitProto(spec: string): [string, Protocol] {
  const slash = spec.lastIndexOf('/');
  if (slash < 0) return [spec, 'tcp'];
  const proto = spec.slice(slash + 1).toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp') {
    throw bad(spec, proto === '' ? 'missing protocol after "/"' : `unknown protocol "${proto}" (use tcp or udp)`);
  }
  return [spec.slice(0, slash), proto];
}

/**
 * The host address and the `hostPort:containerPort` rest of a spec body: `[ADDR]:h:c` for IPv6
 * (Docker's form; its unbracketed `ADDR:h:c` too), `a.b.c.d:h:c` for IPv4, or no address.
 */
function splitHostIp(spec: string, body: string): { hostIp: string; parts: string[] } {
  const wrongForm = 'write an IPv6 host address as [ADDR]:hostPort:containerPort, e.g. [::]:8080:80';
  if (body.startsWith('[')) {
    const close = body.indexOf(']');
    if (close < 0) throw bad(spec, `unclosed "[": ${wrongForm}`);
    const inside = body.slice(1, close);
    const after = body.slice(close + 1);
    if (isIPv4(inside)) throw bad(spec, `brackets are for IPv6 addresses only: write ${inside}:…`);
    if (!isIPv6(inside)) throw bad(spec, `invalid IPv6 host address "${inside}"`);
    if (!after.startsWith(':') || after.slice(1).split(':').length !== 2) throw bad(spec, wrongForm);
    return { hostIp: canonicalIPv6(inside), parts: after.slice(1).split(':') };
  }
  if (body.includes(']')) throw bad(spec, `"]" without "[": ${wrongForm}`);
  const pieces = body.split(':');
  if (pieces.length > 3) {
    // Docker also takes "::1:8080:80": everything before the last two colons is the address.
    const addr = pieces.slice(0, -2).join(':');
    if (isIPv6(addr)) return { hostIp: canonicalIPv6(addr), parts: pieces.slice(-2) };
    const looksIPv6 = pieces.slice(0, -2).some((p) => !/^\d+$/.test(p));
    throw bad(spec, looksIPv6 ? `invalid IPv6 host address "${addr}"` : 'too many colons: use [ip:][hostPort:]containerPort[/proto]');
  }
  if (pieces.length < 3) return { hostIp: '', parts: pieces };
  const hostIp = pieces[0] ?? '';
  if (hostIp === '') throw bad(spec, 'missing host IP before "::"');
  if (!isIPv4(hostIp)) throw bad(spec, `invalid host IP "${hostIp}"`);
  return { hostIp, parts: pieces.slice(1) };
}

/** `[[hostIp:]hostPort:]containerPort[/proto]`, with ranges; one request per port. */
export function parsePortSpec(spec: string): PortRequest[] {
  const [body, proto] = splitProto(spec);
  const split = splitHostIp(spec, body);
  const parts = split.parts;
  const ctrText = parts[parts.length - 1] ?? '';
  const hostText = parts.length >= 2 ? (parts[parts.length - 2] ?? '') : '';
  // An IPv4-mapped address is its IPv4 address, as Go's net.IP (To4) makes it for Docker.
  let hostIp = mappedIPv4(split.hostIp) ?? split.hostIp;
  if (hostIp === '0.0.0.0') hostIp = '';
  const ctr = parseRange(spec, ctrText, 'container port');
  const host = hostText === '' ? undefined : parseRange(spec, hostText, 'host port');
  const count = ctr.last - ctr.first + 1;
  if (host) {
    const hostCount = host.last - host.first + 1;
    if (count === 1 && hostCount > 1) {
      throw bad(spec, 'a host port range needs a container port range of the same size');
    }
    if (hostCount !== count) {
      throw bad(spec, `host ports (${hostCount}) and container ports (${count}) differ in number`);
    }
  }
  const out: PortRequest[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ hostIp, hostPort: host ? host.first + i : 0, containerPort: ctr.first + i, proto });
  }
  return out;
}

const ALL_ADDRESSES = new Set(['', '0.0.0.0', '::']);

/**
 * A binding the kernel's NAT cannot serve, so a relay process does (Docker's docker-proxy):
 * IPv6's loopback. IPv6 has no route_localnet, and the kernel drops a packet from ::1 that
 * leaves through any interface but lo.
 */
export function servedByRelay(p: Pick<PortMapping, 'hostIp'>): boolean {
  return p.hostIp === '::1';
}

/** The ports the firewall drivers publish with DNAT: all but those a relay serves. */
export function natPorts(ports: readonly PortMapping[]): PortMapping[] {
  return ports.filter((p) => !servedByRelay(p));
}

/** The address family of a host address ('' is every IPv4 address, as Docker's 0.0.0.0). */
export function familyOf(ip: string): 4 | 6 {
  return ip.includes(':') ? 6 : 4;
}

/**
 * Two bindings clash on the same port, protocol and address family when either covers every
 * address or both name the same one. (A dual-stack listener on :: is given as two bindings.)
 */
export function bindingsConflict(a: HostBinding, b: HostBinding): boolean {
  if (a.port !== b.port || a.proto !== b.proto || familyOf(a.ip) !== familyOf(b.ip)) return false;
  return ALL_ADDRESSES.has(a.ip) || ALL_ADDRESSES.has(b.ip) || a.ip === b.ip;
}

/** A TakenCheck over what is already bound. */
export function takenBy(occupied: Iterable<HostBinding>): TakenCheck {
  // By port: a check looks at the few bindings of its own port, not at every container's.
  const byPort = new Map<number, HostBinding[]>();
  for (const b of occupied) byPort.set(b.port, [...(byPort.get(b.port) ?? []), b]);
  return (ip, port, proto) => (byPort.get(port) ?? []).some((b) => bindingsConflict(b, { ip, port, proto }));
}

function inUse(hostIp: string, port: number): MinictrError {
  return new MinictrError('E_PORT_IN_USE', `Bind for ${bracketed(hostIp || '0.0.0.0')}:${port} failed: port is already allocated`);
}

/** How many random picks to try for one `-p CTR` before giving up. */
export const PICK_TRIES = 100;

/**
 * Give every request a host port: fixed ones must be free (on the host and within this run),
 * hostPort 0 is filled by pick() until a free one turns up. Results keep the requests' order.
 * With `dualStack` (a network with IPv6), a request on every address is published on both
 * families, as Docker does: 0.0.0.0 and [::], one port free on both.
 */
export function assignHostPorts(requests: PortRequest[], taken: TakenCheck, pick: () => number, options: { dualStack?: boolean } = {}): PortMapping[] {
  const chosen: HostBinding[] = [];
  const ipsOf = (r: PortRequest): string[] => (r.hostIp === '' && options.dualStack ? ['', '::'] : [r.hostIp]);
  const clashes = (r: PortRequest, port: number): boolean =>
    ipsOf(r).some((ip) => taken(ip, port, r.proto) || chosen.some((c) => bindingsConflict(c, { ip, port, proto: r.proto })));
  const take = (r: PortRequest, port: number): PortMapping[] =>
    ipsOf(r).map((ip) => {
      chosen.push({ ip, port, proto: r.proto });
      return { ...r, hostIp: ip, hostPort: port };
    });
  const out: PortMapping[][] = requests.map(() => []);
  // Fixed ports first, so an ephemeral pick cannot take a port asked for later on the line.
  requests.forEach((r, i) => {
    if (r.hostPort === 0) return;
    if (clashes(r, r.hostPort)) throw inUse(r.hostIp, r.hostPort);
    out[i] = take(r, r.hostPort);
  });
  requests.forEach((r, i) => {
    if (r.hostPort !== 0) return;
    for (let tries = 0; tries < PICK_TRIES; tries++) {
      const port = pick();
      if (port < 1 || port > 65535 || clashes(r, port)) continue;
      out[i] = take(r, port);
      return;
    }
    throw new MinictrError(
      'E_PORT_IN_USE',
      `no free host port found for ${r.containerPort}/${r.proto} after ${PICK_TRIES} tries`,
    );
  });
  return out.flat();
}

function hostAddress(m: PortMapping): string {
  return `${bracketed(m.hostIp || '0.0.0.0')}:${m.hostPort}`;
}

/** `0.0.0.0:5005->5000/tcp`, one mapping as docker ps shows it. */
export function formatPortMapping(m: PortMapping): string {
  return `${hostAddress(m)}->${m.containerPort}/${m.proto}`;
}

function comparePorts(a: PortMapping, b: PortMapping): number {
  const ai = a.hostIp || '0.0.0.0';
  const bi = b.hostIp || '0.0.0.0';
  if (a.containerPort !== b.containerPort) return a.containerPort - b.containerPort;
  if (ai !== bi) return ai < bi ? -1 : 1;
  if (a.hostPort !== b.hostPort) return a.hostPort - b.hostPort;
  return a.proto < b.proto ? -1 : a.proto > b.proto ? 1 : 0;
}

/**
 * The PORTS column of docker ps (docker/cli DisplayablePorts): sorted by container port;
 * runs of ports published on the same number are folded into `0.0.0.0:8000-8002->8000-8002/tcp`,
 * other mappings listed after them.
 */
export function formatPortsColumn(ms: PortMapping[]): string {
  interface Group {
    ip: string;
    proto: Protocol;
    first: number;
    last: number;
  }
  const groups = new Map<string, Group>();
  const result: string[] = [];
  const others: string[] = [];
  const form = (g: Group): string => {
    const span = g.first === g.last ? `${g.first}` : `${g.first}-${g.last}`;
    return `${bracketed(g.ip)}:${span}->${span}/${g.proto}`;
  };
  for (const m of [...ms].sort(comparePorts)) {
    if (m.hostPort !== m.containerPort) {
      others.push(formatPortMapping(m));
      continue;
    }
    const ip = m.hostIp || '0.0.0.0';
    const key = `${ip}/${m.proto}`;
    const group = groups.get(key);
    if (group && m.containerPort === group.last + 1) {
      group.last = m.containerPort;
      continue;
    }
    if (group) result.push(form(group));
    // Re-inserting keeps the key's first position, as Go's recorded key order does.
    groups.set(key, { ip, proto: m.proto, first: m.containerPort, last: m.containerPort });
  }
  for (const g of groups.values()) result.push(form(g));
  return [...result, ...others].join(', ');
}

/**
 * What `docker port NAME [PORT[/PROTO]]` prints: `5000/tcp -> 0.0.0.0:5005` per mapping, or
 * only the host addresses when a port is asked for. [] when nothing matches.
 */
export function formatPortCommand(ms: PortMapping[], filter?: string): string[] {
  const sorted = [...ms].sort(comparePorts);
  if (filter === undefined) return sorted.map((m) => `${m.containerPort}/${m.proto} -> ${hostAddress(m)}`);
  const match = /^(\d+)(?:\/(tcp|udp))?$/i.exec(filter);
  if (!match) throw new MinictrError('E_BAD_PORT', `invalid port "${filter}": expected PORT or PORT/tcp or PORT/udp`);
  const port = Number(match[1]);
  const proto = (match[2] ?? 'tcp').toLowerCase();
  return sorted.filter((m) => m.containerPort === port && m.proto === proto).map(hostAddress);
}

function decodeIPv4Hex(hex: string): string {
  // The kernel prints the address as one host-order (little-endian) 32-bit word.
  const bytes = [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return bytes.join('.');
}

function decodeAddress(hex: string): string {
  if (hex.length === 8) return decodeIPv4Hex(hex);
  if (/^0+$/.test(hex)) return '::';
  // ::ffff:a.b.c.d, written as four little-endian words: 0, 0, 0xffff, the IPv4 word.
  if (/^0{16}FFFF0000/i.test(hex)) return decodeIPv4Hex(hex.slice(24));
  // Four host-order 32-bit words, as the IPv4 one.
  const words = [0, 8, 16, 24].map((i) => decodeIPv4Hex(hex.slice(i, i + 8)).split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(''));
  return canonicalIPv6(words.join('').replace(/(.{4})(?!$)/g, '$1:'));
}

/**
 * Listening sockets from the text of /proc/net/{tcp,tcp6,udp,udp6}: TCP in LISTEN (0A),
 * UDP bound and unconnected (07). '0.0.0.0' and '::' mean every address; a v4-mapped v6
 * address is given as its IPv4 form, other v6 addresses in their canonical text.
 */
export function parseProcNetListeners(text: string, proto: Protocol): { ip: string; port: number }[] {
  const wanted = proto === 'tcp' ? '0A' : '07';
  const seen = new Set<string>();
  const out: { ip: string; port: number }[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const state = fields[3];
    if (!fields[0]?.endsWith(':') || local === undefined || state?.toUpperCase() !== wanted) continue;
    const [addrHex = '', portHex = ''] = local.split(':');
    if (!/^[0-9A-Fa-f]+$/.test(addrHex) || (addrHex.length !== 8 && addrHex.length !== 32)) continue;
    if (!/^[0-9A-Fa-f]{4}$/.test(portHex)) continue;
    const ip = decodeAddress(addrHex);
    const port = parseInt(portHex, 16);
    const key = `${ip} ${port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ip, port });
  }
  return out;
}
