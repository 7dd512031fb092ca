// `net inspect`: one network namespace's devices, addresses, routes and neighbours (from `ip -j`)
// and the iptables rules minictr owns (from `iptables-save`), each labelled with what it is for.
// The rules are checked against the very rule data the runtime installs (src/network/firewall),
// so a missing or left-over rule shows up. Everything here is pure: text in, data and text out.
import { MinictrError, errorMessage } from '../base/errors.js';
import type { DumpedChain, DumpedRule, ExpectedRule, FirewallDriver, FirewallDump } from '../network/driver.js';
import { firewallDriverFor } from '../network/drivers.js';
import { STANDING_OWNER, commentScope, iptablesDriver } from '../network/firewall/iptables-driver.js';
import { nftRuleScope, nftablesDriver } from '../network/firewall/nftables-driver.js';
import { COMMENT_PREFIX, cniOwner } from '../network/names.js';
import type { NetworkAttachment, NetworkRecord } from '../base/records.js';
import { columns, plural } from './text.js';

// ------------------------------------------------------------------ ip -j parsing

type Json = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);

/** `ip -j …` prints one JSON array (empty output when there is nothing). */
export function parseJsonArray(text: string, what: string): Json[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (err) {
    throw new MinictrError('E_BAD_OUTPUT', `could not read the output of ${what} as JSON: ${errorMessage(err)}`);
  }
  if (!Array.isArray(parsed)) throw new MinictrError('E_BAD_OUTPUT', `${what} printed JSON that is not a list`);
  return parsed.map(obj).filter((e): e is Json => e !== undefined);
}

export interface Link {
  ifindex: number;
  name: string;
  /** veth, bridge, loopback, ether … (`linkinfo.info_kind` with `ip -d`, else the link type). */
  kind: string;
  /** UP, DOWN, or "UP, no carrier". */
  state: string;
  mtu: number;
  mac: string;
  master?: string;
  /** A veth's peer: its ifindex, in the namespace `peerNetnsId` when that is another one. */
  peerIfindex?: number;
  peerNetnsId?: number;
}

export function parseLinks(text: string): Link[] {
  return parseJsonArray(text, 'ip -j link').map((e): Link => {
    const flags = strs(e['flags']);
    const info = obj(e['linkinfo']);
    const kind = str(info?.['info_kind']) ?? str(e['link_type']) ?? 'unknown';
    const up = flags.includes('UP');
    const link: Link = {
      ifindex: num(e['ifindex']) ?? 0,
      name: str(e['ifname']) ?? '?',
      kind,
      state: up ? (flags.includes('LOWER_UP') ? 'UP' : 'UP, no carrier') : 'DOWN',
      mtu: num(e['mtu']) ?? 0,
      mac: str(e['address']) ?? '',
    };
    const master = str(e['master']);
    if (master) link.master = master;
    const peer = num(e['link_index']);
    const peerNs = num(e['link_netnsid']);
    // A peer in another namespace may well carry the same index as this end.
    if (peer !== undefined && (peer !== link.ifindex || peerNs !== undefined)) link.peerIfindex = peer;
    if (peerNs !== undefined) link.peerNetnsId = peerNs;
    return link;
  });
}

export interface Address {
  ifname: string;
  family: 'inet' | 'inet6';
  local: string;
  prefixLength: number;
  scope: string;
}

export function parseAddresses(text: string): Address[] {
  const out: Address[] = [];
  for (const e of parseJsonArray(text, 'ip -j addr')) {
    const ifname = str(e['ifname']) ?? '?';
    for (const a of Array.isArray(e['addr_info']) ? e['addr_info'].map(obj) : []) {
      const family = str(a?.['family']);
      const local = str(a?.['local']);
      if (!a || !local || (family !== 'inet' && family !== 'inet6')) continue;
      out.push({ ifname, family, local, prefixLength: num(a['prefixlen']) ?? 0, scope: str(a['scope']) ?? '' });
    }
  }
  return out;
}

export interface Route {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  /** unicast routes leave it out; blackhole, unreachable, local … */
  type?: string;
}

export function parseRoutes(text: string): Route[] {
  return parseJsonArray(text, 'ip -j route').map((e) => {
    const route: Route = { dst: str(e['dst']) ?? '?' };
    const fields = ['gateway', 'dev', 'protocol', 'scope', 'prefsrc', 'type'] as const;
    for (const f of fields) {
      const v = str(e[f]);
      if (v !== undefined) route[f] = v;
    }
    const metric = num(e['metric']);
    if (metric !== undefined) route.metric = metric;
    return route;
  });
}

/** The route as `ip route` prints it. */
export function routeText(r: Route): string {
  return [
    r.type && r.type !== 'unicast' ? `${r.type} ${r.dst}` : r.dst,
    r.gateway ? `via ${r.gateway}` : '',
    r.dev ? `dev ${r.dev}` : '',
    r.protocol ? `proto ${r.protocol}` : '',
    r.scope ? `scope ${r.scope}` : '',
    r.prefsrc ? `src ${r.prefsrc}` : '',
    r.metric !== undefined ? `metric ${r.metric}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

export interface Neighbour {
  dst: string;
  dev: string;
  lladdr?: string;
  state: string[];
}

export function parseNeighbours(text: string): Neighbour[] {
  return parseJsonArray(text, 'ip -j neigh').map((e) => {
    const n: Neighbour = { dst: str(e['dst']) ?? '?', dev: str(e['dev']) ?? '?', state: strs(e['state']) };
    const lladdr = str(e['lladdr']);
    if (lladdr) n.lladdr = lladdr;
    return n;
  });
}

/** minictr's rules are the ones that mention it: its chains (MINICTR…) or its comment (minictr…). */
export function isMinictrRule(line: string): boolean {
  return /minictr/i.test(line);
}

// ------------------------------------------------------------------ what minictr's records say

export interface KnownNetwork {
  name: string;
  bridge: string;
  subnet: string;
  gateway: string;
  /** Its IPv6 subnet, when it has IPv6. */
  subnet6?: string;
  /** The firewall driver that owns its rules (absent: iptables). */
  firewall?: NetworkRecord['firewall'];
  /** What changes its planned rules: --internal, and the CNI plugin's switches. */
  internal?: boolean;
  masquerade?: false;
  clusterCidr?: string;
}

/** The owner scope in a dumped line's comment, whichever firewall wrote it ('' for the standing rules). */
export function lineScope(r: Pick<DumpedRule, 'table' | 'line' | 'comment'>): string | undefined {
  return r.table.startsWith('inet ') ? nftRuleScope(r) : commentScope(r.line);
}

/** The networks and containers whose rules `firewall` owns. */
function knownOf(known: Known, firewall: FirewallDriver): Known {
  const networks = known.networks.filter((n) => firewallDriverFor(n).name === firewall.name);
  const names = new Set(networks.map((n) => n.name));
  return { networks, containers: known.containers.filter((c) => !c.attachment || names.has(c.attachment.network)) };
}

export interface KnownContainer {
  name: string;
  id: string;
  attachment?: NetworkAttachment;
}

/** minictr's records: the networks and the containers holding network objects. */
export interface Known {
  networks: KnownNetwork[];
  containers: KnownContainer[];
}

export type InspectScope =
  | { kind: 'host' }
  | { kind: 'container'; name: string; id: string; mode: 'bridge' | 'none' | 'host' | 'rootless'; netns?: string; pid?: number; network?: string };

/**
 * The rules that should be in place, computed by the firewall driver that installs them: for
 * the host, the standing rules, each network's and each attached container's; for a container,
 * its own.
 */
export function expectedRules(known: Known, scope: InspectScope, firewall: FirewallDriver = iptablesDriver): ExpectedRule[] {
  if (scope.kind === 'container' && scope.mode !== 'host') {
    const c = known.containers.find((k) => k.id === scope.id);
    return c?.attachment ? firewall.expectedRules({ networks: [], containers: [c] }) : [];
  }
  return known.networks.length === 0 ? [] : firewall.expectedRules(known);
}

/** Who a comment scope names: the standing rules, a network, or a container. */
export function ownerOf(scope: string | undefined, known: Known): string | undefined {
  if (scope === undefined) return undefined;
  if (scope === '') return STANDING_OWNER;
  const plugin = cniOwner(scope);
  if (plugin) return plugin;
  const c = known.containers.find((k) => k.id.startsWith(scope) && scope.length >= 12);
  if (c) return `container ${c.name}`;
  const n = known.networks.find((k) => k.name === scope);
  if (n) return `network ${n.name}`;
  return /^[0-9a-f]{12}$/.test(scope) ? `container ${scope} (no record: a leftover)` : `network ${scope} (no record: a leftover)`;
}

export type RuleStatus = 'planned' | 'unplanned' | 'duplicate' | 'plugin' | 'other';

export interface RuleView extends DumpedRule {
  /**
   * planned: exactly as minictr's plan for its records; unplanned: minictr's, but no record
   * plans it (a leftover, or changed by hand); duplicate: a second copy; plugin: made by
   * minictr-cni, whose records are in its own dataDir (its CHECK verifies them); other: not minictr's.
   */
  status: RuleStatus;
  owner?: string;
}

export interface FirewallView {
  /** Built-in chains' policies (FORWARD DROP matters). */
  policies: DumpedChain[];
  rules: RuleView[];
  /** Planned rules that are not in place (a firewall reload wiped them?). */
  missing: ExpectedRule[];
}

/**
 * Label each rule of a dump. `keep` decides which of minictr's rules belong to this view
 * (a container's view keeps only its own); `all` keeps the others too, as 'other'.
 */
export function firewallView(dump: FirewallDump, expected: ExpectedRule[], known: Known, options: { all: boolean; keep?: (r: DumpedRule) => boolean }): FirewallView {
  const wanted = new Map<string, ExpectedRule>();
  for (const e of expected) wanted.set(`${e.table} ${e.chain} ${e.line}`, e);
  const seen = new Set<string>();
  const rules: RuleView[] = [];
  for (const r of dump.rules) {
    const mine = isMinictrRule(r.line) && (options.keep ? options.keep(r) : true);
    if (!mine) {
      if (options.all) rules.push({ ...r, status: 'other' });
      continue;
    }
    const key = `${r.table} ${r.chain} ${r.line}`;
    const plan = wanted.get(key);
    const owner = plan?.owner ?? ownerOf(lineScope(r), known);
    const scope = lineScope(r);
    const status: RuleStatus = seen.has(key) ? 'duplicate' : plan ? 'planned' : scope !== undefined && cniOwner(scope) ? 'plugin' : 'unplanned';
    seen.add(key);
    rules.push(owner === undefined ? { ...r, status } : { ...r, status, owner });
  }
  // minictr's shared chains serve the plugin's networks too: with no minictr network they are the plugin's.
  if (rules.some((r) => r.status === 'plugin')) {
    for (const r of rules) if (r.status === 'unplanned' && lineScope(r) === '') r.status = 'plugin';
  }
  const missing = expected.filter((e) => !seen.has(`${e.table} ${e.chain} ${e.line}`));
  const builtIn = /^(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING)$/;
  return { policies: dump.chains.filter((c) => builtIn.test(c.chain)), rules, missing };
}

// ------------------------------------------------------------------ the whole view

export interface NetView {
  scope: InspectScope;
  links: (Link & { note?: string })[];
  addresses: (Address & { note?: string })[];
  /** IPv6 link-local addresses left out (without --all): every interface has one. */
  hiddenAddresses: number;
  routes: (Route & { text: string; note?: string })[];
  neighbours: (Neighbour & { note?: string })[];
  /** The host's rules (for a container: the host's rules that belong to it). */
  firewall: FirewallView;
  /** For a container: the rules inside its own namespace (normally none). */
  inside?: FirewallView;
}

export interface RawStack {
  link: string;
  addr: string;
  route: string;
  neigh: string;
}

export interface NetViewInput {
  scope: InspectScope;
  stack: RawStack;
  /** iptables-save of the host (where minictr's rules live). */
  hostRules: string;
  /** `nft -j list ruleset inet` of the host, when a network uses the nftables driver. */
  nftRules?: string;
  /** iptables-save inside the container's namespace. */
  insideRules?: string;
  known: Known;
  all: boolean;
}

function attachmentOf(scope: InspectScope, known: Known): NetworkAttachment | undefined {
  return scope.kind === 'container' ? known.containers.find((c) => c.id === scope.id)?.attachment : undefined;
}

function linkNote(l: Link, scope: InspectScope, known: Known, links: Link[]): string | undefined {
  if (l.kind === 'loopback') return 'loopback: this namespace talking to itself';
  if (scope.kind === 'container') {
    const att = attachmentOf(scope, known);
    if (att && l.name === 'eth0') return `the container's end of its veth pair; the other end is ${att.hostVeth} on the host, plugged into ${att.bridge}`;
    return undefined;
  }
  const net = known.networks.find((n) => n.bridge === l.name);
  if (net) return `bridge of network "${net.name}": the virtual switch its containers plug into`;
  const plugin = cniOwner(l.name);
  if (plugin) return plugin;
  if (l.kind === 'bridge' && links.some((o) => o.master === l.name && cniOwner(o.name))) return 'bridge of a minictr-cni network: the virtual switch its pods plug into';
  const owner = known.containers.find((c) => c.attachment?.hostVeth === l.name);
  if (owner?.attachment) {
    return `host end of ${owner.name}'s veth pair, plugged into ${owner.attachment.bridge}; the other end is eth0 in ${owner.attachment.netns}`;
  }
  if (l.kind === 'veth' && known.networks.some((n) => n.bridge === l.master)) return 'a veth on a minictr bridge that no container record owns (a leftover?)';
  return undefined;
}

function addressNote(a: Address, scope: InspectScope, known: Known): string | undefined {
  if (a.family === 'inet6' && a.scope === 'link') return 'IPv6 link-local (every interface gets one)';
  if (scope.kind === 'container') {
    const att = attachmentOf(scope, known);
    if (att && a.ifname === 'eth0') {
      return a.local === att.ip ? `the container's address on network "${att.network}"` : `minictr recorded ${att.ip} for this container!`;
    }
    return undefined;
  }
  const net = known.networks.find((n) => n.bridge === a.ifname);
  if (net) {
    return a.local === net.gateway
      ? `gateway of network "${net.name}": containers send everything outside ${net.subnet} here`
      : `not the recorded gateway ${net.gateway} of network "${net.name}"!`;
  }
  return undefined;
}

function routeNote(r: Route, scope: InspectScope, known: Known): string | undefined {
  if (scope.kind === 'container') {
    const att = attachmentOf(scope, known);
    if (!att) return undefined;
    if (r.dst === 'default' && r.gateway === att.gateway) return 'everything else goes to the gateway: the bridge on the host';
    if (r.dev === 'eth0' && r.protocol === 'kernel') return 'the rest of the subnet is reached directly, through the bridge';
    return undefined;
  }
  const net = known.networks.find((n) => n.bridge === r.dev);
  if (net && r.dst === net.subnet) return `containers of network "${net.name}" are reached through the bridge`;
  if (r.dst === 'default') return 'where traffic to everything else goes (containers\' too, after MASQUERADE)';
  return undefined;
}

function neighbourNote(n: Neighbour, known: Known): string | undefined {
  const c = known.containers.find((k) => k.attachment?.ip === n.dst);
  if (c) return `container ${c.name}`;
  const net = known.networks.find((k) => k.gateway === n.dst);
  if (net) return `gateway of network "${net.name}" (the host's bridge)`;
  return undefined;
}

function withNote<T extends object>(item: T, note: string | undefined): T & { note?: string } {
  return note === undefined ? item : { ...item, note };
}

/** Each firewall's dump checked against what that firewall's networks and containers plan, side by side. */
function hostFirewallView(input: NetViewInput, hostLike: boolean, scopeId: string | undefined): FirewallView {
  const dumps: [FirewallDriver, string][] = [[iptablesDriver, input.hostRules]];
  if (input.nftRules !== undefined) dumps.push([nftablesDriver, input.nftRules]);
  const views = dumps.map(([driver, text]) =>
    firewallView(driver.parseDump(text), expectedRules(knownOf(input.known, driver), input.scope, driver), input.known, {
      all: input.all && hostLike,
      ...(scopeId ? { keep: (r: DumpedRule) => lineScope(r) === scopeId } : {}),
    }),
  );
  return { policies: views.flatMap((v) => v.policies), rules: views.flatMap((v) => v.rules), missing: views.flatMap((v) => v.missing) };
}

export function buildNetView(input: NetViewInput): NetView {
  const { scope, known, all } = input;
  const addresses = parseAddresses(input.stack.addr);
  const shown = all ? addresses : addresses.filter((a) => !(a.family === 'inet6' && a.scope === 'link'));
  const hostLike = scope.kind === 'host' || scope.mode === 'host';
  const scopeId = hostLike ? undefined : scope.id.slice(0, 12);
  const links = parseLinks(input.stack.link);
  const view: NetView = {
    scope,
    links: links.map((l) => withNote(l, linkNote(l, scope, known, links))),
    addresses: shown.map((a) => withNote(a, addressNote(a, scope, known))),
    hiddenAddresses: addresses.length - shown.length,
    routes: parseRoutes(input.stack.route).map((r) => withNote({ ...r, text: routeText(r) }, routeNote(r, scope, known))),
    neighbours: parseNeighbours(input.stack.neigh).map((n) => withNote(n, neighbourNote(n, known))),
    firewall: hostFirewallView(input, hostLike, scopeId),
  };
  if (input.insideRules !== undefined) view.inside = firewallView(iptablesDriver.parseDump(input.insideRules), [], known, { all });
  return view;
}

// ------------------------------------------------------------------ rendering

const MARK: Record<RuleStatus, string> = { planned: '✓', unplanned: '?', duplicate: '2', plugin: 'c', other: ' ' };

function scopeTitle(scope: InspectScope): string {
  if (scope.kind === 'host') return "Network stack of the host (the network namespace minictr runs in)";
  const who = `container ${scope.name} (${scope.id.slice(0, 12)})`;
  if (scope.mode === 'host') return `Network stack of ${who}: --network host, so this is the host's own stack`;
  if (scope.mode === 'none') return `Network stack of ${who}: --network none, its own namespace with only lo (entered through pid ${scope.pid ?? '?'})`;
  if (scope.mode === 'rootless') {
    const by = scope.network === 'pasta' || scope.network === 'slirp4netns' ? scope.network : `a veth to the bridge of ${scope.network ?? '?'} in the rootless namespace`;
    return `Network stack of ${who}: rootless, its own namespace connected by ${by} (entered through pid ${scope.pid ?? '?'}, its user namespace first)`;
  }
  return `Network stack of ${who}: network namespace ${scope.netns ?? '?'}`;
}

function section(title: string, source: string, body: string[]): string[] {
  return [`${title}  (${source})`, ...(body.length > 0 ? body : ['  (none)']), ''];
}

/** iptables-save lines name their chain; an nft rule or element is shown after its chain (or @set). */
function shownLine(r: DumpedRule): string {
  return r.table.startsWith('inet ') ? `${r.chain}  ${r.line}` : r.line;
}

function rulesBlock(fw: FirewallView, options: { all: boolean; policies: boolean }): string[] {
  const out: string[] = [];
  const tables = [...new Set([...fw.rules.map((r) => r.table), ...fw.missing.map((m) => m.table)])];
  for (const table of tables) {
    out.push(`  *${table}`);
    if (options.policies) {
      for (const p of fw.policies.filter((c) => c.table === table)) out.push(`    :${p.chain} ${p.policy}`);
    }
    for (const r of fw.rules.filter((x) => x.table === table)) out.push(`  ${MARK[r.status]} ${shownLine(r)}`);
    for (const m of fw.missing.filter((x) => x.table === table)) out.push(`  ✗ ${shownLine(m)}`);
  }
  return out;
}

function ownersLegend(fw: FirewallView, known: Known): string[] {
  const scopes = new Map<string, string>();
  for (const r of fw.rules) {
    const s = lineScope(r);
    if (s === undefined || scopes.has(s)) continue;
    scopes.set(s, ownerOf(s, known) ?? '?');
  }
  return columns([...scopes].map(([s, who]) => [s === '' ? COMMENT_PREFIX : `${COMMENT_PREFIX}:${s}`, `= ${who}`]), { indent: '    ' });
}

export function firewallSummary(fw: FirewallView): string {
  const count = (s: RuleStatus): number => fw.rules.filter((r) => r.status === s).length;
  const parts = [`${plural(count('planned'), 'rule')} as planned`, `${fw.missing.length} missing`];
  if (count('unplanned') > 0) parts.push(`${count('unplanned')} not in any plan`);
  if (count('duplicate') > 0) parts.push(`${plural(count('duplicate'), 'duplicate')}`);
  if (count('plugin') > 0) parts.push(`${plural(count('plugin'), 'rule')} made by minictr-cni`);
  if (count('other') > 0) parts.push(`${plural(count('other'), 'other rule')}`);
  return parts.join(', ');
}

function firewallAdvice(fw: FirewallView): string[] {
  const out: string[] = [];
  if (fw.missing.length > 0) out.push('  ✗ planned rules are missing (a firewall reload?): `minictr network reload` puts them back');
  if (fw.rules.some((r) => r.status === 'unplanned')) {
    out.push('  ? rules no record plans: left over from a crash or changed by hand; removing their container or network (or `minictr network prune`) clears what is recorded');
  }
  return out;
}

export function renderNetView(view: NetView, options: { all: boolean }, known: Known): string {
  const lines: string[] = [scopeTitle(view.scope), ''];
  const linkRows = view.links.map((l) => [
    String(l.ifindex),
    l.name,
    l.kind,
    l.state,
    String(l.mtu),
    l.mac,
    l.master ? `on ${l.master}` : l.peerIfindex !== undefined ? `peer #${l.peerIfindex}${l.peerNetnsId !== undefined ? ' (other ns)' : ''}` : '',
    l.note ?? '',
  ]);
  lines.push(...section('Devices', 'ip -d -j link', linkRows.length ? columns([['#', 'NAME', 'KIND', 'STATE', 'MTU', 'MAC', 'LINK', 'WHAT IT IS'], ...linkRows], { indent: '  ' }) : []));
  const addrRows = columns(view.addresses.map((a) => [a.ifname, a.family, `${a.local}/${a.prefixLength}`, a.scope, a.note ?? '']), { indent: '  ' });
  if (view.hiddenAddresses > 0) addrRows.push(`  (${plural(view.hiddenAddresses, 'IPv6 link-local address', 'IPv6 link-local addresses')} hidden; --all shows them)`);
  lines.push(...section('Addresses', 'ip -j addr', addrRows));
  lines.push(...section('Routes', 'ip -j route', columns(view.routes.map((r) => [r.text, r.note ? `← ${r.note}` : '']), { indent: '  ' })));
  lines.push(
    ...section(
      'Neighbours (ARP cache)',
      'ip -j neigh',
      columns(view.neighbours.map((n) => [n.dst, `dev ${n.dev}`, n.lladdr ?? '', n.state.join(','), n.note ?? '']), { indent: '  ' }),
    ),
  );
  const fw = view.firewall;
  const hostLike = view.scope.kind === 'host' || view.scope.mode === 'host';
  const fwTitle =
    hostLike
      ? options.all
        ? 'Firewall: every rule on the host'
        : 'Firewall: the rules minictr owns on the host'
      : view.scope.kind === 'container' && view.scope.mode === 'bridge'
        ? "Firewall: the host's rules for this container"
        : "Firewall: the host's rules for this container (none: it is not on a bridge network)";
  const fwBody = [...rulesBlock(fw, { all: options.all, policies: options.all })];
  if (fw.rules.length + fw.missing.length > 0) {
    const pluginMark = fw.rules.some((r) => r.status === 'plugin') ? '  c: the CNI plugin\'s (minictr-cni CHECK verifies them)' : '';
    fwBody.push('', `  ${firewallSummary(fw)}   (✓ as planned  ✗ planned but missing  ? minictr's but in no plan${pluginMark}${options.all ? '  blank: not minictr\'s' : ''})`);
    fwBody.push(...firewallAdvice(fw));
    const legend = ownersLegend(fw, known);
    if (legend.length > 0) fwBody.push('  comments name the owner:', ...legend);
  }
  const forward = fw.policies.find((p) => p.table === 'filter' && p.chain === 'FORWARD');
  if (forward && hostLike) fwBody.push(`  FORWARD policy: ${forward.policy} (minictr's jumps sit at the head of FORWARD, so its rules decide first either way)`);
  const source = [...view.firewall.rules, ...view.firewall.missing].some((r: DumpedRule) => r.table.startsWith('inet ')) ? 'iptables-save and nft -j list ruleset inet' : 'iptables-save';
  lines.push(...section(fwTitle, options.all ? source : `${source}, lines mentioning minictr; --all shows every rule`, fwBody));
  if (view.inside) {
    const inside = view.inside;
    lines.push(
      ...section(
        "Firewall inside the container's namespace",
        'iptables-save',
        inside.rules.length > 0 ? rulesBlock(inside, { all: options.all, policies: false }) : ['  (no rules: minictr installs nothing inside containers)'],
      ),
    );
  }
  return lines.join('\n').replace(/\n+$/, '\n');
}
