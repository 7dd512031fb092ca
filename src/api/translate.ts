// The Engine API's shapes to and from minictr's: a create body to a ContainerSpec (as the
// docker CLI's flags would give it), a record to a /containers/json entry. Pure.
import { parseRestartPolicy } from '../base/restart-policy.js';
import type { ContainerRecord, Resources } from '../base/records.js';
import type { ContainerSpec } from '../runtime/containers.js';
import { dockerStatus, statusText } from '../runtime/inspect.js';
import { ApiError } from './http.js';

/** One entry of NetworkingConfig.EndpointsConfig: what `docker run --network-alias/--ip/--ip6` send. */
export interface EndpointBody {
  Aliases?: unknown;
  IPAMConfig?: { IPv4Address?: unknown; IPv6Address?: unknown } | null;
}

/** The part of Docker's ContainerCreate body minictr carries out; other fields are accepted and ignored. */
export interface CreateBody {
  Image?: unknown;
  Cmd?: unknown;
  Entrypoint?: unknown;
  Env?: unknown;
  WorkingDir?: unknown;
  Hostname?: unknown;
  User?: unknown;
  Tty?: unknown;
  OpenStdin?: unknown;
  Labels?: unknown;
  ExposedPorts?: unknown;
  NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointBody | null> | null } | null;
  HostConfig?: {
    PortBindings?: unknown;
    PublishAllPorts?: unknown;
    AutoRemove?: unknown;
    NetworkMode?: unknown;
    RestartPolicy?: unknown;
    Binds?: unknown;
    Mounts?: unknown;
    Tmpfs?: unknown;
    ReadonlyRootfs?: unknown;
    VolumesFrom?: unknown;
    Init?: unknown;
    Memory?: unknown;
    MemorySwap?: unknown;
    MemoryReservation?: unknown;
    NanoCpus?: unknown;
    CpuShares?: unknown;
    CpusetCpus?: unknown;
    PidsLimit?: unknown;
    LogConfig?: unknown;
  } | null;
}

function wrongType(field: string, want: string): ApiError {
  return new ApiError(400, `json: cannot unmarshal ${field}: want ${want}`);
}

function str(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw wrongType(field, 'a string');
  return v;
}

function strings(v: unknown, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw wrongType(field, 'a list of strings');
  return v as string[];
}

function bool(v: unknown, field: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw wrongType(field, 'true or false');
  return v;
}

function num(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null || v === 0) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw wrongType(field, 'a number');
  return v;
}

/** A body's `Labels` (containers, networks, volumes): a map, its values as text. */
export function labelsOf(v: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(record(v, 'Labels')).map(([k, value]) => [k, String(value)]));
}

function record(v: unknown, field: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw wrongType(field, 'an object');
  return v as Record<string, unknown>;
}

/** HostConfig.PortBindings as `-p` specs: {"5000/tcp": [{"HostIp": "", "HostPort": "5005"}]}. */
export function portSpecs(bindings: unknown): string[] {
  const specs: string[] = [];
  for (const [port, list] of Object.entries(record(bindings, 'HostConfig.PortBindings'))) {
    const entries = Array.isArray(list) && list.length > 0 ? list : [{}];
    for (const entry of entries as Record<string, unknown>[]) {
      const ip = str(entry['HostIp'], 'HostIp') ?? '';
      const host = str(entry['HostPort'], 'HostPort') ?? '';
      // An IPv6 address in brackets, as the CLI writes it: `[::1]::80` keeps an empty host port apart.
      const at = ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
      specs.push(ip ? `${at}:${host}:${port}` : host ? `${host}:${port}` : port);
    }
  }
  return specs;
}

/** A create body (and the `name` query parameter) as the spec the CLI's flags would make. */
export function specFromCreate(body: CreateBody, name: string | undefined): ContainerSpec {
  const image = str(body.Image, 'Image');
  if (!image) throw new ApiError(400, 'Config cannot be empty in order to create a container: give an Image');
  const host = body.HostConfig ?? {};
  const entrypoint = strings(body.Entrypoint, 'Entrypoint');
  const cmd = strings(body.Cmd, 'Cmd') ?? [];
  const labels = labelsOf(body.Labels);
  const policy = record(host.RestartPolicy, 'HostConfig.RestartPolicy');
  const policyName = str(policy['Name'], 'RestartPolicy.Name') ?? '';
  const retries = num(policy['MaximumRetryCount'], 'RestartPolicy.MaximumRetryCount');
  const network = str(host.NetworkMode, 'HostConfig.NetworkMode');
  const resources: Partial<Resources> = {};
  const set = (key: keyof Resources, value: unknown, field: string): void => {
    const n = key === 'cpusetCpus' ? str(value, field) : num(value, field);
    if (n !== undefined) (resources as Record<string, unknown>)[key] = n;
  };
  set('memory', host.Memory, 'HostConfig.Memory');
  set('memorySwap', host.MemorySwap, 'HostConfig.MemorySwap');
  set('memoryReservation', host.MemoryReservation, 'HostConfig.MemoryReservation');
  set('nanoCpus', host.NanoCpus, 'HostConfig.NanoCpus');
  set('cpuShares', host.CpuShares, 'HostConfig.CpuShares');
  set('cpusetCpus', host.CpusetCpus, 'HostConfig.CpusetCpus');
  set('pidsLimit', host.PidsLimit, 'HostConfig.PidsLimit');
  const log = record(host.LogConfig, 'HostConfig.LogConfig');
  const logDriver = str(log['Type'], 'LogConfig.Type');
  const mounts = (Array.isArray(host.Mounts) ? host.Mounts : []) as Record<string, unknown>[];
  const published = portSpecs(host.PortBindings);
  const endpointsByName = body.NetworkingConfig?.EndpointsConfig ?? {};
  const endpoints = Object.values(endpointsByName);
  const aliases = endpoints.flatMap((e) => strings(e?.Aliases, 'EndpointsConfig.Aliases') ?? []);
  // The addresses asked for on the network the container joins (the CLI keys it by --network's name).
  const ipam = ((network ? endpointsByName[network] : undefined) ?? (endpoints.length === 1 ? endpoints[0] : undefined))?.IPAMConfig ?? {};
  const ip = str(ipam.IPv4Address, 'IPAMConfig.IPv4Address');
  const ip6 = str(ipam.IPv6Address, 'IPAMConfig.IPv6Address');
  return {
    image,
    ...(name ? { name } : {}),
    // An entrypoint of several words: the first is the entrypoint, the rest lead the command.
    command: entrypoint && entrypoint.length > 1 ? [...entrypoint.slice(1), ...cmd] : cmd,
    ...(entrypoint !== undefined ? { entrypoint: entrypoint[0] ?? '' } : {}),
    env: strings(body.Env, 'Env') ?? [],
    ...optional('workdir', str(body.WorkingDir, 'WorkingDir')),
    ...optional('hostname', str(body.Hostname, 'Hostname')),
    ...optional('user', str(body.User, 'User')),
    tty: bool(body.Tty, 'Tty'),
    interactive: bool(body.OpenStdin, 'OpenStdin'),
    // "default" is the daemon's default network, the bridge.
    ...(network && network !== 'default' ? { network } : {}),
    publish: published,
    publishAll: bool(host.PublishAllPorts, 'HostConfig.PublishAllPorts'),
    autoRemove: bool(host.AutoRemove, 'HostConfig.AutoRemove'),
    restartPolicy: parseRestartPolicy(policyName === '' ? '' : retries ? `${policyName}:${retries}` : policyName),
    volumes: strings(host.Binds, 'HostConfig.Binds') ?? [],
    mounts: mounts.map((m) => [
      `type=${String(m['Type'] ?? 'volume')}`,
      ...(m['Source'] ? [`source=${String(m['Source'])}`] : []),
      `target=${String(m['Target'] ?? '')}`,
      ...(m['ReadOnly'] === true ? ['readonly'] : []),
    ].join(',')),
    tmpfs: Object.entries(record(host.Tmpfs, 'HostConfig.Tmpfs')).map(([path, opts]) => (opts ? `${path}:${String(opts)}` : path)),
    readOnly: bool(host.ReadonlyRootfs, 'HostConfig.ReadonlyRootfs'),
    ...(bool(host.Init, 'HostConfig.Init') ? { init: true } : {}),
    volumesFrom: strings(host.VolumesFrom, 'HostConfig.VolumesFrom') ?? [],
    resources,
    labels,
    ...(aliases.length > 0 ? { networkAliases: aliases } : {}),
    ...optional('ip', ip),
    ...optional('ip6', ip6),
    ...(logDriver ? { logDriver } : {}),
    logOpts: Object.entries(record(log['Config'], 'LogConfig.Config')).map(([k, v]) => `${k}=${String(v)}`),
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

/** One entry of GET /containers/json. */
export function listEntry(r: ContainerRecord, now: Date): Record<string, unknown> {
  const net = r.network;
  const mode = r.hostConfig.networkMode;
  return {
    Id: r.id,
    Names: [`/${r.name}`],
    Image: r.config.image,
    ImageID: `sha256:${r.config.imageId}`,
    Command: [...r.config.entrypoint, ...r.config.cmd].join(' '),
    Created: Math.floor(Date.parse(r.created) / 1000),
    Ports: (net?.ports ?? []).map((p) => ({ ...(p.hostPort ? { IP: p.hostIp || '0.0.0.0', PublicPort: p.hostPort } : {}), PrivatePort: p.containerPort, Type: p.proto })),
    Labels: r.config.labels ?? {},
    State: dockerStatus(r),
    Status: statusText(r, now),
    HostConfig: { NetworkMode: mode === 'bridge' ? 'default' : mode },
    NetworkSettings: {
      Networks: net
        ? { [net.network]: { IPAddress: net.ip, IPPrefixLen: net.prefixLength, Gateway: net.gateway, MacAddress: net.mac, NetworkID: net.network } }
        : {},
    },
    Mounts: (r.mounts ?? []).map((m) => ({ Type: m.type, ...(m.name ? { Name: m.name } : {}), Source: m.source, Destination: m.destination, RW: !m.readOnly })),
  };
}
