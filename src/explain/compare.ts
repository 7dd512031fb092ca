// `run --dry-run --compare docker[@27|@28|@29]`: minictr's iptables rules for a run beside the
// rules Docker would install for the same `docker run`, aligned rule by rule, each difference
// explained in one line. minictr's side comes from the same rule functions the runtime installs
// (src/network/firewall/iptables.ts); Docker's side is generated from the layouts documented in
// research/anchors.md §2.2 (≤27), §2.3 (28.2+) and §2.4 (29), with the default userland proxy on.
// Pure: records in, rows out.
import { MinictrError } from '../base/errors.js';
import { byContainerPort, containerRules, networkRules, portsOfFamily, protoMatch, specText, standingRules, type Rule, type Table } from '../network/firewall/iptables.js';
import { intToIp, ipToInt, parseSubnet } from '../network/ipam.js';
import { DEFAULT_NETWORK } from '../network/names.js';
import type { Plan } from '../base/plan.js';
import type { NetworkAttachment, NetworkRecord, PortMapping } from '../base/records.js';

export type DockerVersion = 27 | 28 | 29;


/** The engine spelled on the command line: docker (= 28), docker@27, docker@28.5, docker@29 … */
export function parseCompareEngine(spec: string): DockerVersion {
  const m = /^docker(?:@(\d+)(?:\.\d+)*)?$/.exec(spec.trim());
  const major = m ? Number(m[1] ?? 28) : NaN;
  if (major === 27 || major === 28 || major === 29) return major;
  throw new MinictrError(
    'E_BAD_COMPARE',
    `cannot compare with "${spec}": use docker (Docker 28), docker@27 (the classic layout, also ≤27), docker@28, docker@29 or docker@29-nftables`,
  );
}

// ------------------------------------------------------------------ Docker's rules

/** What Docker would use for the same run: its bridge, subnet and the container's address there. */
export interface DockerScope {
  bridge: string;
  subnet: string;
  ip: string;
  ports: PortMapping[];
  /** The container is on Docker's default bridge (docker0); otherwise on a user network beside it. */
  onDefaultBridge: boolean;
}

export const DOCKER_DEFAULT = { bridge: 'docker0', subnet: '172.17.0.0/16' } as const;

/**
 * minictr's default network (minictr0, 172.18.0.0/16, the article's) is Docker's docker0
 * (172.17.0.0/16): the container keeps its offset in the subnet (172.18.0.2 → 172.17.0.2).
 * A user network keeps its subnet and address; Docker names its bridge br-<12 hex of the id>.
 */
export function dockerScopeFor(net: Pick<NetworkRecord, 'name' | 'id' | 'subnet'>, att: NetworkAttachment): DockerScope {
  // iptables' (IPv4) side only: [::] and IPv6 addresses are ip6tables', [::1] the relay's.
  const ports = portsOfFamily(att.ports, 4);
  if (net.name === DEFAULT_NETWORK.name) {
    const offset = ipToInt(att.ip) - ipToInt(parseSubnet(net.subnet).network);
    const base = ipToInt(parseSubnet(DOCKER_DEFAULT.subnet).network);
    return { bridge: DOCKER_DEFAULT.bridge, subnet: DOCKER_DEFAULT.subnet, ip: intToIp((base + (offset & 0xffff)) >>> 0), ports, onDefaultBridge: true };
  }
  return { bridge: `br-${net.id.slice(0, 12)}`, subnet: net.subnet, ip: att.ip, ports, onDefaultBridge: false };
}

function r(table: Table, chain: string, spec: string[], op: '-A' | '-I' = '-A'): Rule {
  return { table, chain, op, spec };
}

// Docker matches ports and dedupes per container port exactly as minictr's rules do.
const proto = protoMatch;
const uniqueByContainerPort = byContainerPort;

/** One bridge's rules in Docker `version`'s layout (no container). */
function dockerBridgeRules(br: string, subnet: string, version: DockerVersion): Rule[] {
  if (version === 27) {
    return [
      r('filter', 'FORWARD', ['-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT']),
      r('filter', 'FORWARD', ['-o', br, '-j', 'DOCKER']),
      r('filter', 'FORWARD', ['-i', br, '!', '-o', br, '-j', 'ACCEPT']),
      r('filter', 'FORWARD', ['-i', br, '-o', br, '-j', 'ACCEPT']),
      r('filter', 'DOCKER-ISOLATION-STAGE-1', ['-i', br, '!', '-o', br, '-j', 'DOCKER-ISOLATION-STAGE-2']),
      r('filter', 'DOCKER-ISOLATION-STAGE-2', ['-o', br, '-j', 'DROP']),
      r('nat', 'POSTROUTING', ['-s', subnet, '!', '-o', br, '-j', 'MASQUERADE']),
      r('nat', 'DOCKER', ['-i', br, '-j', 'RETURN']),
    ];
  }
  return [
    r('filter', 'DOCKER', ['!', '-i', br, '-o', br, '-j', 'DROP']),
    r('filter', 'DOCKER-BRIDGE', ['-o', br, '-j', 'DOCKER']),
    r('filter', 'DOCKER-CT', ['-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT']),
    r('filter', 'DOCKER-FORWARD', ['-i', br, '-j', 'ACCEPT']),
    ...(version === 28
      ? [
          r('filter', 'DOCKER-ISOLATION-STAGE-1', ['-i', br, '!', '-o', br, '-j', 'DOCKER-ISOLATION-STAGE-2']),
          r('filter', 'DOCKER-ISOLATION-STAGE-2', ['-o', br, '-j', 'DROP']),
        ]
      : []),
    r('nat', 'POSTROUTING', ['-s', subnet, '!', '-o', br, '-j', 'MASQUERADE']),
    ...(version === 28 ? [r('nat', 'DOCKER', ['-i', br, '-j', 'RETURN'])] : []),
  ];
}

/**
 * The rules Docker `version` installs for `docker run -p …` (default daemon settings: iptables
 * backend, userland proxy on, icc on), in iptables-save order.
 */
export function dockerRules(scope: DockerScope, version: DockerVersion): Rule[] {
  const { bridge: br, ip } = scope;
  const ip32 = `${ip}/32`;
  const standing: Rule[] =
    version === 27
      ? [
          r('filter', 'FORWARD', ['-j', 'DOCKER-USER']),
          r('filter', 'FORWARD', ['-j', 'DOCKER-ISOLATION-STAGE-1']),
          r('filter', 'DOCKER-ISOLATION-STAGE-1', ['-j', 'RETURN']),
          r('filter', 'DOCKER-ISOLATION-STAGE-2', ['-j', 'RETURN']),
          r('filter', 'DOCKER-USER', ['-j', 'RETURN']),
        ]
      : [
          r('filter', 'FORWARD', ['-j', 'DOCKER-USER']),
          r('filter', 'FORWARD', ['-j', 'DOCKER-FORWARD']),
          r('filter', 'DOCKER-FORWARD', ['-j', 'DOCKER-CT']),
          r('filter', 'DOCKER-FORWARD', ['-j', version === 28 ? 'DOCKER-ISOLATION-STAGE-1' : 'DOCKER-INTERNAL']),
          r('filter', 'DOCKER-FORWARD', ['-j', 'DOCKER-BRIDGE']),
        ];
  const nat: Rule[] = [
    r('nat', 'PREROUTING', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'DOCKER']),
    r('nat', 'OUTPUT', ['!', '-d', '127.0.0.0/8', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'DOCKER']),
  ];
  // Docker's default bridge always exists; a user network's bridge comes after it.
  const bridges = scope.onDefaultBridge ? [[br, scope.subnet]] : [[DOCKER_DEFAULT.bridge, DOCKER_DEFAULT.subnet], [br, scope.subnet]];
  const perBridge = bridges.flatMap(([b, s]) => dockerBridgeRules(b ?? '', s ?? '', version));
  const unique = uniqueByContainerPort(scope.ports);
  const perContainer: Rule[] = [
    // Inserted at the head of DOCKER, so the last published port is listed first.
    ...unique.map((p) => r('filter', 'DOCKER', ['-d', ip32, '!', '-i', br, '-o', br, ...proto(p, p.containerPort), '-j', 'ACCEPT'], '-I')),
    // Per-port hairpin masquerade: always in ≤27, only without the userland proxy in 28+.
    ...(version === 27
      ? unique.map((p) => r('nat', 'POSTROUTING', ['-s', ip32, '-d', ip32, ...proto(p, p.containerPort), '-j', 'MASQUERADE']))
      : []),
    ...scope.ports.map((p) =>
      r('nat', 'DOCKER', [
        ...(p.hostIp ? ['-d', `${p.hostIp}/32`] : []),
        '!', '-i', br,
        ...proto(p, p.hostPort),
        '-j', 'DNAT', '--to-destination', `${ip}:${p.containerPort}`,
      ]),
    ),
    ...(version === 27
      ? []
      : [
          ...scope.ports
            .filter((p) => p.hostIp.startsWith('127.'))
            .map((p) => r('raw', 'PREROUTING', ['-d', `${p.hostIp}/32`, '!', '-i', 'lo', ...proto(p, p.hostPort), '-j', 'DROP'])),
          r('raw', 'PREROUTING', ['-d', ip32, '!', '-i', br, '-j', 'DROP']),
        ]),
  ];
  return saveOrder([...standing, ...nat, ...perBridge, ...perContainer]);
}

// ------------------------------------------------------------------ minictr's rules

/** Every minictr rule in place once the run is done: standing, the network's, the container's. */
export function minictrRules(net: Pick<NetworkRecord, 'name' | 'bridge' | 'subnet'>, att: NetworkAttachment): Rule[] {
  return saveOrder([...standingRules(), ...networkRules(net), ...containerRules(att)]);
}

const TABLES: readonly Table[] = ['filter', 'nat', 'raw'];
const BUILT_IN = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

/**
 * The order iptables-save lists rules in after they were applied in this order: by table, built-in
 * chains first, then user chains by name; within a chain, -I rules go to the head.
 */
export function saveOrder(rules: Rule[]): Rule[] {
  const out: Rule[] = [];
  for (const table of TABLES) {
    const chains = new Map<string, Rule[]>();
    for (const rule of rules.filter((x) => x.table === table)) {
      const list = chains.get(rule.chain) ?? [];
      if (rule.op === '-I') list.unshift(rule);
      else list.push(rule);
      chains.set(rule.chain, list);
    }
    const names = [...chains.keys()].sort((a, b) => {
      const ia = BUILT_IN.indexOf(a);
      const ib = BUILT_IN.indexOf(b);
      if (ia >= 0 || ib >= 0) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
      return a < b ? -1 : a > b ? 1 : 0;
    });
    for (const name of names) out.push(...(chains.get(name) ?? []));
  }
  return out;
}

// ------------------------------------------------------------------ alignment

export type RowKind = 'same' | 'moved' | 'differs' | 'minictr-only' | 'docker-only';

export interface CompareRow {
  table: Table;
  kind: RowKind;
  /** The rule as iptables-save prints it (`-A CHAIN …`). */
  minictr?: string;
  docker?: string;
  /** One line: why the two differ (or why they are the same rule). */
  note: string;
}

interface Normal {
  rule: Rule;
  line: string;
  chain: string;
  tokens: string[];
  target: string;
  ports: string;
}

function lineOf(rule: Rule): string {
  return `-A ${rule.chain} ${specText(rule.spec)}`;
}

/** Names replaced by placeholders, the ownership comment dropped: what is left is the rule's meaning. */
function normalise(rule: Rule, names: { bridge: string; subnet: string; ip: string }): Normal {
  const chainName = (c: string): string => c.replace(/^(MINICTR|DOCKER)/, 'X');
  const tokens: string[] = [];
  const spec = rule.spec;
  for (let i = 0; i < spec.length; i++) {
    const tok = spec[i] ?? '';
    if (tok === '-m' && spec[i + 1] === 'comment') {
      i += 3; // -m comment --comment TEXT
      continue;
    }
    if (tok === names.bridge) tokens.push('<br>');
    else if (tok === names.subnet) tokens.push('<subnet>');
    else if (tok === `${names.ip}/32`) tokens.push('<ip>/32');
    else if (tok.startsWith(`${names.ip}:`)) tokens.push(`<ip>:${tok.slice(names.ip.length + 1)}`);
    else if (spec[i - 1] === '-j') tokens.push(chainName(tok));
    else tokens.push(tok);
  }
  const j = tokens.indexOf('-j');
  const ports = tokens.flatMap((t, i) => (tokens[i - 1] === '--dport' || tokens[i - 1] === '--to-destination' ? [t] : [])).join(' ');
  return { rule, line: lineOf(rule), chain: chainName(rule.chain), tokens, target: j >= 0 ? tokens.slice(j + 1).join(' ') : '', ports };
}

function isSubset(small: string[], big: string[]): boolean {
  const left = [...big];
  for (const t of small) {
    const i = left.indexOf(t);
    if (i < 0) return false;
    left.splice(i, 1);
  }
  return true;
}

/** Tokens of `a` that `b` lacks (as a multiset), in `a`'s order. */
function missingFrom(a: string[], b: string[]): string[] {
  const left = [...b];
  const out: string[] = [];
  for (const t of a) {
    const i = left.indexOf(t);
    if (i >= 0) left.splice(i, 1);
    else out.push(t);
  }
  return out;
}

function onlyIn(a: string[], b: string[]): string {
  return missingFrom(a, b).join(' ');
}

type Phase = 'same' | 'moved' | 'differs';

/** Pair minictr's and Docker's rules: identical, then moved to another chain, then same target and ports, then a subset. */
function pairUp(mins: Normal[], docks: Normal[]): Map<Normal, { d: Normal; phase: Phase }> {
  const pairs = new Map<Normal, { d: Normal; phase: Phase }>();
  const taken = new Set<Normal>();
  const pass = (phase: Phase, ok: (m: Normal, d: Normal) => boolean, score: (m: Normal, d: Normal) => number = () => 0): void => {
    for (const m of mins) {
      if (pairs.has(m)) continue;
      let best: Normal | undefined;
      let bestScore = -Infinity;
      for (const d of docks) {
        if (taken.has(d) || d.rule.table !== m.rule.table || !ok(m, d)) continue;
        const s = score(m, d);
        if (s > bestScore) {
          best = d;
          bestScore = s;
        }
      }
      if (best) {
        pairs.set(m, { d: best, phase });
        taken.add(best);
      }
    }
  };
  const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((t, i) => t === b[i]);
  const common = (m: Normal, d: Normal): number => m.tokens.length - missingFrom(m.tokens, d.tokens).length - missingFrom(d.tokens, m.tokens).length;
  pass('same', (m, d) => m.chain === d.chain && same(m.tokens, d.tokens));
  pass('moved', (m, d) => same(m.tokens, d.tokens));
  // Same target and ports, and one rule is the other plus some matches (preferably in the same chain).
  pass(
    'differs',
    (m, d) => m.target === d.target && m.ports === d.ports && (isSubset(m.tokens, d.tokens) || isSubset(d.tokens, m.tokens)),
    (m, d) => common(m, d) + (m.chain === d.chain ? 100 : 0),
  );
  return pairs;
}

interface NoteContext {
  version: DockerVersion;
  minictrBridge: string;
  dockerBridge: string;
  minictr: { bridge: string; subnet: string; ip: string };
  docker: { bridge: string; subnet: string; ip: string };
}

/** Put the real names back into normalised tokens (for a note). */
function named(tokens: string, names: { bridge: string; subnet: string; ip: string }, chainPrefix: string): string {
  return tokens
    .replace(/<br>/g, names.bridge)
    .replace(/<subnet>/g, names.subnet)
    .replace(/<ip>/g, names.ip)
    .replace(/(^|\s)X(?=-|\s|$)/g, `$1${chainPrefix}`);
}

function text(n: Normal): string {
  return `${n.chain} ${n.tokens.join(' ')}`;
}

function noteSame(m: Normal, v: DockerVersion): string {
  const t = text(m);
  if (t === 'PREROUTING -m addrtype --dst-type LOCAL -j X') {
    return 'same: every local address goes to the DNAT chain (-m addrtype --dst-type LOCAL); the article matched one `-d <host-ip>` instead';
  }
  if (t === 'FORWARD -j X-USER') return 'same: your own rules go in MINICTR-USER (DOCKER-USER), checked before anything else';
  if (t === 'FORWARD -j X-FORWARD') return 'same: one jump into the forwarding chains, so other tools can still append to FORWARD';
  if (/^PREROUTING -d 127\.\S+ ! -i lo .* -j DROP$/.test(t)) return 'same guard (CVE-2020-8558): a port published on 127.x cannot be reached from another interface';
  if (t === 'PREROUTING -d <ip>/32 ! -i <br> -j DROP') return 'same guard (Docker 28.2+): only the bridge may send packets straight to the container\'s address';
  if (/^POSTROUTING -s <ip>\/32 -d <ip>\/32 .* -j MASQUERADE$/.test(t)) {
    return `same per-port hairpin masquerade (Docker ≤27 always adds it; 28+ only with userland-proxy=false)`;
  }
  if (/^X -d <ip>\/32 ! -i <br> -o <br> .* -j ACCEPT$/.test(t)) return 'same: the published port is let through to the container, from outside the bridge';
  if (t === 'X ! -i <br> -o <br> -j DROP') {
    return v === 27 ? 'same' : 'same: anything else from outside the bridge is dropped (unpublished ports), whatever the FORWARD policy';
  }
  if (t === 'POSTROUTING -s <subnet> ! -o <br> -j MASQUERADE') return 'same: the article\'s MASQUERADE, containers leave with the host\'s address';
  if (/^X-ISOLATION/.test(t)) return 'same: networks are isolated from each other';
  return 'same rule, names aside';
}

function noteMoved(m: Normal, d: Normal, v: DockerVersion): string {
  if (v === 27 && d.chain === 'FORWARD') {
    return `same match; Docker ≤27 has it directly in FORWARD, 28 moved it into ${m.rule.chain.replace(/^MINICTR/, 'DOCKER')} (minictr follows 28)`;
  }
  return `same match, in ${m.rule.chain} (Docker: ${d.rule.chain})`;
}

function noteDiffers(m: Normal, d: Normal, ctx: NoteContext): string {
  const v = ctx.version;
  const dOnly = onlyIn(d.tokens, m.tokens);
  const mOnly = onlyIn(m.tokens, d.tokens);
  if (m.chain === 'OUTPUT' && dOnly === '! -d 127.0.0.0/8') {
    return 'no userland proxy: minictr has no `! -d 127.0.0.0/8`, so the host\'s own 127.0.0.1:PORT is DNATed in the kernel (Docker: only with userland-proxy=false)';
  }
  if (m.target.startsWith('DNAT') && dOnly === '! -i <br>') {
    return `no \`! -i ${ctx.dockerBridge}\`: a container reaching a published port is DNATed in the kernel (hairpin); Docker leaves that to its userland proxy`;
  }
  if (v === 27 && d.chain === 'FORWARD' && text(m) === 'X-FORWARD -i <br> -j ACCEPT') {
    return 'one rule for everything coming from the bridge, in MINICTR-FORWARD (the 28 layout); Docker ≤27 has two in FORWARD: to other interfaces, and container↔container (icc)';
  }
  const parts = [
    dOnly ? `Docker adds \`${named(dOnly, ctx.docker, 'DOCKER')}\`` : '',
    mOnly ? `minictr adds \`${named(mOnly, ctx.minictr, 'MINICTR')}\`` : '',
  ].filter(Boolean);
  const where = m.chain !== d.chain ? ` (chain ${m.rule.chain} vs ${d.rule.chain})` : '';
  return `differs: ${parts.join('; ')}${where}`;
}

function noteMinictrOnly(m: Normal, v: DockerVersion): string {
  const t = text(m);
  if (t === 'POSTROUTING -o <br> -m addrtype --src-type LOCAL -j MASQUERADE') {
    return 'no userland proxy: the host reaching a container via 127.0.0.1 or its own address gets the gateway as source (Docker: only with userland-proxy=false)';
  }
  if (/^POSTROUTING -s <ip>\/32 -d <ip>\/32 .* -j MASQUERADE$/.test(t)) {
    return 'no userland proxy: per-port hairpin masquerade, so a container can reach its own published port (Docker 28+: only with userland-proxy=false)';
  }
  if (t === 'PREROUTING -d 127.0.0.0/8 -i <br> -j DROP') {
    return 'minictr only: route_localnet=1 on the bridge must not let containers reach the host\'s 127.0.0.1 services';
  }
  if (/^PREROUTING -d 127\.\S+ ! -i lo .* -j DROP$/.test(t)) return 'Docker ≤27 has no such guard (CVE-2020-8558, fixed in 28.0): a port published on 127.x is reachable from the LAN';
  if (t === 'PREROUTING -d <ip>/32 ! -i <br> -j DROP') {
    return 'Docker ≤27 has no raw guards: a machine with a route to the subnet reaches every port of the container';
  }
  if (t === 'X ! -i <br> -o <br> -j DROP') return 'Docker ≤27 relies on the FORWARD policy DROP; minictr (like 28+) drops unpublished ports itself';
  if (t === 'FORWARD -j X-FORWARD') return 'Docker ≤27 puts its per-bridge rules straight into FORWARD; 28 moved them into DOCKER-FORWARD, which minictr copies';
  if (/^X-FORWARD -j X-(CT|BRIDGE)$/.test(t)) return 'a chain of the 28 layout (Docker ≤27 has these rules in FORWARD)';
  if (t === 'X-ISOLATION-STAGE-2 -o <br> -m conntrack --ctstate DNAT -j RETURN') {
    return 'no userland proxy: a container on another network reaches a published port through the host\'s address (DNATed), which Docker allows only through its proxy';
  }
  if (/ISOLATION/.test(t) && v === 29) return 'Docker 29 removed the ISOLATION-STAGE chains (moby#49981); minictr keeps the 28 layout';
  return 'minictr only';
}

function noteDockerOnly(d: Normal, ctx: NoteContext): string {
  const t = text(d);
  if (d.tokens.includes('docker0') && ctx.dockerBridge !== 'docker0') {
    return 'Docker\'s default bridge docker0 always exists; minictr makes a bridge only for networks in use';
  }
  if (t === 'X -i <br> -j RETURN') {
    return 'connections from the bridge skip DNAT (Docker\'s userland proxy does hairpin); minictr DNATs them in the kernel (Docker 29 dropped this rule)';
  }
  if (t === 'FORWARD -i <br> -o <br> -j ACCEPT' || t === 'FORWARD -i <br> ! -o <br> -j ACCEPT') {
    return `${t.includes('!') ? 'containers going out' : 'container↔container on one bridge (icc)'}: minictr's \`MINICTR-FORWARD -i ${ctx.minictrBridge} -j ACCEPT\` covers it`;
  }
  if (/ -j RETURN$/.test(` ${d.tokens.join(' ')}`) && d.tokens.length === 2) return 'an explicit RETURN at the end of a chain (Docker ≤27); a chain returns anyway';
  if (t === 'X-FORWARD -j X-INTERNAL') return 'Docker 29: the chain for --internal networks, which minictr does not have';
  if (/^X-ISOLATION|-j X-ISOLATION/.test(t)) return 'Docker ≤27 jumps to the isolation chain straight from FORWARD';
  return 'Docker only';
}

export const POLICY_ROW_NOTE =
  'Docker sets it when it turned ip_forward on itself; minictr leaves the policy alone (its jumps come first, so it does not depend on it)';

/**
 * minictr's rules for this run beside Docker `version`'s for the same `docker run`, row by row,
 * in minictr's order (Docker-only rules where they fall in Docker's order).
 */
export function compareRules(net: Pick<NetworkRecord, 'name' | 'id' | 'bridge' | 'subnet'>, att: NetworkAttachment, version: DockerVersion): CompareRow[] {
  const scope = dockerScopeFor(net, att);
  const minictrNames = { bridge: net.bridge, subnet: net.subnet, ip: att.ip };
  const dockerNames = { bridge: scope.bridge, subnet: scope.subnet, ip: scope.ip };
  const mins = minictrRules(net, att).map((x) => normalise(x, minictrNames));
  const docks = dockerRules(scope, version).map((x) => normalise(x, dockerNames));
  const pairs = pairUp(mins, docks);
  const ctx: NoteContext = { version, minictrBridge: net.bridge, dockerBridge: scope.bridge, minictr: minictrNames, docker: dockerNames };
  const rows: CompareRow[] = [{ table: 'filter', kind: 'docker-only', docker: '-P FORWARD DROP', note: POLICY_ROW_NOTE }];
  const emitted = new Set<Normal>();
  const paired = new Set([...pairs.values()].map((p) => p.d));
  const dockerOnlyRow = (d: Normal): CompareRow => ({ table: d.rule.table, kind: 'docker-only', docker: d.line, note: noteDockerOnly(d, ctx) });
  for (const table of TABLES) {
    const tm = mins.filter((m) => m.rule.table === table);
    const td = docks.filter((d) => d.rule.table === table);
    for (const m of tm) {
      const pair = pairs.get(m);
      if (!pair) {
        rows.push({ table, kind: 'minictr-only', minictr: m.line, note: noteMinictrOnly(m, version) });
        continue;
      }
      // Docker-only rules listed before this one's partner come first.
      for (const d of td.slice(0, td.indexOf(pair.d))) {
        if (paired.has(d) || emitted.has(d)) continue;
        rows.push(dockerOnlyRow(d));
        emitted.add(d);
      }
      const note = pair.phase === 'same' ? noteSame(m, version) : pair.phase === 'moved' ? noteMoved(m, pair.d, version) : noteDiffers(m, pair.d, ctx);
      rows.push({ table, kind: pair.phase, minictr: m.line, docker: pair.d.line, note });
      emitted.add(pair.d);
    }
    for (const d of td) if (!paired.has(d) && !emitted.has(d)) rows.push(dockerOnlyRow(d));
  }
  return rows;
}

// ------------------------------------------------------------------ rendering

const MARKS: Record<RowKind, string> = { same: '=', moved: '=', differs: '~', 'minictr-only': '+', 'docker-only': '-' };

/** Lines `-A …`/`-I …` an iptables-restore in the plan adds, as iptables-save would print them. */
function rulesAddedBy(plan: Plan): Set<string> {
  const added = new Set<string>();
  for (const op of plan.ops) {
    if (op.kind !== 'command' || op.argv[0] !== 'iptables-restore' || op.stdin === undefined) continue;
    let table = '';
    for (const line of op.stdin.split('\n')) {
      if (line.startsWith('*')) table = line.slice(1);
      else if (/^-[AI] /.test(line)) added.add(`${table} -A ${line.slice(3)}`);
    }
  }
  return added;
}

export interface ComparedRun {
  net: Pick<NetworkRecord, 'name' | 'id' | 'bridge' | 'subnet'>;
  attachment: NetworkAttachment;
  /** The run's plan: rules it adds are marked (the others are in place already). */
  plan?: Plan;
}

/**
 * The comparison as shell comments (so `run --dry-run` output stays a script). `planned` is
 * what ContainerNetworking.planAttach returned; undefined for --network none/host.
 */
export function renderCompare(planned: ComparedRun | undefined, version: DockerVersion): string {
  const out: string[] = [`# ---- minictr vs Docker ${version} (${version === 27 ? 'classic layout, ≤27' : version === 28 ? '28.2+ layout' : '29 layout'}, iptables, userland proxy on) ----`];
  if (!planned) {
    out.push('# --network none/host: neither minictr nor Docker installs firewall rules for this container.');
    return `${out.join('\n')}\n`;
  }
  const { net, attachment: att } = planned;
  const scope = dockerScopeFor(net, att);
  const rows = compareRules(net, att, version);
  const added = planned.plan ? rulesAddedBy(planned.plan) : undefined;
  out.push(
    `# names: MINICTR* ↔ DOCKER*, bridge ${net.bridge} ↔ ${scope.bridge}, subnet ${net.subnet} ↔ ${scope.subnet}, container ${att.ip} ↔ ${scope.ip}`,
    '# every minictr rule carries `-m comment --comment minictr[:<network>|:<container id>]` so it traces back to its owner; Docker\'s iptables rules carry none',
    '# minictr behaves like Docker with userland-proxy=false: published ports are kernel NAT, but for [::1] ones (its relay serves those, as docker-proxy does)',
    `#   = same rule   ~ differs   + minictr only   - Docker only${added ? '   (* added by this run; the rest is in place already)' : ''}`,
  );
  const counts = { same: 0, differs: 0, minictr: 0, docker: 0 };
  let table = '';
  for (const row of rows) {
    if (row.table !== table) {
      table = row.table;
      out.push('#', `# *${table}`);
    }
    const mark = MARKS[row.kind];
    const star = (line: string): string => (added?.has(`${row.table} ${line}`) ? '*' : ' ');
    const first = row.minictr !== undefined ? `minictr${star(row.minictr)} ${row.minictr}` : `docker   ${row.docker ?? ''}`;
    out.push(`# ${mark} ${first}`);
    if (row.minictr !== undefined && row.docker !== undefined) out.push(`#   docker   ${row.docker}`);
    out.push(`#            ${row.note}`);
    if (row.kind === 'same' || row.kind === 'moved') counts.same++;
    else if (row.kind === 'differs') counts.differs++;
    else if (row.kind === 'minictr-only') counts.minictr++;
    else counts.docker++;
  }
  out.push('#', `# ${counts.same} the same, ${counts.differs} different, ${counts.minictr} minictr only, ${counts.docker} Docker only`);
  return `${out.join('\n')}\n`;
}
