// `minictr trace`: follow one flow through the host's rules. Arms TRACE rules for the flow (raw
// table, tagged with this process's pid), reads `xtables-monitor --trace` until the first packet
// and its reply went through (or the timeout), disarms, and adds the routing decision and the
// conntrack entry. A small shell guard started beside it disarms too when minictr dies by
// SIGKILL; the next trace removes any rule whose tracing process is gone.
import { isIPv4 } from '../network/ipam.js';
import { MinictrError } from '../base/errors.js';
import { command, type Plan } from '../base/plan.js';
import { startTimeOf } from '../base/proc.js';
import type { ContainerRecord } from '../base/records.js';
import { attachmentsOf } from '../base/records.js';
import { applyPlan, applyPlanBestEffort } from '../exec/apply.js';
import { spawnProcess } from '../exec/runner.js';
import { firewallDriverFor } from '../network/drivers.js';
import { RESTORE_ARGV, restoreText } from '../network/firewall/iptables.js';
import { parseTraceLine, tracePidOf, traceRules, type TraceEvent, type TraceMatch } from '../network/firewall/iptables-trace.js';
import { ruleOwners } from '../network/plan.js';
import { directionOf, dropReason, firstExchanges, renderTrace } from '../explain/trace.js';
import { stepOptions, type RuntimeContext } from './context.js';
import { firewallDump } from './gather.js';

export interface TraceRequest {
  /** `trace CONTAINER --port N`: the container's own address and port. */
  container?: string;
  /** `--to ADDR:PORT[/PROTO]`. */
  to?: string;
  port?: string;
  /** `--from ADDR|CONTAINER`. */
  from?: string;
  count: number;
  timeoutMs: number;
  /** Told once the trace is armed, with what it waits for (the CLI prints it). */
  onArmed?: (text: string) => void;
}

function badTarget(message: string): MinictrError {
  return new MinictrError('E_BAD_TRACE', message);
}

/** `ADDR:PORT[/PROTO]` checked: an IPv4 address, a port 1-65535, tcp or udp. */
export function parseTraceTarget(text: string): { addr: string; port: number; proto: 'tcp' | 'udp' } {
  const m = /^([^:/]+):([^/]+)(?:\/(.*))?$/.exec(text);
  if (!m) throw badTarget(`invalid trace target "${text}": use ADDR:PORT[/tcp|udp], e.g. 10.0.0.1:5005/tcp`);
  const [, addr = '', portText = '', proto = 'tcp'] = m;
  if (!isIPv4(addr)) throw badTarget(`invalid address "${addr}" in trace target "${text}": an IPv4 address is needed`);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw badTarget(`invalid port "${portText}" in trace target "${text}": 1-65535`);
  if (proto !== 'tcp' && proto !== 'udp') throw badTarget(`invalid protocol "${proto}" in trace target "${text}": tcp or udp`);
  return { addr, port, proto };
}

/** The flow to follow, from the request and the records (a published port's replies come from its container). */
async function traceMatch(ctx: RuntimeContext, req: TraceRequest, records: ContainerRecord[]): Promise<TraceMatch> {
  let target: { addr: string; port: number; proto: 'tcp' | 'udp' };
  if (req.container !== undefined) {
    const record = await ctx.store.findContainer(req.container);
    if (!record.network) throw badTarget(`container ${req.container} has no address of its own: is it running on a bridge network?`);
    target = parseTraceTarget(`${record.network.ip}:${req.port ?? ''}`);
  } else if (req.to !== undefined) {
    target = parseTraceTarget(req.to);
  } else {
    throw badTarget('say what to trace: --to ADDR:PORT[/PROTO], or a container and --port');
  }
  let from: string | undefined;
  if (req.from !== undefined) {
    if (isIPv4(req.from)) from = req.from;
    else {
      const other = await ctx.store.findContainer(req.from);
      if (!other.network) throw badTarget(`container ${req.from} has no address of its own`);
      from = other.network.ip;
    }
  }
  const published = records.flatMap((r) => attachmentsOf(r).flatMap((a) => a.ports.map((p) => ({ a, p }))))
    .find(({ p }) => p.hostPort === target.port && p.proto === target.proto && (p.hostIp === '' || p.hostIp === target.addr));
  const reply = published ? { addr: published.a.ip, port: published.p.containerPort } : { addr: target.addr, port: target.port };
  return { proto: target.proto, addr: target.addr, port: target.port, ...(from ? { from } : {}), reply };
}

/** Disarms a trace whose minictr is gone (SIGKILL): polls the pid, then removes the rules and stops the monitor. */
const GUARD = 'trap "" INT HUP; while kill -0 "$1" 2>/dev/null; do sleep 0.2; done; kill "$2" 2>/dev/null; printf "%s" "$3" | iptables-restore -w --noflush';

/** Rules of traces whose process is gone (a guard killed too), removed before a new trace. */
async function removeStaleTraces(ctx: RuntimeContext): Promise<void> {
  const dump = await firewallDump(ctx.runner);
  const stale = dump.rules.filter((r) => {
    const pid = tracePidOf(r.line);
    return pid !== undefined && (pid === process.pid || startTimeOf(pid) === 0);
  });
  if (stale.length > 0) await applyPlanBestEffort(firewallDriverFor().planRemoveDumped(stale, 'remove the TRACE rules of a trace that ended without disarming'), ctx.runner);
}

export interface TraceResult {
  text: string;
  /** The request went through and a reply came back (false: dropped, or no reply). */
  answered: boolean;
}

export async function trace(ctx: RuntimeContext, req: TraceRequest): Promise<TraceResult> {
  if (!Number.isInteger(req.count) || req.count < 1) throw badTarget(`invalid --count "${req.count}": 1 or more`);
  const records = await ctx.store.listContainers();
  const match = await traceMatch(ctx, req, records);
  await removeStaleTraces(ctx);
  const rules = traceRules(match, process.pid);
  const arm: Plan = { title: 'arm the trace', ops: [command(RESTORE_ARGV, `arm a trace: TRACE rules at the head of raw PREROUTING and OUTPUT for ${match.proto} to ${match.addr}:${match.port} and its replies`, { stdin: restoreText(rules, {}, 'add') })] };
  const disarmText = restoreText(rules, {}, 'delete');
  const disarm: Plan = { title: 'disarm the trace', ops: [command(RESTORE_ARGV, 'disarm the trace: its TRACE rules go', { stdin: disarmText, tolerate: /Bad rule|does a matching rule exist|No chain/ })] };
  const monitor = spawnProcess(['xtables-monitor', '--trace', '-4'], { stdio: ['ignore', 'pipe', 'ignore'], detached: false });
  const guard = spawnProcess(['sh', '-c', GUARD, 'minictr-trace-guard', String(process.pid), String(monitor.pid ?? 0), disarmText], { stdio: 'ignore', detached: true });
  guard.unref();
  const events: TraceEvent[] = [];
  let settle: NodeJS.Timeout | undefined;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => { finish = resolve; });
  let buffered = '';
  let packets = 0;
  monitor.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const e = parseTraceLine(line);
      if (!e) continue;
      events.push(e);
      if (e.kind === 'packet') packets++;
      if (firstExchanges(events, match, req.count).length < events.length) finish();
      // Quiet for a moment after the first packet: a drop, or no reply coming.
      if (packets > 0) {
        clearTimeout(settle);
        settle = setTimeout(finish, 500);
      }
    }
  });
  monitor.once('exit', () => finish());
  const stop = (): void => finish();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let interrupted = false;
  process.once('SIGINT', () => { interrupted = true; });
  try {
    await applyPlan(arm, ctx.runner, stepOptions(ctx));
    req.onArmed?.(`tracing ${match.proto} to ${match.addr}:${match.port}${match.from ? ` from ${match.from}` : ''}` +
      `${match.reply.addr !== match.addr ? ` (published: ${match.reply.addr}:${match.reply.port})` : ''}; waiting up to ${req.timeoutMs / 1000} s for a packet`);
    const timer = setTimeout(finish, req.timeoutMs);
    await done;
    clearTimeout(timer);
    clearTimeout(settle);
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    monitor.kill('SIGKILL');
    await applyPlanBestEffort(disarm, ctx.runner, stepOptions(ctx));
    if (guard.pid) {
      try { process.kill(-guard.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  const shown = firstExchanges(events, match, req.count);
  if (!shown.some((e) => e.kind === 'packet')) {
    throw new MinictrError('E_NO_PACKET', interrupted
      ? 'trace interrupted before any packet came; the trace is disarmed'
      : `no ${match.proto} packet to ${match.addr}:${match.port} came within ${req.timeoutMs / 1000} s; the trace is disarmed. Send one while it waits (e.g. curl from another terminal)`, { exitCode: 1 });
  }
  const request = shown.find((e): e is Extract<TraceEvent, { kind: 'packet' }> => e.kind === 'packet');
  const inIf = request?.fields['IN'];
  const routeArgv = ['ip', 'route', 'get', match.reply.addr, ...(inIf && request?.fields['SRC'] ? ['from', request.fields['SRC'], 'iif', inIf] : [])];
  const [route, conntrack, networks] = await Promise.all([
    ctx.runner.run(routeArgv, { allowFailure: true }),
    ctx.runner.run(['conntrack', '-L', '-p', match.proto, '--dport', String(match.port), '--dst', match.addr], { allowFailure: true }),
    ctx.store.listNetworks(),
  ]);
  const expected = firewallDriverFor(networks[0]).expectedRules(ruleOwners(networks, records));
  const answered = shown.some((e) => e.kind === 'packet' && directionOf(e, match) === 'reply') && dropReason(shown) === undefined;
  const text = renderTrace(shown, match, {
    expected,
    ...(route.exitCode === 0 ? { route: `${routeArgv.join(' ')} → ${route.stdout.trim().split('\n')[0] ?? ''}` } : {}),
    ...(conntrack.exitCode === 0 && conntrack.stdout.trim() ? { conntrack: conntrack.stdout.trim().split('\n')[0] ?? '' } : {}),
  });
  return { text, answered };
}
