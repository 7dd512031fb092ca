// The fact gatherer: everything the network planners need to know of the host, read in one
// place, so the planners (src/network/plan.ts) stay pure. Reads only; what it runs goes
// through the Runner. Small kernel files are read blocking: asynchronously, a /proc file
// (size 0) costs five thread-pool round trips.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import type { Protocol, NetworkRecord, ContainerRecord } from '../base/records.js';
import type { Runner } from '../exec/runner.js';
import type { FirewallDriver, FirewallDump, HostNet } from '../network/driver.js';
import { firewallDriverFor } from '../network/drivers.js';
import { firewallsOf, type AttachFacts, type NamedNetns, type NetworkFacts } from '../network/plan.js';
import { LINUX_EPHEMERAL_RANGE, parsePortSpec, parseProcNetListeners, type HostBinding } from '../network/ports.js';
import type { HostRoute } from '../network/subnets.js';

function readProc(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** Is the network's device there? /proc/sys follows the network namespace minictr runs in. */
export function bridgeExists(net: Pick<NetworkRecord, 'bridge'>): boolean {
  return existsSync(`/proc/sys/net/ipv4/conf/${net.bridge}`);
}

/**
 * What the link planners need of the kernel: a kernel booted with ipv6.disable=1 has no IPv6
 * at all, and no /proc/net/if_inet6. Not /proc/sys/net/ipv6: every lookup under /proc/sys/net
 * walks one cached entry per network namespace that ever read it (0.1 ms beside 1,000 containers).
 */
export function hostNet(): HostNet {
  return existsSync('/proc/net/if_inet6') ? {} : { noIPv6: true };
}

/** Docker picks ephemeral host ports from the kernel's local port range. */
export function ephemeralRange(): [number, number] {
  const [lo, hi] = readProc('/proc/sys/net/ipv4/ip_local_port_range', '').trim().split(/\s+/).map(Number);
  return lo && lo > 0 && hi && hi > 0 ? [lo, hi] : [...LINUX_EPHEMERAL_RANGE];
}

/** Does this -p spec leave its host port to the kernel's ephemeral range? */
function picksHostPort(spec: string): boolean {
  try {
    return parsePortSpec(spec).some((r) => r.hostPort === 0);
  } catch {
    return true; // the planner reports the bad spec
  }
}

/** Sockets bound on the host (in minictr's network namespace), from /proc/net. */
export function hostListeners(): HostBinding[] {
  const files: [string, Protocol][] = [['tcp', 'tcp'], ['tcp6', 'tcp'], ['udp', 'udp'], ['udp6', 'udp']];
  return files.flatMap(([file, proto]) =>
    // A socket on :: takes IPv4 too unless it is v6only (the default is dual-stack): count it for both.
    parseProcNetListeners(readProc(`/proc/net/${file}`, ''), proto).flatMap((l) =>
      file.endsWith('6') && l.ip === '::' ? [{ ip: '0.0.0.0', port: l.port, proto }, { ip: '::', port: l.port, proto }] : [{ ip: l.ip, port: l.port, proto }],
    ),
  );
}

/** The main routing table of both families (`ip -j route`, `ip -6 -j route`); empty when ip says nothing useful. */
export async function hostRoutes(runner: Runner): Promise<HostRoute[]> {
  const outs = await Promise.all([
    runner.run(['ip', '-j', 'route', 'show', 'table', 'main'], { allowFailure: true }),
    runner.run(['ip', '-6', '-j', 'route', 'show', 'table', 'main'], { allowFailure: true }),
  ]);
  return outs.flatMap((out) => {
    try {
      return (JSON.parse(out.stdout || '[]') as HostRoute[]).map((r) => ({ dst: r.dst, ...(r.dev ? { dev: r.dev } : {}) }));
    } catch {
      return [];
    }
  });
}

/**
 * A firewall driver's dump as text, under `prefix` (an nsenter, or nothing): its commands' outputs
 * joined; the first must succeed, the others (ip6tables-save) may be missing.
 */
export async function firewallText(runner: Runner, driver: FirewallDriver, prefix: readonly string[] = []): Promise<string> {
  const outs = await Promise.all(
    driver.dumpArgvs.map(async (argv, i) => {
      if (i === 0) return (await runner.run([...prefix, ...argv])).stdout;
      try {
        const r = await runner.run([...prefix, ...argv], { allowFailure: true });
        return r.exitCode === 0 ? r.stdout : '';
      } catch {
        return '';
      }
    }),
  );
  return outs.join('\n');
}

/** The interfaces plugged into a bridge (none when it is gone). */
export async function bridgePorts(runner: Runner, bridge: string): Promise<string[]> {
  const out = await runner.run(['ip', '-j', 'link', 'show', 'master', bridge], { allowFailure: true });
  if (out.exitCode !== 0) return [];
  try {
    return (JSON.parse(out.stdout || '[]') as { ifname?: string }[]).flatMap((l) => (l.ifname ? [l.ifname] : []));
  } catch {
    return [];
  }
}

/** The live ruleset, dumped and parsed by the network's firewall driver. */
export async function firewallDump(runner: Runner, net?: NetworkRecord): Promise<FirewallDump> {
  const driver = firewallDriverFor(net);
  return driver.parseDump(await firewallText(runner, driver));
}

/** The live ruleset of each firewall driver these networks use (iptables' when none), each parsed by its driver. */
export async function firewallDumps(runner: Runner, nets: NetworkRecord[]): Promise<{ firewall: FirewallDriver; dump: FirewallDump }[]> {
  const drivers = nets.length === 0 ? [firewallDriverFor()] : firewallsOf(nets);
  return Promise.all(drivers.map(async (firewall) => ({ firewall, dump: firewall.parseDump(await firewallText(runner, firewall)) })));
}

/** Whether the network's bridge and its rules are in place (the rules by two read-only probes). */
export async function networkFacts(runner: Runner, net: NetworkRecord): Promise<NetworkFacts> {
  const [standing, own] = firewallDriverFor(net).presenceProbes(net);
  const probe = async (argv: readonly string[] | undefined): Promise<boolean> =>
    argv !== undefined && (await runner.run(argv, { allowFailure: true })).exitCode === 0;
  const [standingRulesExist, networkRulesExist] = await Promise.all([probe(standing), probe(own)]);
  return { bridgeExists: bridgeExists(net), standingRulesExist, networkRulesExist };
}

/**
 * What attaching `record` to `net` needs: cheap facts always; the listeners only when it
 * publishes ports; routes and the firewall dump only when the bridge must be made.
 */
export async function attachFacts(runner: Runner, record: ContainerRecord, net: NetworkRecord): Promise<AttachFacts> {
  const exists = bridgeExists(net);
  const facts: AttachFacts = {
    bridgeExists: exists,
    listeners: record.hostConfig.portSpecs.length > 0 ? hostListeners() : [],
    ...(record.hostConfig.portSpecs.some(picksHostPort) ? { portRange: ephemeralRange() } : {}),
    ...hostNet(),
  };
  if (!exists) {
    const [routes, dump] = await Promise.all([hostRoutes(runner), firewallDump(runner, net)]);
    facts.routes = routes;
    facts.firewallDump = dump;
  }
  return facts;
}

/** Every `minictr-<12 hex>` namespace in /run/netns, with what uses it. */
export async function namedNamespaces(runner: Runner): Promise<NamedNetns[]> {
  let names: string[];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return [];
  }
  const found = names.flatMap((name) => {
    const m = /^minictr-([0-9a-f]{12})$/.exec(name);
    return m?.[1] ? [{ name, id12: m[1] }] : [];
  });
  return Promise.all(
    found.map(async ({ name, id12 }) => {
      const [pids, links] = await Promise.all([
        runner.run(['ip', 'netns', 'pids', name], { allowFailure: true }),
        runner.run(['ip', '-n', name, '-j', 'link', 'show'], { allowFailure: true }),
      ]);
      let count = 0;
      try {
        count = (JSON.parse(links.stdout || '[]') as { ifname?: string }[]).filter((l) => l.ifname !== 'lo').length;
      } catch {
        count = 0;
      }
      return {
        name,
        id12,
        pids: pids.stdout.split('\n').filter((l) => l.trim() !== '').length,
        links: count,
        vethHere: existsSync(`/proc/sys/net/ipv4/conf/veth${id12.slice(0, 7)}`),
      };
    }),
  );
}
