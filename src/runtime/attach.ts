// A container's network, attached and detached: gather the facts, plan (pure, src/network),
// record the attachment, apply; on failure roll back from the same attachment. Teardown is
// always planned from the record.
import { randomInt } from 'node:crypto';
import { MinictrError, withWarnings } from '../base/errors.js';
import { concatPlans, type Plan, type StepReport } from '../base/plan.js';
import type { ContainerRecord, NetworkAttachment, RecordedProcess } from '../base/records.js';
import type { NetworkMember } from '../base/members.js';
import { applyPlan, applyPlanBestEffort, type ApplyOptions, type BestEffortReport } from '../exec/apply.js';
import type { RelayPlan } from '../network/relay-plan.js';
import { bindPorts, closePorts, hostRelayArgv, startPortRelay, stopRelay, type BoundPort } from './port-relay.js';
import { planAttach, planContainerNetworkTeardown, planContainerTeardown, planRepair, type AttachPlans } from '../network/plan.js';
import { DEFAULT_FIREWALL, firewallDriverFor } from '../network/drivers.js';
import { checkpoint } from './checkpoint.js';
import { checkFirewallUsable } from './firewall-choice.js';
import { stepOptions, type RuntimeContext } from './context.js';
import { attachFacts, firewallDump } from './gather.js';
import { ownsNoAttachment, resolveNetwork } from './networks.js';
import { usesEmbeddedDns } from './dns.js';
import { ROOTLESS_HELPER_MODES } from './rootless-run.js';

/** none, host, container:X and the rootless helpers' modes: no network record, nothing for the bridge driver to attach. */
function withoutNetworkRecord(mode: string): boolean {
  return ownsNoAttachment(mode) || ROOTLESS_HELPER_MODES.has(mode);
}

/**
 * The whole attach plan for a container on its network (undefined for none/host), without
 * changing anything. `known`: every container record, when the caller has them (--dry-run);
 * otherwise they are read only if the bridge is new.
 */
export async function planContainerAttach(ctx: RuntimeContext, record: ContainerRecord, members: NetworkMember[], known?: ContainerRecord[]): Promise<AttachPlans | undefined> {
  if (withoutNetworkRecord(record.hostConfig.networkMode)) return undefined;
  const net = await resolveNetwork(ctx.store, record.hostConfig.networkMode);
  const facts = await attachFacts(ctx.runner, record, net);
  const networks = facts.bridgeExists ? [] : await ctx.store.listNetworks();
  // A new bridge (first use, a reboot) puts back every container's rules: only then are the records read.
  const records = facts.bridgeExists ? undefined : known ?? await ctx.store.listContainers();
  return planAttach({ record, net, members, ...(records ? { records } : {}), networks, facts, pickPort: (lo, hi) => randomInt(lo, hi + 1), embeddedDns: usesEmbeddedDns(net.name) });
}

/** Refusals a stale index entry (a crash between it and its record) could cause. */
const TAKEN = new Set(['E_NO_ADDRESS', 'E_ADDRESS_IN_USE', 'E_PORT_IN_USE', 'E_NETWORK_FULL']);

/**
 * The attach plan from the index's members, not every record: a start costs the same with 10
 * or 1,000 others. An address or port refused as taken is asked again of an index built afresh
 * from the records, so an entry a crash left holds nothing for good.
 */
async function planFromIndex(ctx: RuntimeContext, record: ContainerRecord): Promise<AttachPlans | undefined> {
  try {
    return await planContainerAttach(ctx, record, await ctx.store.index.allMembers());
  } catch (err) {
    if (!(err instanceof MinictrError) || !TAKEN.has(err.code)) throw err;
    await ctx.store.index.rebuild();
    return planContainerAttach(ctx, record, await ctx.store.index.allMembers());
  }
}

/** The lock of one container record's read-modify-write. */
export function recordLock(id: string): `record-${string}` {
  return `record-${id}`;
}

/** The lock of one container's network objects while they are made or removed. */
export function containerLock(id: string): `container-${string}` {
  return `container-${id}`;
}

/**
 * Create the container's network objects; on failure, remove whatever was made.
 * Under the `network` lock only what must be decided one at a time: the address and host
 * ports (IPAM), the record of the attachment, and a missing bridge. The links and rules are
 * then made under the container's own lock, side by side with other containers' starts: that
 * part waits on the kernel (namespace creation, RCU grace periods of each rule commit), not on
 * the CPU. A removal of this container takes its lock first, so it never tears down half an
 * attach.
 */
export async function attach(ctx: RuntimeContext, record: ContainerRecord): Promise<NetworkAttachment | undefined> {
  if (withoutNetworkRecord(record.hostConfig.networkMode)) return undefined;
  const { store, runner } = ctx;
  let step = 0;
  const options: ApplyOptions = {
    ...(ctx.beforeStep ? { beforeStep: ctx.beforeStep } : {}),
    onStep: async (report: StepReport) => {
      ctx.onStep?.(report);
      step++;
      await checkpoint(store.paths.root, `network-step-${step}`);
    },
  };
  return store.lock(containerLock(record.id), async () => {
    const reserved = await store.lock('network', async () => {
      const planned = await planFromIndex(ctx, record);
      if (!planned) return undefined;
      const { attachment, net } = planned;
      if (!(await store.loadNetwork(net.name))) {
        // The default bridge is recorded on first use, with the firewall chosen globally then.
        await checkFirewallUsable(runner, net.firewall ?? DEFAULT_FIREWALL);
        await store.saveNetwork(net);
      }
      // Written down before anything is created, so teardown can always find it; from here the
      // address and ports are taken for every other planner.
      const saved = await store.lock(recordLock(record.id), async () => {
        const current = await store.loadContainer(record.id);
        if (!current) return false;
        // A relay an attach cut short by a crash recorded (it was committed) goes with its attachment.
        await stopRelay(current.network?.relay);
        current.network = { ...attachment, pending: true };
        await store.saveContainer(current);
        return true;
      });
      if (!saved) throw new MinictrError('E_GONE', `container ${record.id.slice(0, 12)} was removed while starting`);
      await checkpoint(store.paths.root, 'network-recorded');
      try {
        // The network's own setup (a bridge made once, its sysctls and standing rules) stays one at a time.
        await applyPlan(planned.prepare, runner, options);
      } catch (err) {
        throw withWarnings(err, await undoAttach(ctx, record, planned));
      }
      return planned;
    });
    if (!reserved) return undefined;
    const planned = reserved;
    let relay: RecordedProcess | undefined;
    try {
      // The relay's ports are bound first: one taken since the plan read the listeners is
      // refused before any link is made.
      const bound = planned.relay ? await bindPorts(planned.relay.ports) : [];
      try {
        await applyPlan(planned.links, runner, options);
        // Only after the links: a DNAT rule to an address nobody answers yet would drop a
        // client's SYN (a 1 s retransmit) instead of refusing it until the process listens.
        await applyFirewall(ctx, planned, options);
        if (planned.relay) relay = await startHostRelay(ctx, record.id, planned.relay, bound);
      } finally {
        closePorts(bound);
      }
      await store.lock(recordLock(record.id), async () => {
        const current = await store.loadContainer(record.id);
        if (current?.network) {
          delete current.network.pending;
          await store.saveContainer(current);
        }
      });
    } catch (err) {
      await stopRelay(relay);
      throw withWarnings(err, await undoAttach(ctx, record, planned));
    }
    return { ...planned.attachment, ...(relay ? { relay } : {}) };
  });
}

/** The relay of the container's [::1] ports, in the host's namespace, recorded in its attachment before it stays. */
async function startHostRelay(ctx: RuntimeContext, id: string, plan: RelayPlan, bound: BoundPort[]): Promise<RecordedProcess> {
  return startPortRelay(ctx, id, {
    argv: hostRelayArgv(), target: plan.target, ports: plan.ports, bound, why: plan.why,
    record: async (relay) => {
      const saved = await ctx.store.lock(recordLock(id), async () => {
        const current = await ctx.store.loadContainer(id);
        if (!current?.network) return false;
        current.network.relay = relay;
        await ctx.store.saveContainer(current);
        return true;
      });
      if (!saved) throw new MinictrError('E_GONE', `container ${id.slice(0, 12)} was removed while starting`);
    },
  });
}

/** A failed attach removes what it made, from the attachment it recorded, and forgets it. */
async function undoAttach(ctx: RuntimeContext, record: ContainerRecord, planned: AttachPlans): Promise<string[]> {
  const { store } = ctx;
  const undo = await applyPlanBestEffort(planContainerNetworkTeardown(planned.attachment, planned.net), ctx.runner);
  await store.lock(recordLock(record.id), async () => {
    const current = await store.loadContainer(record.id);
    if (current) {
      delete current.network;
      await store.saveContainer(current);
    }
  });
  // A tool missing now made nothing moments ago in this attach: its failures leave nothing behind.
  const failures = undo.failures.filter(({ error }) => !(error instanceof MinictrError && error.code === 'E_MISSING_TOOL'));
  return teardownWarnings({ failures, gone: [] }, record);
}

/**
 * The container's rules; when their restore fails (a check found minictr's rules wiped),
 * put back everything missing, this container's rules included, from the firewall dump.
 */
async function applyFirewall(ctx: RuntimeContext, planned: AttachPlans, options: ApplyOptions): Promise<void> {
  try {
    await applyPlan(planned.firewall, ctx.runner, options);
  } catch (err) {
    // A repair reads the whole ruleset and writes what is missing (this container's rules among
    // them), one at a time. Records are read afresh: containers started or removed since this
    // plan count as they are now; others still attaching make their own rules.
    await ctx.store.lock('network', async () => {
      const networks = await ctx.store.listNetworks();
      const records = (await ctx.store.listContainers()).map((r) =>
        r.network?.netns === planned.attachment.netns ? { ...r, network: planned.attachment } : r);
      const repair = planRepair(await firewallDump(ctx.runner, planned.net), networks, records, firewallDriverFor(planned.net));
      if (repair.ops.length === 0) throw err;
      await applyPlan(repair, ctx.runner, options);
    });
  }
}

/**
 * Undo a container's network objects as recorded; anything already gone counts as removed.
 * Returns warnings: what could not be removed (left on the host), and what someone else had
 * removed first.
 */
export async function detach(ctx: RuntimeContext, record: ContainerRecord): Promise<string[]> {
  if (!record.network) return [];
  return ctx.store.lock(containerLock(record.id), () => ctx.store.lock('network', () => detachLocked(ctx, record)));
}

/** detach, for a caller that holds the network lock already (and re-read the record under it). */
export async function detachLocked(ctx: RuntimeContext, record: ContainerRecord): Promise<string[]> {
  const attachment = record.network;
  if (!attachment) return [];
  const net = await ctx.store.loadNetwork(attachment.network);
  const { firewall, links } = planContainerTeardown(attachment, net);
  // Networks joined with `network connect`: their rules (their interfaces go with the namespace).
  const extras: Plan[] = [];
  for (const extra of record.extraNetworks ?? []) extras.push(planContainerTeardown(extra, await ctx.store.loadNetwork(extra.network)).firewall);
  // Rules and links are independent: removing them side by side saves a few tens of ms.
  const reports = await Promise.all([
    applyPlanBestEffort(concatPlans(firewall.title, firewall, ...extras), ctx.runner, stepOptions(ctx)),
    applyPlanBestEffort(links, ctx.runner, stepOptions(ctx)),
  ]);
  return reports.flatMap((r) => teardownWarnings(r, record));
}

export function teardownWarnings(report: BestEffortReport, record: Pick<ContainerRecord, 'name' | 'id'>): string[] {
  const who = `container ${record.name || record.id.slice(0, 12)}`;
  return [
    ...report.failures.map(
      ({ op, error }) => `${who}: could not ${op.why}: ${error.message}; it is left on the host: "minictr system prune" removes it`,
    ),
    ...report.gone.map((note) => `${who}: ${note}; "minictr network reload" puts back what other containers lost`),
  ];
}
