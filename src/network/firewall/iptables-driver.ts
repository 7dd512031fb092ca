// The iptables firewall driver: minictr's rules (./iptables.ts) turned into plans. Adds and
// deletes go through one `iptables-restore --noflush`, which commits each table atomically;
// a delete batch that fails (one rule already gone) is retried rule by rule, tolerantly.
import { command, type BatchPlan, type CommandOp, type Plan, type Op } from '../../base/plan.js';
import type { NetworkAttachment, NetworkRecord, PortMapping } from '../../base/records.js';
import type { DumpedRule, ExpectedRule, FirewallDriver, FirewallDump, Owned, RuleOwners } from '../driver.js';
import { COMMENT_PREFIX } from '../names.js';
import { natPorts } from '../ports.js';
import { bracketed } from '../ipv6.js';
import {
  TABLE_ORDER,
  chainCommand,
  dumpTable,
  familyOf,
  restoreArgv,
  containerRules,
  iptablesCheck,
  iptablesCommand,
  networkRules,
  restoreShown,
  restoreText,
  specText,
  standingChains,
  standingRules,
  type Chain,
  type Family,
  type Rule,
} from './iptables.js';
import { parseIptablesSave } from './iptables-save.js';
import { forgetFlowsAfterRepairOps, forgetUdpFlowsOps } from './conntrack.js';

/** iptables' complaints when what we delete is already gone. */
export const GONE_RULE = /does a matching rule exist|Bad rule|No chain|doesn't exist|does not exist/;
export const GONE_CHAIN = /No chain|does not exist|doesn't exist|No such file/;

/** The families these rules and chains are of, IPv4 first: each gets its own program (iptables-restore, ip6tables-restore). */
function families(...groups: { family?: 6 }[][]): Family[] {
  const all = groups.flat();
  return ([4, 6] as const).filter((f) => all.some((r) => familyOf(r) === f));
}

function ofFamily<T extends { family?: 6 }>(items: T[] | undefined, family: Family): T[] {
  return (items ?? []).filter((r) => familyOf(r) === family);
}

/** One restore per family: iptables-restore for IPv4, ip6tables-restore for IPv6. */
function addRulesOps(rules: Rule[], why: string, declareChains?: Chain[], checks: Rule[] = []): CommandOp[] {
  return families(rules, declareChains ?? [], checks).map((family) => {
    const declared = ofFamily(declareChains, family);
    const checked = ofFamily(checks, family);
    const options = { ...(declared.length > 0 ? { declareChains: declared } : {}), ...(checked.length > 0 ? { checks: checked } : {}) };
    const own = ofFamily(rules, family);
    return command(restoreArgv(family), family === 6 ? `${why} (IPv6)` : why, {
      stdin: restoreText(own, options, 'add'),
      shown: restoreShown(own, options, 'add'),
    });
  });
}

/** One batch per family; if any rule is already gone the batch fails whole, so retry rule by rule, tolerantly. */
function deleteRulesOps(rules: Rule[], why: string): CommandOp[] {
  return families(rules).map((family) => {
    const own = ofFamily(rules, family);
    return command(restoreArgv(family), family === 6 ? `${why} (IPv6)` : why, {
      stdin: restoreText(own, {}, 'delete'),
      shown: restoreShown(own, {}, 'delete'),
      fallback: [...own].reverse().map((r) =>
        command(iptablesCommand(r, 'delete'), why, {
          tolerate: GONE_RULE,
          goneNote: `the firewall rule "-t ${dumpTable(r)} ${savedLine(r)}" was already gone (deleted by hand, or a firewall reload)`,
        }),
      ),
    });
  });
}

/** Flush then delete minictr's own chains (the jumps into them must be gone first). */
function removeChainsOp(chains: Chain[], why: string): CommandOp {
  const options = { removeChains: chains };
  return command(restoreArgv(familyOf(chains[0] ?? {})), why, {
    stdin: restoreText([], options, 'delete'),
    shown: restoreShown([], options, 'delete'),
    fallback: [
      ...chains.map((c) => command(chainCommand(c, '-F'), why, { tolerate: GONE_CHAIN })),
      ...chains.map((c) => command(chainCommand(c, '-X'), why, { tolerate: GONE_CHAIN })),
    ],
  });
}

/**
 * Two rules whose absence shows minictr's rules were wiped (a firewall reload, `iptables -F`),
 * in this order: the jump from FORWARD into minictr's chains, and the network's first nat rule
 * (its MASQUERADE; without masquerade, the rewrite of host sources into the bridge); for a
 * network with IPv6, then the same two of ip6tables (checked in its own restore).
 */
export function firewallChecks(net: Pick<NetworkRecord, 'name' | 'bridge' | 'subnet' | 'subnet6' | 'clusterCidr' | 'masquerade'>): Rule[] {
  const rules = networkRules(net);
  const pair = (family: Family): (Rule | undefined)[] => [
    standingRules(family).find((r) => r.chain === 'FORWARD'),
    rules.find((r) => r.table === 'nat' && familyOf(r) === family),
  ];
  return [...pair(4), ...(net.subnet6 ? pair(6) : [])].filter((r): r is Rule => r !== undefined);
}

function describePublication(p: PortMapping, att: NetworkAttachment): string {
  const to = p.hostIp.includes(':') ? `[${att.ip6 ?? ''}]` : att.ip;
  return `publish ${bracketed(p.hostIp || '0.0.0.0')}:${p.hostPort} → ${to}:${p.containerPort}/${p.proto} (DNAT)`;
}

function containerRulesWhy(att: NetworkAttachment): string {
  const ips = att.ip6 ? `${att.ip} and ${att.ip6}` : att.ip;
  return [...natPorts(att.ports).map((p) => describePublication(p, att)), `let only ${att.bridge} reach ${ips} directly`].join('; ');
}

/** A Rule as iptables-save prints it back (an -I rule is listed as -A too). */
export function savedLine(r: Rule): string {
  return `-A ${r.chain} ${specText(r.spec)}`;
}

function expect(rules: Rule[], owner: string): ExpectedRule[] {
  return rules.map((r) => ({ table: dumpTable(r), chain: r.chain, line: savedLine(r), owner }));
}

/** Whether any of these networks has IPv6 (then minictr's ip6tables chains are wanted too). */
function anyIPv6(networks: { subnet6?: string }[]): boolean {
  return networks.some((n) => n.subnet6 !== undefined);
}

function wantedChains(networks: { subnet6?: string }[]): Chain[] {
  if (networks.length === 0) return [];
  return [...standingChains(4), ...(anyIPv6(networks) ? standingChains(6) : [])];
}

function rulesWhy(att: NetworkAttachment): string {
  return `remove the firewall rules of ${att.ip}`;
}

export const STANDING_OWNER = 'minictr (its chains and the jumps into them)';

/** Every rule the records plan: the standing rules, each network's and each attached container's. */
function wantedRules(owners: RuleOwners): Rule[] {
  if (owners.networks.length === 0) return [];
  return [
    ...standingRules(),
    ...(anyIPv6(owners.networks) ? standingRules(6) : []),
    ...owners.networks.flatMap((n) => networkRules(n)),
    ...owners.containers.flatMap((c) => (c.attachment ? containerRules(c.attachment) : [])),
  ];
}

/** The scope in a rule's `--comment minictr:SCOPE` ('' for plain "minictr"), or undefined without one. */
export function commentScope(line: string): string | undefined {
  const m = new RegExp(`--comment "?${COMMENT_PREFIX}(?::([^"\\s]+))?"?(?:\\s|$)`).exec(line);
  if (!m) return undefined;
  return m[1] ?? '';
}

export const iptablesDriver: FirewallDriver = {
  name: 'iptables',
  dumpArgvs: [['iptables-save'], ['ip6tables-save']],

  parseDump: parseIptablesSave,

  presenceProbes(net: NetworkRecord) {
    return firewallChecks(net).map(iptablesCheck);
  },

  planNetworkSetup(net, facts): Plan {
    const standing = [...standingRules(), ...(net.subnet6 ? standingRules(6) : [])];
    const rules = [...(facts.standingRulesExist ? [] : standing), ...(facts.networkRulesExist ? [] : networkRules(net))];
    if (rules.length === 0) return { title: `firewall rules of network ${net.name} are in place`, ops: [] };
    const parts = [
      ...(facts.standingRulesExist ? [] : ['create the MINICTR chains and hook them into FORWARD and nat']),
      ...(facts.networkRulesExist ? [] : [`${net.masquerade === false ? '' : `masquerade ${net.subnet} leaving through other interfaces and `}forward traffic for ${net.bridge}`]),
    ];
    return {
      title: `firewall rules of network ${net.name}`,
      ops: addRulesOps(rules, parts.join('; '), facts.standingRulesExist ? undefined : wantedChains([net])),
    };
  },

  planNetworkTeardown(net, facts): Plan {
    const ops: Op[] = deleteRulesOps(networkRules(net), `remove the firewall rules of network ${net.name}`);
    if (facts.lastNetwork) {
      ops.push(...deleteRulesOps(standingRules(), 'unhook the MINICTR chains from FORWARD and nat (last network gone)'));
      ops.push(removeChainsOp(standingChains(), 'remove the MINICTR chains'));
    }
    if (facts.lastIPv6Network) {
      ops.push(...deleteRulesOps(standingRules(6), 'unhook the ip6tables MINICTR chains (last network with IPv6 gone)'));
      ops.push(removeChainsOp(standingChains(6), 'remove the ip6tables MINICTR chains'));
    }
    return { title: `remove firewall rules of network ${net.name}`, ops };
  },

  /**
   * The container's own rules, in one iptables-restore. With `checkNetwork`, two rules of that
   * network are checked (-C) in the same restore: when one is missing it fails whole.
   */
  planContainerSetup(att, checkNetwork): Plan {
    const rules = containerRules(att);
    const checks = checkNetwork ? firewallChecks(checkNetwork) : [];
    const ops: Op[] = rules.length > 0 ? addRulesOps(rules, containerRulesWhy(att), undefined, checks) : [];
    return { title: `firewall rules of container ${att.netns} (${att.ip})`, ops };
  },

  /** The container's rules, then its UDP flows. */
  planContainerTeardown(att): Plan {
    const ops: Op[] = [...deleteRulesOps(containerRules(att), rulesWhy(att)), ...forgetUdpFlowsOps(att)];
    return { title: `remove firewall rules of container ${att.netns} (${att.ip})`, ops };
  },

  /**
   * One restore per table with every container's deletions. Per table, not one restore for all:
   * iptables-restore commits table by table and stops at the first that fails, so a failure
   * leaves the tables before it done, and the containers' own deletes (the fallback) would
   * report those rules as gone by someone else.
   */
  planContainersTeardown(atts: Owned<NetworkAttachment>[]): BatchPlan {
    const owned = atts.map(({ owner, attachment }) => ({ owner, attachment, rules: containerRules(attachment) }));
    const tables = ([4, 6] as const).flatMap((family) => TABLE_ORDER.delete.map((table) => ({ family, table })));
    const shared = tables.flatMap(({ family, table }) => {
      const parts = owned
        .map((o) => ({ ...o, rules: o.rules.filter((r) => r.table === table && familyOf(r) === family) }))
        .filter((o) => o.rules.length > 0);
      if (parts.length === 0) return [];
      const rules = parts.flatMap((o) => o.rules);
      const name = family === 6 ? `ip6 ${table}` : table;
      const op = command(restoreArgv(family), `remove the ${name} rules of ${parts.length} container(s)`, {
        stdin: restoreText(rules, {}, 'delete'),
        shown: restoreShown(rules, {}, 'delete'),
      });
      const shares = parts.map(({ owner, attachment, rules: own }) => ({
        owner,
        plan: { title: `remove the ${name} rules of ${attachment.ip}`, ops: deleteRulesOps(own, rulesWhy(attachment)) },
      }));
      return [{ op, shares }];
    });
    const own = owned.flatMap(({ owner, attachment }) => {
      const ops = forgetUdpFlowsOps(attachment);
      return ops.length > 0 ? [{ owner, plan: { title: `forget the UDP flows of ${attachment.ip}`, ops } }] : [];
    });
    return { title: `remove firewall rules of ${atts.length} container(s)`, shared, own };
  },

  expectedRules(owners: RuleOwners): ExpectedRule[] {
    if (owners.networks.length === 0) {
      return owners.containers.flatMap((c) => (c.attachment ? expect(containerRules(c.attachment), `container ${c.name}`) : []));
    }
    return [
      ...expect(standingRules(), STANDING_OWNER),
      ...(anyIPv6(owners.networks) ? expect(standingRules(6), STANDING_OWNER) : []),
      ...owners.networks.flatMap((n) => expect(networkRules(n), `network ${n.name}`)),
      ...owners.containers.flatMap((c) => (c.attachment ? expect(containerRules(c.attachment), `container ${c.name}`) : [])),
    ];
  },

  scopeOf(rule: DumpedRule): string | undefined {
    return commentScope(rule.line);
  },

  /**
   * The raw guard `-A PREROUTING [! -s CIDR] -d IP/32 ! -i BRIDGE -m comment … -j DROP`, or a
   * published port's `-A MINICTR -d IP/32 ! -i BRIDGE -o BRIDGE -p …` (an attachment without a
   * guard and without ports has no rules).
   */
  attachmentBridge(rule: DumpedRule): string | undefined {
    const m =
      rule.table === 'raw'
        ? /^-A PREROUTING (?:! -s \S+ )?-d [\d.]+\/32 ! -i (\S+) -m comment --comment \S+ -j DROP$/.exec(rule.line)
        : rule.table === 'filter'
          ? /^-A MINICTR -d [\d.]+\/32 ! -i (\S+) -o \S+ -p /.exec(rule.line)
          : null;
    return m?.[1] === 'lo' ? undefined : m?.[1];
  },

  /**
   * One restore, nat first as every delete; each rule as iptables-save printed it, -A made -D.
   * If one is gone already (removed meanwhile), rule by rule, tolerantly.
   */
  planRemoveDumped(rules: DumpedRule[], why: string): Plan {
    if (rules.length === 0) return { title: 'no leftover rules', ops: [] };
    const ops = ([4, 6] as const).flatMap((family) => {
      const lines: string[] = [];
      const ordered: DumpedRule[] = [];
      for (const table of ['nat', 'filter', 'raw', 'mangle']) {
        const own = rules.filter((r) => r.table === (family === 6 ? `ip6 ${table}` : table));
        if (own.length === 0) continue;
        ordered.push(...own);
        lines.push(`*${table}`, ...own.map((r) => r.line.replace(/^-A /, '-D ')), 'COMMIT');
      }
      // If one is gone already (removed meanwhile), rule by rule, tolerantly.
      const fallback = ordered.map((r) =>
        command([family === 6 ? 'ip6tables' : 'iptables', '-w', '-t', r.table.replace(/^ip6 /, ''), ...saveTokens(r.line.replace(/^-A /, '-D '))], why, { tolerate: GONE_RULE }),
      );
      return lines.length === 0 ? [] : [command(restoreArgv(family), why, { stdin: `${lines.join('\n')}\n`, fallback })];
    });
    return { title: 'remove leftover rules', ops };
  },

  /**
   * Put back only what is missing (after a firewall reload or a hand edit): declaring a chain
   * that does not exist is safe, and rules already present are never added twice.
   */
  planRepair(dump: FirewallDump, owners: RuleOwners): Plan {
    const wanted = wantedRules(owners);
    const missing = missingFromDump(dump, wantedChains(owners.networks), wanted);
    const superseded = supersededInDump(dump, wanted);
    if (missing.chains.length === 0 && missing.rules.length === 0 && superseded.length === 0) return { title: 'firewall rules are complete', ops: [] };
    const restore = missing.chains.length === 0 && missing.rules.length === 0
      ? []
      : [...addRulesOps(missing.rules, `put back ${missing.rules.length} missing minictr rule(s)`, missing.chains), ...forgetFlowsAfterRepairOps(owners)];
    // Removed after the new ones are in, so the traffic they serve is never without a rule.
    const replaced = superseded.length === 0 ? [] : iptablesDriver.planRemoveDumped(superseded, `remove ${superseded.length} minictr rule(s) of an older shape that the current ones replace`).ops;
    return { title: 'restore missing firewall rules', ops: [...restore, ...replaced] };
  },
};

/** An iptables-save line as arguments: words, and double-quoted strings (a comment) unquoted. */
export function saveTokens(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? '')));
}

/** A minictr rule's identity apart from its matches: its table and chain, its owner (comment) and its target. */
function ruleIdentity(table: string, line: string): string | undefined {
  const scope = commentScope(line);
  const chain = /^-A (\S+)/.exec(line)?.[1];
  const target = /\s-j (\S+)/.exec(line)?.[1];
  return scope === undefined || chain === undefined || target === undefined ? undefined : `${table}|${chain}|${scope}|${target}`;
}

/**
 * minictr's rules in a dump that an older minictr made in a shape the plan no longer has: not
 * wanted as they are, but of the same table, chain, owner and target as a wanted rule that is
 * the only one of its kind (so it can only be that rule's old form). E.g. ip6tables' nat OUTPUT
 * jump from before it carried `! -d ::1/128`: left beside the new one, it still DNATs [::1].
 */
export function supersededInDump(dump: FirewallDump, wanted: Rule[]): DumpedRule[] {
  const wantedLines = new Set(wanted.map((r) => `${dumpTable(r)}|${savedLine(r)}`));
  const kinds = new Map<string, number>();
  for (const r of wanted) {
    const id = ruleIdentity(dumpTable(r), savedLine(r));
    if (id !== undefined) kinds.set(id, (kinds.get(id) ?? 0) + 1);
  }
  return dump.rules.filter((r) => {
    if (wantedLines.has(`${r.table}|${r.line}`)) return false;
    const id = ruleIdentity(r.table, r.line);
    return id !== undefined && kinds.get(id) === 1;
  });
}

/** What of the wanted chains and rules a dump lacks. */
export function missingFromDump(dump: FirewallDump, wantedChains: Chain[], wantedRules: Rule[]): { chains: Chain[]; rules: Rule[] } {
  const chains = new Set(dump.chains.map((c) => `${c.table}|${c.chain}`));
  const rules = new Set(dump.rules.map((r) => `${r.table}|${r.line}`));
  return {
    chains: wantedChains.filter((c) => !chains.has(`${dumpTable(c)}|${c.chain}`)),
    rules: wantedRules.filter((r) => !rules.has(`${dumpTable(r)}|${savedLine(r)}`)),
  };
}
