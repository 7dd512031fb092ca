// A client for the OCI distribution API (what Docker Hub and every registry serve), on Node's fetch:
// /v2/ ping, manifests, blobs; anonymous bearer tokens as Docker Hub hands them out, basic auth
// from `minictr login`, plain http only for loopback hosts or --insecure-registry.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { MinictrError, errorMessage } from '../base/errors.js';
import { MANIFEST_ACCEPT } from './formats.js';
import { registryHost } from './reference.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parse a WWW-Authenticate header: `Bearer realm="…",service="…",scope="…"` (pure). */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const rest = m[2] ?? '';
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/gy;
  let p: RegExpExecArray | null;
  while ((p = re.exec(rest)) !== null) {
    if (p[0] === '') break;
    params[(p[1] ?? '').toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme: (m[1] ?? '').toLowerCase(), params };
}

/** Hosts a registry may be reached on over plain http: loopback, and those the user named insecure. */
export function isInsecureHost(host: string, insecure: readonly string[] = []): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name)) return true;
  return insecure.some((h) => h === host || h === name);
}

/** Insecure registries named in MINICTR_INSECURE_REGISTRIES (comma or space separated). */
export function insecureFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env['MINICTR_INSECURE_REGISTRIES'] ?? '').split(/[\s,]+/).filter(Boolean);
}

export interface RegistryOptions {
  insecure?: readonly string[];
  credentials?: Credentials;
  fetch?: typeof fetch;
  /** Give up on a request that sends nothing for this long (ms). */
  idleTimeoutMs?: number;
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

interface RegistryErrorBody {
  errors?: { code?: string; message?: string }[];
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export class RegistryClient {
  readonly domain: string;
  readonly host: string;
  readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly credentials: Credentials | undefined;
  private readonly idleTimeoutMs: number;
  /** Authorization header per scope ('' for the registry itself). */
  private readonly auth = new Map<string, string>();

  constructor(domain: string, options: RegistryOptions = {}) {
    this.domain = domain;
    this.host = registryHost(domain);
    const scheme = isInsecureHost(this.host, options.insecure) ? 'http' : 'https';
    this.base = `${scheme}://${this.host}`;
    this.fetchFn = options.fetch ?? fetch;
    this.credentials = options.credentials;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  }

  private unreachable(url: string, err: unknown): MinictrError {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.message ?? cause?.code ?? errorMessage(err);
    const hint = this.base.startsWith('https:') && /EPROTO|SSL|TLS|wrong version/i.test(String(cause?.message ?? why))
      ? `; if ${this.host} serves plain http, name it with --insecure-registry ${this.host}`
      : '';
    return new MinictrError('E_REGISTRY_UNREACHABLE', `Get "${url}": ${why}: cannot reach the registry ${this.host}; is it running, and is the name right?${hint}`, { cause: err });
  }

  /** One request with a timeout on getting the response head. */
  private async send(url: string, headers: Record<string, string>, method = 'GET'): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`no answer in ${this.idleTimeoutMs / 1000}s`)), this.idleTimeoutMs);
    try {
      return await this.fetchFn(url, { method, headers, signal: controller.signal, redirect: 'follow' });
    } catch (err) {
      throw this.unreachable(url, err);
    } finally {
      clearTimeout(timer);
    }
  }

  private basicHeader(): string | undefined {
    if (!this.credentials) return undefined;
    return `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
  }

  /** Answer a 401's challenge: fetch a bearer token from its realm, or use basic credentials. */
  private async authorize(challenge: Challenge | undefined, scope: string, what: string): Promise<string> {
    if (challenge?.scheme === 'basic') {
      const basic = this.basicHeader();
      if (!basic) throw this.denied(what, 'authentication required');
      return basic;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params['realm']) {
      throw this.denied(what, 'the registry asked for an authentication scheme minictr does not know');
    }
    let realm: URL;
    try {
      realm = new URL(challenge.params['realm']);
    } catch {
      throw new MinictrError('E_REGISTRY_AUTH', `${this.host} sent a bad token realm ${JSON.stringify(challenge.params['realm'])}`);
    }
    if (challenge.params['service']) realm.searchParams.set('service', challenge.params['service']);
    const wanted = scope || challenge.params['scope'];
    if (wanted) realm.searchParams.set('scope', wanted);
    const headers: Record<string, string> = { Accept: 'application/json' };
    const basic = this.basicHeader();
    if (basic) headers['Authorization'] = basic;
    const res = await this.send(realm.toString(), headers);
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw this.credentials
        ? new MinictrError('E_REGISTRY_AUTH', `Get "${realm.origin}${realm.pathname}": unauthorized: incorrect username or password`)
        : this.denied(what, 'the token service refused an anonymous token');
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new MinictrError('E_REGISTRY_AUTH', `token service ${realm.origin}${realm.pathname} answered ${res.status} ${res.statusText}`);
    }
    let body: { token?: unknown; access_token?: unknown };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new MinictrError('E_REGISTRY_AUTH', `token service ${realm.origin}${realm.pathname} did not answer with JSON`);
    }
    const token = typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined;
    if (!token) throw new MinictrError('E_REGISTRY_AUTH', `token service ${realm.origin}${realm.pathname} gave no token`);
    return `Bearer ${token}`;
  }

  private denied(what: string, detail: string): MinictrError {
    return new MinictrError(
      'E_REGISTRY_DENIED',
      `${what}: access denied: ${detail}; the repository may not exist, or may need "minictr login ${this.domain}"`,
    );
  }

  /** GET with the auth dance: on 401, answer the challenge and try once more. */
  private async get(path: string, scope: string, accept: string | undefined, what: string): Promise<Response> {
    const url = `${this.base}${path}`;
    const headers: Record<string, string> = {};
    if (accept) headers['Accept'] = accept;
    const cached = this.auth.get(scope);
    if (cached) headers['Authorization'] = cached;
    let res = await this.send(url, headers);
    if (res.status === 401) {
      const header = res.headers.get('www-authenticate') ?? '';
      await res.body?.cancel();
      const authorization = await this.authorize(parseChallenge(header), scope, what);
      this.auth.set(scope, authorization);
      res = await this.send(url, { ...headers, Authorization: authorization });
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        throw this.denied(what, this.credentials ? 'the credentials were refused' : 'authentication required');
      }
    }
    return res;
  }

  private async failure(res: Response, what: string): Promise<MinictrError> {
    let detail = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as RegistryErrorBody;
      const first = body.errors?.[0];
      if (first?.code) detail = `${first.code.toLowerCase().replace(/_/g, ' ')}: ${first.message ?? ''}`.replace(/: $/, '');
    } catch {
      // not a registry error document
    }
    if (res.status === 404) return new MinictrError('E_NOT_FOUND', `${what} not found: ${detail}`);
    if (res.status === 403) return this.denied(what, detail);
    return new MinictrError('E_REGISTRY', `${what}: the registry answered ${detail}`);
  }

  /** GET /v2/ with credentials: what `login` checks. */
  async checkLogin(): Promise<void> {
    const url = `${this.base}/v2/`;
    const res = await this.send(url, {});
    if (res.ok) {
      await res.body?.cancel();
      return;
    }
    if (res.status !== 401) {
      await res.body?.cancel();
      throw new MinictrError('E_REGISTRY', `${url} answered ${res.status} ${res.statusText}: is ${this.host} a registry?`);
    }
    const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
    await res.body?.cancel();
    const authorization = await this.authorize(challenge, '', `login to ${this.domain}`);
    if (challenge?.scheme === 'basic') {
      const again = await this.send(url, { Authorization: authorization });
      await again.body?.cancel();
      if (!again.ok) throw new MinictrError('E_REGISTRY_AUTH', `login to ${this.domain}: unauthorized: incorrect username or password`);
    }
  }

  /**
   * A manifest or index by tag or digest. Its bytes are checked against the digest it was asked
   * by, or against the Docker-Content-Digest the registry sent.
   */
  async manifest(repoPath: string, reference: string, what: string): Promise<FetchedManifest> {
    const scope = `repository:${repoPath}:pull`;
    const res = await this.get(`/v2/${repoPath}/manifests/${reference}`, scope, MANIFEST_ACCEPT, what);
    if (!res.ok) throw await this.failure(res, what);
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = sha256(bytes);
    const expected = reference.startsWith('sha256:') ? reference : res.headers.get('docker-content-digest') ?? undefined;
    if (expected !== undefined && expected !== '' && expected !== digest) {
      throw new MinictrError('E_DIGEST_MISMATCH', `${what}: manifest verification failed for digest ${expected} (the registry sent content with ${digest})`);
    }
    return { bytes, mediaType: res.headers.get('content-type') ?? '', digest };
  }

  /**
   * Download a blob to `dest`, hashing on the way; a wrong size or digest deletes the file and
   * fails. `onBytes` hears the running byte count.
   */
  async blob(repoPath: string, digest: string, size: number, dest: string, what: string, onBytes?: (n: number) => void): Promise<void> {
    const scope = `repository:${repoPath}:pull`;
    const res = await this.get(`/v2/${repoPath}/blobs/${digest}`, scope, undefined, what);
    if (!res.ok) throw await this.failure(res, what);
    if (!res.body) throw new MinictrError('E_REGISTRY', `${what}: the registry sent no content`);
    const hash = createHash('sha256');
    let received = 0;
    let idle: NodeJS.Timeout | undefined;
    const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => body.destroy(new Error(`no data for ${this.idleTimeoutMs / 1000}s`)), this.idleTimeoutMs);
    };
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        if (received > size) {
          done(new MinictrError('E_DIGEST_MISMATCH', `${what}: the registry sent more than the ${size} bytes the manifest gives`));
          return;
        }
        hash.update(chunk);
        arm();
        onBytes?.(received);
        done(null, chunk);
      },
    });
    try {
      arm();
      await pipeline(body, meter, createWriteStream(dest, { mode: 0o600 }));
    } catch (err) {
      await rm(dest, { force: true });
      if (err instanceof MinictrError) throw err;
      throw new MinictrError('E_REGISTRY', `${what}: download failed: ${errorMessage(err)}`, { cause: err });
    } finally {
      clearTimeout(idle);
    }
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== digest || received !== size) {
      await rm(dest, { force: true });
      throw new MinictrError(
        'E_DIGEST_MISMATCH',
        `filesystem layer verification failed for digest ${digest}: ${what} has ${received} bytes with ${actual}, the manifest gives ${size} bytes`,
      );
    }
  }

  /** A small blob (a config) into memory, checked against its digest. */
  async smallBlob(repoPath: string, digest: string, size: number, what: string): Promise<Buffer> {
    const scope = `repository:${repoPath}:pull`;
    const res = await this.get(`/v2/${repoPath}/blobs/${digest}`, scope, undefined, what);
    if (!res.ok) throw await this.failure(res, what);
    const bytes = Buffer.from(await res.arrayBuffer());
    const actual = sha256(bytes);
    if (actual !== digest || bytes.length !== size) {
      throw new MinictrError('E_DIGEST_MISMATCH', `${what}: verification failed for digest ${digest} (got ${bytes.length} bytes with ${actual})`);
    }
    return bytes;
  }
}
