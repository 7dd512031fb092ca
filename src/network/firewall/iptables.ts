// minictr's iptables rules as data, in Docker 28's layout with MINICTR where Docker writes DOCKER.
// Each rule is written exactly as iptables-save prints it back, so a dump can be diffed with the plan.
import type { NetworkAttachment, PortMapping } from '../../base/records.js';
import type { Argv } from '../../base/plan.js';
import { attachmentScope, ruleComment } from '../names.js';
import { natPorts } from '../ports.js';

export type Table = 'filter' | 'nat' | 'raw';

/** IPv4 (iptables) or IPv6 (ip6tables): the same layout, one program per family. */
export type Family = 4 | 6;

export interface Rule {
  table: Table;
  /** 6: an ip6tables rule; absent: iptables. */
  family?: 6;
  chain: string;
  /** -I puts the rule at the head of the chain (iptables-save still prints it as -A). */
  op: '-A' | '-I';
  /** Matches and target in iptables-save order: -s -d -i -o -p, -m …, -m comment, -j. */
  spec: string[];
}

export interface Chain {
  table: Table;
  chain: string;
  family?: 6;
}

export function familyOf(r: { family?: 6 }): Family {
  return r.family ?? 4;
}

/** The table's name in a dump: ip6tables-save's tables are told apart as "ip6 filter" etc. */
export function dumpTable(r: { table: string; family?: 6 }): string {
  return r.family === 6 ? `ip6 ${r.table}` : r.table;
}

/** The same rules for ip6tables. */
function v6<T extends Rule | Chain>(items: T[]): T[] {
  return items.map((r) => ({ ...r, family: 6 as const }));
}

export type Mode = 'add' | 'delete';

export const CHAINS = {
  main: 'MINICTR',
  bridge: 'MINICTR-BRIDGE',
  ct: 'MINICTR-CT',
  forward: 'MINICTR-FORWARD',
  isolation1: 'MINICTR-ISOLATION-STAGE-1',
  isolation2: 'MINICTR-ISOLATION-STAGE-2',
  user: 'MINICTR-USER',
} as const;

// Adds: filter before nat, so a port's ACCEPT is in place before the DNAT that sends traffic to it.
// Deletes: nat first, the mirror of that, and ~12 ms faster: iptables-nft checks an extension's
// revision on a fresh netlink socket the first time a rule names it, and once a table with
// deletions has committed, closing that socket waits for an RCU grace period. A container's nat
// block names every extension its other tables use (tcp/udp, comment, DNAT, MASQUERADE), so with
// nat first no such check comes after a commit.
export const TABLE_ORDER: Record<Mode, readonly Table[]> = { add: ['filter', 'nat', 'raw'], delete: ['nat', 'filter', 'raw'] };

function rule(table: Table, chain: string, spec: string[], op: '-A' | '-I' = '-A'): Rule {
  return { table, chain, op, spec };
}

/** `-m comment --comment TEXT -j TARGET…`: the tail every minictr rule ends with. */
function tail(comment: string, ...target: string[]): string[] {
  return ['-m', 'comment', '--comment', comment, '-j', ...target];
}

/** Chains minictr owns; declared once, when the first network (of that family) is set up. */
export function standingChains(family: Family = 4): Chain[] {
  if (family === 6) return v6(standingChains(4));
  return [
    ...[CHAINS.main, CHAINS.bridge, CHAINS.ct, CHAINS.forward, CHAINS.isolation1, CHAINS.isolation2, CHAINS.user].map(
      (chain): Chain => ({ table: 'filter', chain }),
    ),
    { table: 'nat', chain: CHAINS.main },
  ];
}

/**
 * Installed once for all networks. The FORWARD jumps are inserted at the head (as Docker does),
 * MINICTR-FORWARD first so MINICTR-USER ends up above it: a host whose FORWARD chain ends in
 * REJECT cannot shadow them. nat OUTPUT has no `! -d 127.0.0.0/8`: minictr has no userland
 * proxy, localhost publishing is kernel NAT (Docker with userland-proxy=false).
 */
export function standingRules(family: Family = 4): Rule[] {
  // ::1 is never NATed: the kernel drops a packet from ::1 that leaves lo, so a DNATed
  // connection would hang; unNATed it is refused at once, or served by a [::1] port's relay
  // (Docker's ip6tables OUTPUT rule has the same `! -d ::1/128`).
  if (family === 6) {
    return v6(standingRules(4)).map((r) => (r.table === 'nat' && r.chain === 'OUTPUT' ? { ...r, spec: ['!', '-d', '::1/128', ...r.spec] } : r));
  }
  const c = ruleComment();
  return [
    rule('filter', 'FORWARD', tail(c, CHAINS.forward), '-I'),
    rule('filter', 'FORWARD', tail(c, CHAINS.user), '-I'),
    rule('filter', CHAINS.forward, tail(c, CHAINS.ct)),
    rule('filter', CHAINS.forward, tail(c, CHAINS.isolation1)),
    rule('filter', CHAINS.forward, tail(c, CHAINS.bridge)),
    rule('nat', 'PREROUTING', ['-m', 'addrtype', '--dst-type', 'LOCAL', ...tail(c, CHAINS.main)]),
    rule('nat', 'OUTPUT', ['-m', 'addrtype', '--dst-type', 'LOCAL', ...tail(c, CHAINS.main)]),
  ];
}

export interface NetworkScope {
  name: string;
  bridge: string;
  subnet: string;
  /** Its IPv6 subnet: the same rules again for ip6tables. */
  subnet6?: string;
  clusterCidr?: string;
  /** false: the subnet is not masqueraded on its way out (it is routed as it is). */
  masquerade?: false;
  /** --internal: traffic stays within the subnet, no masquerade. */
  internal?: boolean;
}

/** One bridge network's rules (Docker 28's per-bridge rules, plus the loopback guard below); with IPv6 its ip6tables rules too. */
export function networkRules(net: NetworkScope): Rule[] {
  return [...networkRules4(net), ...(net.subnet6 ? networkRules6(net, net.subnet6) : [])];
}

/**
 * The IPv6 half: the same forwarding, isolation and NAT66 masquerade (Docker masquerades ULA
 * subnets by default). The loopback guard is ::1's: IPv6 has no route_localnet, so the kernel
 * drops it already; the rule says so in the ruleset, as Docker's raw rules do.
 */
function networkRules6(net: NetworkScope, subnet6: string): Rule[] {
  const c = ruleComment(net.name);
  const br = net.bridge;
  return v6(
    networkRules4({ name: net.name, bridge: br, subnet: subnet6 })
      .filter((r) => r.table !== 'raw')
      .concat([rule('raw', 'PREROUTING', ['-d', '::1/128', '-i', br, ...tail(c, 'DROP')])]),
  );
}

function networkRules4(net: NetworkScope): Rule[] {
  const c = ruleComment(net.name);
  const br = net.bridge;
  if (net.internal) {
    // Docker's internal network: nothing leaves or enters the subnet through the host, not even
    // DNATed (published ports do not reach it), and no MASQUERADE.
    return [
      rule('filter', CHAINS.main, ['!', '-i', br, '-o', br, ...tail(c, 'DROP')]),
      rule('filter', CHAINS.bridge, ['-o', br, ...tail(c, CHAINS.main)]),
      rule('filter', CHAINS.ct, ['-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...tail(c, 'ACCEPT')]),
      rule('filter', CHAINS.forward, ['-i', br, ...tail(c, 'ACCEPT')]),
      rule('filter', CHAINS.isolation1, ['!', '-s', net.subnet, '-o', br, ...tail(c, 'DROP')], '-I'),
      rule('filter', CHAINS.isolation1, ['!', '-d', net.subnet, '-i', br, ...tail(c, 'DROP')], '-I'),
      rule('nat', 'POSTROUTING', ['-o', br, '-m', 'addrtype', '--src-type', 'LOCAL', ...tail(c, 'MASQUERADE')]),
      rule('raw', 'PREROUTING', ['-d', '127.0.0.0/8', '-i', br, ...tail(c, 'DROP')]),
    ];
  }
  return [
    rule('filter', CHAINS.main, ['!', '-i', br, '-o', br, ...tail(c, 'DROP')]),
    rule('filter', CHAINS.bridge, ['-o', br, ...tail(c, CHAINS.main)]),
    rule('filter', CHAINS.ct, ['-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...tail(c, 'ACCEPT')]),
    rule('filter', CHAINS.forward, ['-i', br, ...tail(c, 'ACCEPT')]),
    rule('filter', CHAINS.isolation1, ['-i', br, '!', '-o', br, ...tail(c, CHAINS.isolation2)]),
    rule('filter', CHAINS.isolation2, ['-o', br, ...tail(c, 'DROP')]),
    // A cluster's other pods are routed to this bridge and reach its pods directly (Kubernetes: no NAT between pods).
    ...(net.clusterCidr ? [rule('filter', CHAINS.main, ['-s', net.clusterCidr, '!', '-i', br, '-o', br, ...tail(c, 'ACCEPT')], '-I')] : []),
    // A published port is a service of the host: another network reaches it through the host's
    // address (DNATed on the way in), which Docker's userland proxy allows. Only DNATed packets
    // skip isolation, and MINICTR still accepts only published ports; direct traffic is dropped.
    // Inserted: a repair that finds it missing must still put it above the DROP.
    rule('filter', CHAINS.isolation2, ['-o', br, '-m', 'conntrack', '--ctstate', 'DNAT', ...tail(c, 'RETURN')], '-I'),
    ...(net.masquerade === false
      ? []
      : [rule('nat', 'POSTROUTING', ['-s', net.subnet, ...(net.clusterCidr ? ['!', '-d', net.clusterCidr] : []), '!', '-o', br, ...tail(c, 'MASQUERADE')])]),
    // Host → container via 127.0.0.1 or its own address: the source must be rewritten to the gateway.
    rule('nat', 'POSTROUTING', ['-o', br, '-m', 'addrtype', '--src-type', 'LOCAL', ...tail(c, 'MASQUERADE')]),
    // route_localnet=1 on the bridge would let a container reach the host's 127.0.0.1 services;
    // replies to host→127.0.0.1:PORT still pass, their destination here is the gateway.
    rule('raw', 'PREROUTING', ['-d', '127.0.0.0/8', '-i', br, ...tail(c, 'DROP')]),
  ];
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

/**
 * The ports of one family the kernel's NAT publishes: '' and IPv4 addresses for iptables, '::'
 * and IPv6 addresses for ip6tables ([::1] is the relay's, and needs no rule).
 */
export function portsOfFamily(ports: PortMapping[], family: Family): PortMapping[] {
  return natPorts(ports).filter((p) => (p.hostIp.includes(':') ? 6 : 4) === family);
}

export function protoMatch(m: Pick<PortMapping, 'proto'>, port: number): string[] {
  return ['-p', m.proto, '-m', m.proto, '--dport', String(port)];
}

/** Unique by container port and protocol: two host ports for one container port share these rules. */
export function byContainerPort(ports: PortMapping[]): PortMapping[] {
  const seen = new Set<string>();
  return ports.filter((p) => {
    const key = `${p.containerPort}/${p.proto}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A container's rules: ACCEPT + DNAT + hairpin per published port, and the raw guards; with an IPv6 address, the same for ip6tables. */
export function containerRules(att: NetworkAttachment): Rule[] {
  const rules4 = familyRules(att, 4, att.ip, portsOfFamily(att.ports, 4));
  if (!att.ip6) return rules4;
  return [...rules4, ...v6(familyRules(att, 6, att.ip6, portsOfFamily(att.ports, 6)))];
}

function familyRules(att: NetworkAttachment, family: Family, ip: string, ports: PortMapping[]): Rule[] {
  const c = ruleComment(attachmentScope(att));
  const br = att.bridge;
  const host = family === 6 ? 128 : 32;
  const ip32 = `${ip}/${host}`;
  const to = family === 6 ? `[${ip}]` : ip;
  // Every container port gets its ACCEPT in both families: one published only on IPv4 is still refused over IPv6 by the missing DNAT.
  const unique = byContainerPort(natPorts(att.ports));
  return [
    ...unique.map((p) =>
      rule('filter', CHAINS.main, ['-d', ip32, '!', '-i', br, '-o', br, ...protoMatch(p, p.containerPort), ...tail(c, 'ACCEPT')], '-I'),
    ),
    // No `! -i BR`: a container reaching the host's published port is DNATed too (hairpin).
    ...ports.map((p) =>
      rule('nat', CHAINS.main, [
        ...(p.hostIp && p.hostIp !== '::' ? ['-d', `${p.hostIp}/${host}`] : []),
        ...protoMatch(p, p.hostPort),
        ...tail(c, 'DNAT', '--to-destination', `${to}:${p.containerPort}`),
      ]),
    ),
    ...unique.map((p) =>
      rule('nat', 'POSTROUTING', ['-s', ip32, '-d', ip32, ...protoMatch(p, p.containerPort), ...tail(c, 'MASQUERADE')]),
    ),
    // CVE-2020-8558: a port published on 127.x must not be reachable from other interfaces.
    ...ports
      .filter((p) => isLoopback(p.hostIp))
      .map((p) => rule('raw', 'PREROUTING', ['-d', `${p.hostIp}/${host}`, '!', '-i', 'lo', ...protoMatch(p, p.hostPort), ...tail(c, 'DROP')])),
    // Only the bridge (and a cluster's pods, routed here) may route straight to the container's
    // address (Docker 28.2+); unless its network does not masquerade, and replies come back to it.
    ...(att.guard === false ? [] : [rule('raw', 'PREROUTING', [...(att.clusterCidr ? ['!', '-s', att.clusterCidr] : []), '-d', ip32, '!', '-i', br, ...tail(c, 'DROP')])]),
  ];
}

/** iptables-save quoting of a comment: bare when only [A-Za-z0-9_-], else in double quotes. */
function quoteComment(text: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(text)) return text;
  return `"${text.replace(/(["\\'])/g, '\\$1')}"`;
}

/** One rule as a restore/save line (without the -A/-I/-D and chain). */
export function specText(spec: readonly string[]): string {
  return spec.map((tok, i) => (spec[i - 1] === '--comment' ? quoteComment(tok) : tok)).join(' ');
}

export function ruleLine(r: Rule, mode: Mode): string {
  return `${mode === 'add' ? r.op : '-D'} ${r.chain} ${specText(r.spec)}`;
}

export interface RestoreOptions {
  /** Declared with `:CHAIN - [0:0]`. Under --noflush this FLUSHES an existing chain: first install only. */
  declareChains?: Chain[];
  /** Flushed (-F) then deleted (-X) after the rules: removing minictr's chains for good. */
  removeChains?: Chain[];
  /**
   * Checked (-C) before the rules of their table: if one is missing, the table's batch fails
   * whole and nothing of it is applied. Costs no extra process.
   */
  checks?: Rule[];
}

/**
 * iptables-restore --noflush input, one `*table … COMMIT` block per table touched.
 * In delete mode each rule becomes `-D chain spec`, in reverse order.
 */
export function restoreText(rules: Rule[], options: RestoreOptions, mode: Mode): string {
  const lines: string[] = [];
  for (const table of TABLE_ORDER[mode]) {
    const declared = (options.declareChains ?? []).filter((c) => c.table === table);
    const removed = (options.removeChains ?? []).filter((c) => c.table === table);
    const checks = (options.checks ?? []).filter((r) => r.table === table);
    const own = rules.filter((r) => r.table === table);
    if (mode === 'delete') own.reverse();
    if (declared.length + removed.length + own.length + checks.length === 0) continue;
    lines.push(`*${table}`);
    for (const c of declared) lines.push(`:${c.chain} - [0:0]`);
    for (const r of checks) lines.push(`-C ${r.chain} ${specText(r.spec)}`);
    for (const r of own) lines.push(ruleLine(r, mode));
    for (const c of removed) lines.push(`-F ${c.chain}`);
    for (const c of removed) lines.push(`-X ${c.chain}`);
    lines.push('COMMIT');
  }
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

function program(r: { family?: 6 }): string {
  return r.family === 6 ? 'ip6tables' : 'iptables';
}

/** The same rule as one iptables (ip6tables) command (for --dry-run, and the per-rule fallback). */
export function iptablesCommand(r: Rule, mode: Mode): Argv {
  return [program(r), '-w', '-t', r.table, mode === 'add' ? r.op : '-D', r.chain, ...r.spec];
}

/** `iptables -C`: exits 0 when the rule is present (reads only). */
export function iptablesCheck(r: Rule): Argv {
  return [program(r), '-w', '-t', r.table, '-C', r.chain, ...r.spec];
}

export function chainCommand(c: Chain, action: '-N' | '-F' | '-X'): Argv {
  return [program(c), '-w', '-t', c.table, action, c.chain];
}

/** The one-command-per-line equivalent of restoreText(), in the order iptables-restore applies it. */
export function restoreShown(rules: Rule[], options: RestoreOptions, mode: Mode): Argv[] {
  const out: Argv[] = [];
  for (const table of TABLE_ORDER[mode]) {
    const own = rules.filter((r) => r.table === table);
    if (mode === 'delete') own.reverse();
    for (const c of options.declareChains ?? []) if (c.table === table) out.push(chainCommand(c, '-N'));
    for (const r of options.checks ?? []) if (r.table === table) out.push(iptablesCheck(r));
    for (const r of own) out.push(iptablesCommand(r, mode));
    const removed = (options.removeChains ?? []).filter((c) => c.table === table);
    for (const c of removed) out.push(chainCommand(c, '-F'));
    for (const c of removed) out.push(chainCommand(c, '-X'));
  }
  return out;
}

export const RESTORE_ARGV: Argv = ['iptables-restore', '-w', '--noflush'];
export const RESTORE6_ARGV: Argv = ['ip6tables-restore', '-w', '--noflush'];

export function restoreArgv(family: Family): Argv {
  return family === 6 ? RESTORE6_ARGV : RESTORE_ARGV;
}
