// minictr's port relay, in one process per container: a rootless network's published ports
// (podman's rootlessport), and a rootful container's ports on [::1] (Docker's docker-proxy: the
// kernel's NAT cannot serve IPv6's loopback). minictr binds each port in the host's network
// namespace, then hands the bound sockets over an IPC channel to this process, which runs inside
// the user's rootless network namespace (nsenter) or, rootful, in the host's. It accepts on the
// host's sockets and connects to the container's address through the bridge: the container sees
// the network's gateway as the client. It lives until killed (with its container), or ends at
// once if minictr goes away before it has recorded the relay's pid.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIPv6, type Server, type Socket } from 'node:net';

export interface RelayTarget {
  kind: 'tcp' | 'udp';
  ip: string;
  port: number;
}

/** What minictr sends: each bound socket with where it goes, then `done`; after the pid is recorded, `commit`. */
export type RelayMessage = ({ type: 'port' } & RelayTarget) | { type: 'done' } | { type: 'commit' };

/** A UDP client is forgotten after this long without traffic (as conntrack forgets an unreplied flow). */
const UDP_IDLE_MS = 60_000;

export function relayTcp(server: Server, target: RelayTarget): void {
  server.on('connection', (client: Socket) => {
    // A client's half-close goes through as a half-close (pipe ends the other side's writing).
    client.allowHalfOpen = true;
    const upstream = connect({ port: target.port, host: target.ip, allowHalfOpen: true });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
}

export function relayUdp(outer: UdpSocket, target: RelayTarget): void {
  const flows = new Map<string, { inner: UdpSocket; timer: NodeJS.Timeout; pending: Buffer[] | undefined }>();
  outer.on('message', (msg: Buffer, from: RemoteInfo) => {
    const key = `${from.address}:${from.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const inner = createSocket(isIPv6(target.ip) ? 'udp6' : 'udp4');
      inner.on('message', (reply: Buffer) => outer.send(reply, from.port, from.address));
      inner.on('error', () => undefined);
      const made = { inner, timer: setTimeout(() => undefined, 0), pending: [] as Buffer[] | undefined };
      // Datagrams that come before the connect completes wait for it.
      inner.connect(target.port, target.ip, () => {
        for (const queued of made.pending ?? []) inner.send(queued);
        made.pending = undefined;
      });
      flow = made;
      flows.set(key, flow);
    }
    const current = flow;
    clearTimeout(current.timer);
    current.timer = setTimeout(() => {
      current.inner.close();
      flows.delete(key);
    }, UDP_IDLE_MS);
    if (current.pending) current.pending.push(msg);
    else current.inner.send(msg);
  });
}

/** The relay's side: take the sockets, say how many, wait for the commit. */
export function runPortRelay(): void {
  if (!process.send) {
    process.stderr.write('minictr: the port relay is started by minictr itself, over an IPC channel\n');
    process.exit(125);
  }
  let taken = 0;
  let committed = false;
  process.on('message', (message: RelayMessage, handle?: Server | UdpSocket) => {
    if (message.type === 'port' && handle) {
      if (message.kind === 'tcp') relayTcp(handle as Server, message);
      else relayUdp(handle as UdpSocket, message);
      taken++;
    } else if (message.type === 'done') {
      process.send?.({ ready: taken });
    } else if (message.type === 'commit') {
      committed = true;
      process.disconnect();
    }
  });
  // minictr gone before it recorded this process: nobody would ever stop it.
  process.on('disconnect', () => {
    if (!committed) process.exit(1);
  });
}
