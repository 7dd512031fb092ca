// The per-user rootless network namespace, podman's way: one holder process owns a user
// namespace (the whole subordinate range mapped) and a network namespace holding a bridge per
// rootless network; pasta connects that namespace to the outside. Containers on a rootless
// network join the holder's user namespace (so a veth can join their namespace to the bridge)
// and reach each other by address and, through /etc/hosts, by name. Made on first use, removed
// with its last container. Its state is one file in the user's runtime directory.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MinictrError } from '../base/errors.js';
import { command, type Plan } from '../base/plan.js';
import { isAlive, processStartTime } from '../base/proc.js';
import type { ContainerRecord, NetworkRecord, RootlessNetAttachment } from '../base/records.js';
import { applyPlan, applyPlanBestEffort } from '../exec/apply.js';
import { spawnProcess } from '../exec/runner.js';
import { allocateIp, parseSubnet } from '../network/ipam.js';
import { pastaArgv } from '../network/rootless-helpers.js';
import type { RootlessTopology } from '../explain/rootless.js';
import { rootlessRuntimeDir } from '../state/paths.js';
import { stepOptions, type RuntimeContext } from './context.js';
import { hostsFile, rewriteHosts } from './files.js';
import { hostTools } from './host-tools.js';
import { HOST_TOOL_PATH } from './init-script.js';
import { userNamespaceArgs, type RootlessIds } from './rootless-ids.js';

interface HolderState {
  pid: number;
  startTime: number;
  pastaPid: number;
  pastaStartTime: number;
}

function stateDir(ctx: RuntimeContext): string {
  return join(rootlessRuntimeDir(ctx.rootless?.uid ?? 0), 'rootless-netns');
}

function readState(ctx: RuntimeContext): HolderState | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir(ctx), 'state.json'), 'utf8')) as HolderState;
  } catch {
    return undefined;
  }
}

/** The holder's pid, or a shell variable naming it (--dry-run's `$HOLDER`). */
type PidRef = number | string;

/** `ip …` (or any command) inside the rootless namespace, as root of its user namespace. */
export function inHolder(pid: PidRef, argv: string[]): string[] {
  return ['nsenter', `--target=${pid}`, '--user', '--net', '--', ...argv];
}

/** The holder alive, or made (with its pasta, forwarding, and NAT ready). Called under the `network` lock. */
export async function ensureRootlessNetns(ctx: RuntimeContext): Promise<number> {
  const ids = ctx.rootless;
  if (!ids) throw new MinictrError('E_INTERNAL', 'the rootless network namespace is only for rootless minictr');
  const known = readState(ctx);
  if (known && (await isAlive(known.pid, known.startTime))) return known.pid;
  if (known) await stopHolder(known);
  const dir = stateDir(ctx);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const argv = holderArgv(ids, hostTools().busybox);
  const began = Date.now();
  const child = spawnProcess(argv, { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  const ready = new Promise<boolean>((resolve) => {
    child.stdout?.once('data', () => resolve(true));
    child.once('exit', () => resolve(false));
    child.once('error', () => resolve(false));
  });
  const pid = child.pid ?? 0;
  // Recorded before it is waited for: a minictr killed meanwhile leaves a holder the next command finds and stops.
  const state: HolderState = { pid, startTime: pid > 0 ? await processStartTime(pid) : 0, pastaPid: 0, pastaStartTime: 0 };
  if (pid > 0) writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
  const isReady = await ready;
  child.stdout?.destroy();
  child.unref();
  ctx.onStep?.({ op: command(argv, HOLDER_WHY), ms: Date.now() - began });
  if (!isReady || pid === 0) {
    await stopHolder(state);
    throw new MinictrError('E_ROOTLESS_NETWORK', 'could not make the rootless network namespace');
  }
  try {
    const pidFile = holderPastaPidFile(ctx);
    await applyPlan(planHolderConnect(pid, pidFile), ctx.runner, stepOptions(ctx));
    state.pastaPid = Number(readFileSync(pidFile, 'utf8').trim());
    state.pastaStartTime = await processStartTime(state.pastaPid);
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
  } catch (err) {
    await stopHolder(state);
    throw err;
  }
  return pid;
}

export const HOLDER_WHY = 'rootless bridge networks: one user and network namespace per user holds the bridges (podman\'s rootless netns), made on first use';

/** The holder: unshare execs the shell, so the shell's pid is the holder's; it says "ready", then sleeps for ever. */
export function holderArgv(ids: RootlessIds, busybox: string): string[] {
  return ['unshare', ...userNamespaceArgs(ids), '--net', '--', busybox, 'sh', '-c', 'ip link set lo up && echo ready && exec sleep 2147483647'];
}

/** Where the holder's pasta writes its pid. */
export function holderPastaPidFile(ctx: RuntimeContext): string {
  return join(stateDir(ctx), 'pasta.pid');
}

/** The rootless namespace connected to the outside: its pasta, and forwarding between its bridges and pasta's interface. */
export function planHolderConnect(holder: PidRef, pidFile: string): Plan {
  return {
    title: 'connect the rootless network namespace',
    ops: [
      command(pastaArgv(holder, [], pidFile), 'pasta gives the rootless namespace a copy of the host\'s address and routes: its containers reach the outside through it'),
      command(inHolder(holder, ['sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']), 'the rootless namespace routes between its bridges and pasta\'s interface'),
    ],
  };
}

/** The rootless namespace while it runs (read only: --dry-run reuses it as a start would). */
export async function runningHolder(ctx: RuntimeContext): Promise<{ pid: number; pastaPid: number } | undefined> {
  const state = readState(ctx);
  return state && (await isAlive(state.pid, state.startTime)) ? { pid: state.pid, pastaPid: state.pastaPid } : undefined;
}

/** The directory of the rootless namespace's files. */
export function holderDir(ctx: RuntimeContext): string {
  return stateDir(ctx);
}

async function stopHolder(state: HolderState): Promise<void> {
  for (const [pid, start] of [[state.pastaPid, state.pastaStartTime], [state.pid, state.startTime]] as const) {
    if (pid > 0 && (await isAlive(pid, start))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
}

/** The network's bridge in the rootless namespace, with its gateway address and NAT (idempotent). */
export function planRootlessBridge(holder: PidRef, net: NetworkRecord): Plan {
  const { prefixLength } = parseSubnet(net.subnet);
  const script = [
    `PATH=${HOST_TOOL_PATH}`,
    `{ ! ip link show ${net.bridge} >/dev/null 2>&1 || exit 0; }`,
    `ip link add ${net.bridge} type bridge`,
    `ip addr add ${net.gateway}/${prefixLength} dev ${net.bridge}`,
    `ip link set ${net.bridge} up`,
    `iptables -t nat -A POSTROUTING -s ${net.subnet} ! -o ${net.bridge} -j MASQUERADE`,
  ].join(' && ');
  return {
    title: `bridge of rootless network ${net.name}`,
    ops: [command(inHolder(holder, ['sh', '-c', script]), `the bridge ${net.bridge} (${net.gateway}/${prefixLength}) in the rootless namespace, its containers masqueraded behind pasta's address`)],
  };
}

/** Reserve an address on `net` for the record (under the `network` lock): its attachment before anything exists. */
export function reserveAddress(records: ContainerRecord[], record: ContainerRecord, net: NetworkRecord): RootlessNetAttachment {
  const used = records.filter((r) => r.id !== record.id && r.rootlessNet?.network === net.name).map((r) => r.rootlessNet?.ip ?? '');
  const ip = allocateIp(net.subnet, net.gateway, used, net.name);
  return {
    helper: 'bridge', pid: 0, startTime: 0, ports: [], network: net.name, ip,
    prefixLength: parseSubnet(net.subnet).prefixLength, gateway: net.gateway, veth: `vr${randomBytes(5).toString('hex')}`,
  };
}

/** The veth between the container's namespace (its init is `pid`) and the bridge, and its address and route. */
export function planBridgeAttach(holder: PidRef, pid: PidRef, net: NetworkRecord, att: RootlessNetAttachment): Plan {
  const veth = att.veth ?? '';
  return {
    title: `attach to rootless network ${net.name}`,
    ops: [
      command(inHolder(holder, ['sh', '-c', `ip link add ${veth} type veth peer name eth0 netns ${pid} && ip link set ${veth} master ${net.bridge} up`]),
        'a veth pair: one end on the bridge in the rootless namespace, the other the container\'s eth0 (both namespaces belong to the rootless user namespace)'),
      command(['nsenter', `--target=${pid}`, '--user', '--net', '--', 'sh', '-c',
        `ip addr add ${att.ip}/${att.prefixLength} dev eth0 && ip link set eth0 up && ip link set lo up && ip route add default via ${att.gateway}`],
      `the container's address ${att.ip} on ${net.name}, and its way out through the bridge`),
    ],
  };
}

/** The rootless namespace goes with its last container (the caller holds the `network` lock). */
export async function releaseRootlessNetns(ctx: RuntimeContext, leaving: string): Promise<void> {
  const others = (await ctx.store.listContainers()).filter((r) => r.id !== leaving && r.rootlessNet?.helper === 'bridge');
  if (others.length > 0) return;
  const state = readState(ctx);
  if (!state) return;
  await stopHolder(state);
  await rm(stateDir(ctx), { recursive: true, force: true });
}

/** Every member of a rootless network finds the others by name: their /etc/hosts, rewritten. */
export async function syncRootlessHosts(ctx: RuntimeContext, network: string): Promise<void> {
  const members = (await ctx.store.listContainers()).filter((r) => r.rootlessNet?.network === network && r.rootlessNet.ip);
  await Promise.all(members.map((r) => {
    const peers = members.filter((o) => o.id !== r.id).map((o) => ({ ip: o.rootlessNet?.ip ?? '', names: [...new Set([o.name, o.config.hostname, ...(o.config.networkAliases ?? [])])] }));
    return rewriteHosts(ctx.store.paths.container(r.id), hostsFile(r.config.hostname, r.rootlessNet?.ip, peers)).catch(() => undefined);
  }));
}

/** Best effort: the bridge of a removed network, when the namespace is up. */
export async function removeRootlessBridge(ctx: RuntimeContext, net: NetworkRecord): Promise<void> {
  const state = readState(ctx);
  if (!state || !(await isAlive(state.pid, state.startTime))) return;
  await applyPlanBestEffort({
    title: `remove rootless network ${net.name}`,
    ops: [command(inHolder(state.pid, ['sh', '-c', `PATH=${HOST_TOOL_PATH}; ip link del ${net.bridge}; iptables -t nat -D POSTROUTING -s ${net.subnet} ! -o ${net.bridge} -j MASQUERADE`]), 'the bridge and its NAT rule')],
  }, ctx.runner, stepOptions(ctx));
}

/**
 * Before the container starts: the rootless namespace and the network's bridge made if missing,
 * an address reserved and recorded, all under the `network` lock (a last container leaving
 * meanwhile cannot take the namespace from under this one).
 */
export async function joinRootlessNetwork(ctx: RuntimeContext, record: ContainerRecord): Promise<{ holder: number; net: NetworkRecord; attachment: RootlessNetAttachment }> {
  const net = await ctx.store.loadNetwork(record.hostConfig.networkMode);
  if (!net) throw new MinictrError('E_NO_SUCH_NETWORK', `network ${record.hostConfig.networkMode} not found; list networks with "minictr network ls"`);
  return ctx.store.lock('network', async () => {
    const holder = await ensureRootlessNetns(ctx);
    try {
      await applyPlan(planRootlessBridge(holder, net), ctx.runner, stepOptions(ctx));
    } catch (err) {
      // A namespace made for this container alone goes with its failure.
      await releaseRootlessNetns(ctx, record.id);
      throw err;
    }
    const attachment = reserveAddress(await ctx.store.listContainers(), record, net);
    await ctx.store.lock(`record-${record.id}`, async () => {
      const current = await ctx.store.loadContainer(record.id);
      if (!current) throw new MinictrError('E_GONE', `container ${record.id.slice(0, 12)} was removed while starting`);
      current.rootlessNet = attachment;
      await ctx.store.saveContainer(current);
    });
    return { holder, net, attachment };
  });
}

/** After the container's process is gone: its peers forget it; the last one takes the namespace with it. */
export async function leaveRootlessNetwork(ctx: RuntimeContext, record: ContainerRecord): Promise<void> {
  await ctx.store.lock('network', async () => {
    await ctx.store.lock(`record-${record.id}`, async () => {
      const current = await ctx.store.loadContainer(record.id);
      if (current?.rootlessNet) {
        delete current.rootlessNet;
        await ctx.store.saveContainer(current);
      }
    });
    await releaseRootlessNetns(ctx, record.id);
  });
  if (record.rootlessNet?.network) await syncRootlessHosts(ctx, record.rootlessNet.network);
}

/** The user's rootless topology, for `network diagram`: running containers with their helpers, the networks, the namespace. */
export async function rootlessTopology(ctx: RuntimeContext, containers: ContainerRecord[]): Promise<RootlessTopology> {
  const ids = ctx.rootless;
  const state = readState(ctx);
  const holderUp = state !== undefined && (await isAlive(state.pid, state.startTime));
  return {
    user: ids?.user ?? '', uid: ids?.uid ?? 0,
    containers: containers.filter((c) => c.state.status === 'running').map((c) => ({
      name: c.name, mode: c.hostConfig.networkMode, pid: c.state.pid,
      ...(c.rootlessNet && c.rootlessNet.pid > 0 ? { helperPid: c.rootlessNet.pid } : {}),
      ...(c.rootlessNet?.ip ? { ip: c.rootlessNet.ip } : {}),
      ports: c.rootlessNet?.ports ?? [],
    })),
    networks: (await ctx.store.listNetworks()).map((n) => ({ name: n.name, bridge: n.bridge, subnet: n.subnet, gateway: n.gateway })),
    ...(holderUp && state ? { holder: { pid: state.pid, pastaPid: state.pastaPid } } : {}),
  };
}
