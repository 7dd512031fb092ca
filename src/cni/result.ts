// The result JSON of ADD, in the form of the config's cniVersion (pure).
import type { NetworkAttachment } from '../base/records.js';
import { NEWEST_VERSION, SUPPORTED_VERSIONS } from './config.js';

interface ResultInterface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
}

interface ResultIp {
  /** 0.3.x and 0.4.0 only. */
  version?: '4';
  address: string;
  gateway: string;
  interface: number;
}

export interface CniResult {
  cniVersion: string;
  interfaces: ResultInterface[];
  ips: ResultIp[];
  routes: { dst: string; gw: string }[];
  dns: Record<string, never>;
}

function before1(version: string): boolean {
  return version.startsWith('0.');
}

/** The bridge, the host veth, and the pod's interface (index 2, which holds the address). */
export function addResult(att: NetworkAttachment, cniVersion: string): CniResult {
  const old = before1(cniVersion);
  const mtu = !old && att.mtu ? { mtu: att.mtu } : {};
  return {
    cniVersion,
    interfaces: [
      { name: att.bridge },
      { name: att.hostVeth, ...mtu },
      { name: att.ifname ?? 'eth0', mac: att.mac, ...mtu, sandbox: att.netnsPath ?? att.netns },
    ],
    ips: [{ ...(old ? { version: '4' as const } : {}), address: `${att.ip}/${att.prefixLength}`, gateway: att.gateway, interface: 2 }],
    routes: att.defaultRoute === false ? [] : [{ dst: '0.0.0.0/0', gw: att.gateway }],
    dns: {},
  };
}

/** VERSION's answer. */
export function versionResult(): { cniVersion: string; supportedVersions: string[] } {
  return { cniVersion: NEWEST_VERSION, supportedVersions: [...SUPPORTED_VERSIONS] };
}
