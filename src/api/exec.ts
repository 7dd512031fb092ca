// The Engine API's exec: POST /containers/{id}/exec records what to run, POST /exec/{id}/start
// runs it (hijacked, framed streams; a terminal of the container's devpts with Tty), and
// GET /exec/{id}/json tells its exit status. Exec instances live as long as this server.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Runtime } from '../runtime/runtime.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../runtime/detach-keys.js';
import { ApiError, readJson, sendEmpty, sendJson } from './http.js';
import { checkExecFields } from './known-fields.js';
import { streamWriter } from './streams.js';
import { upgraded } from './containers.js';

interface ExecBody {
  AttachStdin?: unknown;
  AttachStdout?: unknown;
  AttachStderr?: unknown;
  Tty?: unknown;
  Cmd?: unknown;
  Env?: unknown;
  WorkingDir?: unknown;
  DetachKeys?: unknown;
}

interface ExecInstance {
  id: string;
  container: string;
  cmd: string[];
  env: string[];
  workdir?: string;
  tty: boolean;
  stdin: boolean;
  detachKeys: Buffer;
  running: boolean;
  exitCode: number | null;
  size?: { rows: number; columns: number };
  resized: EventEmitter;
}

export class ExecApi {
  private readonly execs = new Map<string, ExecInstance>();

  constructor(private readonly rt: Runtime) {}

  async create(req: IncomingMessage, res: ServerResponse, ref: string): Promise<void> {
    const record = await this.rt.find(ref);
    if (record.state.status !== 'running') throw new ApiError(409, `Container ${record.id} is not running`);
    const body = (await readJson<ExecBody>(req)) ?? {};
    checkExecFields(body);
    if (!Array.isArray(body.Cmd) || body.Cmd.length === 0 || body.Cmd.some((c) => typeof c !== 'string')) {
      throw new ApiError(400, 'No exec command specified: give Cmd as a list of strings');
    }
    const env = Array.isArray(body.Env) ? body.Env.map(String) : [];
    const exec: ExecInstance = {
      id: randomBytes(32).toString('hex'),
      container: record.id,
      cmd: body.Cmd as string[],
      env,
      ...(typeof body.WorkingDir === 'string' && body.WorkingDir ? { workdir: body.WorkingDir } : {}),
      tty: body.Tty === true,
      stdin: body.AttachStdin === true,
      detachKeys: parseDetachKeys(typeof body.DetachKeys === 'string' && body.DetachKeys ? body.DetachKeys : DEFAULT_DETACH_KEYS),
      running: false,
      exitCode: null,
      resized: new EventEmitter(),
    };
    this.execs.set(exec.id, exec);
    sendJson(res, 201, { Id: exec.id });
  }

  private find(id: string): ExecInstance {
    const exec = this.execs.get(id);
    if (!exec) throw new ApiError(404, `No such exec instance: ${id}`);
    return exec;
  }

  inspect(res: ServerResponse, id: string): void {
    const e = this.find(id);
    sendJson(res, 200, {
      ID: e.id, ContainerID: e.container, Running: e.running, ExitCode: e.exitCode, OpenStdin: e.stdin, OpenStdout: true, OpenStderr: true,
      ProcessConfig: { tty: e.tty, entrypoint: e.cmd[0] ?? '', arguments: e.cmd.slice(1), privileged: false }, Pid: 0,
    });
  }

  resize(res: ServerResponse, id: string, query: URLSearchParams): void {
    const e = this.find(id);
    const rows = Number(query.get('h'));
    const columns = Number(query.get('w'));
    if (rows > 0 && columns > 0) {
      e.size = { rows, columns };
      e.resized.emit('resize');
    }
    sendEmpty(res, 201);
  }

  /** POST /exec/{id}/start without a hijack: {"Detach": true} runs it in the background. */
  async startDetached(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const e = this.find(id);
    await readJson(req);
    e.running = true;
    await this.rt.exec(e.container, e.cmd, { env: e.env, ...(e.workdir ? { workdir: e.workdir } : {}), detach: true });
    sendEmpty(res, 200);
  }

  /** POST /exec/{id}/start, hijacked: the command's streams on the connection until it ends. */
  async start(socket: Duplex, id: string): Promise<void> {
    const e = this.find(id);
    if (e.running || e.exitCode !== null) throw new ApiError(409, `exec ${id} has already been started`);
    e.running = true;
    upgraded(socket, e.tty);
    const stdout = streamWriter(socket, 'stdout', e.tty);
    const stderr = streamWriter(socket, 'stderr', e.tty);
    const base = { env: e.env, ...(e.workdir ? { workdir: e.workdir } : {}), interactive: e.stdin };
    try {
      e.exitCode = e.tty
        ? await this.rt.exec(e.container, e.cmd, {
          ...base,
          terminal: {
            ...(e.stdin ? { stdin: socket } : {}),
            stdout, stderr, detachKeys: e.stdin ? e.detachKeys : Buffer.alloc(0),
            size: () => e.size,
            onResize: (fn) => {
              e.resized.on('resize', fn);
              return () => e.resized.off('resize', fn);
            },
          },
        })
        : await this.rt.exec(e.container, e.cmd, { ...base, pipes: { ...(e.stdin ? { stdin: socket } : {}), stdout, stderr } });
    } catch (err) {
      stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      e.exitCode = 126;
    } finally {
      e.running = false;
      socket.end();
    }
  }
}
