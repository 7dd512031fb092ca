// `minictr trace` for the iptables driver, as data: the TRACE rules that arm a trace for one
// flow (raw table, tagged with the tracing process's pid so a leftover is recognisable), and
// the parser of `xtables-monitor --trace` lines.
import { RESTORE_ARGV, restoreText, type Rule } from './iptables.js';
import { parseIptablesSave } from './iptables-save.js';
import { ruleComment } from '../names.js';
import type { TraceEvent, TraceMatch, Tracer } from './trace.js';

/** The comment of a trace's rules: `minictr:trace:<pid>`. */
export function traceComment(pid: number): string {
  return ruleComment(`trace:${pid}`);
}

/** The pid of the trace a rule belongs to, read back from its comment. */
export function tracePidOf(line: string): number | undefined {
  const m = /--comment "?minictr:trace:(\d+)"?/.exec(line);
  return m?.[1] ? Number(m[1]) : undefined;
}

/** TRACE rules at the head of raw PREROUTING (packets arriving) and raw OUTPUT (the host's own). */
export function traceRules(match: TraceMatch, pid: number): Rule[] {
  const tail = ['-m', 'comment', '--comment', traceComment(pid), '-j', 'TRACE'];
  const l4 = (dir: '--dport' | '--sport', port: number) => ['-p', match.proto, '-m', match.proto, dir, String(port)];
  const request = [...(match.from ? ['-s', `${match.from}/32`] : []), '-d', `${match.addr}/32`, ...l4('--dport', match.port), ...tail];
  const reply = ['-s', `${match.reply.addr}/32`, ...(match.from ? ['-d', `${match.from}/32`] : []), ...l4('--sport', match.reply.port), ...tail];
  return [
    { table: 'raw', chain: 'PREROUTING', op: '-I', spec: request },
    { table: 'raw', chain: 'OUTPUT', op: '-I', spec: request },
    { table: 'raw', chain: 'PREROUTING', op: '-I', spec: reply },
    { table: 'raw', chain: 'OUTPUT', op: '-I', spec: reply },
  ];
}

/**
 *   PACKET: 2 e0ba127b OUT=lo SRC=127.0.0.1 DST=127.0.0.1 … SPORT=35564 DPORT=5005 SYN
 *    TRACE: 2 e0ba127b nat:MINICTR:rule:0x14:ACCEPT  -4 -t nat -A MINICTR -p tcp … -j DNAT …
 *    TRACE: 2 e0ba127b raw:OUTPUT:policy:ACCEPT
 */
export function parseTraceLine(text: string): TraceEvent | undefined {
  const packet = /^\s*PACKET: \d+ ([0-9a-f]+) (.*)$/.exec(text);
  if (packet) {
    const fields: Record<string, string> = {};
    const flags: string[] = [];
    for (const word of (packet[2] ?? '').trim().split(/\s+/)) {
      const eq = word.indexOf('=');
      if (eq > 0) fields[word.slice(0, eq)] = word.slice(eq + 1);
      else if (word) flags.push(word);
    }
    return { kind: 'packet', id: packet[1] ?? '', fields, flags };
  }
  const rule = /^\s*TRACE: \d+ ([0-9a-f]+) ([a-z]+):([^:\s]+):(rule|return|policy)(?::0x[0-9a-f]+)?:?(\S*)\s*(.*)$/.exec(text);
  if (!rule) return undefined;
  const rest = rule[6] ?? '';
  const line = /-A \S+.*$/.exec(rest)?.[0] ?? '';
  return { kind: 'rule', id: rule[1] ?? '', table: rule[2] ?? '', chain: rule[3] ?? '', type: rule[4] as 'rule' | 'return' | 'policy', verdict: rule[5] ?? '', line };
}

const BASE_CHAINS = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

export const iptablesTracer: Tracer = {
  name: 'iptables',
  arm: (match, pid) => ({
    argv: RESTORE_ARGV,
    stdin: restoreText(traceRules(match, pid), {}, 'add'),
    why: `arm a trace: TRACE rules at the head of raw PREROUTING and OUTPUT for ${match.proto} to ${match.addr}:${match.port} and its replies`,
  }),
  disarm: (match, pid) => ({
    argv: RESTORE_ARGV,
    stdin: restoreText(traceRules(match, pid), {}, 'delete'),
    why: 'disarm the trace: its TRACE rules go',
    tolerate: /Bad rule|does a matching rule exist|No chain/,
  }),
  monitorArgv: ['xtables-monitor', '--trace', '-4'],
  parseLine(line) {
    const e = parseTraceLine(line);
    return e?.kind === 'rule' && BASE_CHAINS.has(e.chain) ? { ...e, hook: e.chain } : e;
  },
  listArgv: ['iptables-save', '-t', 'raw'],
  tracePids: (listing) => [...new Set(listing.split('\n').flatMap((l) => tracePidOf(l) ?? []))],
  removeStale(pid, listing) {
    const stale = parseIptablesSave(listing).rules.filter((r) => tracePidOf(r.line) === pid);
    if (stale.length === 0) return undefined;
    const text = `*raw\n${stale.map((r) => r.line.replace(/^-A /, '-D ')).join('\n')}\nCOMMIT\n`;
    return { argv: RESTORE_ARGV, stdin: text, why: 'remove the TRACE rules of a trace that ended without disarming', tolerate: /Bad rule|does a matching rule exist|No chain/ };
  },
};
