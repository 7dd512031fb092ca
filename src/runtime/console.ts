// A client of a container's console: the unix socket its shim (src/shim/minictr-shim.c) serves
// for the container's whole life. Output arrives as frames per stream; input, window sizes and
// the end of input go back the same way.
import { closeSync, openSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { basename, dirname } from 'node:path';
import { MinictrError } from '../base/errors.js';
import { encodeFrame, FRAME, FrameDecoder, resizeFrame } from '../base/frames.js';

export type OutputStream = 'stdout' | 'stderr';

/** Where the log stood when a follower joined: the files hold everything before it. */
export interface LogPosition {
  inode: number;
  size: number;
}

export interface ConsoleConnection {
  /** Called for each piece of output; return false to pause until `resume()`. */
  onOutput(fn: (stream: OutputStream, data: Buffer) => boolean): void;
  resume(): void;
  write(data: Buffer): void;
  resize(rows: number, columns: number): void;
  closeStdin(): void;
  /** Follow the log instead of the streams: resolves with the log's position at that moment. */
  followLog(onEntry: (line: string) => boolean): Promise<LogPosition | undefined>;
  /** The status the shim reported when the command ended; undefined if the connection ended first. */
  readonly ended: Promise<number | undefined>;
  close(): void;
}

/**
 * Connect to the console socket at `path`. The path is reached through a descriptor of its
 * directory, as the shim binds it: a socket address holds only 108 bytes.
 */
export async function connectConsole(path: string, who: string): Promise<ConsoleConnection> {
  let dir: number;
  try {
    dir = openSync(dirname(path), 'r');
  } catch {
    throw noConsole(who);
  }
  let socket: Socket;
  try {
    socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ path: `/proc/self/fd/${dir}/${basename(path)}` });
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
  } catch {
    throw noConsole(who);
  } finally {
    closeSync(dir);
  }
  return consoleOver(socket);
}

/** The shim says on its --ready-fd (the spawned process's stdio `fd`) when its socket listens; a process that ended first is an error. */
export async function shimListening(child: ChildProcess, fd: number): Promise<void> {
  const ready = child.stdio[fd] as Readable | null | undefined;
  if (!ready) throw new MinictrError('E_SHIM', 'the container\'s shim gave no sign of life');
  const ok = await new Promise<boolean>((resolve) => {
    ready.once('data', () => resolve(true));
    ready.once('end', () => resolve(false));
    child.once('exit', () => resolve(false));
  });
  ready.destroy();
  if (!ok) throw new MinictrError('E_SHIM', 'the container\'s shim ended before its console was ready; see monitor.log in the container\'s directory');
}

function noConsole(who: string): MinictrError {
  return new MinictrError('E_NO_CONSOLE', `cannot attach to ${who}: its console is gone (is it running? "minictr start" it first)`, { exitCode: 1 });
}

function consoleOver(socket: Socket): ConsoleConnection {
  const decoder = new FrameDecoder();
  // Output that comes before a relay takes it (a foreground start returns once the command
  // runs, and a quick command may have spoken by then) waits here, not lost; past 1 MiB the
  // socket is paused until the relay comes.
  const early: [OutputStream, Buffer][] = [];
  let earlyBytes = 0;
  let output: (stream: OutputStream, data: Buffer) => boolean = (stream, data) => {
    early.push([stream, data]);
    earlyBytes += data.length;
    return earlyBytes < 1 << 20;
  };
  let entry: (line: string) => boolean = () => true;
  let position: (at: LogPosition | undefined) => void = () => undefined;
  let status: number | undefined;
  const ended = new Promise<number | undefined>((resolve) => {
    socket.on('close', () => {
      position(undefined);
      resolve(status);
    });
  });
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      if (frame.type === FRAME.exit) status = Number(frame.payload.toString());
      else if (frame.type === FRAME.position) {
        const [inode, size] = frame.payload.toString().split(' ').map(Number);
        position({ inode: inode ?? 0, size: size ?? 0 });
      } else if (frame.type === FRAME.entry) {
        if (!entry(frame.payload.toString('utf8'))) socket.pause();
      } else if (frame.type === FRAME.stdout || frame.type === FRAME.stderr) {
        if (!output(frame.type === FRAME.stdout ? 'stdout' : 'stderr', frame.payload)) socket.pause();
      }
    }
  });
  const send = (frame: Buffer): void => {
    if (!socket.destroyed) socket.write(frame);
  };
  return {
    onOutput(fn) {
      output = fn;
      let flowing = true;
      for (const [stream, data] of early.splice(0)) flowing = fn(stream, data) && flowing;
      earlyBytes = 0;
      if (flowing) socket.resume();
    },
    resume: () => socket.resume(),
    write: (data) => send(encodeFrame(FRAME.stdin, data)),
    resize: (rows, columns) => send(resizeFrame(rows, columns)),
    closeStdin: () => send(encodeFrame(FRAME.closeStdin)),
    followLog(onEntry) {
      entry = onEntry;
      const at = new Promise<LogPosition | undefined>((resolve) => {
        position = resolve;
      });
      send(encodeFrame(FRAME.follow));
      return at;
    },
    ended,
    close: () => socket.destroy(),
  };
}
