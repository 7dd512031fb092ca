// minictr's nftables layout as data: one `table inet minictr`, base chains at the hooks and
// priorities the article's iptables rules live at, one chain per network reached through
// verdict maps keyed by the bridge, and per-container state as set and map elements only.
// Each rule and element is written exactly as `nft list` prints it back, so a dump (`nft -j`,
// rendered back into those lines by ./nft-json.ts) can be diffed with the plan, as iptables-save is.
import type { NetworkAttachment, PortMapping } from '../../base/records.js';
import { attachmentScope, ruleComment } from '../names.js';
import { bracketed } from '../ipv6.js';
import { byContainerPort, portsOfFamily } from './iptables.js';

export const NFT_FAMILY = 'inet';
export const NFT_TABLE = 'minictr';
/** How dumped rules and elements name their table (FirewallDump's `table`). */
export const NFT_TABLE_ID = `${NFT_FAMILY} ${NFT_TABLE}`;

export interface NftBaseChain {
  type: 'filter' | 'nat';
  hook: 'prerouting' | 'output' | 'postrouting' | 'forward';
  /** As `nft list` prints it: a keyword, or a number where the hook has no keyword (nat output). */
  priority: string;
}

export interface NftChain {
  name: string;
  base?: NftBaseChain;
  /** Owner comment (network chains). */
  comment?: string;
  /** Why the chain exists, for --dry-run. */
  why: string;
}

export interface NftSet {
  name: string;
  /** The key type; a map's is `key : value`. */
  type: string;
  map: boolean;
  why: string;
}

export interface NftRule {
  chain: string;
  /** The match and verdict, without the comment. */
  expr: string;
  comment: string;
  why: string;
}

export interface NftElement {
  set: string;
  key: string;
  /** A map's value (a verdict, or an address . port). */
  value?: string;
  comment: string;
  why: string;
}

/** A rule as `nft list` prints it back. */
export function nftRuleLine(r: Pick<NftRule, 'expr' | 'comment'>): string {
  return `${r.expr} comment "${r.comment}"`;
}

/** An element as `nft list` prints it inside `elements = { … }`. */
export function nftElementLine(e: Pick<NftElement, 'key' | 'value' | 'comment'>): string {
  return `${e.key} comment "${e.comment}"${e.value === undefined ? '' : ` : ${e.value}`}`;
}

/** Where an element lives in a FirewallDump: as a "rule" of the pseudo-chain `@set`. */
export function elementChain(set: string): string {
  return `@${set}`;
}

export const SETS = {
  fwdIn: 'fwd-in',
  fwdOut: 'fwd-out',
  natOut: 'nat-out',
  natIn: 'nat-in',
  rawIn: 'raw-in',
  bridges: 'bridges',
  published: 'published4',
  hairpin: 'hairpin4',
  loopback: 'loopback4',
  guard: 'guard4',
  portsAny: 'ports-any4',
  portsAddr: 'ports-addr4',
  published6: 'published6',
  hairpin6: 'hairpin6',
  guard6: 'guard6',
  portsAny6: 'ports-any6',
  portsAddr6: 'ports-addr6',
} as const;

export const BASE = {
  forward: 'forward',
  prerouting: 'prerouting',
  output: 'output',
  postrouting: 'postrouting',
  raw: 'raw-prerouting',
  ports: 'ports',
} as const;

/** Sets and maps every network shares; containers add and remove only their elements. */
export function standingSets(): NftSet[] {
  const set = (name: string, type: string, why: string, map = false): NftSet => ({ name, type, map, why });
  return [
    set(SETS.fwdIn, 'ifname : verdict', 'forwarded traffic leaving through a bridge: jump to that network\'s chain', true),
    set(SETS.fwdOut, 'ifname : verdict', 'forwarded traffic coming from a bridge: accept it (Docker\'s -i BR -j ACCEPT)', true),
    set(SETS.natOut, 'ifname : verdict', "traffic from a bridge to the outside: jump to the network's masquerade", true),
    set(SETS.natIn, 'ifname : verdict', 'traffic from the host into a bridge: jump to the network\'s source rewrite', true),
    set(SETS.rawIn, 'ifname : verdict', "packets arriving on a bridge: jump to the network's raw guard", true),
    set(SETS.bridges, 'ifname', "minictr's bridges: traffic from one into another is dropped (isolation)"),
    set(SETS.published, 'ipv4_addr . inet_proto . inet_service', 'container address . protocol . port published to the host: forwarded in'),
    set(SETS.hairpin, 'ipv4_addr . ipv4_addr . inet_proto . inet_service', 'a container reaching its own published port through the host: masqueraded (hairpin)'),
    set(SETS.loopback, 'ipv4_addr . inet_proto . inet_service', 'host ports published on 127.x: only lo may reach them (CVE-2020-8558)'),
    set(SETS.guard, 'ipv4_addr : verdict', "a container address: jump to its bridge's guard (only the bridge may route to it)", true),
    set(SETS.portsAny, 'inet_proto . inet_service : ipv4_addr . inet_service', 'published on every host address: protocol . host port → container address . port', true),
    set(SETS.portsAddr, 'ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service', 'published on one host address: address . protocol . host port → container address . port', true),
    // IPv6: the same jobs, keyed by ipv6_addr (a set's key has one type, so one set per family).
    set(SETS.published6, 'ipv6_addr . inet_proto . inet_service', 'IPv6: container address . protocol . port published to the host: forwarded in'),
    set(SETS.hairpin6, 'ipv6_addr . ipv6_addr . inet_proto . inet_service', 'IPv6: a container reaching its own published port through the host: masqueraded (hairpin)'),
    set(SETS.guard6, 'ipv6_addr : verdict', "IPv6: a container address: jump to its bridge's guard", true),
    set(SETS.portsAny6, 'inet_proto . inet_service : ipv6_addr . inet_service', 'IPv6: published on every host address ([::]): protocol . host port → container address . port', true),
    set(SETS.portsAddr6, 'ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service', 'IPv6: published on one host address: address . protocol . host port → container address . port', true),
  ];
}

/**
 * The base chains, at the hooks and priorities of the article's iptables rules (filter FORWARD,
 * nat PREROUTING/OUTPUT/POSTROUTING, raw PREROUTING), and the shared `ports` chain.
 */
export function standingChains(): NftChain[] {
  return [
    { name: BASE.forward, base: { type: 'filter', hook: 'forward', priority: 'filter' }, why: "the filter table's FORWARD" },
    { name: BASE.prerouting, base: { type: 'nat', hook: 'prerouting', priority: 'dstnat' }, why: "the nat table's PREROUTING: published ports, from outside" },
    { name: BASE.output, base: { type: 'nat', hook: 'output', priority: '-100' }, why: "the nat table's OUTPUT: published ports, from the host itself" },
    { name: BASE.postrouting, base: { type: 'nat', hook: 'postrouting', priority: 'srcnat' }, why: "the nat table's POSTROUTING: masquerade" },
    { name: BASE.raw, base: { type: 'filter', hook: 'prerouting', priority: 'raw' }, why: "the raw table's PREROUTING: guards before conntrack" },
    { name: BASE.ports, why: 'DNAT of every published port, by map lookup: one rule whatever the number of ports' },
  ];
}

/** The rules every network shares. None names a network or a container: those are map elements. */
export function standingRules(): NftRule[] {
  const c = ruleComment();
  const rule = (chain: string, expr: string, why: string): NftRule => ({ chain, expr, comment: c, why });
  return [
    rule(BASE.forward, `oifname vmap @${SETS.fwdIn}`, 'forwarded traffic into a bridge: its network decides'),
    rule(BASE.forward, `iifname vmap @${SETS.fwdOut}`, 'forwarded traffic out of a bridge: accepted'),
    rule(BASE.prerouting, `fib daddr type local jump ${BASE.ports}`, 'packets for a host address may be for a published port'),
    rule(BASE.output, `fib daddr type local jump ${BASE.ports}`, "the host's own packets to its addresses (127.0.0.1 too: no userland proxy)"),
    rule(BASE.ports, 'ip6 daddr ::1 return', 'never ::1: the kernel drops a packet from ::1 that leaves lo (a NATed connection would hang); unNATed it is refused at once, or served by a [::1] port\'s relay'),
    rule(BASE.ports, `dnat ip to ip daddr . meta l4proto . th dport map @${SETS.portsAddr}`, 'ports published on one host address'),
    rule(BASE.ports, `meta nfproto ipv4 dnat ip to meta l4proto . th dport map @${SETS.portsAny}`, 'ports published on every host address'),
    rule(BASE.ports, `dnat ip6 to ip6 daddr . meta l4proto . th dport map @${SETS.portsAddr6}`, 'IPv6: ports published on one host address'),
    rule(BASE.ports, `meta nfproto ipv6 dnat ip6 to meta l4proto . th dport map @${SETS.portsAny6}`, 'IPv6: ports published on every host address ([::])'),
    rule(BASE.postrouting, `iifname vmap @${SETS.natOut}`, 'traffic from a bridge: its network masquerades what leaves'),
    rule(BASE.postrouting, `oifname vmap @${SETS.natIn}`, 'traffic into a bridge: its network rewrites host sources'),
    rule(BASE.postrouting, `ip saddr . ip daddr . meta l4proto . th dport @${SETS.hairpin} masquerade`, 'a container reaching itself through a published port (hairpin)'),
    rule(BASE.postrouting, `ip6 saddr . ip6 daddr . meta l4proto . th dport @${SETS.hairpin6} masquerade`, 'IPv6: a container reaching itself through a published port (hairpin)'),
    rule(BASE.raw, `iifname vmap @${SETS.rawIn}`, "packets from a bridge: its network's guard"),
    rule(BASE.raw, `iifname != "lo" ip daddr . meta l4proto . th dport @${SETS.loopback} drop`, 'ports published on 127.x: from lo only (CVE-2020-8558)'),
    rule(BASE.raw, `ip daddr vmap @${SETS.guard}`, "packets to a container address: its bridge's guard"),
    rule(BASE.raw, `ip6 daddr vmap @${SETS.guard6}`, "IPv6: packets to a container address: its bridge's guard"),
  ];
}

export interface NftNetworkScope {
  name: string;
  bridge: string;
  subnet: string;
  /** false: the subnet is not masqueraded on its way out (its nat-out chain stays empty). */
  masquerade?: false;
  /** A cluster's pod CIDR (the CNI plugin's clusterCIDR): not masqueraded to, and it may route straight to the containers. */
  clusterCidr?: string;
  /** --internal: traffic stays within the subnet, no masquerade. */
  internal?: boolean;
  /** With IPv6: its masquerade (NAT66) and published ports over IPv6 too. */
  subnet6?: string;
}

/** The chain names of one network, derived from its bridge (≤ 15 characters). */
export function networkChainNames(bridge: string): { in: string; natOut: string; natIn: string; raw: string; guard: string } {
  return { in: `in-${bridge}`, natOut: `nat-out-${bridge}`, natIn: `nat-in-${bridge}`, raw: `raw-${bridge}`, guard: `guard-${bridge}` };
}

/** A network's own chains (declared, then filled by networkRules). */
export function networkChains(net: NftNetworkScope): NftChain[] {
  const n = networkChainNames(net.bridge);
  const comment = ruleComment(net.name);
  return [
    { name: n.in, comment, why: `traffic forwarded into ${net.bridge}` },
    { name: n.natOut, comment, why: `masquerade for ${net.subnet}` },
    { name: n.natIn, comment, why: `source rewrite into ${net.bridge}` },
    { name: n.raw, comment, why: `raw guard of ${net.bridge}` },
    { name: n.guard, comment, why: `only ${net.bridge} routes to its containers` },
  ];
}

/** One network's rules: Docker 28's per-bridge rules, check for check, in the network's chains. */
export function networkRules(net: NftNetworkScope): NftRule[] {
  const n = networkChainNames(net.bridge);
  const c = ruleComment(net.name);
  const br = `"${net.bridge}"`;
  const v6 = net.subnet6;
  const rule = (chain: string, expr: string, why: string): NftRule => ({ chain, expr, comment: c, why });
  // The host's side of any network: its own sources rewritten, the loopback and routing guards.
  const hostSide = [
    // Host → container via 127.0.0.1 or its own address: the source must be rewritten to the gateway.
    rule(n.natIn, 'fib saddr type local masquerade', `the host reaching ${net.bridge} from a local address (127.0.0.1 too) shows as the gateway`),
    // route_localnet=1 on the bridge would let a container reach the host's 127.0.0.1 services.
    rule(n.raw, 'ip daddr 127.0.0.0/8 drop', `route_localnet is on for ${net.bridge}: containers may not reach the host's 127.x`),
    ...(v6 ? [rule(n.raw, 'ip6 daddr ::1 drop', `nor ::1 over IPv6 (the kernel drops it too: IPv6 has no route_localnet)`)] : []),
    // Without masquerade the containers' own addresses go out, and their replies must come back.
    ...(net.masquerade === false
      ? []
      : [
          rule(
            n.guard,
            `${net.clusterCidr ? `ip saddr != ${net.clusterCidr} ` : ''}iifname != ${br} drop`,
            `the guard against routing to container addresses directly: only ${net.bridge}${net.clusterCidr ? ` and the cluster's pods (${net.clusterCidr})` : ''} may (Docker 28.2+); publish the port with -p`,
          ),
        ]),
  ];
  if (net.internal) {
    // Docker's internal network: nothing is forwarded in or out, not even DNATed (published ports
    // do not reach it), and nothing is masqueraded. Its in-chain serves both directions.
    return [
      rule(n.in, `iifname ${br} oifname ${br} accept`, `containers of ${net.name} reach each other`),
      rule(n.in, 'drop', `${net.name} is internal: nothing is forwarded into or out of ${net.bridge}`),
      ...hostSide,
    ];
  }
  return [
    rule(n.in, 'ct state established,related accept', `replies to connections made from ${net.bridge}`),
    rule(n.in, `iifname ${br} accept`, `containers of ${net.name} reach each other`),
    // A published port is a service of the host: another network reaches it through the host's
    // address (DNATed on the way in), as Docker's userland proxy allows; direct traffic stays isolated.
    rule(n.in, `ct status dnat ip daddr . meta l4proto . th dport @${SETS.published} accept`, "a published port, reached through the host's address from any network (DNATed)"),
    ...(v6 ? [rule(n.in, `ct status dnat ip6 daddr . meta l4proto . th dport @${SETS.published6} accept`, 'the same over IPv6')] : []),
    rule(n.in, `iifname @${SETS.bridges} drop`, "isolation: another minictr network's bridge may not reach this one"),
    // A cluster's other pods are routed to this bridge and reach its containers directly (Kubernetes: no NAT between pods).
    ...(net.clusterCidr ? [rule(n.in, `ip saddr ${net.clusterCidr} accept`, `the cluster's pods (${net.clusterCidr}) reach ${net.bridge} directly`)] : []),
    rule(n.in, `ip daddr . meta l4proto . th dport @${SETS.published} accept`, 'published ports, after DNAT'),
    ...(v6 ? [rule(n.in, `ip6 daddr . meta l4proto . th dport @${SETS.published6} accept`, 'published ports over IPv6, after DNAT')] : []),
    rule(n.in, 'drop', `nothing else reaches ${net.bridge} from outside it`),
    ...(net.masquerade === false
      ? []
      : [
          rule(
            n.natOut,
            `oifname != ${br} ip saddr ${net.subnet}${net.clusterCidr ? ` ip daddr != ${net.clusterCidr}` : ''} masquerade`,
            `${net.subnet} leaving through other interfaces takes the host's address${net.clusterCidr ? ` (not towards the cluster's pods, ${net.clusterCidr})` : ''}`,
          ),
        ]),
    ...(v6 && net.masquerade !== false ? [rule(n.natOut, `oifname != ${br} ip6 saddr ${v6} masquerade`, `${v6} leaving takes the host's IPv6 address (NAT66, as Docker does for ULA subnets)`)] : []),
    ...hostSide,
  ];
}

/** The elements that hook a network's chains into the base chains' maps. */
export function networkElements(net: NftNetworkScope): NftElement[] {
  const n = networkChainNames(net.bridge);
  const comment = ruleComment(net.name);
  const key = `"${net.bridge}"`;
  const el = (set: string, value: string | undefined, why: string): NftElement => ({ set, key, ...(value === undefined ? {} : { value }), comment, why });
  return [
    el(SETS.fwdIn, `jump ${n.in}`, `forwarded traffic into ${net.bridge}`),
    net.internal
      ? el(SETS.fwdOut, `jump ${n.in}`, `forwarded traffic from ${net.bridge} (internal): only to itself`)
      : el(SETS.fwdOut, 'accept', `forwarded traffic from ${net.bridge} is accepted`),
    el(SETS.natOut, `jump ${n.natOut}`, `masquerade ${net.subnet} leaving`),
    el(SETS.natIn, `jump ${n.natIn}`, `host sources into ${net.bridge}`),
    el(SETS.rawIn, `jump ${n.raw}`, `raw guard of ${net.bridge}`),
    el(SETS.bridges, undefined, `${net.bridge} is a minictr bridge (isolation)`),
  ];
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.');
}

function describePublication(p: PortMapping, ip: string): string {
  return `publish ${bracketed(p.hostIp || '0.0.0.0')}:${p.hostPort} → ${bracketed(ip)}:${p.containerPort}/${p.proto}`;
}

/** A container's state: elements only, no rules. */
export function containerElements(att: NetworkAttachment): NftElement[] {
  const comment = ruleComment(attachmentScope(att));
  const ip = att.ip;
  const el = (set: string, key: string, value: string | undefined, why: string): NftElement => ({
    set,
    key,
    ...(value === undefined ? {} : { value }),
    comment,
    why,
  });
  const ports = portsOfFamily(att.ports, 4);
  return [
    ...byContainerPort(ports).flatMap((p) => [
      el(SETS.published, `${ip} . ${p.proto} . ${p.containerPort}`, undefined, `forward ${p.proto} to ${ip}:${p.containerPort} in from outside ${att.bridge}`),
      el(SETS.hairpin, `${ip} . ${ip} . ${p.proto} . ${p.containerPort}`, undefined, `${ip} reaching itself through its published port is masqueraded`),
    ]),
    ...ports.map((p) =>
      p.hostIp
        ? el(SETS.portsAddr, `${p.hostIp} . ${p.proto} . ${p.hostPort}`, `${ip} . ${p.containerPort}`, describePublication(p, ip))
        : el(SETS.portsAny, `${p.proto} . ${p.hostPort}`, `${ip} . ${p.containerPort}`, describePublication(p, ip)),
    ),
    ...ports
      .filter((p) => isLoopback(p.hostIp))
      .map((p) => el(SETS.loopback, `${p.hostIp} . ${p.proto} . ${p.hostPort}`, undefined, `${p.hostIp}:${p.hostPort} is reachable from lo only`)),
    el(SETS.guard, ip, `jump ${networkChainNames(att.bridge).guard}`, `only ${att.bridge} may route straight to ${ip}`),
    ...(att.ip6 ? containerElements6(att, att.ip6, el) : []),
  ];
}

/** The IPv6 half of a container's elements: its ports published on [::] or an IPv6 host address, and its guard. */
function containerElements6(
  att: NetworkAttachment,
  ip: string,
  el: (set: string, key: string, value: string | undefined, why: string) => NftElement,
): NftElement[] {
  const ports = portsOfFamily(att.ports, 6);
  return [
    ...byContainerPort(ports).flatMap((p) => [
      el(SETS.published6, `${ip} . ${p.proto} . ${p.containerPort}`, undefined, `forward ${p.proto} to [${ip}]:${p.containerPort} in from outside ${att.bridge}`),
      el(SETS.hairpin6, `${ip} . ${ip} . ${p.proto} . ${p.containerPort}`, undefined, `${ip} reaching itself through its published port is masqueraded`),
    ]),
    ...ports.map((p) =>
      p.hostIp !== '::'
        ? el(SETS.portsAddr6, `${p.hostIp} . ${p.proto} . ${p.hostPort}`, `${ip} . ${p.containerPort}`, describePublication(p, ip))
        : el(SETS.portsAny6, `${p.proto} . ${p.hostPort}`, `${ip} . ${p.containerPort}`, describePublication(p, ip)),
    ),
    el(SETS.guard6, ip, `jump ${networkChainNames(att.bridge).guard}`, `only ${att.bridge} may route straight to ${ip}`),
  ];
}

// ---- the nft -f text

const T = `${NFT_FAMILY} ${NFT_TABLE}`;

function quoted(text: string): string {
  return `"${text.replace(/"/g, '')}"`;
}

export function addTableLine(): string {
  return `add table ${T} { comment ${quoted(ruleComment())}; }`;
}

export function addChainLine(c: NftChain): string {
  const parts = [
    ...(c.base ? [`type ${c.base.type} hook ${c.base.hook} priority ${c.base.priority}; policy accept;`] : []),
    ...(c.comment ? [`comment ${quoted(c.comment)};`] : []),
  ];
  return parts.length === 0 ? `add chain ${T} ${c.name}` : `add chain ${T} ${c.name} { ${parts.join(' ')} }`;
}

export function addSetLine(s: NftSet): string {
  return `add ${s.map ? 'map' : 'set'} ${T} ${s.name} { type ${s.type}; comment ${quoted(ruleComment())}; }`;
}

export function addRuleLine(r: NftRule): string {
  return `add rule ${T} ${r.chain} ${r.expr} comment ${quoted(r.comment)}`;
}

export function addElementLine(e: NftElement): string {
  return `add element ${T} ${e.set} { ${nftElementLine(e)} }`;
}

export function deleteElementLine(e: Pick<NftElement, 'set' | 'key'>): string {
  return `delete element ${T} ${e.set} { ${e.key} }`;
}

export function flushChainLine(chain: string): string {
  return `flush chain ${T} ${chain}`;
}

export function deleteChainLine(chain: string): string {
  return `delete chain ${T} ${chain}`;
}

export function deleteTableLine(): string {
  return `delete table ${T}`;
}

/** One statement of a transaction and why it is there (printed as a `#` line above it). */
export interface NftStatement {
  line: string;
  why: string;
}

/** `nft -f -` input: every statement under a comment saying why; nft applies the whole file as one transaction. */
export function transactionText(statements: NftStatement[]): string {
  return statements.map((s) => `# ${s.why.replace(/\n/g, ' ')}\n${s.line}\n`).join('');
}

/** Declaring what exists already is harmless (`add` of a table, chain or set is idempotent). */
export function declareStanding(): NftStatement[] {
  return [
    { line: addTableLine(), why: "minictr's one table, for IPv4 and IPv6 alike (inet)" },
    ...standingSets().map((s) => ({ line: addSetLine(s), why: s.why })),
    ...standingChains().map((c) => ({ line: addChainLine(c), why: c.why })),
  ];
}

export const NFT_APPLY_ARGV = ['nft', '-f', '-'] as const;
