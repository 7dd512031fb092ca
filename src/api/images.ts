// The Engine API's image endpoints: list, inspect, pull (progress as JSON lines), remove.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import type { ImageRecord } from '../image/store.js';
import type { Runtime } from '../runtime/runtime.js';
import { ApiError, queryFilters, queryFlag, sendJson } from './http.js';
import { repoTagMatcher } from '../image/reference.js';

function summary(image: ImageRecord): Record<string, unknown> {
  return {
    Id: `sha256:${image.id}`,
    ParentId: '',
    RepoTags: image.repoTags,
    RepoDigests: image.repoDigests ?? [],
    Created: Math.floor(Date.parse(image.created) / 1000),
    Size: image.size,
    VirtualSize: image.size,
    SharedSize: -1,
    Labels: {},
    Containers: -1,
  };
}

/** GET /images/json: with `filters={"reference":[…]}` (docker images REPO[:TAG]) only the images, and tags, it names. */
export async function listImages(rt: Runtime, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const references = queryFilters(query)['reference'] ?? [];
  const images = await rt.images.list();
  if (references.length === 0) {
    sendJson(res, 200, images.map(summary));
    return;
  }
  const matchers = references.map(repoTagMatcher);
  sendJson(res, 200, images.flatMap((image) => {
    const repoTags = image.repoTags.filter((t) => matchers.some((m) => m(t)));
    return repoTags.length > 0 ? [summary({ ...image, repoTags })] : [];
  }));
}

export async function inspectImage(rt: Runtime, res: ServerResponse, ref: string): Promise<void> {
  // As `run` does: the default busybox image is built from the host the first time it is named.
  const image = await rt.images.resolve(ref);
  sendJson(res, 200, {
    ...summary(image),
    // Here Docker gives the creation time as RFC 3339 text (the list gives Unix seconds).
    Created: image.created,
    Config: image.config,
    Os: image.os ?? 'linux',
    Architecture: image.architecture ?? 'amd64',
    RootFS: { Type: 'layers', Layers: (image.layers ?? []).map((l) => l.diffId) },
  });
}

/** POST /images/create?fromImage=&tag=: the pull's status lines as Docker's JSON progress messages. */
export async function pullImage(rt: Runtime, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const from = query.get('fromImage');
  if (!from) throw new ApiError(400, 'fromImage is required (import from a file is not supported)');
  const tag = query.get('tag');
  const ref = tag ? (tag.startsWith('sha256:') ? `${from}@${tag}` : `${from}:${tag}`) : from;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split(/[\r\n]+/).filter(Boolean)) res.write(`${JSON.stringify({ status: line })}\r\n`);
      done();
    },
  });
  // A client that hangs up abandons the pull: nothing half-pulled stays, as with dockerd.
  const gone = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) gone.abort(new Error('the client went away'));
  });
  try {
    await rt.images.pull(ref, { out, signal: gone.signal });
  } catch (err) {
    // Headers are out: the error travels as the last message, as Docker's does.
    res.write(`${JSON.stringify({ errorDetail: { message: String(err instanceof Error ? err.message : err) }, error: String(err instanceof Error ? err.message : err) })}\r\n`);
  }
  res.end();
}

export async function removeImage(rt: Runtime, res: ServerResponse, ref: string, query: URLSearchParams): Promise<void> {
  const removed = await rt.removeImage(ref, queryFlag(query, 'force'));
  sendJson(res, 200, removed.map((line) => (line.startsWith('Untagged: ') ? { Untagged: line.slice(10) } : { Deleted: line.replace(/^Deleted: /, '') })));
}

/** POST /images/{name}/tag?repo=&tag=: another name for the image. */
export async function tagImage(rt: Runtime, res: ServerResponse, ref: string, query: URLSearchParams): Promise<void> {
  const repo = query.get('repo');
  if (!repo) throw new ApiError(400, 'repo is required: the new name');
  await rt.images.tag(ref, `${repo}:${query.get('tag') || 'latest'}`);
  res.writeHead(201);
  res.end();
}

/** GET /images/{name}/get, or /images/get?names=…: a `docker save` archive of the images, streamed. */
export async function saveImages(rt: Runtime, res: ServerResponse, refs: string[]): Promise<void> {
  if (refs.length === 0) throw new ApiError(400, 'name the images to save');
  for (const ref of refs) await rt.images.resolve(ref);
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  await rt.images.save(refs, res);
  res.end();
}

/**
 * POST /images/load: the request body is a `docker save` archive (or an OCI layout tar). Docker
 * answers a stream of JSON messages; the CLI prints each `stream` text (`Loaded image: busybox:latest`).
 */
export async function loadImagesFrom(rt: Runtime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const lines = await rt.images.load('-', req);
  res.writeHead(200, { 'Content-Type': 'application/json' });
  for (const line of lines) res.write(`${JSON.stringify({ stream: `${line}\n` })}\r\n`);
  res.end();
}
