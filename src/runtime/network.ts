// The runtime's side of networking: gathers facts from the host, allocates addresses and
// host ports under the network lock, records the attachment, then applies the pure plans
// of src/network. Teardown is always planned from the record.
import { existsSync, readFileSync } from 'node:fs';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { MinictrError } from '../base/errors.js';
import { checkpoint } from './checkpoint.js';
import { applyPlan, applyPlanBestEffort, type ApplyOptions, type StepReport } from '../exec/apply.js';
import type { Runner } from '../exec/runner.js';
import { concatPlans, type Plan } from '../base/plan.js';
import type { Store } from '../state/store.js';
import type { ContainerRecord, HostConfig, NetworkAttachment, NetworkRecord, Protocol } from '../base/records.js';
import { allocateIp, parseSubnet } from '../network/ipam.js';
import { checkGateway, checkSubnetFree, pickSubnet, type HostRoute } from '../network/subnets.js';
import { NAME_PATTERN } from '../state/store.js';
import { DEFAULT_NETWORK, hostVethName, macFromIp, netnsName } from '../network/names.js';
import {
  assignHostPorts,
  parsePortSpec,
  parseProcNetListeners,
  takenBy,
  type HostBinding,
  type PortRequest,
} from '../network/ports.js';
import {
  firewallChecks,
  planContainerFirewallSetup,
  planContainerLinkSetup,
  planContainerNetworkTeardown,
  planContainerFirewallTeardown,
  planContainerLinkTeardown,
  planNetworkSetup,
  planNetworkTeardown,
  planFirewallRepair,
  planReattachVeths,
  type NetworkFacts,
} from '../network/plan.js';
import {
  containerRules,
  iptablesCheck,
  missingFromSave,
  networkRules,
  standingChains,
  standingRules,
  type Rule,
} from '../network/firewall/iptables.js';

export const BUILTIN_MODES = new Set(['none', 'host']);

export function defaultNetworkRecord(): NetworkRecord {
  return {
    schemaVersion: 1,
    name: DEFAULT_NETWORK.name,
    // Stable across hosts and runs: the default network is always the same network.
    id: createHash('sha256').update('minictr network bridge').digest('hex'),
    driver: 'bridge',
    bridge: DEFAULT_NETWORK.bridge,
    subnet: DEFAULT_NETWORK.subnet,
    gateway: DEFAULT_NETWORK.gateway,
    created: new Date().toISOString(),
  };
}

/** A small kernel file, read blocking: asynchronously, a /proc file (size 0) costs five thread-pool round trips. */
function readProc(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** Docker picks ephemeral host ports from the kernel's local port range. */
function ephemeralRange(): [number, number] {
  const text = readProc('/proc/sys/net/ipv4/ip_local_port_range', '32768\t60999');
  const [lo, hi] = text.trim().split(/\s+/).map(Number);
  return [lo && lo > 0 ? lo : 32768, hi && hi > 0 ? hi : 60999];
}

/** Sockets bound on the host (in minictr's network namespace), from /proc/net. */
function hostListeners(): HostBinding[] {
  const files: [string, Protocol][] = [['tcp', 'tcp'], ['tcp6', 'tcp'], ['udp', 'udp'], ['udp6', 'udp']];
  return files.flatMap(([file, proto]) =>
    parseProcNetListeners(readProc(`/proc/net/${file}`, ''), proto).map((l) => ({ ip: l.ip, port: l.port, proto })),
  );
}

export interface AttachPlans {
  attachment: NetworkAttachment;
  net: NetworkRecord;
  prepare: Plan;
  links: Plan;
  firewall: Plan;
  plan: Plan;
}

function attachedTo(records: ContainerRecord[], network: string): NetworkAttachment[] {
  return records.flatMap((r) => (r.network?.network === network ? [r.network] : []));
}

export class ContainerNetworking {
  constructor(
    private readonly store: Store,
    private readonly runner: Runner,
    private readonly onStep?: (report: StepReport) => void,
  ) {}

  /** Refuse a bad network mode or -p before anything is created. */
  async validate(host: HostConfig): Promise<void> {
    for (const spec of host.portSpecs) parsePortSpec(spec);
    if (BUILTIN_MODES.has(host.networkMode)) {
      if (host.portSpecs.length > 0) {
        throw new MinictrError(
          'E_CONFLICTING_OPTIONS',
          `conflicting options: port publishing and --network ${host.networkMode}; ports are published only on bridge networks`,
        );
      }
      return;
    }
    await this.resolveNetwork(host.networkMode);
  }

  async resolveNetwork(name: string): Promise<NetworkRecord> {
    const found = await this.store.loadNetwork(name);
    if (found) return found;
    if (name === DEFAULT_NETWORK.name) return defaultNetworkRecord();
    throw new MinictrError('E_NO_SUCH_NETWORK', `network ${name} not found; list networks with "minictr network ls"`);
  }

  /** What already exists on the host, so the plan holds only the missing steps. */
  async facts(net: NetworkRecord): Promise<NetworkFacts> {
    // The same two rules a container's restore checks, probed one by one (read only).
    const [standing, network] = firewallChecks(net);
    const [bridgeExists, standingRulesExist, networkRulesExist] = await Promise.all([
      this.bridgeExists(net),
      this.checkRule(standing),
      this.checkRule(network),
    ]);
    return { bridgeExists, standingRulesExist, networkRulesExist };
  }

  /**
   * Decide the container's address, veth, namespace and host ports (no host changes).
   * `records` are all containers, for addresses and ports already taken.
   */
  async planAttachment(record: ContainerRecord, net: NetworkRecord, records: ContainerRecord[]): Promise<NetworkAttachment> {
    const others = records.filter((r) => r.id !== record.id && r.network);
    const used = others.filter((r) => r.network?.network === net.name).map((r) => r.network?.ip ?? '');
    const ip = allocateIp(net.subnet, net.gateway, used, net.name);
    const requests: PortRequest[] = record.hostConfig.portSpecs.flatMap((spec) => parsePortSpec(spec));
    const occupied: HostBinding[] = others.flatMap((r) =>
      (r.network?.ports ?? []).map((p) => ({ ip: p.hostIp || '0.0.0.0', port: p.hostPort, proto: p.proto })),
    );
    if (requests.length > 0) occupied.push(...hostListeners());
    const [lo, hi] = ephemeralRange();
    const ports = assignHostPorts(requests, takenBy(occupied), () => randomInt(lo, hi + 1));
    return {
      network: net.name,
      bridge: net.bridge,
      netns: netnsName(record.id),
      hostVeth: hostVethName(record.id),
      ip,
      prefixLength: parseSubnet(net.subnet).prefixLength,
      gateway: net.gateway,
      mac: macFromIp(ip),
      ports,
    };
  }

  /**
   * The whole plan for attaching a container, in three parts: what the network needs first
   * (sysctls; on first use the bridge and whatever rules iptables-save lacks), the container's
   * links, then its firewall rules. `plan` is all of it in order, for --dry-run.
   */
  async planAttach(record: ContainerRecord, records: ContainerRecord[]): Promise<AttachPlans | undefined> {
    if (BUILTIN_MODES.has(record.hostConfig.networkMode)) return undefined;
    const net = await this.resolveNetwork(record.hostConfig.networkMode);
    const attachment = await this.planAttachment(record, net, records);
    const bridgeExists = await this.bridgeExists(net);
    if (!bridgeExists) {
      // First use of this network on this host: its subnet must not shadow a route the host has.
      const others = (await this.store.listNetworks()).filter((n) => n.name !== net.name);
      checkSubnetFree(net.subnet, others, await this.hostRoutes(), net.bridge);
    }
    const setup = planNetworkSetup(net, { bridgeExists, standingRulesExist: true, networkRulesExist: true });
    // A new bridge (first use, a reboot, deleted by hand): compare the rules with iptables-save,
    // and plug back the veths of containers that were on it. A standing bridge: assume the rules
    // are there, and let the container's own restore check two of them (no extra process).
    const prepare = bridgeExists
      ? setup
      : concatPlans(setup.title, setup, planReattachVeths(net.bridge, attachedTo(records, net.name)), await this.planRepair(records, [net]));
    const links = planContainerLinkSetup(attachment);
    const firewall = planContainerFirewallSetup(attachment, bridgeExists ? firewallChecks(net) : []);
    const plan = concatPlans(`connect container ${record.name} to network ${net.name}`, prepare, links, firewall);
    return { attachment, net, prepare, links, firewall, plan };
  }

  /** The rules every network and attached container should have, minus those present. */
  private async planRepair(records: ContainerRecord[], extraNets: NetworkRecord[] = []): Promise<Plan> {
    const recorded = await this.store.listNetworks();
    const nets = [...recorded, ...extraNets.filter((n) => !recorded.some((r) => r.name === n.name))];
    const wanted: Rule[] = [
      ...standingRules(),
      ...nets.flatMap((n) => networkRules(n)),
      ...records.flatMap((r) => (r.network ? containerRules(r.network) : [])),
    ];
    const save = (await this.runner.run(['iptables-save'])).stdout;
    return planFirewallRepair(missingFromSave(save, standingChains(), wanted));
  }

  /**
   * Put back whatever minictr rules are missing (after a firewall reload), for every network
   * and every attached container. Idempotent: rules present are left alone.
   * Returns how many rules were re-added.
   */
  async reload(): Promise<number> {
    return this.store.lock('network', async () => {
      const records = (await this.store.listContainers()).filter((r) => r.network);
      if ((await this.store.listNetworks()).length === 0) return 0;
      // Bridges deleted by hand come back first, with their containers plugged in again.
      const bridges: Plan[] = [];
      for (const net of await this.store.listNetworks()) {
        const facts = await this.facts(net);
        if (facts.bridgeExists) continue;
        bridges.push(
          planNetworkSetup(net, { ...facts, standingRulesExist: true, networkRulesExist: true }),
          planReattachVeths(net.bridge, attachedTo(records, net.name)),
        );
      }
      await applyPlan(concatPlans('re-create bridges', ...bridges), this.runner, this.onStepOptions());
      const plan = await this.planRepair(records);
      await applyPlan(plan, this.runner, this.onStepOptions());
      const op = plan.ops[0];
      return op?.kind === 'command' ? (op.stdin ?? '').split('\n').filter((l) => l.startsWith('-')).length : 0;
    });
  }

  private async bridgeExists(net: NetworkRecord): Promise<boolean> {
    return existsSync(`/proc/sys/net/ipv4/conf/${net.bridge}`);
  }

  private async checkRule(rule: Rule | undefined): Promise<boolean> {
    if (!rule) return false;
    return (await this.runner.run(iptablesCheck(rule), { allowFailure: true })).exitCode === 0;
  }

  /** Create the container's network objects; on failure, remove whatever was made. */
  async attach(record: ContainerRecord): Promise<NetworkAttachment | undefined> {
    if (BUILTIN_MODES.has(record.hostConfig.networkMode)) return undefined;
    return this.store.lock('network', async () => {
      const records = await this.store.listContainers();
      const planned = await this.planAttach(record, records);
      if (!planned) return undefined;
      const { attachment, net } = planned;
      if (!(await this.store.loadNetwork(net.name))) await this.store.saveNetwork(net);
      // Written down before anything is created, so teardown can always find it.
      const saved = await this.store.lock('containers', async () => {
        const current = await this.store.loadContainer(record.id);
        if (!current) return false;
        current.network = attachment;
        await this.store.saveContainer(current);
        return true;
      });
      if (!saved) throw new MinictrError('E_GONE', `container ${record.id.slice(0, 12)} was removed while starting`);
      await checkpoint(this.store.paths.root, 'network-recorded');
      try {
        let step = 0;
        const options = {
          onStep: async (report: StepReport) => {
            this.onStep?.(report);
            step++;
            await checkpoint(this.store.paths.root, `network-step-${step}`);
          },
        };
        await applyPlan(planned.prepare, this.runner, options);
        await applyPlan(planned.links, this.runner, options);
        // Only after the links: a DNAT rule to an address nobody answers yet would drop a
        // client's SYN (a 1 s retransmit) instead of refusing it until the process listens.
        const withThis = [...records.filter((r) => r.id !== record.id), { ...record, network: attachment }];
        await this.applyFirewall(planned.firewall, withThis, options);
      } catch (err) {
        await applyPlanBestEffort(planContainerNetworkTeardown(attachment), this.runner);
        await this.store.lock('containers', async () => {
          const current = await this.store.loadContainer(record.id);
          if (current) {
            delete current.network;
            await this.store.saveContainer(current);
          }
        });
        throw err;
      }
      return attachment;
    });
  }

  /**
   * The container's rules; when their restore fails (a check found minictr's rules wiped),
   * put back everything missing, this container's rules included, from iptables-save.
   */
  private async applyFirewall(firewall: Plan, records: ContainerRecord[], options: ApplyOptions): Promise<void> {
    try {
      await applyPlan(firewall, this.runner, options);
    } catch (err) {
      const repair = await this.planRepair(records);
      if (repair.ops.length === 0) throw err;
      await applyPlan(repair, this.runner, options);
    }
  }

  /** Undo a container's network objects as recorded; anything already gone counts as removed. */
  async detach(record: ContainerRecord): Promise<void> {
    const attachment = record.network;
    if (!attachment) return;
    await this.store.lock('network', async () => {
      // Rules and links are independent: removing them side by side saves a few tens of ms.
      await Promise.all([
        applyPlanBestEffort(planContainerFirewallTeardown(attachment), this.runner, this.onStepOptions()),
        applyPlanBestEffort(planContainerLinkTeardown(attachment), this.runner, this.onStepOptions()),
      ]);
    });
  }

  /** Remove a network: its rules, its bridge, and (if it was the last) minictr's chains. */
  async removeNetwork(name: string): Promise<void> {
    await this.store.lock('network', async () => {
      const net = await this.store.loadNetwork(name);
      if (!net) throw new MinictrError('E_NO_SUCH_NETWORK', `network ${name} not found`, { exitCode: 1 });
      const users = (await this.store.listContainers()).filter((c) => c.network?.network === name);
      if (users.length > 0) {
        throw new MinictrError(
          'E_NETWORK_IN_USE',
          `error while removing network: network ${name} has active endpoints (${users.map((u) => u.name).join(', ')}); remove them first`,
          { exitCode: 1 },
        );
      }
      const last = (await this.store.listNetworks()).every((n) => n.name === name);
      const failures = await applyPlanBestEffort(planNetworkTeardown(net, { lastNetwork: last }), this.runner, this.onStepOptions());
      if (failures.length > 0) throw failures[0];
      await this.store.removeNetwork(name);
    });
  }

  async hostRoutes(): Promise<HostRoute[]> {
    const out = await this.runner.run(['ip', '-j', 'route', 'show', 'table', 'main'], { allowFailure: true });
    try {
      return (JSON.parse(out.stdout || '[]') as HostRoute[]).map((r) => ({ dst: r.dst, ...(r.dev ? { dev: r.dev } : {}) }));
    } catch {
      return [];
    }
  }

  /** `network create`: a new bridge network with its own subnet, bridge device and rules. */
  async createNetwork(request: { name: string; subnet?: string; gateway?: string }): Promise<NetworkRecord> {
    const { name } = request;
    if (!NAME_PATTERN.test(name)) {
      throw new MinictrError('E_BAD_NAME', `invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    if (BUILTIN_MODES.has(name) || name === DEFAULT_NETWORK.name) {
      throw new MinictrError('E_NETWORK_EXISTS', `network with name ${name} already exists (it is pre-defined)`);
    }
    return this.store.lock('network', async () => {
      if (await this.store.loadNetwork(name)) {
        throw new MinictrError('E_NETWORK_EXISTS', `network with name ${name} already exists`);
      }
      const recorded = await this.store.listNetworks();
      const others = recorded.some((n) => n.name === DEFAULT_NETWORK.name) ? recorded : [...recorded, defaultNetworkRecord()];
      const routes = await this.hostRoutes();
      const subnet = request.subnet ? parseSubnet(request.subnet).cidr : pickSubnet(others, routes);
      const gateway = request.gateway ?? parseSubnet(subnet).gateway;
      checkGateway(subnet, gateway);
      const id = randomBytes(32).toString('hex');
      const net: NetworkRecord = {
        schemaVersion: 1, name, id, driver: 'bridge', bridge: `minictr-${id.slice(0, 7)}`,
        subnet, gateway, created: new Date().toISOString(),
      };
      checkSubnetFree(subnet, others, routes, net.bridge);
      await this.store.saveNetwork(net);
      try {
        const facts = await this.facts(net);
        const plan = concatPlans(
          `create network ${name}`,
          planNetworkSetup(net, { ...facts, standingRulesExist: true, networkRulesExist: true }),
          facts.standingRulesExist && facts.networkRulesExist ? { title: '', ops: [] } : await this.planRepair([], [net]),
        );
        await applyPlan(plan, this.runner, this.onStepOptions());
      } catch (err) {
        await applyPlanBestEffort(planNetworkTeardown(net, { lastNetwork: false }), this.runner);
        await this.store.removeNetwork(name);
        throw err;
      }
      return net;
    });
  }

  /**
   * What running containers are missing on the host (a bridge deleted by hand, minictr's rules
   * wiped by a firewall reload): one line each, for commands to report. Reads only.
   */
  async problems(records: ContainerRecord[]): Promise<string[]> {
    const names = [...new Set(records.flatMap((r) => (r.state.status === 'running' && r.network ? [r.network.network] : [])))];
    const out: string[] = [];
    for (const name of names) {
      const net = await this.store.loadNetwork(name);
      if (!net) continue;
      const facts = await this.facts(net);
      if (!facts.bridgeExists) out.push(`the bridge ${net.bridge} of network ${name} is gone; containers on it are cut off`);
      else if (!facts.standingRulesExist || !facts.networkRulesExist) out.push(`minictr's firewall rules for network ${name} are missing (a firewall reload?)`);
    }
    return out;
  }

  /** Remove every network no container is attached to; returns their names. */
  async pruneUnused(): Promise<string[]> {
    const inUse = new Set((await this.store.listContainers()).map((c) => c.network?.network));
    const removed: string[] = [];
    for (const net of await this.store.listNetworks()) {
      if (inUse.has(net.name)) continue;
      await this.removeNetwork(net.name);
      removed.push(net.name);
    }
    return removed;
  }

  private onStepOptions(): { onStep?: (report: StepReport) => void } {
    return this.onStep ? { onStep: this.onStep } : {};
  }
}
