// GET /events: container events as dockerd streams them (create, start, die, destroy), for
// what this server does and, by watching the records while a client listens, for what the
// minictr CLI does too (a change quicker than one look, 200 ms, may go unseen).
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { ContainerRecord } from '../base/records.js';
import type { Runtime } from '../runtime/runtime.js';
import { queryFilters } from './http.js';

export type ContainerAction = 'create' | 'attach' | 'start' | 'die' | 'destroy' | 'pause' | 'unpause' | 'rename';

export interface DockerEvent {
  status: ContainerAction;
  id: string;
  from: string;
  Type: 'container';
  Action: ContainerAction;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

interface Seen {
  status: string;
  startedAt: string;
  record: ContainerRecord;
}

const LOOK_MS = 200;

export class EventBus {
  private readonly emitter = new EventEmitter();
  private seen = new Map<string, Seen>();
  /** Containers whose destroy was said (the newest thousand): nothing more is said of them. */
  private readonly destroyed = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private looking = false;

  constructor(private readonly rt: Runtime) {
    this.emitter.setMaxListeners(0);
  }

  /** Say an event this server caused, and remember the container's state so no look repeats it. */
  emit(action: ContainerAction, record: ContainerRecord, extra: Record<string, string> = {}): void {
    // A container's end is said once: by whoever removed it, or by the look that found it gone.
    if (this.destroyed.has(record.id)) return;
    if (action === 'destroy') {
      this.seen.delete(record.id);
      this.destroyed.add(record.id);
      if (this.destroyed.size > 1000) this.destroyed.delete(this.destroyed.values().next().value ?? '');
    } else {
      const status = action === 'die' ? 'exited' : action === 'start' ? 'running' : action === 'create' ? 'created' : record.state.status;
      // Said once, whether the server's own emit or a look at the records comes first: a create of
      // a container already known, or a start or exit of the same run already said, is a repeat.
      const known = this.seen.get(record.id);
      const repeat = action === 'create'
        ? known !== undefined
        : (action === 'start' || action === 'die') && known?.status === status && known.startedAt === record.state.startedAt;
      if (repeat) return;
      this.seen.set(record.id, { status, startedAt: record.state.startedAt, record });
    }
    const now = Date.now();
    const event: DockerEvent = {
      status: action, id: record.id, from: record.config.image, Type: 'container', Action: action,
      Actor: { ID: record.id, Attributes: { image: record.config.image, name: record.name, ...(record.config.labels ?? {}), ...extra } },
      scope: 'local', time: Math.floor(now / 1000), timeNano: now * 1_000_000,
    };
    this.emitter.emit('event', event);
  }

  /** Compare the records with the last look and say what changed. */
  private async look(): Promise<void> {
    if (this.looking) return;
    this.looking = true;
    try {
      const now = new Map((await this.rt.list(true)).map((r) => [r.id, r]));
      for (const [id, before] of this.seen) {
        if (now.has(id)) continue;
        if (before.status === 'running') this.emit('die', before.record, { exitCode: String(before.record.state.exitCode) });
        this.emit('destroy', before.record);
      }
      for (const [id, r] of now) {
        const before = this.seen.get(id);
        if (!before) {
          this.emit('create', r);
          if (r.state.status === 'running') this.emit('start', r);
          continue;
        }
        if (r.state.status === 'running' && (before.status !== 'running' || before.startedAt !== r.state.startedAt)) this.emit('start', r);
        else if (r.state.status === 'exited' && before.status === 'running') this.emit('die', r, { exitCode: String(r.state.exitCode) });
        this.seen.set(id, { status: r.state.status, startedAt: r.state.startedAt, record: r });
      }
    } catch {
      // A look that failed (a record half-written) is followed by the next.
    } finally {
      this.looking = false;
    }
  }

  /** GET /events: a JSON object per event, until the client goes or `until` passes. */
  async stream(res: ServerResponse, query: URLSearchParams): Promise<void> {
    const filters = queryFilters(query);
    const until = Number(query.get('until') ?? '0');
    const wanted = (e: DockerEvent): boolean =>
      (!filters['type'] || filters['type'].includes(e.Type)) &&
      (!filters['event'] || filters['event'].includes(e.Action)) &&
      (!filters['container'] || filters['container'].some((c) => e.id.startsWith(c) || e.Actor.Attributes['name'] === c)) &&
      (!filters['label'] || filters['label'].every((l) => {
        const [k, v] = l.split('=');
        return k !== undefined && (v === undefined ? k in e.Actor.Attributes : e.Actor.Attributes[k] === v);
      }));
    if (this.emitter.listenerCount('event') === 0) {
      // The first listener: what exists now is the starting point, not news.
      this.seen = new Map((await this.rt.list(true)).map((r) => [r.id, { status: r.state.status, startedAt: r.state.startedAt, record: r }]));
      this.timer = setInterval(() => void this.look(), LOOK_MS);
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const send = (e: DockerEvent): void => {
      if (wanted(e)) res.write(`${JSON.stringify(e)}\n`);
    };
    this.emitter.on('event', send);
    await new Promise<void>((resolve) => {
      res.once('close', () => resolve());
      if (until > 0) setTimeout(resolve, Math.max(0, until * 1000 - Date.now())).unref();
    });
    this.emitter.off('event', send);
    if (this.emitter.listenerCount('event') === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    res.end();
  }
}
