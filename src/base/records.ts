import type { RestartPolicy } from './restart-policy.js';

// The shapes of what minictr writes down. Every created host object is recorded here
// before (or as) it is made, so teardown can be planned from the record alone.

export type Protocol = 'tcp' | 'udp';

/** One published port after parsing: `-p [hostIp:][hostPort:]containerPort[/proto]`. */
export interface PortMapping {
  /** '' means every IPv4 host address (Docker's 0.0.0.0); '::' every IPv6 one; else one address of either family. */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  proto: Protocol;
}

/** The network objects a bridge-mode container owns. */
export interface NetworkAttachment {
  network: string;
  bridge: string;
  /**
   * Name under /run/netns (ip netns) of the namespace minictr made. An attachment made by the
   * CNI plugin has `netnsPath` instead, and this is only its name (`cni-<hash>`, its rules' scope).
   */
  netns: string;
  /** A namespace someone else made and owns (a CNI runtime's `CNI_NETNS`): entered, never created or removed. */
  netnsPath?: string;
  /** The interface's name inside the namespace; eth0 when absent (eth1… for networks joined with `network connect`). */
  ifname?: string;
  /** One MTU for the veth pair and the default route (a CNI config's `mtu`); absent: see the bridge driver. */
  mtu?: number;
  /** A cluster's pod CIDR (the CNI config's `clusterCIDR`): traffic from it may reach this address directly. */
  clusterCidr?: string;
  /** false: no default route in the namespace (a CNI config with isGateway false and no default route in ipam.routes). */
  defaultRoute?: false;
  /**
   * false: no raw-table guard, so what is routed to the address reaches it (set with its network's
   * `masquerade: false`: the address itself goes out, and replies come back to it).
   */
  guard?: false;
  /** false: hairpin off on the veth's bridge port (a CNI config's hairpinMode false). */
  hairpin?: false;
  hostVeth: string;
  ip: string;
  prefixLength: number;
  gateway: string;
  /** The container's IPv6 address, on a network with IPv6 (Docker's GlobalIPv6Address). */
  ip6?: string;
  prefixLength6?: number;
  gateway6?: string;
  mac: string;
  ports: PortMapping[];
  /**
   * The relay process serving the ports the kernel's NAT cannot (`[::1]:…`, Docker's
   * docker-proxy): recorded before it is told to stay, killed with the container's exit.
   */
  relay?: RecordedProcess;
  /** The network is --internal: the container gets no default route. */
  internal?: boolean;
  /** `network connect --alias`: more names on this network. */
  aliases?: string[];
  /**
   * Recorded (address and ports taken) while the links and rules are still being made, outside
   * the network lock: a repair or reload leaves it to its own attach until this is cleared.
   */
  pending?: boolean;
}

/** A helper process minictr started and must stop: the start time tells a recycled pid apart. */
export interface RecordedProcess {
  pid: number;
  /** /proc/<pid>/stat start time. */
  startTime: number;
}

/** A rootless container's helper process and what it forwards; teardown kills it from this. */
export interface RootlessNetAttachment {
  /** bridge: a veth into the user's rootless network namespace, whose own pasta reaches the outside. */
  helper: 'pasta' | 'slirp4netns' | 'bridge';
  /** The helper's pid (0 for bridge: the namespace's pasta serves every container of the user). */
  pid: number;
  /** /proc/<pid>/stat start time: a recycled pid is never killed. */
  startTime: number;
  /** slirp4netns's API socket. */
  apiSocket?: string;
  ports: PortMapping[];
  /** bridge: the network, the container's address on it, its gateway, the veth's end in the rootless namespace. */
  network?: string;
  ip?: string;
  prefixLength?: number;
  gateway?: string;
  veth?: string;
}

export type ContainerStatus = 'created' | 'running' | 'exited';

export interface ContainerConfig {
  image: string;
  imageId: string;
  cmd: string[];
  entrypoint: string[];
  /** What the process gets: the image's, the user's, and HOSTNAME, HOME (and TERM with -t). */
  env: string[];
  /** Docker's Config.Env, what inspect shows: the user's then the image's (absent in older records). */
  configEnv?: string[];
  workdir: string;
  hostname: string;
  tty: boolean;
  interactive: boolean;
  user?: string;
  /** `-l, --label` and the image's labels (Docker's Config.Labels); absent in records made before labels. */
  labels?: Record<string, string>;
  /** `--network-alias` (the API's EndpointsConfig Aliases): more names its network's peers find it by. */
  networkAliases?: string[];
}

export interface HostConfig {
  /** none | host | bridge | a user-defined network name. */
  networkMode: string;
  autoRemove: boolean;
  /** `--restart`; absent means `no`. */
  restartPolicy?: RestartPolicy;
  /** As given on the command line, then `-P`'s (ports are resolved at start). */
  portSpecs: string[];
  /** `-P`: the image's exposed ports it added to portSpecs (Docker's PublishAllPorts; not in its PortBindings). */
  publishAllSpecs?: string[];
  /** `-v` specs as given (Docker's HostConfig.Binds). Absent in records made before volumes. */
  binds?: string[];
  /** `--tmpfs` path → options (Docker's HostConfig.Tmpfs). */
  tmpfs?: Record<string, string>;
  /** `--read-only`. */
  readonlyRootfs?: boolean;
  /** `--volumes-from` as given. */
  volumesFrom?: string[];
  /** `--init`: tini runs as PID 1 (/sbin/docker-init), reaping zombies and forwarding signals. */
  init?: boolean;
  /** Limits; absent (or all zero) means none, as in Docker. */
  resources?: Resources;
  /** `--log-driver`/`--log-opt`; absent in records made before logs of every run: json-file. */
  logConfig?: LogConfig;
  /** `--dns`, `--dns-search`, `--dns-option` (Docker's HostConfig.Dns, DnsSearch, DnsOptions). */
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** `--add-host name:ip` as given (`host-gateway` is resolved at start). */
  extraHosts?: string[];
  /** `--ip`: the container's address on its user-defined network (Docker's IPAMConfig.IPv4Address). */
  ipAddress?: string;
  /** `--ip6`: its IPv6 address there, on a network with IPv6 (Docker's IPAMConfig.IPv6Address). */
  ip6Address?: string;
}

/** Docker's HostConfig.LogConfig: where the container's output is kept. */
export interface LogConfig {
  type: 'json-file' | 'none';
  /** --log-opt key=value: max-size, max-file. */
  config: Record<string, string>;
}

/** Docker's resource limits, in Docker's units (bytes, nano-CPUs); 0 / '' means unset. */
export interface Resources {
  /** --memory, bytes. */
  memory: number;
  /** --memory-swap, bytes of memory + swap; -1 unlimited swap, 0 unset. */
  memorySwap: number;
  /** --memory-reservation, bytes (a soft limit). */
  memoryReservation: number;
  /** --cpus × 1e9. */
  nanoCpus: number;
  /** --cpu-shares (relative weight, 1024 = default). */
  cpuShares: number;
  /** --cpuset-cpus, e.g. "0-1" or "0,2". */
  cpusetCpus: string;
  /** --pids-limit; 0 or -1 unlimited (Docker shows null for 0). */
  pidsLimit: number;
}

/**
 * One filesystem mounted into a container, resolved (Docker's top-level `Mounts` entry).
 * Made inside the container's mount namespace after pivot_root, so its destination is
 * resolved within the container's root and never on the host.
 */
export interface MountPoint {
  type: 'bind' | 'volume' | 'tmpfs';
  /** The volume's name (volumes only). */
  name?: string;
  /** Host path: a bind's source with symlinks resolved on the host, a volume's data dir; '' for tmpfs. */
  source: string;
  /** Absolute path inside the container. */
  destination: string;
  readOnly: boolean;
  /** Bind propagation (rprivate unless asked), '' for others. */
  propagation: string;
  /** tmpfs mount options (size=…, mode=…), '' for others. */
  options: string;
  /** A volume made for this container alone (image VOLUME, `-v /path`): `rm -v` and `--rm` remove it. */
  anonymous?: boolean;
  /** Fill an empty volume from the image's content at `destination` when it is first mounted. */
  copyUp?: boolean;
}

export interface ContainerState {
  status: ContainerStatus;
  /** Host pid of the container's first process (0 when not running). */
  pid: number;
  /** /proc/<pid>/stat start time, so a recycled pid is not mistaken for ours. */
  pidStartTime: number;
  /** Host pid of the monitor that waits for the container. */
  monitorPid: number;
  exitCode: number;
  /** The kernel's OOM killer ended the container's process (a memory limit was hit). */
  oomKilled?: boolean;
  /**
   * Frozen by `pause` (its cgroup's freezer). Never stored: the kernel's freezer is the truth,
   * and refresh sets this on the running records it returns.
   */
  paused?: boolean;
  startedAt: string;
  finishedAt: string;
  error: string;
  /** Exited, waiting out the restart policy's back-off (Docker's State.Restarting). */
  restarting?: boolean;
  /** The process that sleeps the back-off and then starts the container again (its own process group). */
  restartWaiterPid?: number;
  /** The back-off of the last restart, in ms (the next one doubles it). */
  restartDelayMs?: number;
  /** Stopped, killed or removed by hand: no policy restarts it until a manual start (Docker's HasBeenManuallyStopped). */
  manuallyStopped?: boolean;
}

export interface ContainerRecord {
  schemaVersion: 1;
  id: string;
  name: string;
  created: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  state: ContainerState;
  /** Restarts done by the restart policy since the last manual start (Docker's RestartCount). */
  restartCount?: number;
  /** Set while the container holds network objects (veth, address, rules). */
  network?: NetworkAttachment;
  /** Rootless: the helper (pasta, slirp4netns) that connects the container's namespace, while it runs. */
  rootlessNet?: RootlessNetAttachment;
  /**
   * Networks joined with `network connect` while it runs: eth1, eth2 … in the same namespace.
   * Torn down with the container's network; not joined again at the next start.
   */
  extraNetworks?: NetworkAttachment[];
  /** How the writable root is made. */
  rootfsMode: 'overlay' | 'copy';
  /** Rootless, when the kernel's overlay cannot be mounted in a user namespace: the overlay is fuse-overlayfs's. */
  overlayDriver?: 'fuse-overlayfs';
  /** Resolved mounts (binds, volumes, tmpfs), in mount order. Absent in records made before volumes. */
  mounts?: MountPoint[];
  /**
   * The container's cgroup, recorded before it is made so teardown finds it from state:
   * `<parent>/<id>` under each controller (v1) or the unified tree (v2).
   */
  cgroup?: CgroupRecord;
}

export interface CgroupRecord {
  version: 1 | 2;
  /** Relative path below the cgroup mounts, e.g. "minictr/3f2a…". */
  path: string;
}

/** A named or anonymous volume, kept under the state dir (Docker's `volume inspect`). */
export interface VolumeRecord {
  schemaVersion: 1;
  name: string;
  driver: 'local';
  /** Host path of the data: <root>/volumes/<name>/_data. */
  mountpoint: string;
  created: string;
  labels: Record<string, string>;
  /** Made for one container (image VOLUME or `-v /path`). */
  anonymous: boolean;
}

export interface NetworkRecord {
  schemaVersion: 1;
  name: string;
  id: string;
  driver: 'bridge';
  /** The firewall driver that owns its rules; absent in records made before there was a choice (iptables). */
  firewall?: FirewallName;
  /** `network create -o KEY=VALUE` as given (Docker echoes them in `network inspect`'s Options). */
  options?: Record<string, string>;
  /** `network create --label` (compose finds its networks by theirs). */
  labels?: Record<string, string>;
  bridge: string;
  subnet: string;
  gateway: string;
  /** `--ipv6`: the network's IPv6 subnet (a ULA /64 when none was given) and the bridge's address in it. */
  subnet6?: string;
  gateway6?: string;
  /**
   * A cluster's pod CIDR (only the CNI plugin's networks): pods talk to the cluster's other pods
   * without NAT, and traffic from it may enter the bridge.
   */
  clusterCidr?: string;
  /** false: the bridge holds no gateway address (Docker's inhibit_ipv4, the CNI bridge plugin's isGateway false). */
  bridgeGateway?: false;
  /** false: nothing leaving the subnet is masqueraded (Docker's enable_ip_masquerade=false, the CNI bridge plugin's ipMasq false). */
  masquerade?: false;
  created: string;
  /** `--internal`: no masquerade, no route out, nothing in or out but its own subnet. */
  internal?: boolean;
}

/** The firewall drivers minictr has. */
export const FIREWALL_NAMES = ['iptables', 'nftables'] as const;
export type FirewallName = (typeof FIREWALL_NAMES)[number];

export const NULL_TIME = '0001-01-01T00:00:00Z';

/** Every network a container is attached to: its first, then those joined with `network connect`. */
export function attachmentsOf(record: Pick<ContainerRecord, 'network' | 'extraNetworks'>): NetworkAttachment[] {
  return [...(record.network ? [record.network] : []), ...(record.extraNetworks ?? [])];
}

/** The container's attachment to `network`, if it has one. */
export function attachmentTo(record: Pick<ContainerRecord, 'network' | 'extraNetworks'>, network: string): NetworkAttachment | undefined {
  return attachmentsOf(record).find((a) => a.network === network);
}
