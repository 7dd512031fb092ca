// The per-container files the container sees as /etc/hosts, /etc/hostname, /etc/resolv.conf:
// their content (pure, from the host's files as read once) and the plan that writes them, so a
// start writes them through the runner and --dry-run prints the same writes.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { write, type Plan } from '../base/plan.js';

/** Another container on the same user-defined network, resolvable by name (Docker's embedded DNS, as hosts lines). */
export interface HostsPeer {
  ip: string;
  names: string[];
}

export function hostsFile(hostname: string, ip?: string, peers: HostsPeer[] = []): string {
  return hostsFileOfLines(hostname, ip, peers.map(peerLine));
}

/** A peer's /etc/hosts line. */
export function peerLine(peer: HostsPeer): string {
  return `${peer.ip}\t${peer.names.join(' ')}`;
}

/** hostsFile with the peers' lines already rendered (a network's lines are rendered once for all its members). */
export function hostsFileOfLines(hostname: string, ip: string | undefined, peerLines: readonly string[]): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::\tip6-localnet',
    'ff00::\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  if (ip) lines.push(`${ip}\t${hostname}`);
  lines.push(...peerLines);
  return `${lines.join('\n')}\n`;
}

/**
 * The host's resolv.conf without loopback nameservers (a stub resolver on the host's
 * 127.0.0.53 is unreachable from a container), as Docker does.
 */
export function containerResolvConf(hostResolvConf: string): string {
  const kept = hostResolvConf
    .split('\n')
    .filter((line) => !/^\s*nameserver\s+(127\.|::1\b)/.test(line));
  return `${kept.join('\n').trim()}\n`;
}

/** Does this resolv.conf name any nameserver a container can reach (not loopback)? */
function hasReachableNameserver(text: string): boolean {
  return /^\s*nameserver\s+(?!127\.|::1\b)\S+/m.test(text);
}

/** What the container's files are made from: the host's own, read once. */
export interface HostEtc {
  /** /etc/resolv.conf as it is. */
  resolvConf: string;
  /** The file with the real upstream servers when resolv.conf names only a local stub (systemd-resolved). */
  upstreamResolvConf: string;
  hosts: string;
}

export async function readHostEtc(): Promise<HostEtc> {
  const [resolvConf, upstream, hosts] = await Promise.all(
    ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf', '/etc/hosts'].map((f) => readFile(f, 'utf8').catch(() => '')),
  );
  return { resolvConf: resolvConf ?? '', upstreamResolvConf: upstream ?? '', hosts: hosts ?? '' };
}

export interface EtcRequest {
  hostname: string;
  ip?: string;
  /** --network host: the container sees the host's own files, as Docker does. */
  hostNetwork: boolean;
}

export interface EtcFiles {
  hosts: string;
  hostname: string;
  'resolv.conf': string;
}

/** The three files' content (pure). */
export function containerEtcFiles(req: EtcRequest, host: HostEtc): EtcFiles {
  if (req.hostNetwork) {
    return { hostname: `${req.hostname}\n`, hosts: host.hosts || hostsFile(req.hostname), 'resolv.conf': host.resolvConf };
  }
  const resolv = hasReachableNameserver(host.resolvConf) || !hasReachableNameserver(host.upstreamResolvConf)
    ? host.resolvConf
    : host.upstreamResolvConf;
  return { hostname: `${req.hostname}\n`, hosts: hostsFile(req.hostname, req.ip), 'resolv.conf': containerResolvConf(resolv) };
}

const WHY: Record<keyof EtcFiles, string> = {
  hosts: "the container's /etc/hosts (bind-mounted over the image's): localhost and its own name",
  hostname: "the container's /etc/hostname",
  'resolv.conf': "the container's /etc/resolv.conf: where its name lookups go",
};

/** Writing the files into the container's directory, where its init bind-mounts them from. */
export function planContainerEtc(dir: string, files: EtcFiles): Plan {
  const names = Object.keys(WHY) as (keyof EtcFiles)[];
  return { title: "write the container's /etc files", ops: names.map((f) => write(join(dir, f), files[f], WHY[f])) };
}

/**
 * Rewrite a container's hosts file in place: it is bind-mounted into the container, so the
 * same inode must change (a rename would leave the container with the old file).
 */
export async function rewriteHosts(dir: string, content: string): Promise<void> {
  await writeFile(join(dir, 'hosts'), content);
}
