// Rootless networks, pure: the exact command lines of pasta and slirp4netns for one container's
// network namespace, slirp4netns's port-forward requests, and what the container sees.
// The runtime (runtime/rootless-net.ts) starts them; --dry-run and --explain print the same lines.
import { MinictrError } from '../base/errors.js';
import type { PortMapping } from '../base/records.js';

export type RootlessHelper = 'pasta' | 'slirp4netns';

/** slirp4netns's fixed network (the article's): the TAP's address, gateway and DNS. */
export const SLIRP = { tap: 'tap0', cidr: '10.0.2.0/24', ip: '10.0.2.100', gateway: '10.0.2.2', dns: '10.0.2.3', mtu: 65520 } as const;

/** One port as pasta's -t/-u take it: `[addr/]host:container`. */
function pastaPort(m: PortMapping): string {
  return `${m.hostIp ? `${m.hostIp}/` : ''}${m.hostPort}:${m.containerPort}`;
}

/**
 * pasta for a namespace another process made (podman 5's way): it joins the user and network
 * namespaces by path, copies the host's addresses and routes into it (--config-net), forwards
 * only the published ports (none by default, not pasta's "auto"), and daemonizes once the
 * namespace is configured, writing its pid.
 */
export function pastaArgv(pid: number | string, ports: readonly PortMapping[], pidFile: string): string[] {
  const tcp = ports.filter((p) => p.proto === 'tcp').map(pastaPort);
  const udp = ports.filter((p) => p.proto === 'udp').map(pastaPort);
  return [
    'pasta', '--config-net', '--quiet', '--no-map-gw',
    ...(tcp.length > 0 ? tcp.flatMap((s) => ['-t', s]) : ['-t', 'none']),
    ...(udp.length > 0 ? udp.flatMap((s) => ['-u', s]) : ['-u', 'none']),
    '-T', 'none', '-U', 'none',
    '--userns', `/proc/${pid}/ns/user`, '--netns', `/proc/${pid}/ns/net`,
    '-P', pidFile,
  ];
}

/**
 * slirp4netns as the article and podman run it: a TAP in the namespace, configured (10.0.2.100,
 * gateway 10.0.2.2, DNS 10.0.2.3), a large MTU for throughput, the host's loopback not reachable
 * through the gateway, an API socket for port forwards, and "ready" said on fd 3.
 */
export function slirpArgv(pid: number | string, apiSocket: string): string[] {
  return [
    'slirp4netns', '--configure', `--mtu=${SLIRP.mtu}`, '--disable-host-loopback',
    '--api-socket', apiSocket, '--ready-fd', '3', String(pid), SLIRP.tap,
  ];
}

/** slirp4netns's add_hostfwd request for one published port (one request per connection). */
export function slirpForward(m: PortMapping): string {
  return JSON.stringify({
    execute: 'add_hostfwd',
    arguments: { proto: m.proto, host_addr: m.hostIp || '0.0.0.0', host_port: m.hostPort, guest_addr: SLIRP.ip, guest_port: m.containerPort },
  });
}

/** slirp4netns's answer to a request: the error it names, or undefined when it succeeded. */
export function slirpError(answer: string): string | undefined {
  try {
    const parsed = JSON.parse(answer) as { return?: unknown; error?: { desc?: string } | string };
    if (parsed.error !== undefined) return typeof parsed.error === 'string' ? parsed.error : (parsed.error.desc ?? JSON.stringify(parsed.error));
    return parsed.return === undefined ? `unexpected answer ${answer.trim()}` : undefined;
  } catch {
    return `unexpected answer ${JSON.stringify(answer.trim())}`;
  }
}

/**
 * A normal user may bind only ports from net.ipv4.ip_unprivileged_port_start up; the helper
 * would fail later, and less clearly.
 */
export function checkUnprivilegedPorts(ports: readonly PortMapping[], unprivilegedStart: number): void {
  const low = ports.find((p) => p.hostPort > 0 && p.hostPort < unprivilegedStart);
  if (!low) return;
  throw new MinictrError('E_PRIVILEGED_PORT', `host port ${low.hostPort} is below net.ipv4.ip_unprivileged_port_start (${unprivilegedStart}): a normal user cannot bind it; publish a port ≥ ${unprivilegedStart}, or lower the sysctl (sudo sysctl -w net.ipv4.ip_unprivileged_port_start=${low.hostPort})`);
}

/** The resolv.conf of a slirp4netns container: its built-in DNS forwarder. */
export function slirpResolvConf(): string {
  return `nameserver ${SLIRP.dns}\n`;
}

/** What each helper gives the container, and its price: the comments of --dry-run's rootless steps. */
export const HELPER_NOTES: Record<RootlessHelper, string[]> = {
  pasta: [
    "pasta copies the host's addresses and routes into the namespace: the container's address is the host's own, so peers see the host's address for its outgoing connections",
    "a published port keeps the outside client's address (pasta's sockets splice to the container); the host's loopback stays 127.0.0.1",
  ],
  slirp4netns: [
    'the article\'s first limit: the container has no IP address of its own outside: 10.0.2.100 exists only between it and slirp4netns, which opens every outside connection as the user, from the host\'s address',
    'the article\'s second limit: ping needs a raw or ICMP socket: inside, only groups in net.ipv4.ping_group_range may ping (set it to cover your mapped ids, e.g. sudo sysctl -w net.ipv4.ping_group_range="0 2147483647"); slirp4netns answers ICMP echo for the outside itself',
    "published ports use slirp4netns's own forwarder (add_hostfwd on its API socket): no extra process per port; an outside client's address is kept, the host's loopback arrives from the gateway 10.0.2.2",
  ],
};

/** The uid_map/gid_map lines newuidmap and newgidmap write, as their argv. */
export function idMapperArgv(tool: 'newuidmap' | 'newgidmap', pid: number | string, own: number, range: { start: number; count: number } | undefined): string[] {
  return [tool, String(pid), '0', String(own), '1', ...(range ? ['1', String(range.start), String(range.count)] : [])];
}
