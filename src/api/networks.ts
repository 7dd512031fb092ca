// The Engine API's network endpoints: list, inspect, create, remove, prune.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Runtime } from '../runtime/runtime.js';
import { ApiError, readJson, sendEmpty, sendJson } from './http.js';

interface CreateNetworkBody {
  Name?: unknown;
  Driver?: unknown;
  IPAM?: { Config?: { Subnet?: unknown; Gateway?: unknown }[] } | null;
}

export async function listNetworks(rt: Runtime, res: ServerResponse): Promise<void> {
  const docs = [];
  for (const net of await rt.listNetworks()) docs.push(await rt.inspectNetwork(net.name));
  sendJson(res, 200, docs);
}

export async function inspectNetworkDoc(rt: Runtime, res: ServerResponse, name: string): Promise<void> {
  sendJson(res, 200, await rt.inspectNetwork(name));
}

export async function createNetworkFromBody(rt: Runtime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = (await readJson<CreateNetworkBody>(req)) ?? {};
  if (typeof body.Name !== 'string' || body.Name === '') throw new ApiError(400, 'a network needs a Name');
  if (body.Driver !== undefined && body.Driver !== 'bridge' && body.Driver !== '') throw new ApiError(400, `network driver "${String(body.Driver)}" is not supported: minictr makes bridge networks`);
  const ipam = body.IPAM?.Config?.[0];
  const net = await rt.createNetwork({
    name: body.Name,
    ...(typeof ipam?.Subnet === 'string' && ipam.Subnet ? { subnet: ipam.Subnet } : {}),
    ...(typeof ipam?.Gateway === 'string' && ipam.Gateway ? { gateway: ipam.Gateway } : {}),
  });
  sendJson(res, 201, { Id: net.id, Warning: '' });
}

export async function removeNetworkNamed(rt: Runtime, res: ServerResponse, name: string): Promise<void> {
  await rt.removeNetwork(name);
  sendEmpty(res, 204);
}

export async function pruneNetworksNow(rt: Runtime, res: ServerResponse): Promise<void> {
  sendJson(res, 200, { NetworksDeleted: await rt.pruneNetworks() });
}
