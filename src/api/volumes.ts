// The Engine API's volume endpoints: docker volume create/ls/inspect/rm/prune over the runtime's
// volume store (the same records the CLI's `minictr volume` uses).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Runtime } from '../runtime/runtime.js';
import { volumeDocument } from '../runtime/volumes.js';
import { ApiError, queryFilters, queryFlag, readJson, sendEmpty, sendJson } from './http.js';
import { checkVolumeCreateFields } from './known-fields.js';
import { labelsOf } from './translate.js';

interface CreateVolumeBody {
  Name?: unknown;
  Driver?: unknown;
  DriverOpts?: unknown;
  Labels?: unknown;
}

/** GET /volumes?filters={"dangling":["true"],"name":[…],"label":[…]}. */
export async function listVolumesDoc(rt: Runtime, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const filters = queryFilters(query);
  const dangling = filters['dangling']?.[0];
  const volumes = await rt.listVolumes({
    ...(dangling !== undefined ? { dangling: dangling === 'true' || dangling === '1' } : {}),
    ...(filters['name'] ? { name: filters['name'] } : {}),
    ...(filters['label'] ? { label: filters['label'] } : {}),
  });
  sendJson(res, 200, { Volumes: volumes.map(volumeDocument), Warnings: [] });
}

/** POST /volumes/create: the local driver only, as minictr has no other. */
export async function createVolumeFromBody(rt: Runtime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = (await readJson<CreateVolumeBody>(req)) ?? {};
  checkVolumeCreateFields(body);
  if (body.Driver !== undefined && body.Driver !== '' && body.Driver !== 'local') throw new ApiError(400, `volume driver "${String(body.Driver)}" is not supported: minictr has the local driver only`);
  if (body.DriverOpts && typeof body.DriverOpts === 'object' && Object.keys(body.DriverOpts).length > 0) throw new ApiError(400, 'volume driver options are not supported: minictr\'s local volumes are plain directories');
  if (body.Name !== undefined && typeof body.Name !== 'string') throw new ApiError(400, 'json: cannot unmarshal Name: want a string');
  sendJson(res, 201, volumeDocument(await rt.createVolume(body.Name || undefined, labelsOf(body.Labels))));
}

export async function inspectVolumeDoc(rt: Runtime, res: ServerResponse, name: string): Promise<void> {
  sendJson(res, 200, volumeDocument(await rt.inspectVolume(name)));
}

export async function removeVolumeNamed(rt: Runtime, res: ServerResponse, name: string, query: URLSearchParams): Promise<void> {
  await rt.removeVolume(name, queryFlag(query, 'force'));
  sendEmpty(res, 204);
}

/** POST /volumes/prune: unused anonymous volumes, or every unused one with the `all=true` filter (API 1.42+). */
export async function pruneVolumesNow(rt: Runtime, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const all = (queryFilters(query)['all'] ?? []).some((v) => v === 'true' || v === '1');
  const pruned = await rt.pruneVolumes(all);
  sendJson(res, 200, { VolumesDeleted: pruned.names, SpaceReclaimed: pruned.reclaimed });
}
