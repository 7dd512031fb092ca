// `network connect` and `network disconnect`, one door for the CLI and the Engine API.
// A running container gets one more interface (eth1, eth2 …) in its namespace, with its address,
// its rules and its names on that network, or has that interface taken away again: planned in
// network/plan.ts, recorded before anything is made, as an attach. A container that is not
// running only has its record changed: the network it joins at its next start, and the aliases
// its peers will find it by (docker-compose 1.x disconnects and reconnects each new container
// to set them).
import { MinictrError, withWarnings } from '../base/errors.js';
import { attachmentTo, type ContainerRecord } from '../base/records.js';
import { applyPlan, applyPlanBestEffort } from '../exec/apply.js';
import { planNetworkConnect, planDisconnect } from '../network/plan.js';
import { containerLock, recordLock, teardownWarnings } from './attach.js';
import { syncNames } from './containers.js';
import { stepOptions, type RuntimeContext } from './context.js';
import { find, refresh, update } from './lifecycle.js';
import { ownsNoAttachment, resolveNetwork } from './networks.js';
import { hostNet } from './gather.js';
import { requestedIp } from '../network/ipam.js';
import { checkRequestedIp6 } from '../network/ipv6.js';

export interface ConnectOptions {
  aliases: string[];
  ip?: string;
  /** `--ip6`, on a network with IPv6. */
  ip6?: string;
}

/** The network's record, with `network connect`'s error (exit 1, as Docker's daemon errors). */
async function networkFor(ctx: RuntimeContext, name: string) {
  const net = await ctx.store.loadNetwork(name);
  if (!net) throw new MinictrError('E_NO_SUCH_NETWORK', `network ${name} not found`, { exitCode: 1 });
  return net;
}

/** The running container, with Docker's errors for one that is unknown or has no network of its own. */
async function runningContainer(ctx: RuntimeContext, ref: string): Promise<ContainerRecord> {
  const record = await refresh(ctx, await ctx.store.findContainer(ref));
  if (ownsNoAttachment(record.hostConfig.networkMode)) {
    throw new MinictrError('E_CONFLICTING_OPTIONS', `container ${ref} uses --network ${record.hostConfig.networkMode}: it cannot join other networks`, { exitCode: 1 });
  }
  if (record.state.status !== 'running' || !record.network) {
    throw new MinictrError('E_NOT_RUNNING', `container ${ref} stopped meanwhile: start it, then connect it`, { exitCode: 1 });
  }
  return record;
}

async function connectRunning(ctx: RuntimeContext, ref: string, network: string, options: ConnectOptions): Promise<ContainerRecord> {
  const { store, runner } = ctx;
  const net = await networkFor(ctx, network);
  const found = await runningContainer(ctx, ref);
  const done = await store.lock(containerLock(found.id), async () => {
    const planned = await store.lock('network', async () => {
      const record = await runningContainer(ctx, found.id);
      const plans = planNetworkConnect({
        record, net, records: await store.listContainers(), aliases: options.aliases,
        ...hostNet(),
        ...(options.ip ? { ip: options.ip } : {}),
        ...(options.ip6 ? { ip6: options.ip6 } : {}),
      });
      // Recorded first (address taken, teardown can find it), as an attach.
      await store.lock(recordLock(record.id), async () => {
        const current = await store.loadContainer(record.id);
        if (!current) throw new MinictrError('E_GONE', `container ${ref} was removed meanwhile`, { exitCode: 1 });
        current.extraNetworks = [...(current.extraNetworks ?? []), { ...plans.attachment, pending: true }];
        await store.saveContainer(current);
      });
      return plans;
    });
    try {
      await applyPlan(planned.links, runner, stepOptions(ctx));
      await applyPlan(planned.firewall, runner, stepOptions(ctx));
    } catch (err) {
      const undo = await applyPlanBestEffort(planDisconnect(planned.attachment, net), runner);
      await forget(ctx, found.id, network);
      throw withWarnings(err, teardownWarnings({ failures: undo.failures, gone: [] }, found));
    }
    return store.lock(recordLock(found.id), async () => {
      const current = await store.loadContainer(found.id);
      const att = current?.extraNetworks?.find((a) => a.network === network);
      if (current && att) {
        delete att.pending;
        await store.saveContainer(current);
      }
      return current ?? found;
    });
  });
  await syncNames(ctx, network);
  return done;
}

async function forget(ctx: RuntimeContext, id: string, network: string): Promise<void> {
  await ctx.store.lock(recordLock(id), async () => {
    const current = await ctx.store.loadContainer(id);
    if (!current?.extraNetworks) return;
    current.extraNetworks = current.extraNetworks.filter((a) => a.network !== network);
    if (current.extraNetworks.length === 0) delete current.extraNetworks;
    await ctx.store.saveContainer(current);
  });
}

/** Take a network joined with `network connect` away again; returns what could not be removed, as warnings. */
async function disconnectRunning(ctx: RuntimeContext, ref: string, network: string): Promise<string[]> {
  const { store } = ctx;
  const net = await networkFor(ctx, network);
  const found = await store.findContainer(ref);
  const warnings = await store.lock(containerLock(found.id), () => store.lock('network', async () => {
    const record = await store.loadContainer(found.id) ?? found;
    const att = attachmentTo(record, network);
    if (!att) throw new MinictrError('E_NOT_CONNECTED', `container ${ref} is not connected to network ${network}`, { exitCode: 1 });
    if (att === record.network) {
      throw new MinictrError('E_FIRST_NETWORK', `container ${ref} started on network ${network}: minictr disconnects only networks joined with "network connect"`, { exitCode: 1 });
    }
    const report = await applyPlanBestEffort(planDisconnect(att, net), ctx.runner, stepOptions(ctx));
    await forget(ctx, record.id, network);
    return teardownWarnings(report, record);
  }));
  await syncNames(ctx, network);
  return warnings;
}

/** A container that is not running: the network it joins at its next start, and its aliases there. */
async function connectStopped(ctx: RuntimeContext, record: ContainerRecord, network: string, options: ConnectOptions): Promise<ContainerRecord> {
  const net = await resolveNetwork(ctx.store, network);
  const current = record.hostConfig.networkMode;
  if (current !== 'none' && current !== net.name) {
    throw new MinictrError('E_ONE_NETWORK', `container ${record.name} is not running and is on network ${current}: minictr connects a stopped container to one network; disconnect it first, or start it and connect it then`, { exitCode: 1 });
  }
  if (options.ip) requestedIp(net.subnet, net.gateway, [], options.ip, net.name);
  if (options.ip6) checkRequestedIp6(net, options.ip6);
  const saved = await update(ctx, record.id, (r) => {
    r.hostConfig.networkMode = net.name;
    const names = [...new Set([...(r.config.networkAliases ?? []), ...options.aliases])];
    if (names.length > 0) r.config.networkAliases = names;
    if (options.ip) r.hostConfig.ipAddress = options.ip;
    if (options.ip6) r.hostConfig.ip6Address = options.ip6;
  });
  if (!saved) throw new MinictrError('E_NO_SUCH_CONTAINER', `no such container: ${record.name}`, { exitCode: 1 });
  return saved;
}

async function disconnectStopped(ctx: RuntimeContext, record: ContainerRecord, network: string): Promise<void> {
  const net = await resolveNetwork(ctx.store, network);
  if (record.hostConfig.networkMode !== net.name) {
    throw new MinictrError('E_NOT_CONNECTED', `container ${record.name} is not connected to network ${net.name}`, { exitCode: 1 });
  }
  const saved = await update(ctx, record.id, (r) => {
    r.hostConfig.networkMode = 'none';
    delete r.config.networkAliases;
    delete r.hostConfig.ipAddress;
    delete r.hostConfig.ip6Address;
  });
  if (!saved) throw new MinictrError('E_NO_SUCH_CONTAINER', `no such container: ${record.name}`, { exitCode: 1 });
}

/** `network connect`: a running container now, one that is not at its next start. */
export async function connectNetwork(ctx: RuntimeContext, ref: string, network: string, options: ConnectOptions): Promise<ContainerRecord> {
  await networkFor(ctx, network);
  const record = await refresh(ctx, await find(ctx, ref));
  return record.state.status === 'running' ? connectRunning(ctx, ref, network, options) : connectStopped(ctx, record, network, options);
}

/** `network disconnect`; returns what could not be removed, as warnings. */
export async function disconnectNetwork(ctx: RuntimeContext, ref: string, network: string): Promise<string[]> {
  await networkFor(ctx, network);
  const record = await refresh(ctx, await find(ctx, ref));
  if (record.state.status === 'running') return disconnectRunning(ctx, ref, network);
  await disconnectStopped(ctx, record, network);
  return [];
}
