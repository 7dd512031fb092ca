// Starting and stopping minictr's port relay (network/port-relay.ts runs inside it). minictr binds
// every port itself first, so a taken one is "port is already allocated" before the relay exists,
// then hands the bound sockets to the relay (node dist/minictr-relay.cjs) over an IPC channel, records the relay's
// pid and start time, and only then tells it to stay: a minictr killed before that takes the
// relay with it (the relay exits when its channel closes uncommitted).
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { MinictrError } from '../base/errors.js';
import { command } from '../base/plan.js';
import { isAlive, processStartTime } from '../base/proc.js';
import type { PortMapping, RecordedProcess } from '../base/records.js';
import { RELAY_PATH } from '../base/install-paths.js';
import { spawnProcess } from '../exec/runner.js';
import { bracketed } from '../network/ipv6.js';
import type { RelayMessage } from '../network/port-relay.js';
import { relayedPorts } from '../network/relay-plan.js';
import { checkpoint } from './checkpoint.js';
import type { RuntimeContext } from './context.js';

/** Sockets bound on the host for a relay; the caller closes its copies once the relay has them. */
export type BoundPort = Server | UdpSocket;

/** The relay's command line in minictr's own network namespace (rootful: the host's). */
export function hostRelayArgv(): string[] {
  return [process.execPath, RELAY_PATH];
}

export function requireRelay(): void {
  if (!existsSync(RELAY_PATH)) {
    throw new MinictrError('E_MISSING_TOOL', `${RELAY_PATH} is missing: build it with "make build"`);
  }
}

/** Bind one published port on the host (as Docker: a port taken is "already allocated"). */
async function bindPort(port: PortMapping): Promise<BoundPort> {
  const host = port.hostIp || '0.0.0.0';
  const bindFailure = (err: unknown): MinictrError => {
    const code = (err as NodeJS.ErrnoException).code;
    const at = `Bind for ${bracketed(host)}:${port.hostPort} failed`;
    if (code === 'EADDRINUSE') return new MinictrError('E_PORT_IN_USE', `${at}: port is already allocated`);
    if (code === 'EADDRNOTAVAIL') return new MinictrError('E_PORT_BIND', `${at}: the host has no such address (for ::1: is IPv6 off on lo? see sysctl net.ipv6.conf.lo.disable_ipv6)`);
    return new MinictrError('E_PORT_BIND', `${at}: ${err instanceof Error ? err.message : String(err)}`);
  };
  if (port.proto === 'udp') {
    const sock = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', ipv6Only: host.includes(':') });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port.hostPort, host, () => resolve());
    }).catch((err: unknown) => {
      sock.close();
      throw bindFailure(err);
    });
    return sock;
  }
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: port.hostPort, host, exclusive: true, ipv6Only: host.includes(':') }, () => resolve());
  }).catch((err: unknown) => {
    server.close();
    throw bindFailure(err);
  });
  return server;
}

/** Bind every port, or none: a failure closes what was bound. */
export async function bindPorts(ports: readonly PortMapping[]): Promise<BoundPort[]> {
  const bound: BoundPort[] = [];
  try {
    for (const port of ports) bound.push(await bindPort(port));
  } catch (err) {
    closePorts(bound);
    throw err;
  }
  return bound;
}

export function closePorts(bound: readonly BoundPort[]): void {
  for (const b of bound) b.close();
}

export interface RelayStart {
  /** The relay's command line (rootless: nsentered into the rootless namespace). */
  argv: string[];
  /** The container's address it connects to. */
  target: string;
  ports: PortMapping[];
  /** `bindPorts(ports)`, in the same order. */
  bound: BoundPort[];
  why: string;
  /** Writes the relay into the container's record; the relay is told to stay only after it. */
  record: (relay: RecordedProcess) => Promise<void>;
}

/** Start the relay with the bound sockets; returns it once recorded and committed. */
export async function startPortRelay(ctx: RuntimeContext, id: string, start: RelayStart): Promise<RecordedProcess> {
  requireRelay();
  // Not a plan op (it is a process minictr hands sockets to), but a step all the same: --step pauses here too.
  const step = command(start.argv, `${start.why}; ${relayedPorts(start.target, start.ports)}`);
  await ctx.beforeStep?.(step);
  const began = Date.now();
  const log = await open(ctx.store.paths.containerMonitorLog(id), 'a').catch(() => undefined);
  const child = spawnProcess(start.argv, { stdio: ['ignore', 'ignore', log?.fd ?? 'ignore', 'ipc'], detached: true });
  await log?.close();
  let relay: RecordedProcess;
  try {
    // Its sockets taken (it answers), or its end, or no answer in time; nothing of this outlives the wait.
    let settle: (failure?: MinictrError) => void = () => undefined;
    const answered = new Promise<MinictrError | undefined>((resolve) => { settle = resolve; });
    const onExit = (code: number | null): void => settle(new MinictrError('E_PORT_RELAY', `the port relay ended (exit ${code ?? 'by a signal'}) before it took the ports`));
    const onError = (err: Error): void => settle(new MinictrError('E_PORT_RELAY', `the port relay could not start: ${err.message}`));
    const timer = setTimeout(() => settle(new MinictrError('E_PORT_RELAY', 'the port relay did not take the ports within 10 s')), 10_000);
    child.once('exit', onExit);
    child.once('error', onError);
    child.once('message', () => settle());
    for (const [i, port] of start.ports.entries()) {
      const message: RelayMessage = { type: 'port', kind: port.proto === 'udp' ? 'udp' : 'tcp', ip: start.target, port: port.containerPort };
      child.send(message, start.bound[i] as Server);
    }
    child.send({ type: 'done' } satisfies RelayMessage);
    const failure = await answered;
    clearTimeout(timer);
    child.off('exit', onExit);
    child.off('error', onError);
    if (failure) throw failure;
    const pid = child.pid ?? 0;
    // A crash here (the crash tests' seam) leaves a relay holding the ports but uncommitted: it ends with minictr.
    await checkpoint(ctx.store.paths.root, 'relay-handed');
    relay = { pid, startTime: await processStartTime(pid) };
    await start.record(relay);
    child.send({ type: 'commit' } satisfies RelayMessage);
    child.disconnect();
    child.unref();
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  ctx.onStep?.({ op: step, ms: Date.now() - began });
  return relay;
}

/** Kill a recorded relay if it is still the process that was recorded. */
export async function stopRelay(relay: RecordedProcess | undefined): Promise<void> {
  if (!relay || relay.pid <= 0 || !(await isAlive(relay.pid, relay.startTime))) return;
  try {
    process.kill(relay.pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}
