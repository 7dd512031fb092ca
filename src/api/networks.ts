// The Engine API's network endpoints: list, inspect, create, remove, prune.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ipamRequest } from '../network/subnets.js';
import type { Runtime } from '../runtime/runtime.js';
import { ApiError, queryFilters, readJson, sendEmpty, sendJson } from './http.js';
import { checkNetworkCreateFields } from './known-fields.js';
import { labelsOf } from './translate.js';

interface CreateNetworkBody {
  Name?: unknown;
  Labels?: unknown;
  Driver?: unknown;
  EnableIPv6?: unknown;
  IPAM?: { Config?: { Subnet?: unknown; Gateway?: unknown }[] } | null;
}

/** GET /networks[?filters={"name":[…],"label":["k" or "k=v"],"id":[…]}]. */
export async function listNetworks(rt: Runtime, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const filters = queryFilters(query);
  const docs = [];
  for (const net of await rt.listNetworks()) {
    const labels = net.labels ?? {};
    if (filters['name'] && !filters['name'].some((n) => net.name.includes(n))) continue;
    if (filters['id'] && !filters['id'].some((i) => net.id.startsWith(i))) continue;
    if (filters['label'] && !filters['label'].every((l) => {
      const cut = l.indexOf('=');
      return cut < 0 ? l in labels : labels[l.slice(0, cut)] === l.slice(cut + 1);
    })) continue;
    docs.push(await rt.inspectNetwork(net.name));
  }
  sendJson(res, 200, docs);
}

/** A network as the API names it: by name, id, or a unique id prefix (as dockerd finds one). */
async function networkName(rt: Runtime, ref: string): Promise<string> {
  const nets = await rt.listNetworks();
  const byName = nets.find((n) => n.name === ref);
  if (byName) return byName.name;
  const byId = nets.filter((n) => n.id === ref || (ref.length >= 1 && n.id.startsWith(ref)));
  if (byId.length === 1 && byId[0]) return byId[0].name;
  if (byId.length > 1) throw new ApiError(400, `network ${ref} is ambiguous (${byId.length} matches found)`);
  // Built-in modes (bridge, host, none) are answered by the library under their own names.
  return ref;
}

export async function inspectNetworkDoc(rt: Runtime, res: ServerResponse, ref: string): Promise<void> {
  sendJson(res, 200, await rt.inspectNetwork(await networkName(rt, ref)));
}

export async function createNetworkFromBody(rt: Runtime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = (await readJson<CreateNetworkBody>(req)) ?? {};
  checkNetworkCreateFields(body);
  if (typeof body.Name !== 'string' || body.Name === '') throw new ApiError(400, 'a network needs a Name');
  if (body.Driver !== undefined && body.Driver !== 'bridge' && body.Driver !== '') throw new ApiError(400, `network driver "${String(body.Driver)}" is not supported: minictr makes bridge networks`);
  const configs = body.IPAM?.Config ?? [];
  const strings = (key: 'Subnet' | 'Gateway'): string[] => configs.flatMap((c) => (typeof c[key] === 'string' && c[key] ? [c[key]] : []));
  const ipam = ipamRequest(strings('Subnet'), strings('Gateway'), body.EnableIPv6 === true);
  const labels = labelsOf(body.Labels);
  const net = await rt.createNetwork({
    name: body.Name,
    labels,
    ...ipam,
  });
  sendJson(res, 201, { Id: net.id, Warning: '' });
}

export async function removeNetworkNamed(rt: Runtime, res: ServerResponse, ref: string): Promise<void> {
  await rt.removeNetwork(await networkName(rt, ref));
  sendEmpty(res, 204);
}

export async function pruneNetworksNow(rt: Runtime, res: ServerResponse): Promise<void> {
  sendJson(res, 200, { NetworksDeleted: await rt.pruneNetworks() });
}

interface ConnectBody {
  Container?: unknown;
  EndpointConfig?: { Aliases?: unknown; IPAMConfig?: { IPv4Address?: unknown; IPv6Address?: unknown } | null } | null;
}

/** POST /networks/{id}/connect and /disconnect: a running container at once, a stopped one at its next start (what compose 1.x does to new ones). */
export async function connectNetwork(rt: Runtime, req: IncomingMessage, res: ServerResponse, ref: string, connect: boolean): Promise<void> {
  const body = (await readJson<ConnectBody>(req)) ?? {};
  if (typeof body.Container !== 'string' || body.Container === '') throw new ApiError(400, 'give the Container to connect');
  const name = await networkName(rt, ref);
  if (connect) {
    const aliases = Array.isArray(body.EndpointConfig?.Aliases) ? body.EndpointConfig.Aliases.map(String) : [];
    const ip = body.EndpointConfig?.IPAMConfig?.IPv4Address;
    const ip6 = body.EndpointConfig?.IPAMConfig?.IPv6Address;
    await rt.connectNetwork(name, body.Container, {
      aliases,
      ...(typeof ip === 'string' && ip !== '' ? { ip } : {}),
      ...(typeof ip6 === 'string' && ip6 !== '' ? { ip6 } : {}),
    });
  } else {
    await rt.disconnectNetwork(name, body.Container);
  }
  sendEmpty(res, 200);
}
