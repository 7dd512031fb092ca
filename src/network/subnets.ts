// Choosing and checking a network's subnet against other networks and the host's routes (pure).
import { MinictrError } from '../base/errors.js';
import { contains, parseSubnet, subnetsOverlap } from './ipam.js';
import { looksIPv6Subnet, subnetsOverlap6, ulaSubnet } from './ipv6.js';

/** A route of the host, as `ip -j route` reports it ("default" or "10.0.0.0/8" or "10.1.2.3"). */
export interface HostRoute {
  dst: string;
  dev?: string;
}

/** Routes that cover addresses of `subnet` (ignoring the default route and the bridge's own). */
export function overlappingRoutes(subnet: string, routes: HostRoute[], ownBridge: string): HostRoute[] {
  return routes.filter((r) => {
    if (r.dst === 'default' || r.dev === ownBridge) return false;
    const cidr = r.dst.includes('/') ? r.dst : `${r.dst}/32`;
    try {
      return subnetsOverlap(subnet, cidr);
    } catch {
      return false;
    }
  });
}

/** Refuse a subnet that another network or a host route already uses. */
export function checkSubnetFree(
  subnet: string,
  others: { name: string; subnet: string }[],
  routes: HostRoute[],
  ownBridge: string,
): void {
  const net = others.find((o) => subnetsOverlap(o.subnet, subnet));
  if (net) {
    throw new MinictrError(
      'E_SUBNET_OVERLAP',
      `subnet ${subnet} overlaps network "${net.name}" (${net.subnet}); choose another with --subnet`,
    );
  }
  const route = overlappingRoutes(subnet, routes, ownBridge)[0];
  if (route) {
    throw new MinictrError(
      'E_SUBNET_OVERLAP',
      `subnet ${subnet} overlaps the host route ${route.dst}${route.dev ? ` on ${route.dev}` : ''}; ` +
        'containers could not reach it: choose another subnet (minictr network create --subnet …)',
    );
  }
}

/** Docker's pools, in order: 172.19–172.31/16 (172.18 is the default bridge's), then 192.168.x.0/20. */
export function candidateSubnets(): string[] {
  const out: string[] = [];
  for (let b = 19; b <= 31; b++) out.push(`172.${b}.0.0/16`);
  for (let c = 0; c < 256; c += 16) out.push(`192.168.${c}.0/20`);
  return out;
}

export function pickSubnet(others: { subnet: string }[], routes: HostRoute[]): string {
  const free = candidateSubnets().find(
    (s) => !others.some((o) => subnetsOverlap(o.subnet, s)) && overlappingRoutes(s, routes, '').length === 0,
  );
  if (!free) {
    throw new MinictrError('E_NO_SUBNET', 'could not find an available, non-overlapping IPv4 address pool; give one with --subnet');
  }
  return free;
}

export function checkGateway(subnet: string, gateway: string): void {
  const parsed = parseSubnet(subnet);
  if (!contains(subnet, gateway) || gateway === parsed.network || gateway === parsed.broadcast) {
    throw new MinictrError('E_BAD_GATEWAY', `gateway ${gateway} is not a host address of ${subnet}`);
  }
}

/** IPv6 routes of the host that cover addresses of `subnet6` (ignoring default and the bridge's own). */
export function overlappingRoutes6(subnet6: string, routes: HostRoute[], ownBridge: string): HostRoute[] {
  return routes.filter((r) => {
    if (r.dst === 'default' || r.dev === ownBridge || !r.dst.includes(':')) return false;
    const cidr = r.dst.includes('/') ? r.dst : `${r.dst}/128`;
    try {
      return subnetsOverlap6(subnet6, cidr);
    } catch {
      return false;
    }
  });
}

/** Refuse an IPv6 subnet that another network or a host route already uses. */
export function checkSubnet6Free(subnet6: string, others: { name: string; subnet6?: string }[], routes: HostRoute[], ownBridge: string): void {
  const net = others.find((o) => o.subnet6 !== undefined && subnetsOverlap6(o.subnet6, subnet6));
  if (net) {
    throw new MinictrError('E_SUBNET_OVERLAP', `IPv6 subnet ${subnet6} overlaps network "${net.name}" (${net.subnet6 ?? ''}); choose another with --subnet`);
  }
  const route = overlappingRoutes6(subnet6, routes, ownBridge)[0];
  if (route) {
    throw new MinictrError(
      'E_SUBNET_OVERLAP',
      `IPv6 subnet ${subnet6} overlaps the host route ${route.dst}${route.dev ? ` on ${route.dev}` : ''}; choose another IPv6 subnet (--subnet fd…/64)`,
    );
  }
}

/** A ULA /64 from the network's id that no other network and no host route uses (Docker: a ULA when --ipv6 has no subnet). */
export function pickSubnet6(networkId: string, others: { subnet6?: string }[], routes: HostRoute[]): string {
  for (let attempt = 0; attempt < 64; attempt++) {
    const candidate = ulaSubnet(networkId, attempt);
    const clash = others.some((o) => o.subnet6 !== undefined && subnetsOverlap6(o.subnet6, candidate)) || overlappingRoutes6(candidate, routes, '').length > 0;
    if (!clash) return candidate;
  }
  throw new MinictrError('E_NO_SUBNET', 'could not find a free IPv6 ULA subnet; give one with --subnet fd…/64');
}

/** What `network create` asked of addresses: at most one subnet (and gateway) per family. */
export interface IpamRequest {
  subnet?: string;
  gateway?: string;
  ipv6: boolean;
  subnet6?: string;
  gateway6?: string;
}

/**
 * Docker's repeated `--subnet`/`--gateway` (the API's IPAM Config entries), sorted by family:
 * one IPv4 and, with `--ipv6`, one IPv6 subnet at most. An IPv6 subnet or gateway needs `--ipv6`.
 */
export function ipamRequest(subnets: string[], gateways: string[], ipv6: boolean): IpamRequest {
  const v4 = subnets.filter((s) => !looksIPv6Subnet(s));
  const v6 = subnets.filter(looksIPv6Subnet);
  const g4 = gateways.filter((g) => !g.includes(':'));
  const g6 = gateways.filter((g) => g.includes(':'));
  const twice = (what: string, list: string[]): MinictrError =>
    new MinictrError('E_BAD_SUBNET', `a minictr network has one ${what} at most; got ${list.join(' and ')}`);
  if (v4.length > 1) throw twice('IPv4 subnet', v4);
  if (v6.length > 1) throw twice('IPv6 subnet', v6);
  if (g4.length > 1) throw twice('IPv4 gateway', g4);
  if (g6.length > 1) throw twice('IPv6 gateway', g6);
  if (!ipv6 && (v6[0] ?? g6[0])) {
    throw new MinictrError('E_BAD_SUBNET', `IPv6 ${v6[0] ? `subnet ${v6[0]}` : `gateway ${g6[0] ?? ''}`} given without --ipv6: add --ipv6 to give the network IPv6`);
  }
  if (g6[0] && !v6[0]) throw new MinictrError('E_BAD_GATEWAY', `IPv6 gateway ${g6[0]} needs the IPv6 subnet it belongs to (--subnet fd…/64)`);
  return {
    ipv6,
    ...(v4[0] ? { subnet: v4[0] } : {}),
    ...(g4[0] ? { gateway: g4[0] } : {}),
    ...(v6[0] ? { subnet6: v6[0] } : {}),
    ...(g6[0] ? { gateway6: g6[0] } : {}),
  };
}
