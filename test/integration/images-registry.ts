// A real registry for the image tests: Debian's docker-registry (the reference distribution server),
// started directly (no systemd) on a free 127.0.0.1 port with its storage in a temp dir, and a
// small proxy in front of it that adds bearer-token or basic auth, or corrupts a blob on the way.
// Nothing here listens on or talks to anything but 127.0.0.1.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './sandbox.js';
import { LocalHttpServer } from '../http-server.js';

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Stop a child we started, by its pid: TERM, then KILL if it lingers. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, 5000);
  await exited;
  clearTimeout(timer);
}

export class RealRegistry {
  dir = '';
  port = 0;
  private child: ChildProcess | undefined;
  private stderr = '';

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'minictr-registry-'));
    for (let attempt = 0; attempt < 3; attempt++) {
      this.port = await freePort();
      const config = join(this.dir, 'config.yml');
      await writeFile(
        config,
        [
          'version: 0.1',
          'log:',
          '  level: error',
          '  accesslog:',
          '    disabled: true',
          'storage:',
          '  filesystem:',
          `    rootdirectory: ${join(this.dir, 'data')}`,
          'http:',
          `  addr: 127.0.0.1:${this.port}`,
          '',
        ].join('\n'),
      );
      const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      this.child = child;
      child.stderr?.on('data', (d: Buffer) => {
        this.stderr += d.toString();
      });
      const failed = new Promise<boolean>((resolve) => {
        child.once('exit', () => resolve(false));
        child.once('error', (err) => {
          this.stderr += String(err);
          resolve(false);
        });
      });
      const up = await Promise.race([
        eventually(() => answers(`http://${this.host}/v2/`), 15_000, 'docker-registry to answer').then(() => true),
        failed,
      ]);
      if (up) return;
      await stopChild(child);
    }
    throw new Error(`docker-registry did not start: ${this.stderr}`);
  }

  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

export interface ProxyOptions {
  auth?: 'bearer' | 'basic';
  /** user → password: basic auth, or credentials the token endpoint requires. */
  users?: Record<string, string>;
  /** Blob digests to serve with their last byte flipped. */
  corrupt?: Set<string>;
}

/** In front of a registry: answers /token, demands auth on /v2/…, corrupts chosen blobs, forwards the rest. */
export class AuthProxy extends LocalHttpServer {
  readonly requests: { url: string; authorization?: string }[] = [];
  private readonly tokens = new Map<string, string>();

  constructor(
    private readonly upstream: string,
    private readonly options: ProxyOptions = {},
  ) {
    super();
  }

  private userOk(header: string | undefined): boolean {
    return this.basicAuthOk(header, this.options.users);
  }

  protected handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${this.host}`);
    this.requests.push({ url: url.pathname + url.search, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    if (url.pathname === '/token') {
      if (this.options.users && !this.userOk(req.headers.authorization)) {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"incorrect username or password"}');
        return;
      }
      const token = randomBytes(12).toString('hex');
      this.tokens.set(token, url.searchParams.get('scope') ?? '');
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
      return;
    }
    const repo = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(url.pathname)?.[1];
    const scope = repo ? `repository:${repo}:pull` : '';
    if (this.options.auth === 'bearer') {
      const token = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
      const granted = this.tokens.get(token);
      if (granted === undefined || (scope !== '' && granted !== scope)) {
        res.writeHead(401, {
          'Content-Type': 'application/json',
          'WWW-Authenticate': `Bearer realm="http://${this.host}/token",service="minictr-test"${scope ? `,scope="${scope}"` : ''}`,
        });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
    }
    if (this.options.auth === 'basic' && !this.userOk(req.headers.authorization)) {
      res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Basic realm="minictr-test"' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    const digest = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname)?.[1];
    const corrupt = digest !== undefined && this.options.corrupt?.has(digest);
    const headers = { ...req.headers, host: this.upstream };
    delete headers.authorization;
    const up = request({ host: '127.0.0.1', port: Number(this.upstream.split(':')[1]), method: req.method, path: req.url, headers }, (upRes) => {
      if (!corrupt) {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      upRes.on('data', (c: Buffer) => chunks.push(c));
      upRes.on('end', () => {
        const body = Buffer.concat(chunks);
        if (body.length > 0) body[body.length - 1] = (body[body.length - 1] ?? 0) ^ 0xff;
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        res.end(body);
      });
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  }
}
