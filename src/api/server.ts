// `minictr serve`: the Docker Engine API on a unix socket, a second face over the runtime
// library. Each request is one line in the log; SIGTERM stops accepting, lets requests in
// flight finish, and leaves the containers running (their monitors own them).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Runtime } from '../runtime/runtime.js';
import { ContainerApi } from './containers.js';
import { ExecApi } from './exec.js';
import { EventBus } from './events.js';
import { ApiError, sendError, sendJson, statusOf } from './http.js';
import { createVolumeFromBody, inspectVolumeDoc, listVolumesDoc, pruneVolumesNow, removeVolumeNamed } from './volumes.js';
import { inspectImage, listImages, loadImagesFrom, pullImage, removeImage, saveImages, tagImage } from './images.js';
import { connectNetwork, createNetworkFromBody, inspectNetworkDoc, listNetworks, pruneNetworksNow, removeNetworkNamed } from './networks.js';
import { API_VERSION, infoDoc, pingHeaders, versionDoc } from './system.js';

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], query: URLSearchParams) => Promise<void>;

interface Route {
  method: string;
  path: RegExp;
  handler: Handler;
}

const ID = '([^/]+)';

/** The path without Docker's version prefix, and the version a client asked for. */
export function splitVersion(path: string): { path: string; version?: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
  return m ? { path: m[2] ?? '/', version: m[1] ?? '' } : { path };
}

function newer(a: string, b: string): boolean {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am > bm || (am === bm && an > bn);
}

/** Consume `length` bytes of body from an upgraded connection; what follows is put back. */
async function skipBody(socket: Duplex, head: Buffer, length: number): Promise<void> {
  let pending = head;
  while (pending.length < length) {
    const more = await new Promise<Buffer | undefined>((resolve) => {
      const done = (data: Buffer | undefined): void => {
        // Back to paused: nothing read later may flow past with no one listening.
        socket.pause();
        socket.off('data', done);
        socket.off('end', done);
        resolve(data);
      };
      socket.on('data', done);
      socket.once('end', done);
    });
    if (!more) break;
    pending = Buffer.concat([pending, more]);
  }
  const rest = pending.subarray(Math.min(length, pending.length));
  if (rest.length > 0) socket.unshift(rest);
}

export function createApiServer(rt: Runtime, say: (line: string) => void): Server {
  const events = new EventBus(rt);
  const containers = new ContainerApi(rt, events, say);
  const execs = new ExecApi(rt);
  const routes: Route[] = [
    { method: 'GET', path: /^\/_ping$/, handler: async (_q, res) => ping(res) },
    { method: 'HEAD', path: /^\/_ping$/, handler: async (_q, res) => ping(res) },
    { method: 'GET', path: /^\/version$/, handler: async (_q, res) => sendJson(res, 200, versionDoc()) },
    { method: 'GET', path: /^\/info$/, handler: async (_q, res) => sendJson(res, 200, await infoDoc(rt)) },
    { method: 'POST', path: /^\/containers\/create$/, handler: (req, res, _p, q) => containers.create(req, res, q) },
    { method: 'GET', path: /^\/containers\/json$/, handler: (_req, res, _p, q) => containers.list(res, q) },
    { method: 'GET', path: new RegExp(`^/containers/${ID}/json$`), handler: (_req, res, p) => containers.inspect(res, p[0] ?? '') },
    { method: 'POST', path: new RegExp(`^/containers/${ID}/start$`), handler: (_req, res, p) => containers.start(res, p[0] ?? '') },
    { method: 'POST', path: new RegExp(`^/containers/${ID}/wait$`), handler: (_req, res, p, q) => containers.wait(res, p[0] ?? '', q) },
    { method: 'POST', path: new RegExp(`^/containers/${ID}/stop$`), handler: (_req, res, p, q) => containers.stop(res, p[0] ?? '', q) },
    { method: 'POST', path: new RegExp(`^/containers/${ID}/kill$`), handler: (_req, res, p, q) => containers.kill(res, p[0] ?? '', q) },
    { method: 'POST', path: new RegExp(`^/containers/${ID}/restart$`), handler: (_req, res, p, q) => containers.restart(res, p[0] ?? '', q) },
    { method: 'POST', path: new RegExp(`^/containers/${ID}/resize$`), handler: (_req, res, p, q) => containers.resize(res, p[0] ?? '', q) },
    { method: 'POST', path: new RegExp(`^/containers/${ID}/pause$`), handler: (_req, res, p) => containers.pause(res, p[0] ?? '', true) },
    { method: 'POST', path: new RegExp(`^/containers/${ID}/unpause$`), handler: (_req, res, p) => containers.pause(res, p[0] ?? '', false) },
    { method: 'POST', path: new RegExp(`^/containers/${ID}/rename$`), handler: (_req, res, p, q) => containers.rename(res, p[0] ?? '', q) },
    { method: 'GET', path: new RegExp(`^/containers/${ID}/top$`), handler: (_req, res, p, q) => containers.top(res, p[0] ?? '', q) },
    { method: 'GET', path: new RegExp(`^/containers/${ID}/logs$`), handler: (_req, res, p, q) => containers.logs(res, p[0] ?? '', q) },
    { method: 'DELETE', path: new RegExp(`^/containers/${ID}$`), handler: (_req, res, p, q) => containers.remove(res, p[0] ?? '', q) },
    { method: 'POST', path: new RegExp(`^/containers/${ID}/exec$`), handler: (req, res, p) => execs.create(req, res, p[0] ?? '') },
    { method: 'POST', path: new RegExp(`^/exec/${ID}/start$`), handler: (req, res, p) => execs.startDetached(req, res, p[0] ?? '') },
    { method: 'POST', path: new RegExp(`^/exec/${ID}/resize$`), handler: async (_req, res, p, q) => execs.resize(res, p[0] ?? '', q) },
    { method: 'GET', path: new RegExp(`^/exec/${ID}/json$`), handler: async (_req, res, p) => execs.inspect(res, p[0] ?? '') },
    { method: 'POST', path: /^\/containers\/prune$/, handler: (_req, res) => containers.prune(res) },
    { method: 'GET', path: /^\/events$/, handler: (_req, res, _p, q) => events.stream(res, q) },
    // minictr keeps no dangling images and no build cache: nothing to prune there.
    { method: 'POST', path: /^\/images\/prune$/, handler: async (_req, res) => sendJson(res, 200, { ImagesDeleted: [], SpaceReclaimed: 0 }) },
    { method: 'POST', path: /^\/build\/prune$/, handler: async (_req, res) => sendJson(res, 200, { CachesDeleted: [], SpaceReclaimed: 0 }) },
    { method: 'GET', path: /^\/volumes$/, handler: (_req, res, _p, q) => listVolumesDoc(rt, res, q) },
    { method: 'POST', path: /^\/volumes\/create$/, handler: (req, res) => createVolumeFromBody(rt, req, res) },
    { method: 'POST', path: /^\/volumes\/prune$/, handler: (_req, res, _p, q) => pruneVolumesNow(rt, res, q) },
    { method: 'GET', path: /^\/volumes\/([^/]+)$/, handler: (_req, res, p) => inspectVolumeDoc(rt, res, p[0] ?? '') },
    { method: 'DELETE', path: /^\/volumes\/([^/]+)$/, handler: (_req, res, p, q) => removeVolumeNamed(rt, res, p[0] ?? '', q) },
    { method: 'GET', path: /^\/images\/json$/, handler: (_req, res, _p, q) => listImages(rt, res, q) },
    { method: 'POST', path: /^\/images\/create$/, handler: (_req, res, _p, q) => pullImage(rt, res, q) },
    { method: 'GET', path: /^\/images\/(.+)\/json$/, handler: (_req, res, p) => inspectImage(rt, res, p[0] ?? '') },
    { method: 'POST', path: /^\/images\/(.+)\/tag$/, handler: (_req, res, p, q) => tagImage(rt, res, p[0] ?? '', q) },
    { method: 'POST', path: /^\/images\/load$/, handler: (req, res) => loadImagesFrom(rt, req, res) },
    { method: 'GET', path: /^\/images\/get$/, handler: (_req, res, _p, q) => saveImages(rt, res, q.getAll('names')) },
    { method: 'GET', path: /^\/images\/(.+)\/get$/, handler: (_req, res, p) => saveImages(rt, res, [p[0] ?? '']) },
    { method: 'DELETE', path: /^\/images\/(.+)$/, handler: (_req, res, p, q) => removeImage(rt, res, p[0] ?? '', q) },
    { method: 'GET', path: /^\/networks$/, handler: (_req, res, _p, q) => listNetworks(rt, res, q) },
    { method: 'POST', path: /^\/networks\/create$/, handler: (req, res) => createNetworkFromBody(rt, req, res) },
    { method: 'POST', path: /^\/networks\/prune$/, handler: (_req, res) => pruneNetworksNow(rt, res) },
    { method: 'GET', path: new RegExp(`^/networks/${ID}$`), handler: (_req, res, p) => inspectNetworkDoc(rt, res, p[0] ?? '') },
    { method: 'POST', path: new RegExp(`^/networks/${ID}/connect$`), handler: (req, res, p) => connectNetwork(rt, req, res, p[0] ?? '', true) },
    { method: 'POST', path: new RegExp(`^/networks/${ID}/disconnect$`), handler: (req, res, p) => connectNetwork(rt, req, res, p[0] ?? '', false) },
    { method: 'DELETE', path: new RegExp(`^/networks/${ID}$`), handler: (_req, res, p) => removeNetworkNamed(rt, res, p[0] ?? '') },
  ];

  const server = createServer((req, res) => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://minictr');
    const { path, version } = splitVersion(decodeURIComponent(url.pathname));
    res.once('close', () => say(`${req.method} ${url.pathname}${url.search} ${res.statusCode} ${Date.now() - started} ms${res.writableFinished ? '' : ' (the client went away)'}`));
    void (async () => {
      if (version && newer(version, API_VERSION)) throw new ApiError(400, `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
      const route = routes.find((r) => r.method === req.method && r.path.test(path));
      if (!route) throw new ApiError(404, `page not found: ${req.method} ${path} is not an endpoint minictr serves`);
      const params = (route.path.exec(path) ?? []).slice(1);
      await route.handler(req, res, params, url.searchParams);
    })().catch((err: unknown) => {
      if (statusOf(err) === 500) say(`${req.method} ${path}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      sendError(res, err);
    });
  });

  // attach and exec start take the connection over (HTTP upgrade to tcp).
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://minictr');
    const { path } = splitVersion(decodeURIComponent(url.pathname));
    say(`${req.method} ${url.pathname}${url.search} 101 (hijacked)`);
    // A client that hangs up mid-stream makes the next write fail (EPIPE, ECONNRESET): that ends
    // this stream only, never the server. The handler sees the socket close and lets go.
    socket.on('error', (err: NodeJS.ErrnoException) => say(`${req.method} ${url.pathname}: the client went away (${err.code ?? err.message})`));
    const attach = new RegExp(`^/containers/${ID}/attach$`).exec(path);
    const execStart = new RegExp(`^/exec/${ID}/start$`).exec(path);
    void (async () => {
      // The request's own body (exec start's {"Detach":false,…}) is not the client's input.
      await skipBody(socket, head, Number(req.headers['content-length'] ?? 0));
      if (req.method === 'POST' && attach) return containers.attach(socket, attach[1] ?? '', url.searchParams);
      if (req.method === 'POST' && execStart) return execs.start(socket, execStart[1] ?? '');
      throw new ApiError(404, `page not found: ${req.method} ${path} cannot be upgraded`);
    })().catch((err: unknown) => {
      const message = JSON.stringify({ message: err instanceof Error ? err.message : String(err) });
      socket.end(`HTTP/1.1 ${statusOf(err)} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`);
    });
  });
  return server;

  function ping(res: ServerResponse): void {
    res.writeHead(200, { ...pingHeaders(), 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2 });
    res.end('OK');
  }
}
