// Choosing and checking a network's subnet against other networks and the host's routes (pure).
import { MinictrError } from '../base/errors.js';
import { contains, parseSubnet, subnetsOverlap } from './ipam.js';

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
