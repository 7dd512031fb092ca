// The plugin's input, checked (pure): the CNI_* environment and the network config on stdin.
// Field names are the reference plugins' (bridge, host-local, portmap) wherever they mean the same.
import { FIREWALL_NAMES, type FirewallName, type PortMapping, type Protocol } from '../base/records.js';
import { MinictrError } from '../base/errors.js';
import { contains, isIPv4, parseSubnet, subnetsOverlap } from '../network/ipam.js';
import { CNI_CODES, CniError } from './errors.js';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION'] as const;
export type CniCommand = (typeof COMMANDS)[number];

/** Every version whose results the plugin writes: containerd 1.6 sends 1.0.0, podman 4.3 sends 0.4.0. */
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const NEWEST_VERSION = '1.1.0';

export const DEFAULT_DATA_DIR = '/var/lib/minictr-cni';
export const DEFAULT_BRIDGE = 'cni0';
export const PLUGIN_TYPE = 'minictr';

export interface CniEnv {
  command: CniCommand;
  containerId: string;
  netns: string;
  ifname: string;
  args: Record<string, string>;
  path: string[];
}

export interface BuiltinIpam {
  type: typeof PLUGIN_TYPE;
  subnet: string;
  gateway: string;
  rangeStart?: string;
  rangeEnd?: string;
  dataDir: string;
}

/** Any other `ipam.type`: a plugin found through CNI_PATH, given the whole config. */
export interface DelegatedIpam {
  type: string;
}

export interface Attachment {
  containerId: string;
  ifname: string;
}

export interface PluginConfig {
  cniVersion: string;
  name: string;
  bridge: string;
  /** isGateway, ipMasq, hairpinMode. */
  switches: BridgeSwitches;
  /**
   * Whether pods get a default route via the gateway: always with isGateway, as minictr's
   * containers do; without it only when ipam.routes has 0.0.0.0/0 (the gateway is then a router
   * elsewhere on the bridge's segment, as with the reference bridge plugin).
   */
  defaultRoute: boolean;
  mtu?: number;
  /** The cluster's pod CIDR: pods reach it without NAT, and it reaches them (multi-node clusters). */
  clusterCidr?: string;
  ipam: BuiltinIpam | DelegatedIpam;
  dataDir: string;
  firewallBackend: FirewallName;
  portMappings: PortMapping[];
  /** Where to append the plan applied (the config's `explain`, or MINICTR_CNI_EXPLAIN). */
  explain?: string;
  /** GC: the attachments the runtime still has (`cni.dev/valid-attachments`, or the 1.1.0 draft's `cni.dev/attachments`). */
  validAttachments?: Attachment[];
  /** The config as received, for a delegated IPAM plugin. */
  raw: Record<string, unknown>;
}

export function isBuiltinIpam(ipam: PluginConfig['ipam']): ipam is BuiltinIpam {
  return ipam.type === PLUGIN_TYPE;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(message: string): CniError {
  return new CniError(CNI_CODES.invalidConfig, message);
}

function unsupported(field: string, value: unknown, why: string): CniError {
  return new CniError(CNI_CODES.unsupportedField, `unsupported field ${field}: ${JSON.stringify(value)}: ${why}`);
}

function envError(message: string): CniError {
  return new CniError(CNI_CODES.invalidEnv, message);
}

const IFNAME = /^[^\s/:]{1,15}$/;
/** The spec's container id: alphanumerics, then also "_", "." and "-". */
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** The CNI_* variables a command needs, checked; VERSION needs only CNI_COMMAND. */
export function parseEnv(env: Record<string, string | undefined>): CniEnv {
  const command = env['CNI_COMMAND'];
  if (!command) throw envError('CNI_COMMAND is not set: a CNI runtime sets it to ADD, DEL, CHECK, GC, STATUS or VERSION');
  if (!(COMMANDS as readonly string[]).includes(command)) throw envError(`CNI_COMMAND "${command}" is not one of ${COMMANDS.join(', ')}`);
  const cmd = command as CniCommand;
  const perAttachment = cmd === 'ADD' || cmd === 'DEL' || cmd === 'CHECK';
  const containerId = env['CNI_CONTAINERID'] ?? '';
  const ifname = env['CNI_IFNAME'] ?? '';
  const netns = env['CNI_NETNS'] ?? '';
  if (perAttachment) {
    if (!containerId) throw envError(`CNI_CONTAINERID is not set; ${cmd} needs the container's id`);
    if (!CONTAINER_ID.test(containerId)) throw envError(`CNI_CONTAINERID "${containerId}" is not a valid container id (letters, digits, "_", "." and "-")`);
    if (!ifname) throw envError(`CNI_IFNAME is not set; ${cmd} needs the interface name to make in the container`);
    if (!IFNAME.test(ifname) || ifname === '.' || ifname === '..') throw envError(`CNI_IFNAME "${ifname}" is not a valid interface name (1 to 15 characters, no spaces, "/" or ":")`);
    if (cmd !== 'DEL' && !netns) throw envError(`CNI_NETNS is not set; ${cmd} needs the path of the container's network namespace`);
    if (netns && !netns.startsWith('/')) throw envError(`CNI_NETNS "${netns}" is not an absolute path to a network namespace`);
  }
  const args: Record<string, string> = {};
  for (const pair of (env['CNI_ARGS'] ?? '').split(';').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw envError(`CNI_ARGS "${env['CNI_ARGS'] ?? ''}" is not a list of KEY=VALUE pairs separated by ";"`);
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { command: cmd, containerId, netns, ifname, args, path: (env['CNI_PATH'] ?? '').split(':').filter(Boolean) };
}

/** Decode stdin: not JSON, or not an object, is code 6. */
export function decodeConfig(text: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CniError(CNI_CODES.decode, `the network config on stdin is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(value)) throw new CniError(CNI_CODES.decode, 'the network config on stdin must be a JSON object');
  return value;
}

/** The config's cniVersion, when it has a usable one (for answering in its version even on errors). */
export function versionOf(raw: Json | undefined): string {
  const v = raw?.['cniVersion'];
  return typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v) ? v : NEWEST_VERSION;
}

function checkVersion(raw: Json): string {
  const v = raw['cniVersion'];
  if (v === undefined) throw invalid('cniVersion is missing from the network config');
  if (typeof v !== 'string' || !(SUPPORTED_VERSIONS as readonly string[]).includes(v)) {
    throw new CniError(CNI_CODES.incompatibleVersion, `cniVersion ${JSON.stringify(v)} is not supported; this plugin speaks ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  return v;
}

function bool(raw: Json, field: string): boolean | undefined {
  const v = raw[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw invalid(`${field} must be true or false, not ${JSON.stringify(v)}`);
  return v;
}

function str(raw: Json, field: string, where = ''): string | undefined {
  const v = raw[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw invalid(`${where}${field} must be a non-empty string, not ${JSON.stringify(v)}`);
  return v;
}

function absoluteDir(raw: Json, field: string, fallback: string, where = ''): string {
  const dir = str(raw, field, where) ?? fallback;
  if (!dir.startsWith('/')) throw invalid(`${where}${field} "${dir}" must be an absolute path`);
  return dir.replace(/\/+$/, '') || '/';
}

/** The reference bridge plugin's switches, each true unless the config says false. */
export interface BridgeSwitches {
  /** The bridge holds the gateway address, and every pod gets a default route via it. */
  isGateway: boolean;
  /** Traffic leaving the subnet is masqueraded. */
  ipMasq: boolean;
  /** Hairpin on the pods' bridge ports: a pod reaches itself through its published port. */
  hairpinMode: boolean;
}

function switches(raw: Json): BridgeSwitches {
  return { isGateway: bool(raw, 'isGateway') ?? true, ipMasq: bool(raw, 'ipMasq') ?? true, hairpinMode: bool(raw, 'hairpinMode') ?? true };
}

/** Whether ipam.routes asks for a default route (the only route minictr makes). */
function asksDefaultRoute(ipam: Json): boolean {
  const routes = ipam['routes'];
  return Array.isArray(routes) && routes.some((r) => isObject(r) && r['dst'] === '0.0.0.0/0');
}

function parseBuiltinIpam(ipam: Json, dataDir: string): BuiltinIpam {
  const where = 'ipam.';
  const subnetText = str(ipam, 'subnet', where);
  if (!subnetText) throw invalid('ipam.subnet is missing: the built-in IPAM (ipam.type "minictr") needs an IPv4 subnet such as 10.77.0.0/24');
  let subnet;
  try {
    subnet = parseSubnet(subnetText);
  } catch (err) {
    throw invalid(`ipam.${(err as MinictrError).message}`);
  }
  const inSubnet = (field: string): string | undefined => {
    const ip = str(ipam, field, where);
    if (ip !== undefined && (!isIPv4(ip) || !contains(subnet.cidr, ip) || ip === subnet.network || ip === subnet.broadcast)) {
      throw invalid(`ipam.${field} "${ip}" is not a host address of ${subnet.cidr}`);
    }
    return ip;
  };
  const gateway = inSubnet('gateway') ?? subnet.gateway;
  const rangeStart = inSubnet('rangeStart');
  const rangeEnd = inSubnet('rangeEnd');
  if (rangeStart && rangeEnd && ipNumber(rangeStart) > ipNumber(rangeEnd)) throw invalid(`ipam.rangeStart ${rangeStart} comes after ipam.rangeEnd ${rangeEnd}`);
  if (ipam['ranges'] !== undefined) throw unsupported('ipam.ranges', ipam['ranges'], 'the built-in IPAM takes one subnet (ipam.subnet, rangeStart, rangeEnd); for several ranges delegate to host-local');
  checkRoutes(ipam['routes']);
  return {
    type: PLUGIN_TYPE,
    subnet: subnet.cidr,
    gateway,
    ...(rangeStart ? { rangeStart } : {}),
    ...(rangeEnd ? { rangeEnd } : {}),
    dataDir: absoluteDir(ipam, 'dataDir', `${dataDir}/ipam`, where),
  };
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** The one route the bridge driver makes is a pod's default route via the gateway: no other is accepted. */
function checkRoutes(routes: unknown): void {
  if (routes === undefined) return;
  if (!Array.isArray(routes)) throw invalid('ipam.routes must be a list of {"dst": CIDR, "gw": address}');
  for (const route of routes) {
    if (!isObject(route) || typeof route['dst'] !== 'string') throw invalid('ipam.routes must be a list of {"dst": CIDR, "gw": address}');
    if (route['dst'] !== '0.0.0.0/0') throw unsupported('ipam.routes', route, 'each pod gets one default route (0.0.0.0/0) via the gateway; other routes are not made');
  }
}

function parsePortMappings(runtimeConfig: unknown): PortMapping[] {
  if (runtimeConfig === undefined) return [];
  if (!isObject(runtimeConfig)) throw invalid('runtimeConfig must be an object');
  const list = runtimeConfig['portMappings'];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw invalid('runtimeConfig.portMappings must be a list of {"hostPort", "containerPort", "protocol"}');
  return list.map((m, i): PortMapping => {
    const where = `runtimeConfig.portMappings[${i}]`;
    if (!isObject(m)) throw invalid(`${where} must be an object`);
    const port = (field: string): number => {
      const v = m[field];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) throw invalid(`${where}.${field} must be a port number from 1 to 65535, not ${JSON.stringify(v)}`);
      return v;
    };
    const protocol = (m['protocol'] ?? 'tcp') as unknown;
    const proto = typeof protocol === 'string' ? protocol.toLowerCase() : protocol;
    if (proto !== 'tcp' && proto !== 'udp') throw unsupported(`${where}.protocol`, protocol, 'minictr publishes tcp and udp ports');
    const hostIp = m['hostIP'] ?? '';
    if (typeof hostIp !== 'string' || (hostIp !== '' && hostIp !== '0.0.0.0' && !isIPv4(hostIp))) {
      throw unsupported(`${where}.hostIP`, hostIp, 'minictr publishes on every IPv4 address or on one IPv4 address');
    }
    return { hostIp: hostIp === '0.0.0.0' ? '' : hostIp, hostPort: port('hostPort'), containerPort: port('containerPort'), proto: proto as Protocol };
  });
}

function parseAttachments(raw: Json): Attachment[] | undefined {
  const list = raw['cni.dev/valid-attachments'] ?? raw['cni.dev/attachments'];
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) throw invalid('cni.dev/valid-attachments must be a list of {"containerID", "ifname"}');
  return list.map((a, i) => {
    if (!isObject(a) || typeof a['containerID'] !== 'string' || typeof a['ifname'] !== 'string') {
      throw invalid(`cni.dev/valid-attachments[${i}] must be {"containerID": string, "ifname": string}`);
    }
    return { containerId: a['containerID'], ifname: a['ifname'] };
  });
}

/** `clusterCIDR` (kube-proxy's name for it): a valid IPv4 CIDR holding the node's subnet. */
function parseClusterCidr(raw: Json, ipam: BuiltinIpam | DelegatedIpam): string | undefined {
  const text = str(raw, 'clusterCIDR');
  if (text === undefined) return undefined;
  let cidr: string;
  try {
    cidr = parseSubnet(text).cidr;
  } catch (err) {
    throw invalid(`clusterCIDR: ${(err as MinictrError).message}`);
  }
  if (ipam.type === PLUGIN_TYPE && !subnetsOverlap(cidr, (ipam as BuiltinIpam).subnet)) {
    throw invalid(`clusterCIDR ${cidr} does not hold this node's subnet ${(ipam as BuiltinIpam).subnet}`);
  }
  return cidr;
}

const BRIDGE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** The network config, checked: code 1 for a version, 2 for a field minictr does not do, 7 for nonsense. */
export function parseConfig(raw: Json, env: Pick<CniEnv, 'command'>, explainEnv?: string): PluginConfig {
  const cniVersion = checkVersion(raw);
  const name = str(raw, 'name');
  if (!name) throw invalid('name is missing from the network config');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw invalid(`name "${name}" must be letters, digits, "_", "." and "-"`);
  const type = raw['type'];
  if (type !== PLUGIN_TYPE) throw invalid(`type ${JSON.stringify(type)} is not this plugin's; it is "${PLUGIN_TYPE}"`);
  const bridge = str(raw, 'bridge') ?? DEFAULT_BRIDGE;
  if (!BRIDGE_NAME.test(bridge)) throw invalid(`bridge "${bridge}" is not a valid interface name (1 to 15 letters, digits, "_", "." or "-")`);
  const bridgeSwitches = switches(raw);
  const mtu = raw['mtu'];
  if (mtu !== undefined && (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < 576 || mtu > 65535)) {
    throw invalid(`mtu must be a whole number from 576 to 65535, not ${JSON.stringify(mtu)}`);
  }
  const backend = raw['firewallBackend'] ?? 'iptables';
  const firewallBackend = FIREWALL_NAMES.find((n) => n === backend);
  if (!firewallBackend) throw unsupported('firewallBackend', backend, `minictr's firewall drivers are ${FIREWALL_NAMES.join(' and ')}`);
  const dataDir = absoluteDir(raw, 'dataDir', DEFAULT_DATA_DIR);
  const ipamRaw = raw['ipam'];
  if (!isObject(ipamRaw) || typeof ipamRaw['type'] !== 'string' || ipamRaw['type'] === '') {
    throw invalid('ipam is missing or has no type: give {"type": "minictr", "subnet": "10.77.0.0/24"} or a delegated IPAM plugin such as host-local');
  }
  const ipam = ipamRaw['type'] === PLUGIN_TYPE ? parseBuiltinIpam(ipamRaw, dataDir) : { type: ipamRaw['type'] };
  const clusterCidr = parseClusterCidr(raw, ipam);
  const explain = str(raw, 'explain') ?? explainEnv;
  const validAttachments = env.command === 'GC' ? parseAttachments(raw) : undefined;
  return {
    cniVersion,
    name,
    bridge,
    switches: bridgeSwitches,
    defaultRoute: bridgeSwitches.isGateway || asksDefaultRoute(ipamRaw),
    ...(typeof mtu === 'number' ? { mtu } : {}),
    ...(clusterCidr ? { clusterCidr } : {}),
    ipam,
    dataDir,
    firewallBackend,
    portMappings: parsePortMappings(raw['runtimeConfig']),
    ...(explain ? { explain } : {}),
    ...(validAttachments ? { validAttachments } : {}),
    raw,
  };
}
