// The Engine API's container endpoints, over the runtime library: the same records, locks and
// lifecycle as the CLI's, so `docker run` against minictr shows in `minictr ps` and back.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable, type Duplex } from 'node:stream';
import type { ContainerRecord } from '../base/records.js';
import { parseSignal } from '../base/proc.js';
import type { Runtime } from '../runtime/runtime.js';
import type { ConsoleConnection } from '../runtime/console.js';
import { connectConsole } from '../runtime/console.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../runtime/detach-keys.js';
import { relay, type RelayStreams } from '../runtime/relay.js';
import { parseLogTime, parseTail } from '../runtime/json-log.js';
import { ApiError, queryFilters, queryFlag, readJson, sendEmpty, sendJson } from './http.js';
import { checkCreateFields } from './known-fields.js';
import { streamWriter } from './streams.js';
import type { EventBus } from './events.js';
import { listEntry, specFromCreate, type CreateBody } from './translate.js';

/** An attach that came before its container started (`docker run` attaches, then starts). */
interface PendingAttach {
  socket: Duplex;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys: Buffer;
}

export class ContainerApi {
  private readonly pending = new Map<string, PendingAttach>();
  /** Exit statuses of containers whose exit this server handles (a removed one has no record left). */
  private readonly exits = new Map<string, Promise<number | undefined>>();

  constructor(private readonly rt: Runtime, private readonly events: EventBus, private readonly say: (line: string) => void) {}

  async create(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const body = (await readJson<CreateBody>(req)) ?? {};
    checkCreateFields(body);
    const record = await this.rt.create(specFromCreate(body, query.get('name') ?? undefined), { progress: devNull() });
    this.events.emit('create', record);
    sendJson(res, 201, { Id: record.id, Warnings: [] });
  }

  /** POST /containers/prune: every container that is not running. */
  async prune(res: ServerResponse): Promise<void> {
    const stopped = (await this.rt.list(true)).filter((r) => r.state.status !== 'running');
    const { removed } = await this.rt.removeMany(stopped.map((r) => r.id), { force: false, volumes: false });
    for (const r of removed) this.events.emit('destroy', r.record);
    sendJson(res, 200, { ContainersDeleted: removed.map((r) => r.record.id), SpaceReclaimed: 0 });
  }

  async list(res: ServerResponse, query: URLSearchParams): Promise<void> {
    const filters = queryFilters(query);
    const flags = Object.entries(filters).flatMap(([key, values]) => values.map((v) => `${key}=${v}`));
    const records = await this.rt.listFiltered(queryFlag(query, 'all'), flags);
    const now = new Date();
    const limit = Number(query.get('limit') ?? '-1');
    const sorted = records.sort((a, b) => b.created.localeCompare(a.created));
    sendJson(res, 200, (limit > 0 ? sorted.slice(0, limit) : sorted).map((r) => listEntry(r, now)));
  }

  async inspect(res: ServerResponse, id: string): Promise<void> {
    sendJson(res, 200, await this.rt.inspect(id));
  }

  async start(res: ServerResponse, ref: string): Promise<void> {
    const record = await this.rt.find(ref);
    if (record.state.status === 'running') return sendEmpty(res, 304);
    const attach = this.pending.get(record.id);
    if (!attach) {
      const started = await this.rt.start(record.id, { foreground: false });
      this.events.emit('start', started.record);
      return sendEmpty(res, 204);
    }
    this.pending.delete(record.id);
    // An attach is waiting: the command starts once its console is connected, so the client
    // sees everything; this server then handles the exit, as a foreground `minictr run` does.
    let started;
    try {
      started = await this.rt.start(record.id, { foreground: true });
    } catch (err) {
      // The held attach ends with the failed start: the client sees the start's error, not a hang.
      attach.socket.end();
      throw err;
    }
    this.events.emit('start', started.record);
    sendEmpty(res, 204);
    if (started.console) void this.serveAttach(started.record, started.console, attach);
    const monitor = started.monitor;
    if (monitor) {
      this.exits.set(record.id, new Promise((resolve) => {
        monitor.once('exit', () => {
          void this.rt.handleExit(record.id).then((done) => {
            if (done) {
              this.events.emit('die', done.record, { exitCode: String(done.record.state.exitCode) });
              if (record.hostConfig.autoRemove) this.events.emit('destroy', done.record);
            }
            resolve(done?.record.state.exitCode);
          }, (err: unknown) => {
            this.say(`exit handling of ${record.id.slice(0, 12)} failed: ${String(err)}`);
            resolve(undefined);
          });
        });
      }));
    }
  }

  /** POST /containers/{id}/attach, hijacked: now if it runs, or held until it starts. */
  async attach(socket: Duplex, ref: string, query: URLSearchParams): Promise<void> {
    const record = await this.rt.find(ref);
    const keys = query.get('detachKeys');
    const attach: PendingAttach = {
      socket,
      stdin: queryFlag(query, 'stdin'),
      stdout: queryFlag(query, 'stdout'),
      stderr: queryFlag(query, 'stderr'),
      detachKeys: parseDetachKeys(keys || DEFAULT_DETACH_KEYS),
    };
    upgraded(socket, record.config.tty);
    this.events.emit('attach', record);
    if (record.state.status !== 'running') {
      this.pending.set(record.id, attach);
      socket.once('close', () => {
        if (this.pending.get(record.id) === attach) this.pending.delete(record.id);
      });
      return;
    }
    const conn = await connectConsole(this.rt.store.paths.containerConsole(record.id), `container ${record.name}`);
    await this.serveAttach(record, conn, attach);
  }

  private async serveAttach(record: ContainerRecord, conn: ConsoleConnection, attach: PendingAttach): Promise<void> {
    const { socket } = attach;
    const tty = record.config.tty;
    const streams: RelayStreams = {
      ...(attach.stdin && record.config.interactive ? { stdin: socket } : {}),
      stdout: attach.stdout ? streamWriter(socket, 'stdout', tty) : devNull(),
      stderr: attach.stderr ? streamWriter(socket, 'stderr', tty) : devNull(),
      detachKeys: attach.stdin ? attach.detachKeys : Buffer.alloc(0),
    };
    socket.once('close', () => conn.close());
    await relay(conn, streams).catch(() => undefined);
    socket.end();
  }

  /** POST /containers/{id}/wait?condition=not-running|next-exit|removed → {"StatusCode": N}. */
  async wait(res: ServerResponse, ref: string, query: URLSearchParams): Promise<void> {
    const condition = query.get('condition') || 'not-running';
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw new ApiError(400, `invalid condition: "${condition}"`);
    const first = await this.rt.find(ref);
    let gone = false;
    res.once('close', () => { gone = true; });
    // The status line goes at once, as dockerd sends it: the docker CLI starts the container
    // only once its wait is in place.
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const answer = (code: number): void => void res.end(JSON.stringify({ StatusCode: code, Error: null }));
    let last = first;
    for (;;) {
      const current = await this.rt.store.loadContainer(first.id);
      // Removed (--rm): its exit as this server handled it, or as last seen.
      if (!current) return answer((await this.exits.get(first.id)) ?? last.state.exitCode);
      last = await this.rt.find(current.id).catch(() => current);
      const running = last.state.status === 'running';
      // It ran since the wait began (started, maybe already exited) and is not running now.
      const ranSince = last.state.startedAt !== first.state.startedAt || first.state.status === 'running';
      if (condition === 'not-running' && !running) break;
      if (condition === 'next-exit' && ranSince && !running) break;
      if (gone) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    answer(last.state.exitCode);
  }

  async stop(res: ServerResponse, ref: string, query: URLSearchParams): Promise<void> {
    const record = await this.rt.find(ref);
    if (record.state.status !== 'running') return sendEmpty(res, 304);
    const t = query.get('t');
    const signal = query.get('signal');
    await this.rt.stop(ref, t === null ? 10 : Number(t), signal ? signalOf(signal) : undefined);
    sendEmpty(res, 204);
  }

  async kill(res: ServerResponse, ref: string, query: URLSearchParams): Promise<void> {
    const record = await this.rt.find(ref);
    if (record.state.status !== 'running') throw new ApiError(409, `Container ${record.id} is not running`);
    await this.rt.kill(ref, signalOf(query.get('signal') || 'SIGKILL'));
    sendEmpty(res, 204);
  }

  /** POST /containers/{id}/pause and /unpause: the cgroup freezer, as the CLI's. */
  async pause(res: ServerResponse, ref: string, pause: boolean): Promise<void> {
    const record = pause ? await this.rt.pause(ref) : await this.rt.unpause(ref);
    this.events.emit(pause ? 'pause' : 'unpause', record);
    sendEmpty(res, 204);
  }

  /** POST /containers/{id}/rename?name=NEW. */
  async rename(res: ServerResponse, ref: string, query: URLSearchParams): Promise<void> {
    const name = query.get('name');
    if (!name) throw new ApiError(400, 'name is required: the new name');
    const before = await this.rt.find(ref);
    const record = await this.rt.rename(ref, name);
    this.events.emit('rename', record, { oldName: `/${before.name}` });
    sendEmpty(res, 204);
  }

  /** GET /containers/{id}/top?ps_args=: the container's processes as ps shows them. */
  async top(res: ServerResponse, ref: string, query: URLSearchParams): Promise<void> {
    const { titles, processes } = await this.rt.top(ref, query.get('ps_args') ?? '');
    sendJson(res, 200, { Titles: titles, Processes: processes });
  }

  async restart(res: ServerResponse, ref: string, query: URLSearchParams): Promise<void> {
    const t = query.get('t');
    const { record } = await this.rt.stop(ref, t === null ? 10 : Number(t));
    await this.rt.start(record.id, { foreground: false });
    sendEmpty(res, 204);
  }

  async remove(res: ServerResponse, ref: string, query: URLSearchParams): Promise<void> {
    const { record } = await this.rt.remove(ref, { force: queryFlag(query, 'force'), volumes: queryFlag(query, 'v') });
    this.events.emit('destroy', record);
    sendEmpty(res, 204);
  }

  async resize(res: ServerResponse, ref: string, query: URLSearchParams): Promise<void> {
    const record = await this.rt.find(ref);
    const rows = Number(query.get('h'));
    const columns = Number(query.get('w'));
    if (record.state.status === 'running' && record.config.tty && rows > 0 && columns > 0) {
      const conn = await connectConsole(this.rt.store.paths.containerConsole(record.id), `container ${record.name}`);
      conn.resize(rows, columns);
      conn.close();
    }
    sendEmpty(res, 200);
  }

  /** GET /containers/{id}/logs: the json-file log, framed per stream (raw with a terminal). */
  async logs(res: ServerResponse, ref: string, query: URLSearchParams): Promise<void> {
    const record = await this.rt.find(ref);
    const now = Date.now();
    const tail = parseTail(query.get('tail') ?? 'all');
    const since = query.get('since');
    const until = query.get('until');
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    res.writeHead(200, { 'Content-Type': record.config.tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
    const tty = record.config.tty;
    await this.rt.logs(record.id, {
      follow: queryFlag(query, 'follow'),
      timestamps: queryFlag(query, 'timestamps'),
      ...(tail !== undefined ? { tail } : {}),
      ...(since && since !== '0' ? { sinceNs: parseLogTime('since', since, now) } : {}),
      ...(until && until !== '0' ? { untilNs: parseLogTime('until', until, now) } : {}),
      signal: abort.signal,
    }, {
      stdout: queryFlag(query, 'stdout') ? streamWriter(res, 'stdout', tty) : devNull(),
      stderr: queryFlag(query, 'stderr') ? streamWriter(res, 'stderr', tty) : devNull(),
    });
    res.end();
  }
}

function signalOf(text: string): NodeJS.Signals {
  const signal = parseSignal(text);
  if (!signal) throw new ApiError(400, `invalid signal: ${text}`);
  return signal;
}

/** The 101 answer to an attach or exec start: from here the connection carries the streams. */
export function upgraded(socket: Duplex, tty: boolean): void {
  socket.write([
    'HTTP/1.1 101 UPGRADED',
    `Content-Type: application/vnd.docker.${tty ? 'raw' : 'multiplexed'}-stream`,
    'Connection: Upgrade',
    'Upgrade: tcp',
    '', '',
  ].join('\r\n'));
}

/** Where a stream the client did not ask for goes. */
function devNull(): NodeJS.WritableStream {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}
