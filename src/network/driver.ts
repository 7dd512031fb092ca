// The two seams of networking, as interfaces. A network driver owns how a container's network
// namespace is connected (bridge today; pasta/slirp4netns next); a firewall driver owns the
// rules of a network and of a container, their repair from a dump, and how they read back in a
// dump (iptables today; nftables next). Both only plan: they return Plans, pure data, and never
// run anything. Which driver serves a network is decided in one place: ./drivers.ts.
import type { Argv, BatchPlan, Plan } from '../base/plan.js';
import type { NetworkAttachment, NetworkRecord } from '../base/records.js';

/** An attachment and whose it is (a container id), in a batch. */
export interface Owned<T> {
  owner: string;
  attachment: T;
}

/**
 * A step inside the container's network namespace that another part of the plan adds (the
 * embedded DNS redirect): run by the same process chain that configures eth0, one nsenter and
 * sh fewer per start. `script` is a shell command reading `stdin`; `shown` its by-hand form.
 */
export interface InsideStep {
  script: string;
  stdin: string;
  shown: Argv[];
  why: string;
}

/** What a link plan needs of the host's kernel (absent: a kernel with IPv6, the common case). */
export interface HostNet {
  /** The kernel runs without IPv6 (ipv6.disable=1): no IPv6 settings to make on any interface. */
  noIPv6?: boolean;
}

export interface NetworkDriver {
  readonly name: string;
  /**
   * The network's own device and kernel settings (a bridge holding the gateway, ip_forward…).
   * The device is left out when the host already has it.
   */
  planNetworkSetup(net: NetworkRecord, facts: { bridgeExists: boolean }): Plan;
  /** Remove the network's device. */
  planNetworkTeardown(net: NetworkRecord): Plan;
  /** Connect one container's namespace: its links, address and routes. */
  planContainerSetup(att: NetworkAttachment, host?: HostNet, then?: InsideStep): Plan;
  /** `network connect`: one more interface (att.ifname) in the running container's namespace; no default route. */
  planContainerConnect(att: NetworkAttachment, host?: HostNet): Plan;
  /** `network disconnect`: that interface goes (the namespace stays). */
  planContainerDisconnect(att: Pick<NetworkAttachment, 'hostVeth'>): Plan;
  /**
   * Undo planContainerSetup; anything already gone counts as removed. Named objects only, so a
   * leftover no record describes (a namespace and its veth) is removed the same way.
   */
  planContainerTeardown(att: Pick<NetworkAttachment, 'netns' | 'hostVeth' | 'netnsPath'>): Plan;
  /** planContainerTeardown of many containers at once (`rm -f a b c`), each share owned by its container id. */
  planContainersTeardown(atts: Owned<Pick<NetworkAttachment, 'netns' | 'hostVeth'>>[]): BatchPlan;
  /** Plug recorded containers back into a network device that was re-created. */
  planReattach(net: NetworkRecord, atts: NetworkAttachment[]): Plan;
}

/** A chain of a firewall dump, with its policy ('-' for chains minictr made). */
export interface DumpedChain {
  table: string;
  chain: string;
  policy: string;
}

/** A rule of a firewall dump, as the firewall prints it back. */
export interface DumpedRule {
  table: string;
  chain: string;
  line: string;
  /** nftables: the rule's handle, as `nft -j` gives it. */
  handle?: number;
  /** nftables: the rule's or element's comment, as `nft -j` gives it (its owner). */
  comment?: string;
}

/** The live ruleset, parsed once by the driver that dumped it. */
export interface FirewallDump {
  chains: DumpedChain[];
  rules: DumpedRule[];
}

/** A rule minictr's records say should be in place, as it reads back in a dump, and whose it is. */
export interface ExpectedRule extends DumpedRule {
  owner: string;
  /** Why the rule is there, where the driver keeps it with the rule (nftables). */
  why?: string;
}

/** What the records hold that has rules: networks, and containers with their attachments. */
export interface RuleOwners {
  networks: Pick<NetworkRecord, 'name' | 'bridge' | 'subnet' | 'subnet6' | 'clusterCidr' | 'masquerade'>[];
  containers: { name: string; attachment?: NetworkAttachment }[];
}

export interface TeardownFacts {
  lastNetwork: boolean;
  lastIPv6Network?: boolean;
}

export interface FirewallDriver {
  readonly name: string;
  /**
   * The read-only commands whose output, joined, is the live ruleset (gathered as a fact): the
   * first must succeed, later ones may fail (ip6tables-save on a host without IPv6).
   */
  readonly dumpArgvs: readonly Argv[];
  parseDump(text: string): FirewallDump;
  /**
   * Read-only probes, in order, whose success shows a network's rules are in place: the
   * first for the rules every network shares, the second for the network's own.
   */
  presenceProbes(net: NetworkRecord): Argv[];
  /** The shared rules (when missing) and the network's own (when missing). */
  planNetworkSetup(net: NetworkRecord, facts: { standingRulesExist: boolean; networkRulesExist: boolean }): Plan;
  /**
   * The network's rules; with the last network also minictr's shared chains (with the last
   * network with IPv6, those of IPv6 where a family has its own).
   */
  planNetworkTeardown(net: NetworkRecord, facts: TeardownFacts): Plan;
  /**
   * A container's rules. With `checkNetwork`, the plan fails whole when that network's rules
   * are gone (a firewall reload), so the caller can repair instead of adding rules that lead nowhere.
   */
  planContainerSetup(att: NetworkAttachment, checkNetwork?: NetworkRecord): Plan;
  planContainerTeardown(att: NetworkAttachment): Plan;
  /** planContainerTeardown of many containers at once, each share owned by its container id. */
  planContainersTeardown(atts: Owned<NetworkAttachment>[]): BatchPlan;
  /** What the records plan, in dump form, each with its owner (for `net inspect`). */
  expectedRules(owners: RuleOwners): ExpectedRule[];
  /** Put back only what the dump lacks of what the records plan. */
  planRepair(dump: FirewallDump, owners: RuleOwners): Plan;
  /** Whose a dumped rule is: '' for minictr's shared rules, a network name or a 12-hex container id; undefined if not minictr's. */
  scopeOf(rule: DumpedRule): string | undefined;
  /**
   * The bridge a container's dumped rule names (its guard, or a published port's forward rule):
   * how a leftover no record describes is traced to its network. An attachment with no such rule
   * has nothing else either.
   */
  attachmentBridge(rule: DumpedRule): string | undefined;
  /** Delete dumped rules exactly as they read (leftovers no record plans any more). */
  planRemoveDumped(rules: DumpedRule[], why: string): Plan;
}
