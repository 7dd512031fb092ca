// A container's /etc/hosts, /etc/hostname and /etc/resolv.conf, from its record and attachment:
// the one place start and --dry-run get them from.
import { isIP } from 'node:net';
import { MinictrError } from '../base/errors.js';
import type { Plan } from '../base/plan.js';
import type { ContainerRecord, NetworkAttachment } from '../base/records.js';
import { DEFAULT_NETWORK } from '../network/names.js';
import { usesEmbeddedDns } from './dns.js';
import type { RuntimeContext } from './context.js';
import { joinedContainer } from './networks.js';
import { containerEtcFiles, planContainerEtc, readHostEtc, type HostsPeer } from './files.js';

/** Docker's special address for --add-host: the host, as the container reaches it. */
export const HOST_GATEWAY = 'host-gateway';

/** One --add-host value, `name:ip` or `name=ip` (Docker 25+), checked as Docker's CLI does. */
export function parseAddHost(text: string): { name: string; ip: string } {
  const sep = text.includes('=') ? text.indexOf('=') : text.indexOf(':');
  const name = sep > 0 ? text.slice(0, sep) : '';
  const ip = sep > 0 ? text.slice(sep + 1).replace(/^\[(.*)\]$/, '$1') : '';
  if (!name || /\s/.test(name)) {
    throw new MinictrError('E_BAD_FLAG', `invalid argument "${text}" for "--add-host" flag: bad format for add-host: "${text}" (use NAME:IP)`);
  }
  if (ip !== HOST_GATEWAY && isIP(ip) === 0) {
    throw new MinictrError('E_BAD_FLAG', `invalid argument "${text}" for "--add-host" flag: invalid IP address in add-host: "${ip}"`);
  }
  return { name, ip };
}

/** --add-host lines; host-gateway is the container's gateway (the host's address on its bridge). */
export function extraHostsOf(specs: readonly string[], gateway: string): HostsPeer[] {
  return specs.map((s) => {
    const { name, ip } = parseAddHost(s);
    return { ip: ip === HOST_GATEWAY ? gateway : ip, names: [name] };
  });
}

/**
 * The plan that writes the container's three files; with `--network container:X`, X's files
 * (its names and resolvers are the joined namespace's, as Docker shares X's files).
 */
export async function planEtcOf(ctx: RuntimeContext, record: ContainerRecord, attachment: NetworkAttachment | undefined, rootless?: RootlessEtc): Promise<Plan> {
  const dir = ctx.store.paths.container(record.id);
  const joined = joinedContainer(record.hostConfig.networkMode);
  const other = joined ? await ctx.store.loadContainer(joined) : undefined;
  return other ? planEtcFor(dir, other, other.network) : planEtcFor(dir, record, attachment, rootless);
}

/** A rootless network's part (no attachment of the host's): its address, and slirp4netns's own resolver. */
export interface RootlessEtc {
  ip?: string;
  resolvConf?: string;
}

/** The plan that writes the container's three files. */
export async function planEtcFor(dir: string, record: ContainerRecord, attachment: NetworkAttachment | undefined, rootless?: RootlessEtc): Promise<Plan> {
  const hc = record.hostConfig;
  const ip = attachment?.ip ?? rootless?.ip;
  const files = containerEtcFiles({
    hostname: record.config.hostname,
    ...(ip ? { ip } : {}),
    hostNetwork: hc.networkMode === 'host',
    embeddedDns: usesEmbeddedDns(attachment?.network),
    dns: hc.dns ?? [],
    dnsSearch: hc.dnsSearch ?? [],
    dnsOptions: hc.dnsOptions ?? [],
    extraHosts: extraHostsOf(hc.extraHosts ?? [], attachment?.gateway ?? DEFAULT_NETWORK.gateway),
  }, await readHostEtc());
  if (rootless?.resolvConf) files['resolv.conf'] = rootless.resolvConf;
  return planContainerEtc(dir, files);
}
