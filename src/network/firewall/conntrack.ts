// What both firewall drivers do after a container's rules go, and after a repair puts them
// back: forget its UDP flows. Conntrack keeps a UDP "connection" for 30 s after its last
// packet, and NAT rules are consulted only for a flow's first one: after a removal the next
// datagram would still go to the removed container; after a wipe, a flow that began while the
// DNAT was missing keeps going to the host itself for as long as its client keeps sending
// (Docker flushes the same entries when it sets a port mapping up: moby #8795, #44688, #44742).
import { command, type Op } from '../../base/plan.js';
import { natPorts } from '../ports.js';
import type { NetworkAttachment } from '../../base/records.js';
import type { RuleOwners } from '../driver.js';

/**
 * By HOST port: those are the flows' original destinations (Docker flushes by container port).
 * Without -f, `conntrack -D` deletes in both families (the IPv4 default is -L's only).
 */
export function forgetUdpFlowsOps(att: NetworkAttachment): Op[] {
  const udpHostPorts = [...new Set(natPorts(att.ports).filter((p) => p.proto === 'udp').map((p) => p.hostPort))];
  return udpHostPorts.map((port) =>
    command(
      ['conntrack', '-D', '-p', 'udp', '--dport', String(port)],
      `forget UDP flows to host port ${port}, so new datagrams go where the rules say now`,
      { tolerate: /0 flow entries|not found/ },
    ),
  );
}

/**
 * After a repair put rules back: the UDP flows of every container that publishes UDP, since
 * any of them may have begun while its DNAT (or the chain leading to it) was missing. Runs
 * after the rules are back, so a datagram in between is NATed afresh.
 */
export function forgetFlowsAfterRepairOps(owners: RuleOwners): Op[] {
  return owners.containers.flatMap((c) => (c.attachment ? forgetUdpFlowsOps(c.attachment) : []));
}
