// Docker's embedded DNS on user-defined networks, planned (pure). A container asks 127.0.0.11,
// as in Docker; two nat rules in its own namespace send that to its network's resolver on the
// gateway: minictr-dns (src/dns/minictr-dns.c), one process for every network of a state
// root, which answers the names of the asking container's network and forwards the rest to the
// host's resolvers. It lives only while a network has containers: a network's file is removed
// with its last container, and the resolver with the last file.
import { command, mkdirOp, signalOp, waitGone, write, type Op, type Plan } from '../base/plan.js';
import type { NetworkAttachment } from '../base/records.js';
import { DEFAULT_NETWORK } from './names.js';
import type { InsideStep } from './driver.js';
import { enterNetns } from './bridge.js';

/** Where a container's resolv.conf points on a user-defined network (Docker's address). */
export const EMBEDDED_DNS = '127.0.0.11';
/** The resolver's port on each gateway. */
export const RESOLVER_PORT = 53;
/** The resolver's pid file, in its configuration directory. */
export const RESOLVER_PID_FILE = 'resolver.pid';

/** The default bridge keeps Docker's behaviour: no names, the host's resolvers. */
export function hasEmbeddedDns(network: string): boolean {
  return network !== DEFAULT_NETWORK.name;
}

/** The nat rules inside the container's namespace, as iptables-restore lines. */
export function dnsRedirectRules(att: Pick<NetworkAttachment, 'ip' | 'gateway'>): string[] {
  const to = `${att.gateway}:${RESOLVER_PORT}`;
  return [
    ...(['udp', 'tcp'] as const).map(
      (p) => `-A OUTPUT -d ${EMBEDDED_DNS}/32 -p ${p} -m ${p} --dport 53 -j DNAT --to-destination ${to}`,
    ),
    // The query leaves with the container's address, so the resolver knows who asks (and which network's names count).
    `-A POSTROUTING -s 127.0.0.0/8 -d ${att.gateway}/32 -j SNAT --to-source ${att.ip}`,
  ];
}

/**
 * 127.0.0.11 inside the container, served on the gateway: route_localnet lets a packet from
 * 127.0.0.1 leave eth0 once DNATed, and the SNAT gives it the container's address. Run inside
 * the container's namespace by the process chain that configures its eth0 (the bridge driver's
 * inside batch); the rules go with the namespace.
 */
export function dnsRedirectStep(att: NetworkAttachment): InsideStep {
  const enter = enterNetns(att);
  const sysctl = 'echo 1 > /proc/sys/net/ipv4/conf/eth0/route_localnet';
  const rules = dnsRedirectRules(att);
  return {
    script: `${sysctl} && exec iptables-restore -w --noflush`,
    stdin: `*nat\n${rules.join('\n')}\nCOMMIT\n`,
    shown: [
      [...enter, 'sh', '-c', sysctl],
      ...rules.map((r) => [...enter, 'iptables', '-w', '-t', 'nat', ...r.split(' ')]),
    ],
    why: `send the container's DNS queries to ${EMBEDDED_DNS} on to its network's resolver on ${att.gateway}:${RESOLVER_PORT} (Docker's embedded DNS address; the rules live in the container's own namespace)`,
  };
}

/** One container as its network's resolver knows it. */
export interface DnsMember {
  id: string;
  ip: string;
  /** Name, aliases, short id, hostname: what the network's containers can ask for. */
  names: string[];
  /** --dns servers: its queries for other names go there instead of the host's. */
  servers: string[];
}

/** The names a container answers to on its network, Docker's set: name, aliases, short id, and its hostname. */
export function memberNames(c: { id: string; name: string; hostname: string; aliases?: readonly string[] }): string[] {
  const names: string[] = [];
  const add = (n: string): void => {
    const lower = n.toLowerCase();
    if (lower !== '' && !names.includes(lower)) names.push(lower);
  };
  add(c.name);
  for (const alias of c.aliases ?? []) add(alias);
  add(c.id.slice(0, 12));
  add(c.hostname);
  return names;
}

/**
 * One network's file (aardvark-dns's format, which minictr-dns reads): the addresses to listen on (and the servers that
 * answer the rest), then a line per container: id, IPv4s, IPv6s, names, its own servers. Each
 * name also with each search domain: a resolver that tries `a1.corp.test` before `a1` (busybox,
 * musl) still finds it, as Docker's resolver strips the containers' search domains.
 */
export function resolverConfig(gateway: string, upstream: readonly string[], members: readonly DnsMember[], search: readonly string[] = []): string {
  // Plain loops and one growing string: a start renders every member of its network, and at
  // 1,000 members the array-per-name version cost ~3.5 ms of a cold process, this ~1.4 ms.
  const domains = search.map((d) => d.toLowerCase());
  let text = `${upstream.length > 0 ? `${gateway} ${upstream.join(',')}` : gateway}\n`;
  for (const m of members) {
    let names = '';
    for (const n of m.names) {
      names += names === '' ? n : `,${n}`;
      for (const d of domains) names += `,${n}.${d}`;
    }
    text += `${m.id} ${m.ip}  ${names}${m.servers.length > 0 ? ` ${m.servers.join(',')}` : ''}\n`;
  }
  return text;
}

/** What the resolver sync needs to know of the host. */
export interface ResolverFacts {
  /** minictr-dns's path. */
  binary: string;
  /** Its configuration directory (one file per network, and its pid file). */
  dir: string;
  /** The running resolver of this state root, if any. */
  pid?: number;
  /** Other networks that have a file (they keep the resolver alive). */
  otherNetworks: number;
}

/** The running resolver stopped, and waited for: its sockets must be closed before a new one binds them. */
function stopOps(pid: number, why: string): Op[] {
  return [
    signalOp(pid, 'TERM', why, { tolerate: /No such process/ }),
    // /proc/PID/exe no longer resolves once the process has exited, reaped or not.
    waitGone(`/proc/${pid}/exe`, 2_000, 'wait until the old resolver has exited', [
      signalOp(pid, 'KILL', 'stop the old resolver for good', { tolerate: /No such process/ }),
    ]),
  ];
}

/**
 * Bring the resolver in line with one network: its file written (or removed with its last
 * container), then the resolver started, or told to read its files again (SIGHUP: it swaps its
 * names and keeps its sockets, so no question asked meanwhile is lost), or stopped with the last file.
 */
export function planResolverSync(network: string, config: string | undefined, facts: ResolverFacts): Plan {
  const file = `${facts.dir}/${network}`;
  const title = `resolver names for network ${network}`;
  const refresh = facts.pid === undefined
    ? command([facts.binary, '--config', facts.dir, '--port', String(RESOLVER_PORT)],
      `start the resolver for ${EMBEDDED_DNS} on every user-defined network with containers (it detaches once it listens)`)
    : signalOp(facts.pid, 'HUP', "tell the resolver to read its networks' names again (its sockets stay open)");
  if (config !== undefined) {
    return {
      title,
      ops: [
        mkdirOp(facts.dir, "the resolver's configuration directory", { tolerate: /EEXIST|exists/ }),
        write(file, config, `the names of network ${network}'s containers, for its resolver`),
        refresh,
      ],
    };
  }
  const ops: Op[] = [command(['rm', '-f', file], `network ${network} has no containers left: its resolver names go`)];
  if (facts.pid !== undefined) {
    if (facts.otherNetworks > 0) ops.push(refresh);
    else ops.push(...stopOps(facts.pid, 'no network has containers left: stop the resolver'), command(['rm', '-f', `${facts.dir}/${RESOLVER_PID_FILE}`], "the stopped resolver's pid file"));
  }
  return { title, ops };
}

/** The search domains of a resolv.conf (its last `search` line wins, as in the resolver). */
export function searchDomains(resolvConf: string): string[] {
  const lines = resolvConf.split('\n').filter((l) => /^\s*search\s/.test(l));
  return lines.at(-1)?.trim().split(/\s+/).slice(1) ?? [];
}

/** The nameservers of a resolv.conf, loopback ones included (the resolver runs in the host's namespace). */
export function nameservers(resolvConf: string): string[] {
  return resolvConf.split('\n').flatMap((line) => {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    return m?.[1] ? [m[1]] : [];
  });
}
