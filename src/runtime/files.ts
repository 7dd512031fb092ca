// The per-container files the container sees as /etc/hosts, /etc/hostname, /etc/resolv.conf.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Another container on the same user-defined network, resolvable by name (Docker's embedded DNS, as hosts lines). */
export interface HostsPeer {
  ip: string;
  names: string[];
}

export function hostsFile(hostname: string, ip?: string, peers: HostsPeer[] = []): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::\tip6-localnet',
    'ff00::\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  if (ip) lines.push(`${ip}\t${hostname}`);
  for (const peer of peers) lines.push(`${peer.ip}\t${peer.names.join(' ')}`);
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

/**
 * The host's resolv.conf; when it only points at a local stub (systemd-resolved's
 * 127.0.0.53), the file with the real upstream servers, as Docker reads it.
 */
async function hostResolvConf(): Promise<string> {
  const main = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  if (hasReachableNameserver(main)) return main;
  const upstream = await readFile('/run/systemd/resolve/resolv.conf', 'utf8').catch(() => '');
  return hasReachableNameserver(upstream) ? upstream : main;
}

export async function writeContainerEtc(dir: string, hostname: string, ip: string | undefined, hostNetwork: boolean): Promise<void> {
  const hostResolv = hostNetwork ? await readFile('/etc/resolv.conf', 'utf8').catch(() => '') : await hostResolvConf();
  await Promise.all([
    writeFile(join(dir, 'hostname'), `${hostname}\n`),
    // With --network host the container sees the host's own files, as Docker does.
    hostNetwork
      ? writeFile(join(dir, 'hosts'), await readFile('/etc/hosts', 'utf8').catch(() => hostsFile(hostname)))
      : writeFile(join(dir, 'hosts'), hostsFile(hostname, ip)),
    writeFile(join(dir, 'resolv.conf'), hostNetwork ? hostResolv : containerResolvConf(hostResolv)),
  ]);
}

/**
 * Rewrite a container's hosts file in place: it is bind-mounted into the container, so the
 * same inode must change (a rename would leave the container with the old file).
 */
export async function rewriteHosts(dir: string, content: string): Promise<void> {
  await writeFile(join(dir, 'hosts'), content);
}
