// `minictr trace` for the iptables driver, as data: the TRACE rules that arm a trace for one
// flow (raw table, tagged with the tracing process's pid so a leftover is recognisable), and
// the parser of `xtables-monitor --trace` lines. The nftables driver would arm `meta nftrace`
// and read `nft monitor trace` instead.
import type { Rule } from './iptables.js';
import { ruleComment } from '../names.js';

/** The flow to follow: its original direction, and where its replies come from (after DNAT). */
export interface TraceMatch {
  proto: 'tcp' | 'udp';
  /** Destination as the client addresses it. */
  addr: string;
  port: number;
  from?: string;
  /** Where replies come from: the DNAT target when the port is published, else addr:port. */
  reply: { addr: string; port: number };
}

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

/** One line of `xtables-monitor --trace`: a packet as a hook saw it, or a rule (or policy) it met. */
export type TraceEvent =
  | { kind: 'packet'; id: string; fields: Record<string, string>; flags: string[] }
  | { kind: 'rule'; id: string; table: string; chain: string; type: 'rule' | 'return' | 'policy'; verdict: string; line: string };

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
