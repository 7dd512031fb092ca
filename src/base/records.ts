// The shapes of what minictr writes down. Every created host object is recorded here
// before (or as) it is made, so teardown can be planned from the record alone.

export type Protocol = 'tcp' | 'udp';

/** One published port after parsing: `-p [hostIp:][hostPort:]containerPort[/proto]`. */
export interface PortMapping {
  /** '' means every host address (Docker's 0.0.0.0). */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  proto: Protocol;
}

/** The network objects a bridge-mode container owns. */
export interface NetworkAttachment {
  network: string;
  bridge: string;
  /** Name under /run/netns (ip netns). */
  netns: string;
  hostVeth: string;
  ip: string;
  prefixLength: number;
  gateway: string;
  mac: string;
  ports: PortMapping[];
}

export type ContainerStatus = 'created' | 'running' | 'exited';

export interface ContainerConfig {
  image: string;
  imageId: string;
  cmd: string[];
  entrypoint: string[];
  env: string[];
  workdir: string;
  hostname: string;
  tty: boolean;
  interactive: boolean;
  user?: string;
}

export interface HostConfig {
  /** none | host | bridge | a user-defined network name. */
  networkMode: string;
  autoRemove: boolean;
  /** As given on the command line (ports are resolved at start). */
  portSpecs: string[];
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
  startedAt: string;
  finishedAt: string;
  error: string;
}

export interface ContainerRecord {
  schemaVersion: 1;
  id: string;
  name: string;
  created: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  state: ContainerState;
  /** Set while the container holds network objects (veth, address, rules). */
  network?: NetworkAttachment;
  /** How the writable root is made. */
  rootfsMode: 'overlay' | 'copy';
}

export interface NetworkRecord {
  schemaVersion: 1;
  name: string;
  id: string;
  driver: 'bridge';
  /** The firewall driver that owns its rules; absent in records made before there was a choice (iptables). */
  firewall?: 'iptables';
  bridge: string;
  subnet: string;
  gateway: string;
  created: string;
}

export const NULL_TIME = '0001-01-01T00:00:00Z';
