// `logs`: the container's json-file log (written by its shim) read back, rotated files first.
// With -f, the shim itself hands over every entry from the moment the files end: no line is
// lost to rotation, however fast the log turns over, and following ends when the container does.
import { open, type FileHandle } from 'node:fs/promises';
import { MinictrError } from '../base/errors.js';
import type { RuntimeContext } from './context.js';
import { connectConsole, type ConsoleConnection, type LogPosition } from './console.js';
import { find, wait } from './lifecycle.js';
import { sleep } from '../base/proc.js';
import { logLimits } from './log-config.js';
import { fixedTime, inWindow, parseLogLine, type LogEntry, type LogFilter } from './json-log.js';

export interface LogTargets {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface LogOptions extends LogFilter {
  follow: boolean;
  /** Prefix each line with its time (-t). */
  timestamps: boolean;
  /** The last N lines only (--tail); undefined: all. */
  tail?: number;
  /** Stops following (an API client that went away). */
  signal?: AbortSignal;
}

/** The entries of one log file, up to `limit` bytes when given. */
async function readEntries(handle: FileHandle, limit?: number): Promise<LogEntry[]> {
  const text = (await handle.readFile()).subarray(0, limit).toString('utf8');
  const entries: LogEntry[] = [];
  for (const line of text.split('\n')) {
    const entry = line ? parseLogLine(line) : undefined;
    if (entry) entries.push(entry);
  }
  return entries;
}

/** Every entry the files hold, oldest first; with a position, only what lies before it. */
async function history(path: string, maxFile: number, at?: LogPosition): Promise<LogEntry[]> {
  const files = [...Array.from({ length: Math.max(0, maxFile - 1) }, (_, i) => `${path}.${maxFile - 1 - i}`), path];
  const entries: LogEntry[] = [];
  for (const file of files) {
    const handle = await open(file, 'r').catch(() => undefined);
    if (!handle) continue;
    try {
      const here = at !== undefined && (await handle.stat()).ino === at.inode;
      entries.push(...(await readEntries(handle, here ? at.size : undefined)));
      if (here) break;
    } finally {
      await handle.close();
    }
  }
  return entries;
}

/** Write the logs into `to`; with `follow`, keep writing until the container stops. */
export async function streamLogs(ctx: RuntimeContext, ref: string, options: LogOptions, to: LogTargets): Promise<void> {
  const record = await find(ctx, ref);
  if (record.hostConfig.logConfig?.type === 'none') {
    throw new MinictrError('E_NO_LOGS', 'configured logging driver does not support reading: the container runs with --log-driver none', { exitCode: 1 });
  }
  const paths = ctx.store.paths;
  const { maxFile } = logLimits(record.hostConfig.logConfig ?? { type: 'json-file', config: {} });
  // A running container's shim says where the files end and hands over what comes after.
  const follower = options.follow && record.state.status === 'running'
    ? await connectConsole(paths.containerConsole(record.id), `container ${record.name}`).catch(() => undefined)
    : undefined;
  const live: LogEntry[] = [];
  let wake: () => void = () => undefined;
  const position = follower?.followLog((line) => {
    const entry = parseLogLine(line);
    if (entry) live.push(entry);
    wake();
    return live.length < 10_000;
  });
  options.signal?.addEventListener('abort', () => follower?.close());
  const at = position ? await position : undefined;
  const window = (await history(paths.containerLog(record.id), maxFile, at)).filter((e) => inWindow(e, options));
  await writeEntries(options.tail === undefined ? window : window.slice(Math.max(0, window.length - options.tail)), options, to);
  if (follower && at) {
    await follow(follower, live, (fn) => { wake = fn; }, options, to);
    // The console closes a moment before the monitor records the exit: once `logs -f` returns,
    // the container reads as stopped, as with Docker (a `docker rm` right after it succeeds).
    if (!options.signal?.aborted && options.untilNs === undefined) await Promise.race([wait(ctx, record.id).catch(() => 0), sleep(2000)]);
  }
}

/** Write the follower's entries as they come, until the container's console closes (or --until passes). */
async function follow(conn: ConsoleConnection, queue: LogEntry[], onWake: (fn: () => void) => void, options: LogOptions, to: LogTargets): Promise<void> {
  let ended = false;
  void conn.ended.then(() => {
    ended = true;
  });
  try {
    for (;;) {
      const batch = queue.splice(0);
      const past = options.untilNs !== undefined ? batch.findIndex((e) => !inWindow(e, { untilNs: options.untilNs })) : -1;
      await writeEntries((past >= 0 ? batch.slice(0, past) : batch).filter((e) => inWindow(e, options)), options, to);
      if (past >= 0) return;
      conn.resume();
      if (ended && queue.length === 0) return;
      const untilMs = options.untilNs === undefined ? undefined : Number(options.untilNs / 1_000_000n) - Date.now();
      if (untilMs !== undefined && untilMs <= 0) return;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        onWake(resolve);
        void conn.ended.then(() => resolve());
        if (untilMs !== undefined) timer = setTimeout(resolve, untilMs);
        if (queue.length > 0) resolve();
      });
      clearTimeout(timer);
    }
  } finally {
    conn.close();
  }
}

async function writeEntries(entries: LogEntry[], options: LogOptions, to: LogTargets): Promise<void> {
  for (const entry of entries) {
    const out = entry.stream === 'stderr' ? to.stderr : to.stdout;
    const text = options.timestamps ? `${fixedTime(entry.time)} ${entry.log}` : entry.log;
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
}
