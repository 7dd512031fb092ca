// A registry that never finishes: it serves one image's manifest and config, then sends the first
// bytes of its layer and holds the rest back, so a pull can be caught midway. It runs as its own
// process inside the sandbox's host namespace (where minictr serve pulls from), and notes in a
// file what happened: `listening`, `blob-requested`, `blob-closed` (the puller hung up).
//   node stalling-registry.js PORT EVENTS_FILE
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [portText = '0', eventsFile = '/dev/null'] = process.argv.slice(2);
const note = (event: string): void => appendFileSync(eventsFile, `${event}\n`);
const sha = (data: string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

const layerDigest = `sha256:${randomBytes(32).toString('hex')}`;
const config = JSON.stringify({
  architecture: process.arch === 'arm64' ? 'arm64' : 'amd64', os: 'linux', config: {},
  rootfs: { type: 'layers', diff_ids: [layerDigest] },
});
const manifest = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha(config) },
  layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 10 << 20, digest: layerDigest }],
});

const server = createServer((req, res) => {
  const path = req.url ?? '/';
  if (path === '/v2/') {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
  } else if (/^\/v2\/stall\/manifests\//.test(path)) {
    res.writeHead(200, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json', 'Docker-Content-Digest': sha(manifest), 'Content-Length': manifest.length });
    res.end(req.method === 'HEAD' ? undefined : manifest);
  } else if (path === `/v2/stall/blobs/${sha(config)}`) {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': config.length }).end(config);
  } else if (path === `/v2/stall/blobs/${layerDigest}`) {
    note('blob-requested');
    res.once('close', () => note('blob-closed'));
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': 10 << 20 });
    res.write(Buffer.alloc(4096));
  } else {
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"NAME_UNKNOWN","message":"not here"}]}');
  }
});
server.listen(Number(portText), '127.0.0.1', () => note('listening'));
