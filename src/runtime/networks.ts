// Network lifecycle: resolve, create, remove, prune, reload, and what running containers lost.
// Container attach/detach lives in ./attach.ts; planning is pure (src/network/plan.ts).
import { removeRootlessBridge } from './rootless-bridge.js';
import { createHash, randomBytes } from 'node:crypto';
import { MinictrError } from '../base/errors.js';
import { concatPlans, type Plan } from '../base/plan.js';
import { attachmentTo, attachmentsOf, type ContainerRecord, type FirewallName, type HostConfig, type NetworkRecord } from '../base/records.js';
import { applyPlan, applyPlanBestEffort } from '../exec/apply.js';
import { DEFAULT_FIREWALL, firewallDriverFor, networkDriverFor } from '../network/drivers.js';
import { parseSubnet, requestedIp } from '../network/ipam.js';
import { DEFAULT_NETWORK } from '../network/names.js';
import { attachedTo, checkPublishable, planNetworkSetup, planNetworkTeardown, planRepair, sharedChainsFree } from '../network/plan.js';
import { parsePortSpec } from '../network/ports.js';
import { checkGateway6, checkRequestedIp6, parseSubnet6, ulaSubnet } from '../network/ipv6.js';
import { checkGateway, checkSubnet6Free, checkSubnetFree, pickSubnet, pickSubnet6, type HostRoute } from '../network/subnets.js';
import { NAME_PATTERN, type Store } from '../state/store.js';
import { stepOptions, type RuntimeContext } from './context.js';
import { checkFirewallUsable, firewallChoice } from './firewall-choice.js';
import { bridgeExists, firewallDump, firewallDumps, hostRoutes, networkFacts } from './gather.js';

export const BUILTIN_MODES = new Set(['none', 'host']);

/** `--network container:NAME`, recorded as `container:<id>`: the id (or name as given), else undefined. */
export function joinedContainer(mode: string): string | undefined {
  return mode.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

/** Modes with no attachment of their own: none, host, and another container's namespace. */
export function ownsNoAttachment(mode: string): boolean {
  return BUILTIN_MODES.has(mode) || joinedContainer(mode) !== undefined;
}

/**
 * The default bridge's IPv6, from the state dir's config.json in Docker's daemon.json words:
 * `"ipv6": true`, and `"fixed-cidr-v6": "fd…/64"` (else a ULA /64 from the network's id).
 * Read when the default bridge is first recorded, as Docker reads it at its start.
 */
export function defaultBridgeIPv6(config: Record<string, unknown>, where: string): Pick<NetworkRecord, 'subnet6' | 'gateway6'> {
  const on = config['ipv6'];
  const cidr = config['fixed-cidr-v6'];
  if (on !== undefined && typeof on !== 'boolean') throw new MinictrError('E_BAD_CONFIG', `invalid "ipv6" in ${where}: use true or false`);
  if (cidr !== undefined && typeof cidr !== 'string') throw new MinictrError('E_BAD_CONFIG', `invalid "fixed-cidr-v6" in ${where}: use a string such as "fd00:1::/64"`);
  if (on !== true) {
    if (cidr !== undefined) throw new MinictrError('E_BAD_CONFIG', `"fixed-cidr-v6" in ${where} needs "ipv6": true beside it`);
    return {};
  }
  const subnet6 = cidr ? parseSubnet6(cidr).cidr : ulaSubnet(DEFAULT_NETWORK_ID);
  return { subnet6, gateway6: parseSubnet6(subnet6).gateway };
}

// Stable across hosts and runs: the default network is always the same network.
const DEFAULT_NETWORK_ID = createHash('sha256').update('minictr network bridge').digest('hex');

/** The default bridge as it is recorded on first use, with the firewall (and IPv6) chosen globally then. */
export function defaultNetworkRecord(firewall: FirewallName = DEFAULT_FIREWALL, ipv6: Pick<NetworkRecord, 'subnet6' | 'gateway6'> = {}): NetworkRecord {
  return {
    schemaVersion: 1,
    name: DEFAULT_NETWORK.name,
    id: DEFAULT_NETWORK_ID,
    driver: 'bridge',
    firewall,
    bridge: DEFAULT_NETWORK.bridge,
    subnet: DEFAULT_NETWORK.subnet,
    gateway: DEFAULT_NETWORK.gateway,
    ...ipv6,
    created: new Date().toISOString(),
  };
}

/** The default bridge as first use would record it now. */
function defaultNetworkNow(store: Store): NetworkRecord {
  return defaultNetworkRecord(firewallChoice(store), defaultBridgeIPv6(store.loadConfig(), store.paths.config));
}

export async function resolveNetwork(store: Store, name: string): Promise<NetworkRecord> {
  const found = await store.loadNetwork(name);
  if (found) return found;
  if (name === DEFAULT_NETWORK.name) return defaultNetworkNow(store);
  throw new MinictrError('E_NO_SUCH_NETWORK', `network ${name} not found; list networks with "minictr network ls"`);
}

/** Every network `network ls` shows: the recorded ones, and the default bridge even before its first use. */
export async function listNetworks(store: Store): Promise<NetworkRecord[]> {
  const recorded = await store.listNetworks();
  return recorded.some((n) => n.name === DEFAULT_NETWORK.name) ? recorded : [...recorded, defaultNetworkNow(store)];
}

/** Refuse a bad network mode or -p before anything is created. */
export async function validateNetworking(store: Store, host: HostConfig, aliases: readonly string[] = []): Promise<void> {
  const requests = host.portSpecs.flatMap((spec) => parsePortSpec(spec));
  if (joinedContainer(host.networkMode) !== undefined) {
    // Docker's checks: the network, its names and its files are the other container's.
    const conflicts: [boolean, string][] = [
      [host.portSpecs.length > 0, 'port publishing and the container type network mode'],
      [(host.dns ?? []).length + (host.dnsSearch ?? []).length + (host.dnsOptions ?? []).length > 0, 'dns and the network mode'],
      [(host.extraHosts ?? []).length > 0, 'custom host-to-IP mapping and the network mode'],
      [aliases.length > 0 || host.ipAddress !== undefined || host.ip6Address !== undefined, 'network-scoped alias or address and the network mode'],
    ];
    const conflict = conflicts.find(([on]) => on);
    if (conflict) throw new MinictrError('E_CONFLICTING_OPTIONS', `conflicting options: ${conflict[1]}`);
    const ref = joinedContainer(host.networkMode) ?? '';
    try {
      await store.findContainer(ref);
    } catch {
      throw new MinictrError('E_NO_SUCH_CONTAINER', `no such container: ${ref} (for --network container:${ref})`);
    }
    return;
  }
  if (aliases.length > 0 && (BUILTIN_MODES.has(host.networkMode) || host.networkMode === DEFAULT_NETWORK.name)) {
    throw new MinictrError('E_CONFLICTING_OPTIONS', 'network-scoped alias is supported only for containers in user defined networks');
  }
  if (BUILTIN_MODES.has(host.networkMode)) {
    if (host.ipAddress !== undefined || host.ip6Address !== undefined) throw new MinictrError('E_CONFLICTING_OPTIONS', 'user specified IP address is supported on user defined networks only');
    if (host.portSpecs.length > 0) {
      throw new MinictrError(
        'E_CONFLICTING_OPTIONS',
        `conflicting options: port publishing and --network ${host.networkMode}; ports are published only on bridge networks`,
      );
    }
    return;
  }
  const net = await resolveNetwork(store, host.networkMode);
  checkPublishable(net, requests);
  if (host.ipAddress !== undefined) {
    if (net.name === DEFAULT_NETWORK.name) throw new MinictrError('E_CONFLICTING_OPTIONS', 'user specified IP address is supported on user defined networks only');
    // Free or not is known at start (as in Docker); the address itself is checked now.
    requestedIp(net.subnet, net.gateway, [], host.ipAddress, net.name);
  }
  if (host.ip6Address !== undefined) {
    if (net.name === DEFAULT_NETWORK.name) throw new MinictrError('E_CONFLICTING_OPTIONS', 'user specified IP address is supported on user defined networks only');
    checkRequestedIp6(net, host.ip6Address);
  }
}

/** The rules every network and attached container should have, minus those present: each firewall driver's from its own dump. */
async function planRepairNow(ctx: RuntimeContext, records: ContainerRecord[], extra: NetworkRecord[] = []): Promise<Plan> {
  const recorded = await ctx.store.listNetworks();
  const nets = [...recorded, ...extra.filter((n) => !recorded.some((r) => r.name === n.name))];
  const dumps = await firewallDumps(ctx.runner, nets);
  return concatPlans('restore missing firewall rules', ...dumps.map(({ firewall, dump }) => planRepair(dump, nets, records, firewall)));
}

/** How many lines of a plan's inputs match: rules and elements put back (iptables-restore's -A/-I, nft's add rule/element), or iptables rules deleted. */
function linesMatching(plan: Plan, line: RegExp): number {
  return plan.ops.reduce((sum, op) => sum + (op.kind === 'command' ? (op.stdin ?? '').split('\n').filter((l) => line.test(l)).length : 0), 0);
}

/** What a network reload did: rules (and elements) put back, and minictr rules of an older shape replaced. */
export interface ReloadCount {
  restored: number;
  replaced: number;
}

/**
 * Put back whatever minictr rules are missing (after a firewall reload), for every network
 * and every attached container, and bridges deleted by hand with their containers plugged back
 * in; the container index is built again from the records. Idempotent: what is present is left
 * alone; a minictr rule of an older shape beside (or instead of) its current one is replaced.
 * Returns how many rules were re-added and replaced.
 */
export async function reloadNetworks(ctx: RuntimeContext): Promise<ReloadCount> {
  const { store, runner } = ctx;
  return store.lock('network', async () => {
    // The index of members is derived from the records: built again with everything else.
    await store.index.rebuild();
    const records = (await store.listContainers()).filter((r) => r.network);
    const networks = await store.listNetworks();
    if (networks.length === 0) return { restored: 0, replaced: 0 };
    const bridges: Plan[] = [];
    for (const net of networks) {
      if ((await networkFacts(runner, net)).bridgeExists) continue;
      bridges.push(
        planNetworkSetup(net, { bridgeExists: false, standingRulesExist: true, networkRulesExist: true }),
        networkDriverFor(net).planReattach(net, attachedTo(records, net.name)),
      );
    }
    await applyPlan(concatPlans('re-create bridges', ...bridges), runner, stepOptions(ctx));
    const plan = await planRepairNow(ctx, records);
    await applyPlan(plan, runner, stepOptions(ctx));
    // A repair deletes only rules of an older shape (after adding the ones that replace them).
    return { restored: linesMatching(plan, /^(-[AI] |add (rule|element) )/), replaced: linesMatching(plan, /^-D /) };
  });
}

/** Remove a network: its rules, its bridge, and (if it was the last) minictr's chains. */
export async function removeNetwork(ctx: RuntimeContext, name: string): Promise<void> {
  const { store, runner } = ctx;
  if (BUILTIN_MODES.has(name)) {
    throw new MinictrError('E_BUILTIN_NETWORK', `${name} is a pre-defined network and cannot be removed`, { exitCode: 1 });
  }
  await store.lock('network', async () => {
    const net = await store.loadNetwork(name);
    if (!net) throw new MinictrError('E_NO_SUCH_NETWORK', `network ${name} not found`, { exitCode: 1 });
    const users = (await store.listContainers()).filter((c) => attachmentTo(c, name) !== undefined || c.rootlessNet?.network === name);
    if (users.length > 0) {
      throw new MinictrError(
        'E_NETWORK_IN_USE',
        `error while removing network: network ${name} has active endpoints (${users.map((u) => u.name).join(', ')}); remove them first`,
        { exitCode: 1 },
      );
    }
    if (ctx.rootless) {
      await removeRootlessBridge(ctx, net);
      await store.removeNetwork(name);
      return;
    }
    // The last network of its firewall driver takes that driver's shared chains (or table) with it,
    // unless rules of others (the CNI plugin's, another state root's) still use them.
    const sameDriver = (await store.listNetworks()).filter((n) => firewallDriverFor(n).name === firewallDriverFor(net).name);
    const dump = await firewallDump(runner, net);
    const last = sameDriver.every((n) => n.name === name) && sharedChainsFree(dump, net);
    const lastIPv6 = net.subnet6 !== undefined && sameDriver.every((n) => n.name === name || !n.subnet6) && sharedChainsFree(dump, net, 6);
    const { failures } = await applyPlanBestEffort(planNetworkTeardown(net, { lastNetwork: last, lastIPv6Network: lastIPv6 }), runner, stepOptions(ctx));
    if (failures[0]) throw failures[0].error;
    await store.removeNetwork(name);
  });
}

export interface CreateNetworkRequest {
  name: string;
  subnet?: string;
  gateway?: string;
  /** `--ipv6`: an IPv6 subnet too (`subnet6`, else a ULA /64 that clashes with nothing). */
  ipv6?: boolean;
  subnet6?: string;
  gateway6?: string;
  /** `-o KEY=VALUE` (`firewall=iptables|nftables`, `com.docker.network.bridge.name=NAME`), echoed in `network inspect`'s Options. */
  options?: Record<string, string>;
  /** `--label K=V`, shown in `network inspect` and matched by `network ls --filter label=`. */
  labels?: Record<string, string>;
  /** `--internal`: no masquerade, no route out. */
  internal?: boolean;
}

/** Docker's option for the bridge device's name. */
export const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';

/** The bridge's name from -o (Linux allows 15 characters), or minictr's own. */
function bridgeNameOf(options: Record<string, string>, id: string, others: NetworkRecord[]): string {
  const name = options[BRIDGE_NAME_OPTION];
  if (name === undefined) return `minictr-${id.slice(0, 7)}`;
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(name)) {
    throw new MinictrError('E_BAD_OPTION', `invalid bridge name "${name}" for ${BRIDGE_NAME_OPTION}: 1 to 15 of [a-zA-Z0-9_.-]`);
  }
  const holder = others.find((n) => n.bridge === name);
  if (holder) throw new MinictrError('E_BAD_OPTION', `bridge name ${name} is already used by network "${holder.name}"`);
  return name;
}

/** The -o keys minictr understands; Docker's bridge driver ignores unknown ones, minictr refuses them. */
const NETWORK_OPTIONS = new Set(['firewall', BRIDGE_NAME_OPTION]);

/** A new network's IPv6 subnet and gateway: as asked, or a ULA /64 from its id that no network or host route uses. */
function ipv6Of(id: string, request: CreateNetworkRequest, others: NetworkRecord[], routes: HostRoute[]): Pick<NetworkRecord, 'subnet6' | 'gateway6'> {
  const subnet6 = request.subnet6 ? parseSubnet6(request.subnet6).cidr : pickSubnet6(id, others, routes);
  const gateway6 = request.gateway6 ? checkGateway6(subnet6, request.gateway6) : parseSubnet6(subnet6).gateway;
  return { subnet6, gateway6 };
}

/** `network create`: a new bridge network with its own subnet, bridge device and rules. */
export async function createNetwork(ctx: RuntimeContext, request: CreateNetworkRequest): Promise<NetworkRecord> {
  const { store, runner } = ctx;
  const { name } = request;
  if (!NAME_PATTERN.test(name)) {
    throw new MinictrError('E_BAD_NAME', `invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  if (BUILTIN_MODES.has(name) || name === DEFAULT_NETWORK.name) {
    throw new MinictrError('E_NETWORK_EXISTS', `network with name ${name} already exists (it is pre-defined)`);
  }
  return store.lock('network', async () => {
    if (await store.loadNetwork(name)) {
      throw new MinictrError('E_NETWORK_EXISTS', `network with name ${name} already exists`);
    }
    const others = await listNetworks(store);
    const routes = await hostRoutes(runner);
    const subnet = request.subnet ? parseSubnet(request.subnet).cidr : pickSubnet(others, routes);
    const gateway = request.gateway ?? parseSubnet(subnet).gateway;
    checkGateway(subnet, gateway);
    const options = request.options ?? {};
    for (const key of Object.keys(options)) {
      if (!NETWORK_OPTIONS.has(key)) throw new MinictrError('E_BAD_OPTION', `unknown network option "${key}": minictr knows ${[...NETWORK_OPTIONS].join(', ')}`);
    }
    if (ctx.rootless) {
      // Rootless: only the record; the bridge is made in the user's rootless namespace on first use.
      const id = randomBytes(32).toString('hex');
      const net: NetworkRecord = {
        schemaVersion: 1, name, id, driver: 'bridge', bridge: `minictr-${id.slice(0, 7)}`, subnet, gateway, created: new Date().toISOString(),
        ...(request.labels && Object.keys(request.labels).length > 0 ? { labels: request.labels } : {}),
      };
      checkSubnetFree(subnet, others, routes, net.bridge);
      await store.saveNetwork(net);
      return net;
    }
    const firewall = firewallChoice(store, options['firewall']);
    await checkFirewallUsable(runner, firewall);
    const id = randomBytes(32).toString('hex');
    const net: NetworkRecord = {
      schemaVersion: 1, name, id, driver: 'bridge', firewall, bridge: bridgeNameOf(options, id, others),
      subnet, gateway, ...(request.ipv6 ? ipv6Of(id, request, others, routes) : {}),
      created: new Date().toISOString(), ...(Object.keys(options).length > 0 ? { options } : {}),
      ...(request.internal ? { internal: true } : {}),
      ...(request.labels && Object.keys(request.labels).length > 0 ? { labels: request.labels } : {}),
    };
    checkSubnetFree(subnet, others, routes, net.bridge);
    if (net.subnet6) checkSubnet6Free(net.subnet6, others, routes, net.bridge);
    await store.saveNetwork(net);
    try {
      const facts = await networkFacts(runner, net);
      const plan = concatPlans(
        `create network ${name}`,
        planNetworkSetup(net, { ...facts, standingRulesExist: true, networkRulesExist: true }),
        facts.standingRulesExist && facts.networkRulesExist ? { title: '', ops: [] } : await planRepairNow(ctx, [], [net]),
      );
      await applyPlan(plan, runner, stepOptions(ctx));
    } catch (err) {
      await applyPlanBestEffort(planNetworkTeardown(net, { lastNetwork: false }), runner);
      await store.removeNetwork(name);
      throw err;
    }
    return net;
  });
}

/**
 * What running containers are missing on the host (a bridge deleted by hand, minictr's rules
 * wiped by a firewall reload): one line each, for commands to report. Reads only.
 */
export async function networkProblems(ctx: RuntimeContext, records: ContainerRecord[], options: { rules: boolean }): Promise<string[]> {
  const names = [...new Set(records.flatMap((r) => (r.state.status === 'running' && r.network ? [r.network.network] : [])))];
  const out: string[] = [];
  for (const name of names) {
    const net = await ctx.store.loadNetwork(name);
    if (!net) continue;
    // The bridge is a file under /proc/sys; the rules take two firewall processes, so only when asked.
    const facts = options.rules ? await networkFacts(ctx.runner, net) : { bridgeExists: bridgeExists(net), standingRulesExist: true, networkRulesExist: true };
    if (!facts.bridgeExists) out.push(`the bridge ${net.bridge} of network ${name} is gone; containers on it are cut off`);
    else if (!facts.standingRulesExist || !facts.networkRulesExist) out.push(`minictr's firewall rules for network ${name} are missing (a firewall reload?)`);
  }
  return out;
}

/** Remove every network no container is attached to; returns their names. */
export async function pruneNetworks(ctx: RuntimeContext): Promise<string[]> {
  const inUse = new Set((await ctx.store.listContainers()).flatMap((c) => [...attachmentsOf(c).map((a) => a.network), c.rootlessNet?.network]));
  const removed: string[] = [];
  for (const net of await ctx.store.listNetworks()) {
    if (inUse.has(net.name)) continue;
    await removeNetwork(ctx, net.name);
    // The default bridge's kernel objects go too (nothing of minictr stays on an idle host), but the
    // network itself is Docker's predefined "bridge", which is never pruned: it is back on next use.
    if (net.name !== DEFAULT_NETWORK.name) removed.push(net.name);
  }
  return removed;
}
