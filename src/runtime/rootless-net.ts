// A rootless container's network helper (pasta or slirp4netns): started by `start` once the
// container's init has made its namespaces and waits (stage 1 blocks on a FIFO), recorded with
// its pid and start time, and killed from the record when the container's process is gone —
// by whichever minictr command sees that first (_on-exit, rm -f, or any later look), so the
// helper never outlives what it serves.
import { randomInt } from 'node:crypto';
import { closeSync, constants, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import type { RootlessBridgeView, RootlessRunView } from '../explain/rootless.js';
import { HOLDER_WHY, holderArgv, holderDir, holderPastaPidFile, planBridgeAttach, planHolderConnect, planRootlessBridge, reserveAddress, runningHolder } from './rootless-bridge.js';
import { hostTools } from './host-tools.js';
import { MinictrError, errorMessage } from '../base/errors.js';
import { command, type Plan } from '../base/plan.js';
import { isAlive, processStartTime, waitFor } from '../base/proc.js';
import type { ContainerRecord, PortMapping, RecordedProcess, RootlessNetAttachment } from '../base/records.js';
import { applyPlan } from '../exec/apply.js';
import { spawnProcess } from '../exec/runner.js';
import { assignHostPorts, parsePortSpec, takenBy, type HostBinding } from '../network/ports.js';
import { checkUnprivilegedPorts, idMapperArgv, pastaArgv, slirpArgv, slirpError, slirpForward, type RootlessHelper } from '../network/rootless-helpers.js';
import { stepOptions, type RuntimeContext } from './context.js';
import { rootlessRuntimeDir } from '../state/paths.js';
import { ephemeralRange, hostListeners } from './gather.js';
import { ROOTLESS_HELPER_MODES } from './rootless-run.js';
import { relayedPorts } from '../network/relay-plan.js';
import { bindPorts, closePorts, hostRelayArgv, startPortRelay } from './port-relay.js';

function isHelper(mode: string): mode is RootlessHelper {
  return ROOTLESS_HELPER_MODES.has(mode);
}

/** pasta or slirp4netns: a helper process of the container's own. */
export function helperOf(record: ContainerRecord): RootlessHelper | undefined {
  const mode = record.hostConfig.networkMode;
  return isHelper(mode) ? mode : undefined;
}

/** How a rootless container's own network namespace is connected: a helper of its own, or the user's rootless bridge. */
export function rootlessNetworkOf(ctx: RuntimeContext, record: ContainerRecord): RootlessHelper | 'bridge' | undefined {
  if (!ctx.rootless) return undefined;
  const mode = record.hostConfig.networkMode;
  if (mode === 'none' || mode === 'host') return undefined;
  return helperOf(record) ?? 'bridge';
}

/** The FIFO the container's stage 1 waits on until its network is up. */
export function netReadyFifo(ctx: RuntimeContext, id: string): string {
  return join(ctx.store.paths.container(id), 'net-ready');
}

export function planNetReadyFifo(path: string): Plan {
  return {
    title: "make the container's network-ready FIFO",
    ops: [command(['mkfifo', '-m', '600', path], 'rootless: the container\'s init waits on it until pasta or slirp4netns has connected its network namespace')],
  };
}

function unprivilegedPortStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
  } catch {
    return 1024;
  }
}

/** The host ports of a rootless container: fixed ones free, the rest picked, none below the unprivileged start. */
export async function rootlessPorts(ctx: RuntimeContext, record: ContainerRecord): Promise<PortMapping[]> {
  const requests = record.hostConfig.portSpecs.flatMap(parsePortSpec);
  if (requests.length === 0) return [];
  const others: HostBinding[] = (await ctx.store.listContainers())
    .filter((r) => r.id !== record.id)
    .flatMap((r) => (r.rootlessNet?.ports ?? []).map((p) => ({ ip: p.hostIp, port: p.hostPort, proto: p.proto })));
  const [lo, hi] = ephemeralRange();
  const ports = assignHostPorts(requests, takenBy([...hostListeners(), ...others]), () => randomInt(lo, hi + 1));
  checkUnprivilegedPorts(ports, unprivilegedPortStart());
  return ports;
}

/** Start the helper for the container whose init is `pid`; its ports are forwarded before this returns. */
export async function startHelper(ctx: RuntimeContext, record: ContainerRecord, pid: number, ports: PortMapping[]): Promise<RootlessNetAttachment> {
  const helper = helperOf(record);
  if (!helper) throw new MinictrError('E_INTERNAL', `${record.hostConfig.networkMode} is not a rootless helper mode`);
  const dir = ctx.store.paths.container(record.id);
  if (helper === 'pasta') {
    const pidFile = join(dir, 'pasta.pid');
    await applyPlan({
      title: 'connect the container with pasta',
      ops: [command(pastaArgv(pid, ports, pidFile), PASTA_WHY)],
    }, ctx.runner, stepOptions(ctx)).catch((err: unknown) => {
      throw helperFailed('pasta', err, ports);
    });
    const helperPid = Number(readFileSync(pidFile, 'utf8').trim());
    return noted(ctx, record.id, { helper, pid: helperPid, startTime: await processStartTime(helperPid), ports });
  }
  return startSlirp(ctx, record, pid, ports);
}

/** Beside the record, at once: a minictr killed before it saves the record still leaves the helper findable. */
function helperFile(ctx: RuntimeContext, id: string): string {
  return join(ctx.store.paths.container(id), 'helper.json');
}

function noted(ctx: RuntimeContext, id: string, att: RootlessNetAttachment): RootlessNetAttachment {
  writeFileSync(helperFile(ctx, id), JSON.stringify(att));
  return att;
}

/** The container's helper: from its record, else from the note a killed minictr left. */
export function recordedHelper(ctx: RuntimeContext, record: ContainerRecord): RootlessNetAttachment | undefined {
  if (record.rootlessNet) return record.rootlessNet;
  try {
    return JSON.parse(readFileSync(helperFile(ctx, record.id), 'utf8')) as RootlessNetAttachment;
  } catch {
    return undefined;
  }
}

function helperFailed(helper: string, err: unknown, ports: PortMapping[]): MinictrError {
  const said = errorMessage(err);
  if (ports.length > 0 && /address already in use|bind/i.test(said)) {
    const p = ports[0];
    return new MinictrError('E_PORT_IN_USE', `Bind for ${p?.hostIp || '0.0.0.0'}:${p?.hostPort} failed: port is already allocated`);
  }
  return new MinictrError('E_ROOTLESS_NETWORK', `${helper} could not connect the container: ${said}`);
}

export const SLIRP_WHY = 'slirp4netns makes tap0 in the container\'s namespace (10.0.2.100/24, gateway 10.0.2.2, DNS 10.0.2.3) and carries its traffic through a user-mode TCP/IP stack: the container has no address of its own outside, and ping needs net.ipv4.ping_group_range to cover its group';
export const PASTA_WHY = 'pasta joins the container\'s user and network namespaces, gives it a copy of the host\'s address and routes, forwards each published port (the client\'s source address kept), and stays in the background';

/**
 * The API socket, in the user's runtime directory: a socket address holds 108 bytes, more than
 * a container directory's path under a home may leave.
 */
export function slirpSocketPath(ctx: RuntimeContext, id: string): string {
  return join(rootlessRuntimeDir(ctx.rootless?.uid ?? process.getuid?.() ?? 0), `${id.slice(0, 16)}.slirp.sock`);
}

async function slirpSocket(ctx: RuntimeContext, id: string): Promise<string> {
  const path = slirpSocketPath(ctx, id);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  return path;
}

/** What --dry-run shows of a rootless run: the ids mapped, the helper, its ports and files. */
export async function rootlessRunView(ctx: RuntimeContext, record: ContainerRecord): Promise<RootlessRunView | undefined> {
  const ids = ctx.rootless;
  if (!ids) return undefined;
  const helper = helperOf(record);
  const mode = rootlessNetworkOf(ctx, record);
  const dir = ctx.store.paths.container(record.id);
  const ports = mode ? await rootlessPorts(ctx, record) : [];
  const bridge = mode === 'bridge' ? await rootlessBridgeView(ctx, record, ports) : undefined;
  return {
    uid: ids.uid, gid: ids.gid, ...(ids.uids ? { uids: ids.uids } : {}), ...(ids.gids ? { gids: ids.gids } : {}),
    ...(helper ? { helper } : {}),
    ...(bridge ? { bridge } : {}),
    ports,
    pidFile: ctx.store.paths.containerPidFile(record.id),
    netReady: netReadyFifo(ctx, record.id),
    helperPidFile: join(dir, 'pasta.pid'),
    apiSocket: slirpSocketPath(ctx, record.id),
  };
}

/**
 * A container on a rootless network, as a start would make it: the same plans, with `$HOLDER`
 * for the rootless namespace's holder (unless it runs already) and `$PID` for the container's init.
 */
async function rootlessBridgeView(ctx: RuntimeContext, record: ContainerRecord, ports: PortMapping[]): Promise<RootlessBridgeView> {
  const ids = ctx.rootless;
  const net = await ctx.store.loadNetwork(record.hostConfig.networkMode);
  if (!ids || !net) throw new MinictrError('E_NO_SUCH_NETWORK', `network ${record.hostConfig.networkMode} not found; list networks with "minictr network ls"`);
  const running = await runningHolder(ctx);
  const holder: number | string = running?.pid ?? '$HOLDER';
  const att = reserveAddress(await ctx.store.listContainers(), record, net);
  const ip = att.ip ?? '';
  return {
    network: net.name, holderWhy: HOLDER_WHY,
    ...(running ? { running } : {}),
    holderArgv: holderArgv(ids, hostTools().busybox), holderDir: holderDir(ctx),
    connect: planHolderConnect(holder, holderPastaPidFile(ctx)),
    bridge: planRootlessBridge(holder, net),
    attach: planBridgeAttach(holder, '$PID', net, att),
    ip,
    ...(ports.length > 0 ? { relay: { argv: relayArgv(holder), ports: relayedPorts(ip, ports), why: RELAY_WHY } } : {}),
  };
}

async function startSlirp(ctx: RuntimeContext, record: ContainerRecord, pid: number, ports: PortMapping[]): Promise<RootlessNetAttachment> {
  const apiSocket = await slirpSocket(ctx, record.id);
  await rm(apiSocket, { force: true });
  const argv = slirpArgv(pid, apiSocket);
  const began = Date.now();
  const log = await open(join(ctx.store.paths.container(record.id), 'monitor.log'), 'a');
  const child = spawnProcess(argv, { stdio: ['ignore', log.fd, log.fd, 'pipe'], detached: true });
  await log.close();
  const ready = await new Promise<boolean>((resolve) => {
    const fd3 = child.stdio[3];
    if (!fd3) return resolve(false);
    fd3.once('data', () => resolve(true));
    child.once('exit', () => resolve(false));
    child.once('error', () => resolve(false));
  });
  child.stdio[3]?.destroy();
  child.unref();
  ctx.onStep?.({ op: command(argv, SLIRP_WHY), ms: Date.now() - began });
  const helperPid = child.pid ?? 0;
  const attachment = noted(ctx, record.id, { helper: 'slirp4netns', pid: helperPid, startTime: await processStartTime(helperPid), apiSocket, ports });
  if (!ready) {
    await stopHelper(attachment);
    throw new MinictrError('E_ROOTLESS_NETWORK', `slirp4netns could not connect the container (see ${join(ctx.store.paths.container(record.id), 'monitor.log')})`);
  }
  try {
    for (const port of ports) {
      const began = Date.now();
      const error = slirpError(await slirpRequest(apiSocket, slirpForward(port)));
      ctx.onStep?.({
        op: command(['socat', '-', `UNIX-CONNECT:${apiSocket}`], `publish ${port.hostIp || '0.0.0.0'}:${port.hostPort} → 10.0.2.100:${port.containerPort}/${port.proto} with slirp4netns's own forwarder (add_hostfwd): no extra process`, { stdin: slirpForward(port) }),
        ms: Date.now() - began,
      });
      if (error) throw helperFailed('slirp4netns', new Error(`add_hostfwd ${port.hostPort}/${port.proto}: ${error}`), [port]);
    }
  } catch (err) {
    await stopHelper(attachment);
    throw err;
  }
  return attachment;
}

/** One request on slirp4netns's API socket: the request, a write shutdown, the whole answer. */
function slirpRequest(socket: string, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let answer = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => { answer += chunk; });
    conn.on('end', () => resolve(answer));
    conn.on('error', reject);
    conn.on('connect', () => conn.end(request));
  });
}

/** Let the container's init go on: its network is up ("up"), or not ("fail": it exits 125). */
export async function releaseInit(fifo: string, ok: boolean): Promise<boolean> {
  let fd = -1;
  // The init opens the FIFO for reading once it has written its pid: a writer without a reader is ENXIO.
  await waitFor(async () => {
    try {
      fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      return true;
    } catch {
      return false;
    }
  }, 5_000, 2);
  if (fd < 0) return false;
  try {
    writeSync(fd, ok ? 'up\n' : 'fail\n');
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Kill the helper if it is still the recorded process; remove its socket. */
export async function stopHelper(att: RootlessNetAttachment): Promise<void> {
  if (att.pid > 0 && (await isAlive(att.pid, att.startTime))) {
    try {
      process.kill(att.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  if (att.apiSocket) await rm(att.apiSocket, { force: true });
}

/** --explain: the id maps util-linux unshare had newuidmap and newgidmap write for the container's user namespace. */
export function reportIdMaps(ctx: RuntimeContext, pid: number): void {
  const ids = ctx.rootless;
  if (!ids || !ctx.onStep) return;
  if (!ids.uids || !ids.gids) {
    ctx.onStep({ op: command(['unshare', '--user', '--map-root-user'], `rootless without a subordinate range: unshare wrote "0 ${ids.uid} 1" into /proc/${pid}/uid_map itself: only root exists in the container`), ms: 0 });
    return;
  }
  const why = 'run by util-linux unshare for the container\'s new user namespace (setuid, from "uidmap"): root inside is you, ids 1… your subordinate range';
  ctx.onStep({ op: command(idMapperArgv('newuidmap', pid, ids.uid, ids.uids), why), ms: 0 });
  ctx.onStep({ op: command(idMapperArgv('newgidmap', pid, ids.gid, ids.gids), why), ms: 0 });
}

/** The relay's command line: nsenter into the rootless namespace (its holder is `holder`), then minictr's hidden relay. */
export function relayArgv(holder: number | string): string[] {
  return ['nsenter', `--target=${holder}`, '--user', '--net', '--', ...hostRelayArgv()];
}

export { relayedPorts };

export const RELAY_WHY = "a rootless network's published ports: minictr binds each on the host and hands the sockets to its relay inside the rootless namespace (podman's rootlessport), which connects to the container's address on the bridge: the container sees the network's gateway as the client";

/**
 * The published ports of a container on a rootless network: bound here, relayed from inside the
 * rootless namespace to `ip` (runtime/port-relay.ts, the same relay as a rootful [::1] port's).
 */
export async function startRootlessRelay(ctx: RuntimeContext, id: string, holder: number, ip: string, ports: PortMapping[], record: (relay: RecordedProcess) => Promise<void>): Promise<void> {
  const bound = await bindPorts(ports);
  try {
    await startPortRelay(ctx, id, { argv: relayArgv(holder), target: ip, ports, bound, why: RELAY_WHY, record });
  } finally {
    closePorts(bound);
  }
}
