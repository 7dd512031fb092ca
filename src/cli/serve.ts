// `minictr serve`: the Docker Engine API on a unix socket (or loopback TCP when asked), so the
// docker CLI, docker-compose and the SDKs drive minictr. Foreground; SIGTERM stops it cleanly.
import type { Command } from 'commander';
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { MinictrError } from '../base/errors.js';
import { createApiServer } from '../api/server.js';
import { requireRoot, runtimeFor } from './context.js';

export const DEFAULT_HOST = 'unix:///run/minictr/minictr.sock';

export interface ServeFlags {
  host: string;
  group?: string;
  insecureListenAnywhere?: boolean;
}

type Listen = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** --host as Docker spells it: unix:///path or tcp://ADDRESS:PORT. */
export function parseHost(host: string, anywhere: boolean): Listen {
  if (host.startsWith('unix://')) {
    const path = host.slice('unix://'.length);
    if (!path.startsWith('/')) throw new MinictrError('E_BAD_FLAG', `invalid --host "${host}": give an absolute socket path, e.g. ${DEFAULT_HOST}`);
    return { kind: 'unix', path };
  }
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:]+):(\d+)$/.exec(host);
  if (!m) throw new MinictrError('E_BAD_FLAG', `invalid --host "${host}": use unix:///path or tcp://127.0.0.1:PORT`);
  const address = (m[1] ?? '').replace(/^\[|\]$/g, '');
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new MinictrError('E_BAD_FLAG', `invalid --host "${host}": port ${port} is out of range 1-65535`);
  const loopback = /^127\./.test(address) || address === '::1' || address === 'localhost';
  if (!loopback && !anywhere) {
    throw new MinictrError('E_BAD_FLAG', `refusing to serve the unauthenticated API on ${address}: anyone who reaches it is root on this host; use a loopback address, or --insecure-listen-anywhere`);
  }
  return { kind: 'tcp', host: address, port };
}

export async function serve(cmd: Command, flags: ServeFlags): Promise<void> {
  requireRoot('minictr serve');
  const listen = parseHost(flags.host, flags.insecureListenAnywhere === true);
  const rt = runtimeFor(cmd);
  const say = (line: string): void => {
    process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  };
  const server = createApiServer(rt, say);
  if (listen.kind === 'unix') {
    mkdirSync(dirname(listen.path), { recursive: true });
    rmSync(listen.path, { force: true });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new MinictrError('E_SERVE', `cannot listen on ${flags.host}: ${err.message}`)));
    if (listen.kind === 'unix') server.listen(listen.path, resolve);
    else server.listen(listen.port, listen.host, resolve);
  });
  const inode = listen.kind === 'unix' ? statSync(listen.path).ino : 0;
  if (listen.kind === 'unix') {
    chmodSync(listen.path, 0o660);
    if (flags.group) chownSync(listen.path, 0, groupId(flags.group));
  } else {
    say(`warning: the API on ${flags.host} is unauthenticated: anyone who can connect to it is root on this host`);
  }
  say(`minictr serve: the Docker Engine API on ${flags.host} (DOCKER_HOST=${flags.host})`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      say(`${signal}: no new connections; requests in flight finish; containers keep running`);
      server.close(() => resolve());
      server.closeIdleConnections();
      // Attached clients and followers may stay for ever: they are cut after a grace period.
      setTimeout(() => {
        server.closeAllConnections();
        resolve();
      }, 10_000).unref();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  // Only our own socket: a server started meanwhile on the same path keeps its.
  if (listen.kind === 'unix' && statSync(listen.path, { throwIfNoEntry: false })?.ino === inode) rmSync(listen.path, { force: true });
}

function groupId(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.split(':')[0] === group);
  if (!line) throw new MinictrError('E_BAD_FLAG', `no such group: ${group}`);
  return Number(line.split(':')[2]);
}
