// A network's members: each container attached to it, with what other containers' starts need
// of it (its addresses, host ports and names), and nothing else. It is what the state's index
// keeps per network (src/state/container-index.ts), so a start reads its network's members
// instead of every container record: at 1,000 containers the records cost a start ~0.2 s.
import { attachmentsOf, type ContainerRecord, type PortMapping } from './records.js';

export interface NetworkMember {
  id: string;
  network: string;
  name: string;
  hostname: string;
  /** Its extra names on this network: `--network-alias` for its first network, `connect --alias` for the others. */
  aliases: string[];
  /** Its own `--dns` servers and `--dns-search` domains (its resolver asks them for other names). */
  dns: string[];
  dnsSearch: string[];
  /** Its addresses on this network: taken, also while it still attaches. */
  ip: string;
  ip6?: string;
  /** The host ports it holds (a first network's; `network connect` publishes none). */
  ports: PortMapping[];
}

/**
 * The container as a member of each network it is attached to (the index holds exactly this).
 * What only a re-created bridge needs (veth names, whether an attach is still pending) stays
 * in the records, which that rare path reads.
 */
export function membersOf(record: ContainerRecord): NetworkMember[] {
  return attachmentsOf(record).map((a) => ({
    id: record.id,
    network: a.network,
    name: record.name,
    hostname: record.config.hostname,
    aliases: (a === record.network ? record.config.networkAliases : a.aliases) ?? [],
    dns: record.hostConfig.dns ?? [],
    dnsSearch: record.hostConfig.dnsSearch ?? [],
    ip: a.ip,
    ...(a.ip6 ? { ip6: a.ip6 } : {}),
    ports: a.ports,
  }));
}

/** Every member of every network of these records (what the index holds, rebuilt from records). */
export function allMembersOf(records: readonly ContainerRecord[]): NetworkMember[] {
  return records.flatMap((r) => membersOf(r));
}

/** The members of one network. */
export function membersOn(members: readonly NetworkMember[], network: string): NetworkMember[] {
  return members.filter((m) => m.network === network);
}
