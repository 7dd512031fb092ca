// `minictr trace`, rendered for people: each packet of the flow, each hook, table, chain and rule
// it met, labelled with whose rule it is and the step of the article (or of minictr beyond it)
// that put it there; a drop said plainly with its reason. Pure: given the parsed trace lines.
import type { ExpectedRule } from '../network/driver.js';
import type { TraceEvent, TraceMatch } from '../network/firewall/trace.js';

/** The rule without its comment (as a person reads it) and without `-A CHAIN` (iptables) or `comment "…"` (nftables). */
export function ruleText(line: string): string {
  return line.replace(/^-A \S+ /, '').replace(/(^| )-m comment --comment ("[^"]*"|\S+)/, '').replace(/ comment "[^"]*"$/, '').trim();
}

/** The owner and why of a rule the trace met, from what minictr planned (nftables keeps a why with each rule). */
type Labels = Map<string, { owner: string; why?: string }>;

function labelsOf(expected: ExpectedRule[]): Labels {
  return new Map(expected.map((r) => [`${r.table} ${r.chain} ${r.line}`, { owner: r.owner, ...(r.why ? { why: r.why } : {}) }]));
}

function whyOf(labels: Labels, e: Extract<TraceEvent, { kind: 'rule' }>): string {
  return labels.get(`${e.table} ${e.chain} ${e.line}`)?.why ?? ruleWhy(e.table, e.chain, e.line);
}

/** Why a rule of minictr's is there: the article's step, or what minictr adds beyond it. */
export function ruleWhy(table: string, chain: string, line: string): string {
  const t = ruleText(line);
  if (/-j TRACE$/.test(t)) return "this trace's own rule";
  if (table === 'nat' && /--dst-type LOCAL -j MINICTR$/.test(t)) return 'every local address goes to the DNAT chain (the article\'s DNAT step)';
  if (/-j DNAT --to-destination (\S+)/.test(t)) return `a published port (-p): the destination becomes ${/--to-destination (\S+)/.exec(t)?.[1] ?? ''} (the article's DNAT step)`;
  if (chain === 'POSTROUTING' && /! -o \S+ -j MASQUERADE$/.test(t)) return "containers leave with the host's address (the article's MASQUERADE step)";
  if (chain === 'POSTROUTING' && /--src-type LOCAL -j MASQUERADE$/.test(t)) return 'the host reaching a container (127.0.0.1 or its own address) gets the gateway as source, so the reply comes back';
  if (chain === 'POSTROUTING' && /^-s (\S+) -d \1 /.test(t)) return 'hairpin: a container reaching its own published port';
  if (table === 'raw' && /^-d 127\.0\.0\.0\/8 -i /.test(t)) return "route_localnet must not let containers reach the host's 127.0.0.1 services";
  if (table === 'raw' && /^-d 127\.\S+ ! -i lo /.test(t)) return 'a port published on 127.x is for the host only (CVE-2020-8558)';
  if (table === 'raw' && /^-d \S+\/32 ! -i \S+ -j DROP$/.test(t)) return 'the guard against routing to container addresses directly: publish the port with -p';
  if (chain === 'FORWARD' && /-j MINICTR-(USER|FORWARD)$/.test(t)) return "minictr's forwarding chains (Docker 28's layout), ahead of the host's own FORWARD rules";
  if (chain === 'MINICTR-FORWARD' && /^-j MINICTR-/.test(t)) return 'into the next of minictr\'s forwarding chains';
  if (chain === 'MINICTR-FORWARD' && /^-i \S+ -j ACCEPT$/.test(t)) return 'containers may send anywhere (the way out)';
  if (chain === 'MINICTR-CT') return 'replies of a connection already allowed';
  if (chain.startsWith('MINICTR-ISOLATION') && /--ctstate DNAT -j RETURN$/.test(t)) return 'a published port is reached from every network through the host\'s address';
  if (chain.startsWith('MINICTR-ISOLATION')) return 'networks are isolated from each other';
  if (chain === 'MINICTR-BRIDGE') return "traffic into a bridge is checked against its containers' published ports";
  if (chain === 'MINICTR' && /-j ACCEPT$/.test(t)) return 'the published port is let through to the container';
  if (chain === 'MINICTR' && /-j DROP$/.test(t)) return 'anything else from outside the bridge is dropped: the port is not published';
  return 'not one of minictr\'s rules';
}

function packetText(e: Extract<TraceEvent, { kind: 'packet' }>): string {
  const f = e.fields;
  const where = [f['IN'] ? `in ${f['IN']}` : '', f['OUT'] ? `out ${f['OUT']}` : ''].filter(Boolean).join(', ');
  const from = f['SPORT'] ? `${f['SRC']}:${f['SPORT']}` : f['SRC'] ?? '?';
  const to = f['DPORT'] ? `${f['DST']}:${f['DPORT']}` : f['DST'] ?? '?';
  return `${from} → ${to}${e.flags.length > 0 ? ` ${e.flags.join(',')}` : ''} (${where})`;
}

/** Is this packet of the flow's original direction, or a reply? */
export function directionOf(e: Extract<TraceEvent, { kind: 'packet' }>, match: TraceMatch): 'request' | 'reply' | 'other' {
  const f = e.fields;
  if (f['SRC'] === match.reply.addr && f['SPORT'] === String(match.reply.port)) return 'reply';
  if (f['DPORT'] === String(match.port) || f['DPORT'] === String(match.reply.port)) return 'request';
  return 'other';
}

/** The events of the first `count` request/reply exchanges: up to the first request after a reply (or the end). */
export function firstExchanges(events: TraceEvent[], match: TraceMatch, count: number): TraceEvent[] {
  const out: TraceEvent[] = [];
  let exchanges = 0;
  let sawReply = false;
  for (const e of events) {
    if (e.kind === 'packet') {
      const dir = directionOf(e, match);
      if (dir === 'request' && sawReply) {
        exchanges++;
        sawReply = false;
        if (exchanges >= count) break;
      }
      if (dir === 'reply') sawReply = true;
    }
    out.push(e);
  }
  return out;
}

export interface TraceFacts {
  /** Rules minictr planned, with their owners (firewall driver expectedRules). */
  expected: ExpectedRule[];
  /** `ip route get` of the packet's (new) destination. */
  route?: string;
  /** conntrack's entry of the flow. */
  conntrack?: string;
}

/** A dropped packet, said as the issue asks: by which table, chain and rule, and why. */
export function dropReason(events: TraceEvent[], expected: ExpectedRule[] = []): string | undefined {
  const labels = labelsOf(expected);
  for (const e of events) {
    if (e.kind !== 'rule') continue;
    if (e.type === 'rule' && e.verdict === 'DROP') {
      return `dropped by ${e.table} ${e.chain} \`${ruleText(e.line)}\` (${whyOf(labels, e)})`;
    }
    if (e.type === 'policy' && e.verdict === 'DROP') return `dropped by the policy of ${e.table} ${e.chain} (no rule let it through)`;
  }
  return undefined;
}

/** conntrack's line as two tuples: what the client sent, and what the reply carries (the NAT shows as the difference). */
export function conntrackText(line: string): string[] {
  const tuples = [...line.matchAll(/src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/g)].map((m) => ({ src: `${m[1]}:${m[3]}`, dst: `${m[2]}:${m[4]}` }));
  const [orig, reply] = tuples;
  if (!orig || !reply) return [`conntrack: ${line}`];
  const notes: string[] = [];
  if (reply.src !== orig.dst) notes.push(`DNAT: ${orig.dst} became ${reply.src}`);
  if (reply.dst !== orig.src) notes.push(`source rewritten (MASQUERADE): ${orig.src} became ${reply.dst}`);
  return [
    `conntrack: original ${orig.src} → ${orig.dst}`,
    `           reply    ${reply.src} → ${reply.dst}${notes.length > 0 ? `   (${notes.join('; ')})` : ''}`,
  ];
}

export function renderTrace(events: TraceEvent[], match: TraceMatch, facts: TraceFacts): string {
  const labels = labelsOf(facts.expected);
  const out: string[] = [];
  let hook = '';
  for (const e of events) {
    if (e.kind === 'packet') {
      const dir = directionOf(e, match);
      out.push('', `${dir === 'reply' ? 'reply' : dir === 'request' ? 'packet' : 'packet'} ${packetText(e)}`);
      hook = '';
      continue;
    }
    // The trace's own rules and table say nothing about the path.
    if (/minictr:trace:/.test(e.line) || /minictr-trace-/.test(e.table)) continue;
    if (e.hook) hook = e.hook;
    const where = `${(hook || e.chain).padEnd(11)} ${e.table.padEnd(6)} ${e.chain}`;
    if (e.type === 'policy') {
      out.push(`  ${where}: policy ${e.verdict}`);
      continue;
    }
    if (e.type === 'return') {
      out.push(`  ${where}: end of chain, back to the caller`);
      continue;
    }
    const owner = labels.get(`${e.table} ${e.chain} ${e.line}`)?.owner;
    out.push(`  ${where}: ${ruleText(e.line)} → ${e.verdict.replace(/^JUMP:/, 'jump to ')}`);
    out.push(`  ${' '.repeat(11)} ${owner ?? 'not planned by minictr'}: ${whyOf(labels, e)}`);
  }
  const drop = dropReason(events, facts.expected);
  if (drop) out.push('', drop);
  if (facts.route) out.push('', `routing: ${facts.route}`);
  if (facts.conntrack) out.push(...conntrackText(facts.conntrack));
  return out.join('\n').replace(/^\n/, '');
}
