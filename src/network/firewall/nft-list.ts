// The one parser of `nft list ruleset` output: tables, chains with their policies, rules in
// order, and set/map elements as "rules" of a pseudo-chain `@set` (one line per element, as
// it reads inside `elements = { … }`). The planner (what is missing?) and `net inspect`
// (what is there, and whose?) both read it.
import type { FirewallDump } from '../driver.js';
import { elementChain } from './nftables.js';

/** Split `a, b comment "x, y", c` on top-level commas (never inside quotes). */
export function splitElements(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      out.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  out.push(current);
  return out.map((e) => e.replace(/\s+/g, ' ').trim()).filter((e) => e !== '');
}

/** Chain declaration lines and comments are dropped; a rule keeps the form nft prints, spaces folded. */
export function parseNftList(text: string): FirewallDump {
  const dump: FirewallDump = { chains: [], rules: [] };
  let table = '';
  let chain: { name: string; index: number } | undefined;
  let set: string | undefined;
  let elements: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (elements !== undefined && set !== undefined) {
      elements += ` ${line}`;
      if (line.endsWith('}')) {
        for (const e of splitElements(elements.replace(/}$/, ''))) dump.rules.push({ table, chain: elementChain(set), line: e });
        elements = undefined;
      }
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const tableDecl = /^table (\S+) (\S+) \{$/.exec(line);
    if (tableDecl) {
      table = `${tableDecl[1]} ${tableDecl[2]}`;
      continue;
    }
    const chainDecl = /^chain (\S+) \{$/.exec(line);
    if (chainDecl) {
      chain = { name: chainDecl[1] ?? '', index: dump.chains.length };
      dump.chains.push({ table, chain: chain.name, policy: '-' });
      continue;
    }
    const setDecl = /^(?:set|map) (\S+) \{$/.exec(line);
    if (setDecl) {
      set = setDecl[1];
      continue;
    }
    if (line === '}') {
      if (set !== undefined) set = undefined;
      else if (chain !== undefined) chain = undefined;
      else table = '';
      continue;
    }
    if (set !== undefined) {
      const first = /^elements = \{ (.*)$/.exec(line);
      if (!first) continue;
      if (line.endsWith('}')) {
        for (const e of splitElements((first[1] ?? '').replace(/\s*}$/, ''))) dump.rules.push({ table, chain: elementChain(set), line: e });
      } else {
        elements = first[1] ?? '';
      }
      continue;
    }
    if (chain !== undefined) {
      const policy = /\bhook \S+ .*policy (\w+);/.exec(line);
      if (policy) {
        const c = dump.chains[chain.index];
        if (c) c.policy = policy[1] ?? '-';
        continue;
      }
      if (/^comment "[^"]*"$/.test(line)) continue;
      dump.rules.push({ table, chain: chain.name, line: line.replace(/\s+/g, ' ') });
    }
  }
  return dump;
}
