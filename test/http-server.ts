// A local HTTP server for the registry tests (the unit tests' fake registry, the integration
// tests' auth proxy): a free port on 127.0.0.1, start and stop, and HTTP Basic credentials.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export abstract class LocalHttpServer {
  private server: Server | undefined;
  port = 0;

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  protected abstract handle(req: IncomingMessage, res: ServerResponse): void;

  /** Whether a Basic Authorization header names one of `users` with its password. */
  protected basicAuthOk(header: string | undefined, users: Record<string, string> | undefined): boolean {
    if (!header?.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString();
    const colon = decoded.indexOf(':');
    return colon >= 0 && users?.[decoded.slice(0, colon)] === decoded.slice(colon + 1);
  }
}
