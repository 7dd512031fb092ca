// Docker-shaped `inspect` documents, built from records (pure).
import { humanDuration, timeAgo } from '../base/human.js';
import { attachmentTo, type ContainerRecord, type MountPoint, type NetworkAttachment, type NetworkRecord, type PortMapping, type Resources } from '../base/records.js';
import { DEFAULT_FIREWALL } from '../network/drivers.js';
import { DEFAULT_NETWORK } from '../network/names.js';
import { parsePortSpec, type PortRequest } from '../network/ports.js';

function portKey(p: { containerPort: number; proto: string }): string {
  return `${p.containerPort}/${p.proto}`;
}

function portBindings(ports: PortMapping[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) {
    (out[portKey(p)] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
  }
  return out;
}

/**
 * Docker's HostConfig.PortBindings: the bindings as asked, before any is expanded or chosen
 * (`-p 8080:80` is `{"80/tcp":[{"HostIp":"","HostPort":"8080"}]}`, `-p 80` has HostPort "");
 * NetworkSettings.Ports shows what they became (0.0.0.0 and [::], the host port picked).
 */
export function requestedPortBindings(specs: readonly string[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const spec of specs) {
    let requests: PortRequest[];
    try {
      requests = parsePortSpec(spec);
    } catch {
      continue; // a record older than a parser's check: show the rest
    }
    // parsePortSpec reads 0.0.0.0 as every address (''); Docker echoes what was typed.
    const typedAny = spec.startsWith('0.0.0.0:');
    for (const r of requests) {
      (out[portKey(r)] ??= []).push({ HostIp: typedAny ? '0.0.0.0' : r.hostIp, HostPort: r.hostPort ? String(r.hostPort) : '' });
    }
  }
  return out;
}

/** The `-p` specs as given: portSpecs without the ones `-P` added after them. */
function askedPortSpecs(record: ContainerRecord): string[] {
  const specs = record.hostConfig.portSpecs;
  return specs.slice(0, specs.length - (record.hostConfig.publishAllSpecs?.length ?? 0));
}

/** Docker's top-level `Mounts` entry. */
function dockerMount(m: MountPoint): Record<string, unknown> {
  return {
    Type: m.type,
    ...(m.name !== undefined ? { Name: m.name } : {}),
    Source: m.source,
    Destination: m.destination,
    ...(m.type === 'volume' ? { Driver: 'local' } : {}),
    Mode: m.type === 'bind' ? (m.readOnly ? 'ro' : '') : m.type === 'volume' ? (m.readOnly ? 'ro' : 'z') : '',
    RW: !m.readOnly,
    Propagation: m.type === 'bind' ? m.propagation || 'rprivate' : '',
  };
}

/** Docker's HostConfig limit fields (0 = unset; PidsLimit null when unlimited). */
function dockerResources(r: Partial<Resources> | undefined): Record<string, unknown> {
  return {
    Memory: r?.memory ?? 0,
    MemorySwap: r?.memorySwap ?? 0,
    MemoryReservation: r?.memoryReservation ?? 0,
    NanoCpus: r?.nanoCpus ?? 0,
    CpuShares: r?.cpuShares ?? 0,
    CpusetCpus: r?.cpusetCpus ?? '',
    PidsLimit: r?.pidsLimit ? r.pidsLimit : null,
  };
}

/** Docker's State.Status: a running container frozen by `pause` is "paused"; one waiting out its restart back-off "restarting". */
export function dockerStatus(record: ContainerRecord): string {
  if (record.state.status !== 'running' && record.state.restarting) return 'restarting';
  return record.state.status === 'running' && record.state.paused ? 'paused' : record.state.status;
}

/** The STATUS column and the API's `Status`: "Up 3 minutes (Paused)", "Exited (0) 2 hours ago", "Created". */
export function statusText(record: ContainerRecord, now: Date): string {
  const s = record.state;
  if (s.status === 'running') return `Up ${humanDuration(now.getTime() - Date.parse(s.startedAt))}${s.paused ? ' (Paused)' : ''}`;
  if (s.status === 'exited' && s.restarting) return `Restarting (${s.exitCode}) ${timeAgo(new Date(s.finishedAt), now)}`;
  if (s.status === 'exited') return `Exited (${s.exitCode}) ${timeAgo(new Date(s.finishedAt), now)}`;
  return 'Created';
}

/** Docker's IPv6 fields of an endpoint (empty without IPv6, as Docker shows them). */
function ipv6Fields(net: NetworkAttachment | undefined): Record<string, unknown> {
  return { GlobalIPv6Address: net?.ip6 ?? '', GlobalIPv6PrefixLen: net?.ip6 ? (net.prefixLength6 ?? 64) : 0, IPv6Gateway: net?.gateway6 ?? '' };
}

/** Docker's inspect document; `logPath` is where the json-file log is (Docker's LogPath). */
export function inspectContainer(record: ContainerRecord, logPath = ''): Record<string, unknown> {
  const s = record.state;
  const net = record.network;
  const mode = record.hostConfig.networkMode;
  const networks: Record<string, unknown> = {};
  if (mode === 'host' || mode === 'none') {
    networks[mode] = { IPAddress: '', Gateway: '', MacAddress: '', IPPrefixLen: 0, NetworkID: mode };
  } else {
    networks[mode] = {
      IPAddress: net?.ip ?? '',
      IPPrefixLen: net?.prefixLength ?? 0,
      Gateway: net?.gateway ?? '',
      MacAddress: net?.mac ?? '',
      NetworkID: net?.network ?? mode,
      Aliases: record.config.networkAliases ?? null,
      ...ipv6Fields(net),
    };
  }
  for (const extra of record.extraNetworks ?? []) {
    networks[extra.network] = {
      IPAddress: extra.ip, IPPrefixLen: extra.prefixLength, Gateway: extra.gateway, MacAddress: extra.mac, NetworkID: extra.network, Aliases: extra.aliases ?? null,
      ...ipv6Fields(extra),
    };
  }
  return {
    Id: record.id,
    Created: record.created,
    Path: [...record.config.entrypoint, ...record.config.cmd][0] ?? '',
    Args: [...record.config.entrypoint, ...record.config.cmd].slice(1),
    State: {
      Status: dockerStatus(record),
      Running: s.status === 'running',
      Paused: s.status === 'running' && s.paused === true,
      Restarting: s.status !== 'running' && s.restarting === true,
      OOMKilled: s.oomKilled === true,
      Dead: false,
      Pid: s.status === 'running' ? s.pid : 0,
      ExitCode: s.exitCode,
      Error: s.error,
      StartedAt: s.startedAt,
      FinishedAt: s.finishedAt,
    },
    Image: `sha256:${record.config.imageId}`,
    Name: `/${record.name}`,
    LogPath: record.hostConfig.logConfig?.type === 'none' ? '' : logPath,
    RestartCount: record.restartCount ?? 0,
    Driver: record.rootfsMode === 'overlay' ? 'overlay2' : 'vfs',
    HostConfig: {
      NetworkMode: mode,
      AutoRemove: record.hostConfig.autoRemove,
      RestartPolicy: { Name: record.hostConfig.restartPolicy?.name ?? 'no', MaximumRetryCount: record.hostConfig.restartPolicy?.maximumRetryCount ?? 0 },
      // What -p asked; -P's ports are the daemon's to choose, as in Docker.
      PortBindings: requestedPortBindings(askedPortSpecs(record)),
      PublishAllPorts: record.hostConfig.publishAllSpecs !== undefined,
      Binds: record.hostConfig.binds?.length ? record.hostConfig.binds : null,
      Tmpfs: record.hostConfig.tmpfs && Object.keys(record.hostConfig.tmpfs).length ? record.hostConfig.tmpfs : null,
      ReadonlyRootfs: record.hostConfig.readonlyRootfs === true,
      VolumesFrom: record.hostConfig.volumesFrom?.length ? record.hostConfig.volumesFrom : null,
      // Docker's *bool with omitempty: only there when --init was given.
      ...(record.hostConfig.init ? { Init: true } : {}),
      ...dockerResources(record.hostConfig.resources),
      LogConfig: { Type: record.hostConfig.logConfig?.type ?? 'json-file', Config: record.hostConfig.logConfig?.config ?? {} },
    },
    Mounts: (record.mounts ?? []).map(dockerMount),
    Config: {
      Hostname: record.config.hostname,
      Env: record.config.configEnv ?? record.config.env,
      Cmd: record.config.cmd,
      Entrypoint: record.config.entrypoint.length ? record.config.entrypoint : null,
      Image: record.config.image,
      WorkingDir: record.config.workdir,
      Tty: record.config.tty,
      OpenStdin: record.config.interactive,
      // docker run -i: the first attached client's end of input closes the container's stdin.
      StdinOnce: record.config.interactive,
      AttachStdin: record.config.interactive,
      Labels: record.config.labels ?? {},
      ExposedPorts: Object.fromEntries((net?.ports ?? record.rootlessNet?.ports ?? []).map((p) => [portKey(p), {}])),
    },
    NetworkSettings: {
      Ports: portBindings(net?.ports ?? record.rootlessNet?.ports ?? []),
      SandboxKey: net ? `/run/netns/${net.netns}` : '',
      IPAddress: net?.ip ?? '',
      Gateway: net?.gateway ?? '',
      ...ipv6Fields(net),
      MacAddress: net?.mac ?? '',
      Networks: networks,
    },
    Minictr: {
      HostVeth: net?.hostVeth ?? '',
      Netns: net?.netns ?? '',
      MonitorPid: s.monitorPid,
      // The relay serving its [::1] ports (Docker's docker-proxy), while it runs.
      ...(net?.relay ? { RelayPid: net.relay.pid } : {}),
      RootfsMode: record.rootfsMode,
    },
  };
}

export function inspectNetwork(net: NetworkRecord, containers: ContainerRecord[]): Record<string, unknown> {
  return {
    Name: net.name,
    Id: net.id,
    Created: net.created,
    Scope: 'local',
    Driver: net.driver,
    EnableIPv4: true,
    EnableIPv6: net.subnet6 !== undefined,
    IPAM: {
      Driver: 'default',
      Config: [{ Subnet: net.subnet, Gateway: net.gateway }, ...(net.subnet6 ? [{ Subnet: net.subnet6, Gateway: net.gateway6 ?? '' }] : [])],
    },
    Internal: net.internal === true,
    // Docker names the bridge device in Options only for its default network (or when given with
    // -o); compose compares a network's Options with its file's and recreates it on a difference.
    Options: { ...(net.name === DEFAULT_NETWORK.name ? { 'com.docker.network.bridge.name': net.bridge } : {}), ...(net.options ?? {}) },
    Labels: net.labels ?? {},
    Minictr: { Firewall: net.firewall ?? DEFAULT_FIREWALL, Bridge: net.bridge },
    Containers: Object.fromEntries(
      containers.flatMap((c) => {
        const att = attachmentTo(c, net.name);
        return att
          ? [[c.id, {
            Name: c.name,
            MacAddress: att.mac,
            IPv4Address: `${att.ip}/${att.prefixLength}`,
            IPv6Address: att.ip6 ? `${att.ip6}/${att.prefixLength6 ?? 64}` : '',
          }]]
          : [];
      }),
    ),
  };
}
