// The per-container files the container sees as /etc/hosts, /etc/hostname, /etc/resolv.conf:
// their content (pure, from the host's files as read once) and the plan that writes them, so a
// start writes them through the runner and --dry-run prints the same writes.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { write, type Plan } from '../base/plan.js';
import { EMBEDDED_DNS, nameservers } from '../network/dns.js';

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

/**
 * The host's resolv.conf: /etc/resolv.conf, or the file MINICTR_RESOLV_CONF names (a host whose
 * resolver configuration lives elsewhere; the tests' sandbox host, which shares the machine's /etc).
 */
export function hostResolvConfPath(): string {
  return process.env['MINICTR_RESOLV_CONF'] || '/etc/resolv.conf';
}

export async function readHostEtc(): Promise<HostEtc> {
  const [resolvConf, upstream, hosts] = await Promise.all(
    [hostResolvConfPath(), '/run/systemd/resolve/resolv.conf', '/etc/hosts'].map((f) => readFile(f, 'utf8').catch(() => '')),
  );
  return { resolvConf: resolvConf ?? '', upstreamResolvConf: upstream ?? '', hosts: hosts ?? '' };
}

export interface EtcRequest {
  hostname: string;
  ip?: string;
  /** --network host: the container sees the host's own files, as Docker does. */
  hostNetwork: boolean;
  /** A user-defined network's container asks 127.0.0.11 (Docker's embedded DNS). */
  embeddedDns?: boolean;
  /** --dns, --dns-search, --dns-option: they replace the host's lines of the same kind. */
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** --add-host, resolved: extra /etc/hosts lines. */
  extraHosts?: HostsPeer[];
}

function linesOf(text: string, key: 'search' | 'options'): string[] {
  return text.split('\n').flatMap((l) => {
    const m = new RegExp(`^\\s*${key}\\s+(.*)$`).exec(l);
    return m?.[1] ? m[1].trim().split(/\s+/) : [];
  });
}

/**
 * resolv.conf as Docker writes it: --dns/--dns-search/--dns-option replace the host's lines;
 * on a user-defined network the nameserver is 127.0.0.11 with `options ndots:0` (unless an
 * ndots is given), the real servers named in a comment, since the resolver asks them.
 */
export function resolvConf(req: EtcRequest, hostResolv: string): string {
  const search = req.dnsSearch?.length ? req.dnsSearch.filter((s) => s !== '.') : linesOf(hostResolv, 'search');
  const options = req.dnsOptions?.length ? [...req.dnsOptions] : linesOf(hostResolv, 'options');
  const hostServers = containerResolvConf(hostResolv).split('\n').flatMap((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1] ?? []);
  const lines: string[] = [];
  if (req.embeddedDns) {
    if (!options.some((o) => o.startsWith('ndots:'))) options.push('ndots:0');
    lines.push(`nameserver ${EMBEDDED_DNS}`);
  } else {
    // Docker's fallback when the host names no server a container can reach.
    const servers = req.dns?.length ? req.dns : hostServers.length > 0 ? hostServers : ['8.8.8.8', '8.8.4.4'];
    lines.push(...servers.map((s) => `nameserver ${s}`));
  }
  if (search.length > 0) lines.push(`search ${search.join(' ')}`);
  if (options.length > 0) lines.push(`options ${options.join(' ')}`);
  if (req.embeddedDns) {
    const ext = req.dns?.length ? req.dns : nameservers(hostResolv);
    lines.push('', `# ExtServers: [${ext.join(' ')}] (asked by the network's resolver for names it does not know)`);
  }
  return `${lines.join('\n')}\n`;
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
  // The resolver runs in the host's namespace and reaches a local stub; a container does not.
  const resolv = req.embeddedDns || hasReachableNameserver(host.resolvConf) || !hasReachableNameserver(host.upstreamResolvConf)
    ? host.resolvConf
    : host.upstreamResolvConf;
  const plain = !req.embeddedDns && !req.dns?.length && !req.dnsSearch?.length && !req.dnsOptions?.length;
  return {
    hostname: `${req.hostname}\n`,
    hosts: hostsFile(req.hostname, req.ip, req.extraHosts ?? []),
    // Without flags on the default bridge, the host's file as it is (less loopback servers), as before.
    'resolv.conf': plain ? containerResolvConf(resolv) : resolvConf(req, resolv),
  };
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
