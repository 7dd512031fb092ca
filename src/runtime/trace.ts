// `minictr trace`: follow one flow through the host's rules. Arms a trace for the flow with the
// tracer of its network's firewall driver (iptables: TRACE rules tagged with this process's pid,
// read with `xtables-monitor --trace`; nftables: a table of its own setting meta nftrace, read
// with `nft monitor trace`), reads until the first packet and its reply went through (or the
// timeout), disarms, and adds the routing decision and the conntrack entry. A small shell guard
// started beside it disarms too when minictr dies by SIGKILL; the next trace removes what a trace
// whose process is gone left.
import { isIPv4 } from '../network/ipam.js';
import { MinictrError } from '../base/errors.js';
import { command, type Plan } from '../base/plan.js';
import { sleep, startTimeOf } from '../base/proc.js';
import type { ContainerRecord, NetworkRecord } from '../base/records.js';
import { attachmentsOf } from '../base/records.js';
import { applyPlan, applyPlanBestEffort } from '../exec/apply.js';
import { spawnProcess } from '../exec/runner.js';
import { firewallDriverFor, tracerFor } from '../network/drivers.js';
import type { TraceCommand, TraceEvent, TraceMatch, Tracer } from '../network/firewall/trace.js';
import { ruleOwners } from '../network/plan.js';
import { DEFAULT_NETWORK } from '../network/names.js';
import { directionOf, dropReason, firstExchanges, renderTrace } from '../explain/trace.js';
import { stepOptions, type RuntimeContext } from './context.js';

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

/**
 * The flow to follow, from the request and the records (a published port's replies come from its
 * container), and the network whose firewall driver traces it.
 */
async function traceMatch(ctx: RuntimeContext, req: TraceRequest, records: ContainerRecord[]): Promise<{ match: TraceMatch; network?: string }> {
  let target: { addr: string; port: number; proto: 'tcp' | 'udp' };
  let network: string | undefined;
  if (req.container !== undefined) {
    const record = await ctx.store.findContainer(req.container);
    if (!record.network) throw badTarget(`container ${req.container} has no address of its own: is it running on a bridge network?`);
    target = parseTraceTarget(`${record.network.ip}:${req.port ?? ''}`);
    network = record.network.network;
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
  network ??= published?.a.network;
  return { match: { proto: target.proto, addr: target.addr, port: target.port, ...(from ? { from } : {}), reply }, ...(network ? { network } : {}) };
}

/**
 * Disarms a trace whose minictr is gone (SIGKILL): polls the pid, then stops the monitor and runs
 * the tracer's disarm command with its input.
 */
const GUARD = 'trap "" INT HUP; while kill -0 "$1" 2>/dev/null; do sleep 0.2; done; kill "$2" 2>/dev/null; printf "%s" "$3" | (shift 3; exec "$@")';

function traceOp(c: TraceCommand) {
  return command(c.argv, c.why, { stdin: c.stdin, ...(c.tolerate ? { tolerate: c.tolerate } : {}) });
}

/** What traces whose process is gone left (a guard killed too), removed before a new trace. */
async function removeStaleTraces(ctx: RuntimeContext, tracer: Tracer): Promise<void> {
  const listing = (await ctx.runner.run(tracer.listArgv, { allowFailure: true })).stdout;
  const stale = tracer.tracePids(listing).filter((pid) => pid === process.pid || startTimeOf(pid) === 0);
  const ops = stale.flatMap((pid) => tracer.removeStale(pid, listing) ?? []).map(traceOp);
  if (ops.length > 0) await applyPlanBestEffort({ title: 'remove the leftovers of ended traces', ops }, ctx.runner);
}

export interface TraceResult {
  text: string;
  /** The request went through and a reply came back (false: dropped, or no reply). */
  answered: boolean;
}

export async function trace(ctx: RuntimeContext, req: TraceRequest): Promise<TraceResult> {
  if (!Number.isInteger(req.count) || req.count < 1) throw badTarget(`invalid --count "${req.count}": 1 or more`);
  const records = await ctx.store.listContainers();
  const { match, network } = await traceMatch(ctx, req, records);
  const networks = await ctx.store.listNetworks();
  const net: NetworkRecord | undefined = networks.find((n) => n.name === (network ?? DEFAULT_NETWORK.name)) ?? networks[0];
  const tracer = tracerFor(net);
  await removeStaleTraces(ctx, tracer);
  const arm: Plan = { title: 'arm the trace', ops: [traceOp(tracer.arm(match, process.pid))] };
  const disarmCommand = tracer.disarm(match, process.pid);
  const disarm: Plan = { title: 'disarm the trace', ops: [traceOp(disarmCommand)] };
  const monitor = spawnProcess(tracer.monitorArgv, { stdio: ['ignore', 'pipe', 'ignore'], detached: false });
  const guard = spawnProcess(['sh', '-c', GUARD, 'minictr-trace-guard', String(process.pid), String(monitor.pid ?? 0), disarmCommand.stdin, ...disarmCommand.argv], { stdio: 'ignore', detached: true });
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
      const e = tracer.parseLine(line);
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
    if (guard.pid && guard.exitCode === null && guard.signalCode === null) {
      // Waited for: when trace returns, nothing of it runs any more.
      const gone = new Promise((resolve) => guard.once('exit', resolve));
      try { process.kill(-guard.pid, 'SIGKILL'); } catch { /* gone */ }
      await Promise.race([gone, sleep(2000)]);
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
  const [route, conntrack] = await Promise.all([
    ctx.runner.run(routeArgv, { allowFailure: true }),
    ctx.runner.run(['conntrack', '-L', '-p', match.proto, '--dport', String(match.port), '--dst', match.addr], { allowFailure: true }),
  ]);
  const expected = firewallDriverFor(net).expectedRules(ruleOwners(networks.filter((n) => (n.firewall ?? 'iptables') === (net?.firewall ?? 'iptables')), records));
  const answered = shown.some((e) => e.kind === 'packet' && directionOf(e, match) === 'reply') && dropReason(shown, expected) === undefined;
  const text = renderTrace(shown, match, {
    expected,
    ...(route.exitCode === 0 ? { route: `${routeArgv.join(' ')} → ${route.stdout.trim().split('\n')[0] ?? ''}` } : {}),
    ...(conntrack.exitCode === 0 && conntrack.stdout.trim() ? { conntrack: conntrack.stdout.trim().split('\n')[0] ?? '' } : {}),
  });
  return { text, answered };
}
