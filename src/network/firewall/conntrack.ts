// What both firewall drivers do after a container's rules go: forget its UDP flows, so the
// next datagram to its host port is not sent on to the removed container (conntrack keeps
// a UDP "connection" for 30 s or more after its last packet).
import { command, type Op } from '../../base/plan.js';
import { natPorts } from '../ports.js';
import type { NetworkAttachment } from '../../base/records.js';

/** By HOST port: those are the flows' original destinations (Docker flushes by container port). */
export function forgetUdpFlowsOps(att: NetworkAttachment): Op[] {
  const udpHostPorts = [...new Set(natPorts(att.ports).filter((p) => p.proto === 'udp').map((p) => p.hostPort))];
  return udpHostPorts.map((port) =>
    command(
      ['conntrack', '-D', '-p', 'udp', '--dport', String(port)],
      `forget UDP flows to host port ${port}, so new datagrams are not sent to the removed container`,
      { tolerate: /0 flow entries|not found/ },
    ),
  );
}
