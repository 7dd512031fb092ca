// `minictr trace` for the nftables driver, as data: a table of the trace's own
// (`inet minictr-trace-<pid>`) whose chains hook prerouting and output before anything else and
// set `meta nftrace` on the flow's packets; `nft monitor trace` then prints every chain and rule
// they meet, in every table (iptables-nft's too). Disarming deletes that one table.
import { NFT_APPLY_ARGV, NFT_FAMILY } from './nftables.js';
import type { TraceEvent, TraceMatch, Tracer } from './trace.js';

/** Before the raw guards (-300): the trace sees every rule of minictr's. */
const TRACE_PRIORITY = -350;

export function traceTable(pid: number): string {
  return `minictr-trace-${pid}`;
}

/** The pid a trace table belongs to, read back from `nft list tables`. */
export function traceTablePids(listing: string): number[] {
  return [...listing.matchAll(/^table \S+ minictr-trace-(\d+)$/gm)].map((m) => Number(m[1]));
}

/** The nft -f text that arms the trace: the flow's requests and its replies, arriving or the host's own. */
export function traceStatements(match: TraceMatch, pid: number): string {
  const t = `${NFT_FAMILY} ${traceTable(pid)}`;
  const request = `${match.from ? `ip saddr ${match.from} ` : ''}ip daddr ${match.addr} ${match.proto} dport ${match.port}`;
  const reply = `ip saddr ${match.reply.addr} ${match.from ? `ip daddr ${match.from} ` : ''}${match.proto} sport ${match.reply.port}`;
  const lines = [`add table ${t}`];
  for (const [chain, hook] of [['prerouting', 'prerouting'], ['output', 'output']] as const) {
    lines.push(`add chain ${t} ${chain} { type filter hook ${hook} priority ${TRACE_PRIORITY}; }`);
    for (const m of [request, reply]) lines.push(`add rule ${t} ${chain} ${m} meta nftrace set 1 comment "minictr:trace:${pid}"`);
  }
  return `${lines.join('\n')}\n`;
}

/** The base chains of minictr's table and of iptables-nft's, and the hook each one is at. */
const HOOKS: Record<string, string> = {
  prerouting: 'PREROUTING', 'raw-prerouting': 'PREROUTING', output: 'OUTPUT', forward: 'FORWARD', postrouting: 'POSTROUTING', input: 'INPUT',
  PREROUTING: 'PREROUTING', INPUT: 'INPUT', FORWARD: 'FORWARD', OUTPUT: 'OUTPUT', POSTROUTING: 'POSTROUTING',
};

/** `tcp flags == syn|ack` → SYN, ACK. */
function flagsOf(text: string): string[] {
  const m = /tcp flags == (\S+)/.exec(text);
  return m?.[1] ? m[1].split('|').map((f) => f.toUpperCase()) : [];
}

/**
 *   trace id 75f2897c inet minictr prerouting packet: iif "veth0" … ip saddr 10.99.0.2 ip daddr 10.99.0.1 … tcp sport 40 tcp dport 5005 tcp flags == syn …
 *   trace id 75f2897c inet minictr ports rule dnat ip to … comment "minictr" (verdict accept)
 *   trace id 75f2897c inet minictr raw-prerouting policy accept
 */
export function parseNftTraceLine(text: string): TraceEvent | undefined {
  const head = /^trace id ([0-9a-f]+) (\S+) (\S+) (\S+) (packet:|rule|policy|verdict) ?(.*)$/.exec(text.trim());
  if (!head) return undefined;
  const [, id = '', family = '', table = '', chain = '', what = '', rest = ''] = head;
  // The trace's own table: the packet is printed again by the next one, its rules are the trace's.
  if (table.startsWith('minictr-trace-')) return undefined;
  if (what === 'packet:') {
    const fields: Record<string, string> = {};
    const take = (key: string, re: RegExp) => {
      const v = re.exec(rest)?.[1];
      if (v !== undefined) fields[key] = v;
    };
    take('IN', /\biif "([^"]+)"/);
    take('OUT', /\boif "([^"]+)"/);
    take('SRC', /\bip saddr (\S+)/);
    take('DST', /\bip daddr (\S+)/);
    take('SPORT', /\b(?:tcp|udp) sport (\d+)/);
    take('DPORT', /\b(?:tcp|udp) dport (\d+)/);
    return { kind: 'packet', id, fields, flags: flagsOf(rest) };
  }
  const hook = HOOKS[chain];
  const base = { kind: 'rule' as const, id, table: `${family} ${table}`, chain, ...(hook ? { hook } : {}) };
  if (what === 'policy') return { ...base, type: 'policy', verdict: rest.trim().toUpperCase(), line: '' };
  if (what === 'verdict') {
    const v = rest.trim();
    return v === 'continue' || v === 'return' ? { ...base, type: 'return', verdict: v, line: '' } : { ...base, type: 'rule', verdict: v.toUpperCase(), line: '' };
  }
  const m = /^(.*?)\s*\(verdict ([^)]+)\)\s*$/.exec(rest);
  const line = (m?.[1] ?? rest).trim();
  const v = m?.[2] ?? '';
  const verdict = v.startsWith('jump ') || v.startsWith('goto ') ? `JUMP:${v.split(' ')[1] ?? ''}` : v.toUpperCase();
  return { ...base, type: 'rule', verdict, line };
}

export const nftablesTracer: Tracer = {
  name: 'nftables',
  arm: (match, pid) => ({
    argv: NFT_APPLY_ARGV,
    stdin: traceStatements(match, pid),
    why: `arm a trace: a table of the trace's own sets meta nftrace on ${match.proto} to ${match.addr}:${match.port} and its replies, ahead of every other chain`,
  }),
  disarm: (_match, pid) => ({
    argv: NFT_APPLY_ARGV,
    stdin: `delete table ${NFT_FAMILY} ${traceTable(pid)}\n`,
    why: "disarm the trace: its table goes",
    tolerate: /No such file or directory|does not exist/,
  }),
  monitorArgv: ['nft', 'monitor', 'trace'],
  parseLine: parseNftTraceLine,
  listArgv: ['nft', 'list', 'tables'],
  tracePids: traceTablePids,
  removeStale: (pid, listing) => (traceTablePids(listing).includes(pid)
    ? { argv: NFT_APPLY_ARGV, stdin: `delete table ${NFT_FAMILY} ${traceTable(pid)}\n`, why: 'remove the trace table of a trace that ended without disarming', tolerate: /No such file or directory|does not exist/ }
    : undefined),
};
