// The iptables firewall driver: minictr's rules (./iptables.ts) turned into plans. Adds and
// deletes go through one `iptables-restore --noflush`, which commits each table atomically;
// a delete batch that fails (one rule already gone) is retried rule by rule, tolerantly.
import { command, type BatchPlan, type CommandOp, type Plan, type Op } from '../../base/plan.js';
import type { NetworkAttachment, NetworkRecord, PortMapping } from '../../base/records.js';
import type { DumpedRule, ExpectedRule, FirewallDriver, FirewallDump, Owned, RuleOwners } from '../driver.js';
import { COMMENT_PREFIX } from '../names.js';
import {
  RESTORE_ARGV,
  TABLE_ORDER,
  chainCommand,
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
  type Rule,
} from './iptables.js';
import { parseIptablesSave } from './iptables-save.js';
import { forgetUdpFlowsOps } from './conntrack.js';

/** iptables' complaints when what we delete is already gone. */
export const GONE_RULE = /does a matching rule exist|Bad rule|No chain|doesn't exist|does not exist/;
export const GONE_CHAIN = /No chain|does not exist|doesn't exist|No such file/;

function addRulesOp(rules: Rule[], why: string, declareChains?: Chain[], checks: Rule[] = []): CommandOp {
  const options = { ...(declareChains ? { declareChains } : {}), ...(checks.length > 0 ? { checks } : {}) };
  return command(RESTORE_ARGV, why, {
    stdin: restoreText(rules, options, 'add'),
    shown: restoreShown(rules, options, 'add'),
  });
}

/** One batch; if any rule is already gone the batch fails whole, so retry rule by rule, tolerantly. */
function deleteRulesOp(rules: Rule[], why: string): CommandOp {
  return command(RESTORE_ARGV, why, {
    stdin: restoreText(rules, {}, 'delete'),
    shown: restoreShown(rules, {}, 'delete'),
    fallback: [...rules].reverse().map((r) =>
      command(iptablesCommand(r, 'delete'), why, {
        tolerate: GONE_RULE,
        goneNote: `the firewall rule "-t ${r.table} ${savedLine(r)}" was already gone (deleted by hand, or a firewall reload)`,
      }),
    ),
  });
}

/** Flush then delete minictr's own chains (the jumps into them must be gone first). */
function removeChainsOp(chains: Chain[], why: string): CommandOp {
  const options = { removeChains: chains };
  return command(RESTORE_ARGV, why, {
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
 * (its MASQUERADE; without masquerade, the rewrite of host sources into the bridge).
 */
export function firewallChecks(net: Pick<NetworkRecord, 'name' | 'bridge' | 'subnet' | 'clusterCidr' | 'masquerade'>): Rule[] {
  return [standingRules().find((r) => r.chain === 'FORWARD'), networkRules(net).find((r) => r.table === 'nat')].filter(
    (r): r is Rule => r !== undefined,
  );
}

function describePublication(p: PortMapping, ip: string): string {
  return `publish ${p.hostIp || '0.0.0.0'}:${p.hostPort} → ${ip}:${p.containerPort}/${p.proto} (DNAT)`;
}

function containerRulesWhy(att: NetworkAttachment): string {
  return [...att.ports.map((p) => describePublication(p, att.ip)), `let only ${att.bridge} reach ${att.ip} directly`].join('; ');
}

/** A Rule as iptables-save prints it back (an -I rule is listed as -A too). */
export function savedLine(r: Rule): string {
  return `-A ${r.chain} ${specText(r.spec)}`;
}

function expect(rules: Rule[], owner: string): ExpectedRule[] {
  return rules.map((r) => ({ table: r.table, chain: r.chain, line: savedLine(r), owner }));
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
  dumpArgv: ['iptables-save'],

  parseDump: parseIptablesSave,

  presenceProbes(net: NetworkRecord) {
    return firewallChecks(net).map(iptablesCheck);
  },

  planNetworkSetup(net, facts): Plan {
    const rules = [...(facts.standingRulesExist ? [] : standingRules()), ...(facts.networkRulesExist ? [] : networkRules(net))];
    if (rules.length === 0) return { title: `firewall rules of network ${net.name} are in place`, ops: [] };
    const parts = [
      ...(facts.standingRulesExist ? [] : ['create the MINICTR chains and hook them into FORWARD and nat']),
      ...(facts.networkRulesExist ? [] : [`${net.masquerade === false ? '' : `masquerade ${net.subnet} leaving through other interfaces and `}forward traffic for ${net.bridge}`]),
    ];
    return {
      title: `firewall rules of network ${net.name}`,
      ops: [addRulesOp(rules, parts.join('; '), facts.standingRulesExist ? undefined : standingChains())],
    };
  },

  planNetworkTeardown(net, facts): Plan {
    const ops: Op[] = [deleteRulesOp(networkRules(net), `remove the firewall rules of network ${net.name}`)];
    if (facts.lastNetwork) {
      ops.push(deleteRulesOp(standingRules(), 'unhook the MINICTR chains from FORWARD and nat (last network gone)'));
      ops.push(removeChainsOp(standingChains(), 'remove the MINICTR chains'));
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
    const ops: Op[] = rules.length > 0 ? [addRulesOp(rules, containerRulesWhy(att), undefined, checks)] : [];
    return { title: `firewall rules of container ${att.netns} (${att.ip})`, ops };
  },

  /** The container's rules, then its UDP flows. */
  planContainerTeardown(att): Plan {
    const ops: Op[] = [deleteRulesOp(containerRules(att), rulesWhy(att)), ...forgetUdpFlowsOps(att)];
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
    const shared = TABLE_ORDER.delete.flatMap((table) => {
      const parts = owned
        .map((o) => ({ ...o, rules: o.rules.filter((r) => r.table === table) }))
        .filter((o) => o.rules.length > 0);
      if (parts.length === 0) return [];
      const rules = parts.flatMap((o) => o.rules);
      const op = command(RESTORE_ARGV, `remove the ${table} rules of ${parts.length} container(s)`, {
        stdin: restoreText(rules, {}, 'delete'),
        shown: restoreShown(rules, {}, 'delete'),
      });
      const shares = parts.map(({ owner, attachment, rules: own }) => ({
        owner,
        plan: { title: `remove the ${table} rules of ${attachment.ip}`, ops: [deleteRulesOp(own, rulesWhy(attachment))] },
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
    const lines: string[] = [];
    const ordered: DumpedRule[] = [];
    for (const table of ['nat', 'filter', 'raw', 'mangle']) {
      const own = rules.filter((r) => r.table === table);
      if (own.length === 0) continue;
      ordered.push(...own);
      lines.push(`*${table}`, ...own.map((r) => r.line.replace(/^-A /, '-D ')), 'COMMIT');
    }
    const fallback = ordered.map((r) =>
      command(['iptables', '-w', '-t', r.table, ...saveTokens(r.line.replace(/^-A /, '-D '))], why, { tolerate: GONE_RULE }),
    );
    return { title: 'remove leftover rules', ops: [command(RESTORE_ARGV, why, { stdin: `${lines.join('\n')}\n`, fallback })] };
  },

  /**
   * Put back only what is missing (after a firewall reload or a hand edit): declaring a chain
   * that does not exist is safe, and rules already present are never added twice.
   */
  planRepair(dump: FirewallDump, owners: RuleOwners): Plan {
    const missing = missingFromDump(dump, owners.networks.length === 0 ? [] : standingChains(), wantedRules(owners));
    if (missing.chains.length === 0 && missing.rules.length === 0) return { title: 'firewall rules are complete', ops: [] };
    return {
      title: 'restore missing firewall rules',
      ops: [addRulesOp(missing.rules, `put back ${missing.rules.length} missing minictr rule(s)`, missing.chains)],
    };
  },
};

/** An iptables-save line as arguments: words, and double-quoted strings (a comment) unquoted. */
export function saveTokens(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? '')));
}

/** What of the wanted chains and rules a dump lacks. */
export function missingFromDump(dump: FirewallDump, wantedChains: Chain[], wantedRules: Rule[]): { chains: Chain[]; rules: Rule[] } {
  const chains = new Set(dump.chains.map((c) => `${c.table}|${c.chain}`));
  const rules = new Set(dump.rules.map((r) => `${r.table}|${r.line}`));
  return {
    chains: wantedChains.filter((c) => !chains.has(`${c.table}|${c.chain}`)),
    rules: wantedRules.filter((r) => !rules.has(`${r.table}|${savedLine(r)}`)),
  };
}
