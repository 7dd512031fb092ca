// A small registry for tests, in this process on 127.0.0.1: the distribution API's /v2/, manifests
// (by tag or digest) and blobs, with optional bearer-token or basic auth and deliberately corrupted
// blobs. Every request is recorded so tests can check what the client asked for.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { buildIndex, sha256, type BuiltImage } from './oci-fixtures.js';
import { LocalHttpServer } from '../../http-server.js';

export interface FakeRegistryOptions {
  auth?: 'none' | 'bearer' | 'basic';
  /** user → password, for basic auth and for the token endpoint when set. */
  users?: Record<string, string>;
  /** Blobs (by digest) served with one byte flipped. */
  corrupt?: Set<string>;
}

export interface Recorded {
  method: string;
  url: string;
  authorization?: string;
}

export class FakeRegistry extends LocalHttpServer {
  readonly requests: Recorded[] = [];
  readonly blobs = new Map<string, Buffer>();
  /** repository → tag or digest → [bytes, media type] */
  readonly manifests = new Map<string, Map<string, [Buffer, string]>>();
  readonly tokens = new Set<string>();
  constructor(readonly options: FakeRegistryOptions = {}) {
    super();
  }

  /** Serve an image under repo:tag (and by its manifest digest). */
  addImage(repo: string, tag: string, image: BuiltImage): void {
    this.blobs.set(image.configDigest, image.configBytes);
    for (const l of image.layers) this.blobs.set(l.digest, l.blob);
    this.addManifest(repo, image.manifestDigest, image.manifestBytes, 'application/vnd.oci.image.manifest.v1+json');
    this.addManifest(repo, tag, image.manifestBytes, 'application/vnd.oci.image.manifest.v1+json');
  }

  /** Serve a multi-platform index under repo:tag. Returns its digest. */
  addIndex(repo: string, tag: string, images: BuiltImage[]): string {
    for (const img of images) this.addImage(repo, img.manifestDigest, img);
    const idx = buildIndex(images);
    this.addManifest(repo, idx.digest, idx.bytes, 'application/vnd.oci.image.index.v1+json');
    this.addManifest(repo, tag, idx.bytes, 'application/vnd.oci.image.index.v1+json');
    return idx.digest;
  }

  private addManifest(repo: string, ref: string, bytes: Buffer, type: string): void {
    const m = this.manifests.get(repo) ?? new Map<string, [Buffer, string]>();
    m.set(ref, [bytes, type]);
    this.manifests.set(repo, m);
  }

  private checkUser(header: string | undefined): boolean {
    return this.basicAuthOk(header, this.options.users);
  }

  protected handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${this.host}`);
    this.requests.push({ method: req.method ?? '', url: url.pathname + url.search, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    const auth = this.options.auth ?? 'none';
    if (url.pathname === '/token') {
      if (this.options.users && !this.checkUser(req.headers.authorization)) {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"incorrect username or password"}');
        return;
      }
      const token = randomBytes(8).toString('hex');
      this.tokens.add(`${token} ${url.searchParams.get('scope') ?? ''}`);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
      return;
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    const scope = m ? `repository:${m[1]}:pull` : '';
    if (auth === 'bearer') {
      const given = req.headers.authorization?.replace(/^Bearer /, '');
      if (!given || !this.tokens.has(`${given} ${scope}`)) {
        res.writeHead(401, {
          'WWW-Authenticate': `Bearer realm="http://${this.host}/token",service="fake-registry"${scope ? `,scope="${scope}"` : ''}`,
          'Content-Type': 'application/json',
        });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
    }
    if (auth === 'basic' && !this.checkUser(req.headers.authorization)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fake-registry"', 'Content-Type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    if (url.pathname === '/v2/') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    if (m?.[2] === 'manifests') {
      const found = this.manifests.get(m[1] ?? '')?.get(m[3] ?? '');
      if (!found) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
        return;
      }
      res.writeHead(200, { 'Content-Type': found[1], 'Docker-Content-Digest': sha256(found[0]), 'Content-Length': found[0].length });
      res.end(req.method === 'HEAD' ? undefined : found[0]);
      return;
    }
    if (m?.[2] === 'blobs') {
      const digest = m[3] ?? '';
      let blob = this.blobs.get(digest);
      if (!blob) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}');
        return;
      }
      if (this.options.corrupt?.has(digest)) {
        blob = Buffer.from(blob);
        blob[blob.length - 1] = (blob[blob.length - 1] ?? 0) ^ 0xff;
      }
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': blob.length, 'Docker-Content-Digest': digest });
      res.end(blob);
      return;
    }
    res.writeHead(404).end();
  }
}
