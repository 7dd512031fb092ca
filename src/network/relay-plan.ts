// The ports a relay process serves instead of the kernel's NAT (pure). Rootful: a container's
// `[::1]:…` bindings, which kernel NAT cannot serve (Docker runs its docker-proxy for them), relayed
// from the host's network namespace to the container's address. Rootless networks relay every
// published port (runtime/rootless-net.ts). One relay implementation serves both: network/port-relay.ts.
import type { NetworkAttachment, PortMapping } from '../base/records.js';
import { bracketed } from './ipv6.js';
import { servedByRelay } from './ports.js';

export const HOST_RELAY_WHY = "ports published on [::1]: IPv6 has no route_localnet, so the kernel's NAT cannot take ::1 to a container (the kernel drops a packet from ::1 that leaves through any interface but lo); minictr binds each on the host and hands the sockets to its relay (Docker's docker-proxy), which connects to the container's address through the bridge: the container sees the bridge's gateway as the client";

/** What a relay serves: its ports (on the host) and the container address it connects to. */
export interface RelayPlan {
  ports: PortMapping[];
  target: string;
  why: string;
}

/**
 * A container's relay, if any of its ports needs one: to its IPv6 address when it has one, else
 * its IPv4 address (as docker-proxy does: [::1] of the host reaches an IPv4-only container too).
 */
export function planHostRelay(att: Pick<NetworkAttachment, 'ports' | 'ip' | 'ip6'>): RelayPlan | undefined {
  const ports = att.ports.filter(servedByRelay);
  if (ports.length === 0) return undefined;
  return { ports, target: att.ip6 ?? att.ip, why: HOST_RELAY_WHY };
}

/** `[::1]:8080 → [fd00::2]:80/tcp, …`: what a relay forwards, for --dry-run and --explain. */
export function relayedPorts(target: string, ports: readonly PortMapping[]): string {
  return ports.map((p) => `${bracketed(p.hostIp || '0.0.0.0')}:${p.hostPort} → ${bracketed(target)}:${p.containerPort}/${p.proto}`).join(', ');
}
