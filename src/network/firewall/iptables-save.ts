// The one parser of iptables-save output: tables, chains with their policies, rules in order.
// The planner (what is missing?) and `net inspect` (what is there, and whose?) both read it.
import type { FirewallDump } from '../driver.js';

/** Comments and COMMIT lines are dropped; a rule keeps the form iptables-save prints, spaces folded. */
export function parseIptablesSave(text: string): FirewallDump {
  const dump: FirewallDump = { chains: [], rules: [] };
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line === 'COMMIT') continue;
    if (line.startsWith('*')) {
      table = line.slice(1);
      continue;
    }
    const chainDecl = /^:(\S+)\s+(\S+)/.exec(line);
    if (chainDecl) {
      dump.chains.push({ table, chain: chainDecl[1] ?? '', policy: chainDecl[2] ?? '-' });
      continue;
    }
    const ruleLine = /^-A\s+(\S+)/.exec(line);
    if (ruleLine) dump.rules.push({ table, chain: ruleLine[1] ?? '', line: line.replace(/\s+/g, ' ') });
  }
  return dump;
}
