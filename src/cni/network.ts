// The plugin's config as the planners take it (pure): a network record (`cni:<name>`) and a
// pod's attachment. The reference bridge plugin's switches become the same record and attachment
// options a minictr network has, so the bridge and firewall drivers plan them, not the plugin.
import type { NetworkAttachment, NetworkRecord, PortMapping } from '../base/records.js';
import { intToIp, ipToInt } from '../network/ipam.js';
import { cniAttachmentNames, cniNetworkName, macFromIp } from '../network/names.js';
import { isBuiltinIpam, type CniEnv, type PluginConfig } from './config.js';

/** An address an IPAM gave. */
export interface Address {
  ip: string;
  prefixLength: number;
  gateway: string;
}

/** The name the planners know a CNI network by: its rules say "minictr:cni:<name>", never a minictr network's. */
export function plannerNetworkName(conf: Pick<PluginConfig, 'name'>): string {
  return cniNetworkName(conf.name);
}

export function subnetOf(ip: string, prefixLength: number): string {
  const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return `${intToIp((ipToInt(ip) & mask) >>> 0)}/${prefixLength}`;
}

/** The network as the planners take it: from the config, or (a delegated IPAM) from an address it gave. */
export function networkOf(conf: PluginConfig, att?: Pick<NetworkAttachment, 'ip' | 'prefixLength' | 'gateway'>): NetworkRecord {
  const ipam = conf.ipam;
  const subnet = isBuiltinIpam(ipam) ? ipam.subnet : att ? subnetOf(att.ip, att.prefixLength) : '';
  const gateway = isBuiltinIpam(ipam) ? ipam.gateway : (att?.gateway ?? '');
  return {
    schemaVersion: 1, name: plannerNetworkName(conf), id: '', driver: 'bridge', firewall: conf.firewallBackend, bridge: conf.bridge, subnet, gateway,
    ...(conf.clusterCidr ? { clusterCidr: conf.clusterCidr } : {}),
    ...(conf.switches.isGateway ? {} : { bridgeGateway: false as const }),
    ...(conf.switches.ipMasq ? {} : { masquerade: false as const }),
    created: '',
  };
}

/** A pod's attachment, recorded `pending` until its links and rules are made. */
export function podAttachment(conf: PluginConfig, env: Pick<CniEnv, 'containerId' | 'ifname' | 'netns'>, address: Address, ports: PortMapping[]): NetworkAttachment {
  const names = cniAttachmentNames(conf.name, env.containerId, env.ifname);
  return {
    network: plannerNetworkName(conf),
    bridge: conf.bridge,
    netns: names.netns,
    netnsPath: env.netns,
    ifname: env.ifname,
    hostVeth: names.hostVeth,
    ...address,
    mac: macFromIp(address.ip),
    ports,
    ...(conf.mtu ? { mtu: conf.mtu } : {}),
    ...(conf.clusterCidr ? { clusterCidr: conf.clusterCidr } : {}),
    ...(conf.defaultRoute ? {} : { defaultRoute: false as const }),
    ...(conf.switches.ipMasq ? {} : { guard: false as const }),
    ...(conf.switches.hairpinMode ? {} : { hairpin: false as const }),
    pending: true,
  };
}
