// The nftables firewall driver: minictr's layout (./nftables.ts) turned into plans. Every change
// is one `nft -f -`, which the kernel commits as one transaction across all hooks: a container's
// start or removal adds or deletes only set and map elements, so its cost does not grow with the
// number of containers. A delete transaction that fails (one element already gone) is retried
// element by element, tolerantly.
import { command, type BatchPlan, type CommandOp, type Op, type Plan } from '../../base/plan.js';
import type { NetworkAttachment, NetworkRecord } from '../../base/records.js';
import type { DumpedRule, ExpectedRule, FirewallDriver, FirewallDump, Owned, RuleOwners } from '../driver.js';
import { COMMENT_PREFIX } from '../names.js';
import { natPorts } from '../ports.js';
import { forgetFlowsAfterRepairOps, forgetUdpFlowsOps } from './conntrack.js';
import { parseNftJson } from './nft-json.js';
import {
  BASE,
  NFT_APPLY_ARGV,
  NFT_FAMILY,
  NFT_TABLE,
  NFT_TABLE_ID,
  SETS,
  addChainLine,
  addElementLine,
  addRuleLine,
  containerElements,
  declareStanding,
  deleteChainLine,
  deleteElementLine,
  deleteTableLine,
  elementChain,
  flushChainLine,
  networkChainNames,
  networkChains,
  networkElements,
  networkRules,
  nftElementLine,
  nftRuleLine,
  standingChains,
  standingRules,
  transactionText,
  type NftChain,
  type NftElement,
  type NftNetworkScope,
  type NftRule,
  type NftStatement,
} from './nftables.js';

/** nft's complaint when what we delete is already gone. */
export const NFT_GONE = /No such file or directory|does not exist/;

export const NFT_STANDING_OWNER = 'minictr (its table, maps and base chains)';

function applyOp(statements: NftStatement[], why: string, extra: Partial<Pick<CommandOp, 'fallback' | 'tolerate'>> = {}): CommandOp {
  return command(NFT_APPLY_ARGV, why, { stdin: transactionText(statements), ...extra });
}

/** One statement as its own `nft` command (a delete transaction's fallback). */
function singleOp(s: NftStatement, goneNote?: string): CommandOp {
  return command(['nft', s.line], s.why, { tolerate: NFT_GONE, ...(goneNote ? { goneNote } : {}) });
}

function deleteElements(elements: NftElement[]): NftStatement[] {
  return elements.map((e) => ({ line: deleteElementLine(e), why: `forget: ${e.why}` }));
}

/** Delete in one transaction; if anything is already gone it fails whole, so retry one by one, tolerantly. */
function deleteElementsOp(elements: NftElement[], why: string): CommandOp {
  const statements = deleteElements(elements);
  return applyOp(statements, why, {
    fallback: statements.map((s, i) =>
      singleOp(s, `the nftables element "${elements[i]?.key ?? ''}" of @${elements[i]?.set ?? ''} was already gone (deleted by hand, or a ruleset flush)`),
    ),
  });
}

function addElements(elements: NftElement[]): NftStatement[] {
  return elements.map((e) => ({ line: addElementLine(e), why: e.why }));
}

/** A chain's rules replaced atomically: declared (harmless when it exists), flushed, refilled. */
function refillChain(chain: NftChain, rules: NftRule[]): NftStatement[] {
  return [
    { line: addChainLine(chain), why: chain.why },
    { line: flushChainLine(chain.name), why: `empty ${chain.name} first, so no rule is there twice` },
    ...rules.filter((r) => r.chain === chain.name).map((r) => ({ line: addRuleLine(r), why: r.why })),
  ];
}

function networkSetupStatements(net: NftNetworkScope): NftStatement[] {
  const rules = networkRules(net);
  return [...networkChains(net).flatMap((c) => refillChain(c, rules)), ...addElements(networkElements(net))];
}

function standingSetupStatements(): NftStatement[] {
  const rules = standingRules();
  return [...declareStanding(), ...standingChains().flatMap((c) => refillChain(c, rules))];
}

function ruleExpected(r: NftRule, owner: string): ExpectedRule {
  return { table: NFT_TABLE_ID, chain: r.chain, line: nftRuleLine(r), owner, why: r.why };
}

function elementExpected(e: NftElement, owner: string): ExpectedRule {
  return { table: NFT_TABLE_ID, chain: elementChain(e.set), line: nftElementLine(e), owner, why: e.why };
}

function expectedOf(owners: RuleOwners): ExpectedRule[] {
  const containers = owners.containers.flatMap((c) =>
    c.attachment ? containerElements(c.attachment).map((e) => elementExpected(e, `container ${c.name}`)) : [],
  );
  if (owners.networks.length === 0) return containers;
  return [
    ...standingRules().map((r) => ruleExpected(r, NFT_STANDING_OWNER)),
    ...owners.networks.flatMap((n) => [
      ...networkRules(n).map((r) => ruleExpected(r, `network ${n.name}`)),
      ...networkElements(n).map((e) => elementExpected(e, `network ${n.name}`)),
    ]),
    ...containers,
  ];
}

/** The scope a comment names: `minictr:SCOPE`, '' for plain "minictr", undefined for another's. */
export function scopeOfComment(comment: string): string | undefined {
  if (comment === COMMENT_PREFIX) return '';
  return comment.startsWith(`${COMMENT_PREFIX}:`) ? comment.slice(COMMENT_PREFIX.length + 1) : undefined;
}

/** The scope in a rule's or element's `comment "minictr:SCOPE"` ('' for plain "minictr"), or undefined without one. */
export function nftCommentScope(line: string): string | undefined {
  const m = new RegExp(`comment "${COMMENT_PREFIX}(?::([^"]+))?"`).exec(line);
  if (!m) return undefined;
  return m[1] ?? '';
}

/** Whose a dumped rule or element is: from its JSON comment, else (a planned line) from the line. */
export function nftRuleScope(rule: Pick<DumpedRule, 'line' | 'comment'>): string | undefined {
  return rule.comment !== undefined ? scopeOfComment(rule.comment) : nftCommentScope(rule.line);
}

/** An element line's key: what comes before its comment (and a map's ` : value`). */
export function elementKey(line: string): string {
  return line.replace(/ comment "[^"]*"/, '').replace(/ : .*$/, '');
}

function present(dump: FirewallDump): { chains: Set<string>; lines: Set<string> } {
  return {
    chains: new Set(dump.chains.filter((c) => c.table === NFT_TABLE_ID).map((c) => c.chain)),
    lines: new Set(dump.rules.filter((r) => r.table === NFT_TABLE_ID).map((r) => `${r.chain}|${r.line}`)),
  };
}

/** The chains with a rule the dump lacks (they are refilled whole: order matters within a chain). */
function chainsToRefill(chains: NftChain[], rules: NftRule[], have: ReturnType<typeof present>): NftChain[] {
  return chains.filter((c) => !have.chains.has(c.name) || rules.some((r) => r.chain === c.name && !have.lines.has(`${r.chain}|${nftRuleLine(r)}`)));
}

function missingElements(elements: NftElement[], have: ReturnType<typeof present>): NftElement[] {
  return elements.filter((e) => !have.lines.has(`${elementChain(e.set)}|${nftElementLine(e)}`));
}

export const nftablesDriver: FirewallDriver = {
  name: 'nftables',
  /** JSON: rules and elements come with their table, chain or set, handle and comment as fields. */
  dumpArgvs: [['nft', '-j', 'list', 'ruleset', NFT_FAMILY]],

  parseDump: parseNftJson,

  /** `nft list chain` fails when the chain (or the whole table) is gone. */
  presenceProbes(net: NetworkRecord) {
    return [
      ['nft', 'list', 'chain', NFT_FAMILY, NFT_TABLE, BASE.forward],
      ['nft', 'list', 'chain', NFT_FAMILY, NFT_TABLE, networkChainNames(net.bridge).in],
    ];
  },

  planNetworkSetup(net, facts): Plan {
    const statements = [
      ...(facts.standingRulesExist ? [] : standingSetupStatements()),
      ...(facts.networkRulesExist ? [] : networkSetupStatements(net)),
    ];
    if (statements.length === 0) return { title: `firewall rules of network ${net.name} are in place`, ops: [] };
    const parts = [
      ...(facts.standingRulesExist ? [] : [`create table ${NFT_TABLE_ID}, its maps and base chains`]),
      ...(facts.networkRulesExist ? [] : [`the chains of ${net.bridge}: ${net.masquerade === false ? '' : `masquerade ${net.subnet}, `}forward, guards`]),
    ];
    return { title: `firewall rules of network ${net.name}`, ops: [applyOp(statements, `${parts.join('; ')} (one nftables transaction)`)] };
  },

  planNetworkTeardown(net, facts): Plan {
    if (facts.lastNetwork) {
      return {
        title: `remove firewall rules of network ${net.name}`,
        ops: [command(['nft', deleteTableLine()], `remove table ${NFT_TABLE_ID} with everything in it (last network gone)`, { tolerate: NFT_GONE })],
      };
    }
    const chains = networkChains(net).map((c) => c.name);
    const statements: NftStatement[] = [
      ...deleteElements(networkElements(net)),
      ...chains.map((c) => ({ line: flushChainLine(c), why: `empty ${c}` })),
      ...chains.map((c) => ({ line: deleteChainLine(c), why: `remove ${c}` })),
    ];
    return {
      title: `remove firewall rules of network ${net.name}`,
      ops: [applyOp(statements, `remove the chains and map entries of network ${net.name}`, { fallback: statements.map((s) => singleOp(s)) })],
    };
  },

  /**
   * The container's elements, in one transaction. No separate check is needed: its guard element
   * jumps to its network's guard chain, so the transaction fails whole when that chain (or the
   * table) is gone.
   */
  planContainerSetup(att): Plan {
    const elements = containerElements(att);
    const why = `${att.ip}: ${natPorts(att.ports).length} published port(s) and its guard, as map elements (one nftables transaction)`;
    return { title: `firewall rules of container ${att.netns} (${att.ip})`, ops: [applyOp(addElements(elements), why)] };
  },

  planContainerTeardown(att): Plan {
    const ops: Op[] = [deleteElementsOp(containerElements(att), `remove the map elements of ${att.ip}`), ...forgetUdpFlowsOps(att)];
    return { title: `remove firewall rules of container ${att.netns} (${att.ip})`, ops };
  },

  /** Every container's elements in one transaction; each container's own deletes if that fails. */
  planContainersTeardown(atts: Owned<NetworkAttachment>[]): BatchPlan {
    const owned = atts.map(({ owner, attachment }) => ({ owner, attachment, elements: containerElements(attachment) }));
    const all = owned.flatMap((o) => o.elements);
    const shared =
      all.length === 0
        ? []
        : [
            {
              op: applyOp(deleteElements(all), `remove the map elements of ${atts.length} container(s)`),
              shares: owned.map(({ owner, attachment, elements }) => ({
                owner,
                plan: { title: `remove the map elements of ${attachment.ip}`, ops: [deleteElementsOp(elements, `remove the map elements of ${attachment.ip}`)] },
              })),
            },
          ];
    const own = owned.flatMap(({ owner, attachment }) => {
      const ops = forgetUdpFlowsOps(attachment);
      return ops.length > 0 ? [{ owner, plan: { title: `forget the UDP flows of ${attachment.ip}`, ops } }] : [];
    });
    return { title: `remove firewall rules of ${atts.length} container(s)`, shared, own };
  },

  expectedRules: expectedOf,

  scopeOf(rule: DumpedRule): string | undefined {
    if (rule.table !== NFT_TABLE_ID) return undefined;
    return nftRuleScope(rule);
  },

  /** `IP comment "…" : jump guard-BRIDGE` in @guard4 (containerElements' last). */
  attachmentBridge(rule: DumpedRule): string | undefined {
    if (rule.table !== NFT_TABLE_ID || rule.chain !== elementChain(SETS.guard)) return undefined;
    return / : jump guard-(\S+)$/.exec(rule.line)?.[1];
  },

  /** Leftover elements, deleted by key in one transaction (rules are never a container's). */
  planRemoveDumped(rules: DumpedRule[], why: string): Plan {
    const statements = rules
      .filter((r) => r.table === NFT_TABLE_ID && r.chain.startsWith('@'))
      .map((r) => ({ line: deleteElementLine({ set: r.chain.slice(1), key: elementKey(r.line) }), why }));
    if (statements.length === 0) return { title: 'no leftover rules', ops: [] };
    return { title: 'remove leftover rules', ops: [applyOp(statements, why, { fallback: statements.map((s) => singleOp(s)) })] };
  },

  /**
   * Put back only what is missing, in one transaction: the table, maps and chains are declared
   * (harmless when they exist), a chain missing any rule is refilled whole, missing elements added.
   */
  planRepair(dump: FirewallDump, owners: RuleOwners): Plan {
    if (owners.networks.length === 0) return { title: 'firewall rules are complete', ops: [] };
    const have = present(dump);
    const standing = chainsToRefill(standingChains(), standingRules(), have);
    const statements: NftStatement[] = standing.flatMap((c) => refillChain(c, standingRules()));
    for (const net of owners.networks) {
      const rules = networkRules(net);
      statements.push(...chainsToRefill(networkChains(net), rules, have).flatMap((c) => refillChain(c, rules)));
      statements.push(...addElements(missingElements(networkElements(net), have)));
    }
    for (const c of owners.containers) {
      if (c.attachment) statements.push(...addElements(missingElements(containerElements(c.attachment), have)));
    }
    if (statements.length === 0) return { title: 'firewall rules are complete', ops: [] };
    const count = statements.filter((s) => /^add (rule|element) /.test(s.line)).length;
    return {
      title: 'restore missing firewall rules',
      ops: [applyOp([...declareStanding(), ...statements], `put back ${count} missing minictr rule(s) and element(s)`), ...forgetFlowsAfterRepairOps(owners)],
    };
  },
};
