// `run --dry-run --compare docker@29-nftables`: minictr's nftables layout for a run beside Docker
// 29's nftables backend for the same `docker run` (default daemon settings: userland proxy on),
// one row per job a rule does, each difference explained in one line. minictr's side comes from
// the same layout data its nftables driver installs (src/network/firewall/nftables.ts); Docker's
// is generated from moby's integration/network/bridge/nftablesdoc (usernet-portmap*.md).
// Pure: records in, text out.
import type { NetworkAttachment, NetworkRecord } from '../base/records.js';
import {
  BASE,
  SETS,
  containerElements,
  networkChainNames,
  networkElements,
  networkRules,
  nftElementLine,
  standingRules,
  type NftElement,
  type NftRule,
} from '../network/firewall/nftables.js';
import { byContainerPort } from '../network/firewall/iptables.js';
import { dockerScopeFor, type ComparedRun, type DockerScope } from './compare.js';

/** `docker@29-nftables` (also `docker@29.1-nftables`). */
export function isNftablesCompare(spec: string): boolean {
  return /^docker@29(?:\.\d+)*-nftables$/.test(spec.trim());
}

export type NftRowKind = 'same' | 'differs' | 'minictr-only' | 'docker-only';

export interface NftCompareRow {
  what: string;
  kind: NftRowKind;
  /** `chain: rule` or `@set: element`, as `nft list` prints them. */
  minictr: string[];
  docker: string[];
  note: string;
}

function rule(r: NftRule): string {
  return `${r.chain}: ${r.expr}`;
}

function element(e: NftElement): string {
  return `@${e.set}: ${nftElementLine(e)}`;
}

/** Docker 29's rules for one bridge, per chain (counters left out: minictr has none). */
function dockerBridge(br: string, subnet: string): Record<string, string[]> {
  return {
    in: [`filter-forward-in__${br}: ct state established,related accept`, `filter-forward-in__${br}: iifname "${br}" accept comment "ICC"`],
    drop: [`filter-forward-in__${br}: drop comment "UNPUBLISHED PORT DROP"`],
    out: [`filter-forward-out__${br}: ct state established,related accept`, `filter-forward-out__${br}: accept comment "OUTGOING"`],
    masq: [`nat-postrouting-out__${br}: oifname != "${br}" ip saddr ${subnet} masquerade comment "MASQUERADE"`],
    jumps: [
      `@filter-forward-in-jumps: "${br}" : jump filter-forward-in__${br}`,
      `@filter-forward-out-jumps: "${br}" : jump filter-forward-out__${br}`,
      `@nat-postrouting-in-jumps: "${br}" : jump nat-postrouting-in__${br}`,
      `@nat-postrouting-out-jumps: "${br}" : jump nat-postrouting-out__${br}`,
    ],
  };
}

/** Every row for this run, in the order a packet meets them. */
export function compareNftables(net: Pick<NetworkRecord, 'name' | 'id' | 'bridge' | 'subnet'>, att: NetworkAttachment): NftCompareRow[] {
  const scope: DockerScope = dockerScopeFor(net, att);
  const d = dockerBridge(scope.bridge, scope.subnet);
  const standing = standingRules();
  const own = networkRules(net);
  const names = networkChainNames(net.bridge);
  const els = containerElements(att);
  const find = (list: NftRule[], chain: string, start: string): string[] => list.filter((r) => r.chain === chain && r.expr.startsWith(start)).map(rule);
  const inSet = (set: string): string[] => els.filter((e) => e.set === set).map(element);
  const netEl = (set: string): string[] => networkElements(net).filter((e) => e.set === set).map(element);
  const loopback = att.ports.filter((p) => p.hostIp.startsWith('127.'));
  const rows: NftCompareRow[] = [
    {
      what: 'the table',
      kind: 'differs',
      minictr: ['table inet minictr'],
      docker: ['table ip docker-bridges', 'table ip6 docker-bridges'],
      note: 'one inet table serves IPv4 and IPv6 (its maps are per family); Docker keeps a table per family',
    },
    {
      what: 'forwarded traffic is decided per bridge, through verdict maps',
      kind: 'same',
      minictr: [...find(standing, BASE.forward, ''), ...netEl(SETS.fwdIn), ...netEl(SETS.fwdOut)],
      docker: ['filter-FORWARD: oifname vmap @filter-forward-in-jumps', 'filter-FORWARD: iifname vmap @filter-forward-out-jumps', ...(d.jumps ?? []).slice(0, 2)],
      note: 'the same design: one lookup whatever the number of networks; minictr accepts traffic out of a bridge straight from the map, Docker jumps to a chain that accepts it',
    },
    {
      what: 'replies, and containers of one network reaching each other',
      kind: 'same',
      minictr: [...find(own, names.in, 'ct state'), ...find(own, names.in, 'iifname "')],
      docker: d.in ?? [],
      note: 'same rules (Docker names the second ICC)',
    },
    {
      what: 'isolation between networks',
      kind: 'minictr-only',
      minictr: [...find(own, names.in, 'ct status dnat'), ...find(own, names.in, 'iifname @'), ...netEl(SETS.bridges)],
      docker: [],
      note: 'minictr drops traffic from another minictr bridge unless it was DNATed to a published port (the host\'s address); Docker 29 has no isolation rule: another network reaches a published port even directly, anything else meets UNPUBLISHED PORT DROP',
    },
    {
      what: 'published ports are let through',
      kind: 'differs',
      minictr: [...find(own, names.in, 'ip daddr'), ...inSet(SETS.published)],
      docker: byContainerPort(att.ports).map((p) => `filter-forward-in__${scope.bridge}: ip daddr ${scope.ip} ${p.proto} dport ${p.containerPort} accept`),
      note: 'minictr: one rule for every container and an element per port (a start adds an element, never a rule); Docker: a rule per port',
    },
    {
      what: 'anything else from outside the bridge is dropped',
      kind: 'same',
      minictr: find(own, names.in, 'drop'),
      docker: d.drop ?? [],
      note: 'same: unpublished ports are closed whatever the host\'s other firewall does (a drop is final in every table)',
    },
    {
      what: 'a host address may be a published port',
      kind: 'differs',
      minictr: [...find(standing, BASE.prerouting, ''), ...find(standing, BASE.output, '')],
      docker: ['nat-PREROUTING: fib daddr type local jump nat-prerouting-and-output', 'nat-OUTPUT: ip daddr != 127.0.0.0/8 fib daddr type local jump nat-prerouting-and-output'],
      note: 'no userland proxy: minictr\'s OUTPUT has no `ip daddr != 127.0.0.0/8`, so the host\'s own 127.0.0.1:PORT is DNATed in the kernel (Docker: only with userland-proxy=false)',
    },
    {
      what: 'DNAT of each published port',
      kind: 'differs',
      minictr: [...find(standing, BASE.ports, ''), ...inSet(SETS.portsAny), ...inSet(SETS.portsAddr)],
      docker: att.ports.map(
        (p) => `nat-prerouting-and-output: iifname != "${scope.bridge}" ${p.hostIp ? `ip daddr ${p.hostIp} ` : ''}${p.proto} dport ${p.hostPort} dnat to ${scope.ip}:${p.containerPort} comment "DNAT"`,
      ),
      note: `minictr: two rules for every port of every container, each a map lookup, and an element per port; Docker: a rule per port, read in turn. No \`iifname != "${scope.bridge}"\`: a container reaching a published port is DNATed in the kernel (hairpin), where Docker leaves it to its proxy`,
    },
    {
      what: 'masquerade out',
      kind: 'same',
      minictr: [...find(own, names.natOut, ''), ...netEl(SETS.natOut)],
      docker: [...(d.masq ?? []), ...(d.jumps ?? []).slice(3, 4)],
      note: 'the same rule behind the same kind of map',
    },
    {
      what: 'the host reaching a container from a local address',
      kind: 'minictr-only',
      minictr: [...find(own, names.natIn, ''), ...netEl(SETS.natIn)],
      docker: [`nat-postrouting-in__${scope.bridge}: (empty)`],
      note: 'no userland proxy: the host reaching a container via 127.0.0.1 or its own address gets the gateway as source (Docker: "MASQUERADE FROM HOST" only with userland-proxy=false)',
    },
    {
      what: 'a container reaching its own published port',
      kind: 'minictr-only',
      minictr: [...find(standing, BASE.postrouting, 'ip saddr'), ...inSet(SETS.hairpin)],
      docker: [],
      note: 'no userland proxy: hairpin masquerade in the kernel, as an element (Docker: "MASQ TO OWN PORT", a rule per port, only with userland-proxy=false)',
    },
    {
      what: 'only the bridge routes to the container',
      kind: 'same',
      minictr: [...find(standing, BASE.raw, 'ip daddr vmap'), ...inSet(SETS.guard), ...find(own, names.guard, '')],
      docker: [`raw-PREROUTING: ip daddr ${scope.ip} iifname != "${scope.bridge}" drop comment "DROP DIRECT ACCESS"`],
      note: 'the same guard; minictr\'s is a map element that jumps to the bridge\'s guard chain, Docker\'s a rule per container',
    },
    ...(loopback.length > 0
      ? [
          {
            what: 'a port published on 127.x is for the host alone (CVE-2020-8558)',
            kind: 'same' as const,
            minictr: [...find(standing, BASE.raw, 'iifname != "lo"'), ...inSet(SETS.loopback)],
            docker: loopback.map((p) => `raw-PREROUTING: iifname != "lo" ip daddr ${p.hostIp} ${p.proto} dport ${p.hostPort} drop comment "DROP REMOTE LOOPBACK"`),
            note: 'the same guard, as an element',
          },
        ]
      : []),
    {
      what: 'containers may not reach the host\'s 127.x',
      kind: 'minictr-only',
      minictr: [...find(own, names.raw, ''), ...netEl(SETS.rawIn)],
      docker: [],
      note: 'route_localnet=1 on the bridge (for kernel NAT of 127.0.0.1) must not let containers reach the host\'s 127.0.0.1 services; Docker sets no route_localnet with its proxy on',
    },
  ];
  return rows;
}

const MARKS: Record<NftRowKind, string> = { same: '=', differs: '~', 'minictr-only': '+', 'docker-only': '-' };

/** The comparison as shell comments (so `run --dry-run` output stays a script). */
export function renderNftCompare(planned: ComparedRun | undefined): string {
  const out = ['# ---- minictr (nftables driver) vs Docker 29 (nftables backend, userland proxy on) ----'];
  if (!planned) {
    out.push('# --network none/host: neither minictr nor Docker installs firewall rules for this container.');
    return `${out.join('\n')}\n`;
  }
  const scope = dockerScopeFor(planned.net, planned.attachment);
  out.push(
    `# names: bridge ${planned.net.bridge} ↔ ${scope.bridge}, subnet ${planned.net.subnet} ↔ ${scope.subnet}, container ${planned.attachment.ip} ↔ ${scope.ip}; Docker's counters left out`,
    '# every minictr rule and element carries comment "minictr[:<network>|:<container id>]"; a container adds elements only',
    '#   = same job, same way   ~ same job, another way   + minictr only   - Docker only',
  );
  const counts: Record<NftRowKind, number> = { same: 0, differs: 0, 'minictr-only': 0, 'docker-only': 0 };
  for (const row of compareNftables(planned.net, planned.attachment)) {
    counts[row.kind]++;
    out.push('#', `# ${MARKS[row.kind]} ${row.what}`);
    for (const l of row.minictr) out.push(`#   minictr  ${l}`);
    for (const l of row.docker) out.push(`#   docker   ${l}`);
    out.push(`#            ${row.note}`);
  }
  out.push('#', `# ${counts.same} the same, ${counts.differs} done another way, ${counts['minictr-only']} minictr only, ${counts['docker-only']} Docker only`);
  return `${out.join('\n')}\n`;
}
