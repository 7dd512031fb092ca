// Names minictr gives kernel objects and firewall rules, derived from ids so a leftover traces back.
import { createHash } from 'node:crypto';
import { ipToInt } from './ipam.js';
import type { NetworkAttachment } from '../base/records.js';

export const DEFAULT_NETWORK = {
  name: 'bridge',
  bridge: 'minictr0',
  subnet: '172.18.0.0/16',
  gateway: '172.18.0.1',
} as const;

/** Host end of a container's veth pair (15-char IFNAMSIZ limit: 'veth' + 7 hex). */
export function hostVethName(containerId: string): string {
  return 'veth' + containerId.slice(0, 7);
}

/** Name under /run/netns. */
export function netnsName(containerId: string): string {
  return 'minictr-' + containerId.slice(0, 12);
}

/** Docker's derivation: 02:42 followed by the four bytes of the IPv4 address. */
export function macFromIp(ip: string): string {
  const n = ipToInt(ip);
  const bytes = [0x02, 0x42, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export const COMMENT_PREFIX = 'minictr';

/**
 * The `-m comment` text on every rule minictr adds: "minictr" for the standing rules,
 * "minictr:<network name>" for a network's, "minictr:<12 hex of id>" for a container's.
 */
export function ruleComment(scope?: string): string {
  return scope === undefined ? COMMENT_PREFIX : `${COMMENT_PREFIX}:${scope}`;
}

/** The short container id the attachment belongs to, read back from its netns name. */
export function attachmentScope(att: Pick<NetworkAttachment, 'netns'>): string {
  return att.netns.startsWith('minictr-') ? att.netns.slice('minictr-'.length) : att.netns;
}

/**
 * The names of a CNI attachment (network, container id, interface), from one hash of the three:
 * `cni-<12 hex>` its name and its rules' scope (comments "minictr:cni-…"), `vcni<11 hex>` its host veth.
 */
export function cniAttachmentNames(network: string, containerId: string, ifname: string): { netns: string; hostVeth: string } {
  const hash = createHash('sha256').update(`${network}\0${containerId}\0${ifname}`).digest('hex');
  return { netns: `${CNI_SCOPE_PREFIX}${hash.slice(0, 12)}`, hostVeth: `vcni${hash.slice(0, 11)}` };
}

/** Whether a rule scope, or a host veth, is of an attachment the CNI plugin made. */
export function isCniAttachmentScope(scope: string): boolean {
  return /^cni-[0-9a-f]{12}$/.test(scope);
}
export function isCniVeth(link: string): boolean {
  return /^vcni[0-9a-f]{11}$/.test(link);
}

/** The scope of the rules of the CNI plugin's attachments starts with this. */
export const CNI_SCOPE_PREFIX = 'cni-';

/** The name the planners know a CNI network by (its rules' scope): "cni:<name>", never a minictr network's name. */
export function cniNetworkName(name: string): string {
  return `cni:${name}`;
}

/** What a rule scope or link name made by the CNI plugin belongs to, for `net inspect`; undefined when it is not the plugin's. */
export function cniOwner(scopeOrLink: string): string | undefined {
  if (scopeOrLink.startsWith('cni:')) return `CNI network "${scopeOrLink.slice(4)}" (minictr-cni)`;
  if (/^cni-[0-9a-f]{12}$/.test(scopeOrLink)) return `a pod attached by minictr-cni (${scopeOrLink})`;
  if (/^vcni[0-9a-f]{11}$/.test(scopeOrLink)) return `host end of a pod's veth pair, made by minictr-cni (its rules say minictr:cni-${scopeOrLink.slice(4)}…)`;
  return undefined;
}
