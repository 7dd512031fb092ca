// The network planners: pure functions of (request, records, facts) → Plan. They compose the
// network driver and the firewall driver a network is served by (./drivers.ts); the facts are
// gathered beforehand (src/runtime/gather.ts), so nothing here reads the host.
import { MinictrError } from '../base/errors.js';
import { concatBatches, concatPlans, type BatchPlan, type Plan } from '../base/plan.js';
import { attachmentsOf, type ContainerRecord, type NetworkAttachment, type NetworkRecord } from '../base/records.js';
import { membersOn, type NetworkMember } from '../base/members.js';
import type { FirewallDriver, FirewallDump, RuleOwners, TeardownFacts } from './driver.js';
import { dnsRedirectStep } from './dns.js';
import { firewallDriverFor, networkDriverFor } from './drivers.js';
import { allocateIp, parseSubnet, requestedIp } from './ipam.js';
import { allocateIp6, checkHasIPv6, parseSubnet6, requestedIp6 } from './ipv6.js';
import { hostVethName, macFromIp, netnsName } from './names.js';
import { planHostRelay, type RelayPlan } from './relay-plan.js';
import { LINUX_EPHEMERAL_RANGE, assignHostPorts, familyOf, parsePortSpec, servedByRelay, takenBy, type HostBinding, type PortRequest } from './ports.js';
import { checkSubnet6Free, checkSubnetFree, type HostRoute } from './subnets.js';

export interface NetworkFacts {
  bridgeExists: boolean;
  /** The MINICTR chains and the FORWARD/PREROUTING/OUTPUT jumps are in place. */
  standingRulesExist: boolean;
  networkRulesExist: boolean;
}

/** The network's device, its sysctls, then whatever of its rules is missing. */
export function planNetworkSetup(net: NetworkRecord, facts: NetworkFacts): Plan {
  return concatPlans(
    `set up network ${net.name} (${net.bridge}, ${net.subnet})`,
    networkDriverFor(net).planNetworkSetup(net, facts),
    firewallDriverFor(net).planNetworkSetup(net, facts),
  );
}

/**
 * Whether the shared chains may go with `net`, minictr's last recorded network: not while the
 * firewall holds another network's rules (the CNI plugin's, `cni:<name>`, or another state
 * root's), which jump into those chains and live inside them.
 */
export function sharedChainsFree(dump: FirewallDump, net: Pick<NetworkRecord, 'name' | 'firewall'>, family?: 6): boolean {
  const firewall = firewallDriverFor(net);
  // ip6tables' chains (dump tables "ip6 …") are judged on their own.
  const rules = family === 6 ? dump.rules.filter((r) => r.table.startsWith('ip6 ')) : dump.rules;
  return !rules.some((r) => {
    const scope = firewall.scopeOf(r);
    return scope !== undefined && scope !== '' && scope !== net.name;
  });
}

/** Its rules (and minictr's shared chains with the last network), then its device. */
export function planNetworkTeardown(net: NetworkRecord, facts: TeardownFacts): Plan {
  return concatPlans(
    `remove network ${net.name} (${net.bridge})`,
    firewallDriverFor(net).planNetworkTeardown(net, facts),
    networkDriverFor(net).planNetworkTeardown(net),
  );
}

/** The two halves of a container's teardown, independent of each other: its rules, and its links. */
export function planContainerTeardown(att: NetworkAttachment, net?: NetworkRecord): { firewall: Plan; links: Plan } {
  const links = networkDriverFor(net ?? { driver: 'bridge', name: att.network });
  return { firewall: firewallDriverFor(net).planContainerTeardown(att), links: links.planContainerTeardown(att) };
}

/** A container in a batch teardown: its id, its attachment, and its network's record (if still there). */
export interface TeardownItem {
  owner: string;
  attachment: NetworkAttachment;
  net?: NetworkRecord;
}

/**
 * planContainerTeardown of many containers together (`rm -f a b c`): each driver gets all of
 * its containers at once, so their rules go in one restore per table and their namespaces in one batch.
 */
export function planContainersTeardown(items: TeardownItem[]): { firewall: BatchPlan; links: BatchPlan } {
  const grouped = <D extends { name: string }>(driverOf: (item: TeardownItem) => D): { driver: D; items: TeardownItem[] }[] => {
    const groups = new Map<string, { driver: D; items: TeardownItem[] }>();
    for (const item of items) {
      const driver = driverOf(item);
      const group = groups.get(driver.name) ?? { driver, items: [] };
      group.items.push(item);
      groups.set(driver.name, group);
    }
    return [...groups.values()];
  };
  const owned = (group: TeardownItem[]) => group.map(({ owner, attachment }) => ({ owner, attachment }));
  const title = `remove the networks of ${items.length} container(s)`;
  return {
    firewall: concatBatches(title, ...grouped((i) => firewallDriverFor(i.net)).map((g) => g.driver.planContainersTeardown(owned(g.items)))),
    links: concatBatches(
      title,
      ...grouped((i) => networkDriverFor(i.net ?? { driver: 'bridge', name: i.attachment.network })).map((g) => g.driver.planContainersTeardown(owned(g.items))),
    ),
  };
}

/** The whole teardown as one plan: rules first, then links (a failed start's rollback). */
export function planContainerNetworkTeardown(att: NetworkAttachment, net?: NetworkRecord): Plan {
  const { firewall, links } = planContainerTeardown(att, net);
  return concatPlans(`remove network of container ${att.netns} (${att.ip})`, firewall, links);
}

/** What the records say should have rules. */
export function ruleOwners(networks: NetworkRecord[], records: ContainerRecord[]): RuleOwners {
  return {
    networks,
    // An attach still in progress makes its own rules.
    containers: records.flatMap((r) => [
      r.network && !r.network.pending ? { name: r.name, attachment: r.network } : { name: r.name },
      ...(r.extraNetworks ?? []).filter((a) => !a.pending).map((attachment) => ({ name: r.name, attachment })),
    ]),
  };
}

/**
 * The rules every network and attached container served by `firewall` should have, minus those
 * in that driver's dump. Networks (and their containers) of another firewall driver are left to it.
 */
export function planRepair(dump: FirewallDump, networks: NetworkRecord[], records: ContainerRecord[], firewall: FirewallDriver = firewallDriverFor(networks[0])): Plan {
  const mine = networks.filter((n) => firewallDriverFor(n).name === firewall.name);
  const names = new Set(mine.map((n) => n.name));
  return firewall.planRepair(dump, ruleOwners(mine, records.filter((r) => !r.network || names.has(r.network.network))));
}

/** The firewall drivers some of these networks use (each once). */
export function firewallsOf(networks: Pick<NetworkRecord, 'firewall' | 'name'>[]): FirewallDriver[] {
  const drivers = networks.map((n) => firewallDriverFor(n));
  return drivers.filter((d, i) => drivers.findIndex((o) => o.name === d.name) === i);
}

/** What a container's attach needs to know of the host, gathered before planning. */
export interface AttachFacts {
  bridgeExists: boolean;
  /** Sockets bound on the host (gathered only when the container publishes ports). */
  listeners: HostBinding[];
  /** The kernel's ephemeral port range, where Docker picks host ports (gathered only when a port is to be picked). */
  portRange?: [number, number];
  /** The kernel runs without IPv6 (ipv6.disable=1). */
  noIPv6?: boolean;
  /** Gathered only when the bridge is new: the host's routes, and the live firewall dump. */
  routes?: HostRoute[];
  firewallDump?: FirewallDump;
}

export interface AttachInput {
  record: ContainerRecord;
  net: NetworkRecord;
  /** Every network's members (the index, or the records through allMembersOf): the addresses and host ports taken. */
  members: NetworkMember[];
  /**
   * Every container record, only when the bridge is new (facts.bridgeExists false): their rules
   * are put back and their veths plugged back in. A start on a standing bridge reads none.
   */
  records?: ContainerRecord[];
  /** Every recorded network (the one attached to may not be recorded yet). */
  networks: NetworkRecord[];
  facts: AttachFacts;
  /** A host port in [lo, hi] (random in the runtime, fixed in tests). */
  pickPort: (lo: number, hi: number) => number;
  /** The container asks 127.0.0.11, redirected to its network's resolver (user-defined networks). */
  embeddedDns?: boolean;
}

export interface AttachPlans {
  attachment: NetworkAttachment;
  net: NetworkRecord;
  /** What the network needs first: sysctls; on first use the bridge and the rules the dump lacks. */
  prepare: Plan;
  /** The container's namespace, veth pair, address and route. */
  links: Plan;
  /** The container's own rules. */
  firewall: Plan;
  /** All of it in order, for --dry-run. */
  plan: Plan;
  /** Ports kernel NAT cannot serve ([::1]): a relay process's, started after the rules. */
  relay?: RelayPlan;
}

/** Refuse a port on an IPv6 host address for a network without IPv6 (there is no IPv6 address to send it to). */
export function checkPublishable(net: Pick<NetworkRecord, 'name' | 'subnet6'>, requests: PortRequest[]): void {
  // [::1] is served by a relay, which reaches an IPv4-only container too (as docker-proxy does).
  const v6 = requests.find((r) => familyOf(r.hostIp) === 6 && !servedByRelay(r));
  if (v6 && !net.subnet6) {
    throw new MinictrError(
      'E_NO_IPV6',
      `cannot publish on [${v6.hostIp}]:${v6.hostPort || ''}: network ${net.name} has no IPv6 (create one with: minictr network create --ipv6 NAME)`,
    );
  }
}

/** The kernel's most ports on one bridge (BR_MAX_PORTS is 1024, and port number 0 is never given). */
export const BRIDGE_MAX_PORTS = 1023;

/** One more veth on the network's bridge, or a clear refusal instead of the kernel's "Exchange full". */
function checkBridgeRoom(net: NetworkRecord, attached: number): void {
  if (attached < BRIDGE_MAX_PORTS) return;
  throw new MinictrError(
    'E_NETWORK_FULL',
    `network ${net.name} is full: its bridge ${net.bridge} already holds ${attached} containers, the most a Linux bridge takes; start this one on another network (minictr network create NAME)`,
  );
}

/** The container's address, veth, namespace and host ports. */
export function planAttachment(input: Omit<AttachInput, 'networks'>): NetworkAttachment {
  const { record, net, facts } = input;
  const others = input.members.filter((m) => m.id !== record.id);
  const onNet = membersOn(others, net.name);
  checkBridgeRoom(net, onNet.length);
  const used = onNet.map((m) => m.ip);
  const wanted = record.hostConfig.ipAddress;
  const ip = wanted ? requestedIp(net.subnet, net.gateway, used, wanted, net.name) : allocateIp(net.subnet, net.gateway, used, net.name);
  const requests: PortRequest[] = record.hostConfig.portSpecs.flatMap((spec) => parsePortSpec(spec));
  checkPublishable(net, requests);
  const occupied: HostBinding[] = others.flatMap((m) =>
    m.ports.map((p) => ({ ip: p.hostIp || '0.0.0.0', port: p.hostPort, proto: p.proto })),
  );
  if (requests.length > 0) occupied.push(...facts.listeners);
  const [lo, hi] = facts.portRange ?? LINUX_EPHEMERAL_RANGE;
  const ports = assignHostPorts(requests, takenBy(occupied), () => input.pickPort(lo, hi), { dualStack: net.subnet6 !== undefined });
  const ipv6 = attachmentIPv6(net, onNet.flatMap((m) => (m.ip6 ? [m.ip6] : [])), record.hostConfig.ip6Address);
  return {
    network: net.name,
    bridge: net.bridge,
    netns: netnsName(record.id),
    hostVeth: hostVethName(record.id),
    ip,
    prefixLength: parseSubnet(net.subnet).prefixLength,
    gateway: net.gateway,
    ...ipv6,
    mac: macFromIp(ip),
    ports,
    ...(net.internal ? { internal: true } : {}),
  };
}

/**
 * A container's IPv6 address on a network with IPv6: the one asked for (--ip6), else the lowest
 * free one after the gateway. None on a network without IPv6 (where --ip6 is refused).
 */
function attachmentIPv6(net: Pick<NetworkRecord, 'name' | 'subnet6' | 'gateway6'>, used: string[], wanted?: string): Pick<NetworkAttachment, 'ip6' | 'prefixLength6' | 'gateway6'> {
  if (wanted !== undefined) checkHasIPv6(net, wanted);
  const { subnet6, gateway6 } = net;
  if (!subnet6 || !gateway6) return {};
  const ip6 = wanted !== undefined ? requestedIp6(subnet6, gateway6, used, wanted, net.name) : allocateIp6(subnet6, gateway6, used, net.name);
  return { ip6, prefixLength6: parseSubnet6(subnet6).prefixLength, gateway6 };
}

/** The attachments a network's bridge holds (one still being made plugs itself in). */
export function attachedTo(records: ContainerRecord[], network: string): NetworkAttachment[] {
  return records.flatMap((r) => attachmentsOf(r).filter((a) => a.network === network && !a.pending));
}

/** What connecting one attachment to its network needs, whoever made the attachment (a container record, the CNI plugin). */
export interface ConnectInput {
  /** Who is connected, for the plan's title. */
  who: string;
  attachment: NetworkAttachment;
  net: NetworkRecord;
  /** Every recorded network, this one included: a new bridge's subnet must not shadow another's. */
  networks: NetworkRecord[];
  /** Everything with rules: a new bridge puts back what the firewall dump lacks of them. */
  owners: RuleOwners;
  /** The attachments on this network, plugged back into a re-created bridge. */
  attached: NetworkAttachment[];
  facts: AttachFacts;
  /** The container asks 127.0.0.11, redirected to its network's resolver (user-defined networks). */
  embeddedDns?: boolean;
}

/**
 * The whole plan for connecting an attachment. A standing bridge: assume its rules are there,
 * and let the attachment's own restore check two of them (no extra process). A new bridge
 * (first use, a reboot, deleted by hand): its subnet must not shadow a host route, the rules
 * are compared with the dump, and the veths that were on it are plugged back.
 */
export function planConnect(input: ConnectInput): AttachPlans {
  const { attachment, net, facts } = input;
  const driver = networkDriverFor(net);
  const firewall = firewallDriverFor(net);
  const setup = planNetworkSetup(net, { bridgeExists: facts.bridgeExists, standingRulesExist: true, networkRulesExist: true });
  let prepare = setup;
  if (!facts.bridgeExists) {
    if (!facts.routes || !facts.firewallDump) {
      throw new MinictrError('E_INTERNAL', `planning a new bridge ${net.bridge} needs the host's routes and firewall dump`);
    }
    const others = input.networks.filter((n) => n.name !== net.name);
    checkSubnetFree(net.subnet, others, facts.routes, net.bridge);
    if (net.subnet6) checkSubnet6Free(net.subnet6, others, facts.routes, net.bridge);
    prepare = concatPlans(setup.title, setup, driver.planReattach(net, input.attached), firewall.planRepair(facts.firewallDump, input.owners));
  }
  const links = driver.planContainerSetup(attachment, facts, input.embeddedDns ? dnsRedirectStep(attachment) : undefined);
  const rules = firewall.planContainerSetup(attachment, facts.bridgeExists ? net : undefined);
  const plan = concatPlans(`connect ${input.who} to network ${net.name}`, prepare, links, rules);
  const relay = planHostRelay(attachment);
  return { attachment, net, prepare, links, firewall: rules, plan, ...(relay ? { relay } : {}) };
}

/** The whole plan for attaching a container (planConnect of the attachment planAttachment gives it). */
export function planAttach(input: AttachInput): AttachPlans {
  const { record, net } = input;
  if (!input.facts.bridgeExists && input.records === undefined) {
    throw new MinictrError('E_INTERNAL', `planning a new bridge ${net.bridge} needs every container record`);
  }
  const records = input.records ?? [];
  const networks = input.networks.some((n) => n.name === net.name) ? input.networks : [...input.networks, net];
  return planConnect({
    who: `container ${record.name}`,
    attachment: planAttachment(input),
    net,
    networks,
    owners: ruleOwners(networks, records),
    attached: attachedTo(records, net.name),
    facts: input.facts,
    ...(input.embeddedDns ? { embeddedDns: true } : {}),
  });
}

/** A minictr-named network namespace, and whether anything still uses it. */
export interface NamedNetns {
  name: string;
  /** The 12 hex of the container id in its name. */
  id12: string;
  /** Processes inside it. */
  pids: number;
  /** Interfaces inside it other than lo. */
  links: number;
  /** Its veth's host end is in the namespace minictr runs in (so it was made from here). */
  vethHere: boolean;
}

/**
 * Leftovers no record leads back to (a crash, a hand-run --dry-run script): namespaces made
 * from this host that nothing uses, and rules whose comment names a container no record holds.
 * A namespace with a process in it, or one whose veth is in another host namespace (another
 * minictr root's), is not ours to remove.
 */
export function planOrphanCleanup(
  held: Set<string>,
  namespaces: NamedNetns[],
  dumps: { firewall: FirewallDriver; dump: FirewallDump }[],
): { plan: Plan; namespaces: string[]; rules: number } {
  const orphans = namespaces.filter((n) => !held.has(n.id12) && n.pids === 0 && (n.vethHere || n.links === 0));
  const leftovers = dumps.map(({ firewall, dump }) => ({
    firewall,
    rules: dump.rules.filter((r) => {
      const scope = firewall.scopeOf(r);
      return scope !== undefined && /^[0-9a-f]{12}$/.test(scope) && !held.has(scope);
    }),
  }));
  const links = networkDriverFor({ driver: 'bridge', name: 'bridge' });
  const plan = concatPlans(
    'remove leftovers no record holds',
    ...leftovers.map(({ firewall, rules }) =>
      firewall.planRemoveDumped(rules, `remove ${rules.length} ${firewall.name} rule(s) of containers no record holds`),
    ),
    ...orphans.map((n) => links.planContainerTeardown({ netns: n.name, hostVeth: hostVethName(n.id12) })),
  );
  return { plan, namespaces: orphans.map((n) => n.name), rules: leftovers.reduce((sum, l) => sum + l.rules.length, 0) };
}

/** Leftovers of attachments no record holds on one bridge, and what they were. */
export interface StrayAttachments {
  plan: Plan;
  /** The scopes (attachment names) whose rules or elements are removed. */
  scopes: string[];
  rules: number;
  veths: string[];
}

/**
 * What is left on one bridge of attachments no record holds (a runtime's state lost, an ADD cut
 * short): the rules or elements of every scope `stray` picks among those whose guard names the
 * bridge, and the host veths `strayVeth` picks among the bridge's ports. Their peers are in
 * namespaces others own: only the host ends are deleted, and the peers go with them.
 */
export function planStrayAttachments(input: {
  bridge: string;
  firewall: FirewallDriver;
  dump: FirewallDump;
  ports: string[];
  stray: (scope: string) => boolean;
  strayVeth: (veth: string) => boolean;
}): StrayAttachments {
  const { firewall, dump } = input;
  const onBridge = new Set(
    dump.rules.flatMap((r) => {
      const scope = firewall.attachmentBridge(r) === input.bridge ? firewall.scopeOf(r) : undefined;
      return scope ? [scope] : [];
    }),
  );
  const scopes = [...onBridge].filter((s) => input.stray(s));
  const wanted = new Set(scopes);
  const rules = dump.rules.filter((r) => {
    const scope = firewall.scopeOf(r);
    return scope !== undefined && wanted.has(scope);
  });
  const veths = input.ports.filter((p) => input.strayVeth(p));
  const links = networkDriverFor({ driver: 'bridge', name: input.bridge });
  const plan = concatPlans(
    `remove what no record holds on ${input.bridge}`,
    firewall.planRemoveDumped(rules, `remove ${rules.length} ${firewall.name} rule(s) of ${scopes.length} attachment(s) no record holds`),
    ...veths.map((hostVeth) => links.planContainerTeardown({ netns: hostVeth, hostVeth, netnsPath: 'a namespace no record names' })),
  );
  return { plan, scopes, rules: rules.length, veths };
}

/** What `network connect` needs: the running container, the network, its records and the wishes. */
export interface NetworkConnectInput {
  record: ContainerRecord;
  net: NetworkRecord;
  records: ContainerRecord[];
  ip?: string;
  ip6?: string;
  aliases: string[];
  /** The kernel runs without IPv6 (ipv6.disable=1). */
  noIPv6?: boolean;
}

/**
 * One more network for a running container: an address (or the --ip given), and on a network
 * with IPv6 an IPv6 one too (or the --ip6 given), the next free ethN, a host veth named after
 * the container and that index, no ports (Docker publishes none on connect); its firewall state
 * is what a start gives an address: the guards, per family. Refused when the container is
 * already on the network or an alias is another container's name there.
 */
export function planNetworkConnect(input: NetworkConnectInput): { attachment: NetworkAttachment; links: Plan; firewall: Plan } {
  const { record, net, records } = input;
  const primary = record.network;
  if (!primary) throw new MinictrError('E_NOT_RUNNING', `container ${record.name} is not running: start it first (minictr connects running containers)`, { exitCode: 1 });
  if (attachmentsOf(record).some((a) => a.network === net.name)) {
    throw new MinictrError('E_ALREADY_CONNECTED', `endpoint with name ${record.name} already exists in network ${net.name}`, { exitCode: 1 });
  }
  const peers = records.filter((r) => r.id !== record.id && attachmentsOf(r).some((a) => a.network === net.name));
  for (const alias of input.aliases) {
    const holder = peers.find((p) => p.name === alias || p.config.hostname === alias || attachmentsOf(p).some((a) => a.network === net.name && (a.aliases ?? []).includes(alias)) || (p.network?.network === net.name && (p.config.networkAliases ?? []).includes(alias)));
    if (holder) throw new MinictrError('E_ALIAS_CLASH', `alias "${alias}" is already a name of container ${holder.name} on network ${net.name}; choose another`, { exitCode: 1 });
  }
  const onNet = records.flatMap((r) => attachmentsOf(r)).filter((a) => a.network === net.name);
  checkBridgeRoom(net, onNet.length);
  const used = onNet.map((a) => a.ip);
  const ip = input.ip ? requestedIp(net.subnet, net.gateway, used, input.ip, net.name) : allocateIp(net.subnet, net.gateway, used, net.name);
  const ipv6 = attachmentIPv6(net, onNet.flatMap((a) => (a.ip6 ? [a.ip6] : [])), input.ip6);
  const taken = new Set(attachmentsOf(record).map((a) => a.ifname ?? 'eth0'));
  let n = 1;
  while (taken.has(`eth${n}`)) n++;
  const attachment: NetworkAttachment = {
    network: net.name,
    bridge: net.bridge,
    netns: primary.netns,
    // veth + 7 hex + index: still within the 15 characters of an interface name.
    hostVeth: `${hostVethName(record.id)}-${n}`,
    ip,
    prefixLength: parseSubnet(net.subnet).prefixLength,
    gateway: net.gateway,
    ...ipv6,
    mac: macFromIp(ip),
    ports: [],
    ifname: `eth${n}`,
    ...(input.aliases.length > 0 ? { aliases: input.aliases } : {}),
    ...(net.internal ? { internal: true } : {}),
  };
  return {
    attachment,
    links: networkDriverFor(net).planContainerConnect(attachment, input),
    firewall: firewallDriverFor(net).planContainerSetup(attachment, net),
  };
}

/** `network disconnect`: the container's rules on that network, then its interface there. */
export function planDisconnect(att: NetworkAttachment, net?: NetworkRecord): Plan {
  return concatPlans(
    `disconnect ${att.netns} from ${att.network}`,
    firewallDriverFor(net).planContainerTeardown(att),
    networkDriverFor(net ?? { driver: 'bridge', name: att.network }).planContainerDisconnect(att),
  );
}
