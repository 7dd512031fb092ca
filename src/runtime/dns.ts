// The embedded DNS resolver of a state root, kept in line with the records (network/dns.ts plans
// it): after a container joins or leaves a user-defined network, that network's file is rewritten
// and the resolver started, reloaded or stopped. No daemon: minictr-dns (src/dns/minictr-dns.c)
// runs only while some network has containers.
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { Resolver } from 'node:dns/promises';
import { randomBytes } from 'node:crypto';
import { RESOLVER_PATH } from '../base/install-paths.js';
import { startTimeOf, waitFor } from '../base/proc.js';
import type { NetworkMember } from '../base/members.js';
import { applyPlan } from '../exec/apply.js';
import { RESOLVER_PID_FILE, hasEmbeddedDns, memberNames, nameservers, planResolverSync, searchDomains, resolverConfig, RESOLVER_PORT, type DnsMember, type ResolverFacts } from '../network/dns.js';
import { stepOptions, type RuntimeContext } from './context.js';
import { readHostEtc } from './files.js';

/** Where minictr asks the resolver for a marker from: the host's loopback, listed under the marker. */
const MARKER_ASKER = '127.0.0.1';

/** The resolver's path, or undefined where it was not built (then names come from /etc/hosts lines, as before). */
export function resolverBinary(): string | undefined {
  return existsSync(RESOLVER_PATH) ? RESOLVER_PATH : undefined;
}

/** Does this container get Docker's embedded DNS (127.0.0.11)? */
export function usesEmbeddedDns(network: string | undefined): boolean {
  return network !== undefined && hasEmbeddedDns(network) && resolverBinary() !== undefined;
}

/** The resolver's pid, when its pid file names a live minictr-dns. */
export function resolverPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(`${dir}/${RESOLVER_PID_FILE}`, 'utf8').trim());
    if (startTimeOf(pid) === 0) return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('minictr-dns') ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A member as `network`'s resolver knows it: by its address there and its names. The resolver
 * ties a container's addresses to every network whose file lists its id, so one that joined
 * `network` with `network connect` (asking through its first network's gateway) gets `network`'s
 * names too.
 */
export function dnsMember(m: NetworkMember): DnsMember {
  return { id: m.id, ip: m.ip, names: memberNames({ id: m.id, name: m.name, hostname: m.hostname, aliases: m.aliases }), servers: m.dns };
}

/** The plan that brings the resolver in line with `network`'s members (also what --dry-run prints). */
export async function planResolverFor(ctx: RuntimeContext, network: string, onNetwork: NetworkMember[], marker?: string): Promise<ReturnType<typeof planResolverSync> | undefined> {
  const binary = resolverBinary();
  if (!binary || !hasEmbeddedDns(network)) return undefined;
  const dir = ctx.store.paths.dns;
  const members = onNetwork.map(dnsMember);
  const net = await ctx.store.loadNetwork(network);
  const host = (await readHostEtc()).resolvConf;
  const search = [...new Set([...searchDomains(host), ...onNetwork.flatMap((m) => m.dnsSearch)])].filter((d) => d !== '.');
  // The marker: a name of this version of the file, under the network's id, so a reload can be
  // seen to have happened. Its address is where minictr asks from (127.0.0.1: a question from the
  // gateway's own address would be masqueraded by the network's rule on its way over lo).
  const markers = marker && net ? [{ id: net.id, ip: MARKER_ASKER, names: [marker], servers: [] }] : [];
  const config = members.length > 0 && net ? resolverConfig(net.gateway, nameservers(host), [...members, ...markers], search) : undefined;
  const files = await readdir(dir).catch(() => [] as string[]);
  const pid = resolverPid(dir);
  const facts: ResolverFacts = { binary, dir, ...(pid !== undefined ? { pid } : {}), otherNetworks: files.filter((f) => f !== network && f !== RESOLVER_PID_FILE && !f.endsWith('.tmp')).length };
  if (config === undefined && !files.includes(network)) return undefined;
  return planResolverSync(network, config, facts);
}

/**
 * Rewrite `network`'s names for the resolver and start it anew (or stop it), then wait until it
 * answers with the new file (its marker name): a container that joined finds its peers, and
 * they find it, from the first query.
 */
export async function syncResolver(ctx: RuntimeContext, network: string): Promise<void> {
  if (!usesEmbeddedDns(network)) return;
  await ctx.store.lock('dns', async () => {
    const marker = `minictr-sync-${randomBytes(6).toString('hex')}`;
    // The index's members of this network, not every record.
    const members = await ctx.store.index.members(network);
    const plan = await planResolverFor(ctx, network, members, marker);
    if (!plan) return;
    await applyPlan(plan, ctx.runner, stepOptions(ctx));
    const gateway = (await ctx.store.loadNetwork(network))?.gateway;
    // A network with no container left has no file, and nothing to wait for.
    if (!gateway || members.length === 0) return;
    // A reload is a signal: wait until the resolver answers the new file's marker name.
    await resolverAnswers(gateway, marker, 2_000);
  });
}

/**
 * Poll the resolver on the gateway until it knows `name`. The host is no container of the
 * network; it asks from 127.0.0.1, which the marker lists under the network's id.
 */
async function resolverAnswers(gateway: string, name: string, timeoutMs: number): Promise<boolean> {
  // The resolver is on this host and answers in well under a millisecond: a short timeout only
  // bounds what a question that raced the reload costs (forwarded upstream, never answered).
  const resolver = new Resolver({ timeout: 20, tries: 1 });
  resolver.setLocalAddress(MARKER_ASKER);
  // The bare address when the port is DNS's own: node tries "addr:port" against its IPv6
  // pattern first, whose first use costs 3 ms.
  resolver.setServers([RESOLVER_PORT === 53 ? gateway : `${gateway}:${RESOLVER_PORT}`]);
  // Absolute (a trailing dot): c-ares would otherwise try the host's search domains first, which
  // the resolver forwards upstream, and time out there before it asks for the name itself.
  return waitFor(() => resolver.resolve4(`${name}.`).then((a) => a.length > 0, () => false), timeoutMs, 10);
}
