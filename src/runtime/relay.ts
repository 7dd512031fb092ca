// Attached: the user's streams and a container's console joined, as `docker run`/`attach` join
// them. Typed input goes in (until the detach keys), output comes out per stream, the window
// size follows the user's terminal. The terminal's own mode (raw) is the caller's business.
import type { ConsoleConnection } from './console.js';
import { DetachKeyScanner } from './detach-keys.js';

export interface RelayStreams {
  /** Absent: nothing is read (no -i, or attach --no-stdin). */
  stdin?: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** The detach sequence (empty: none). */
  detachKeys: Buffer;
  /** The user's terminal size now, when there is a terminal to follow. */
  size?: () => { rows: number; columns: number } | undefined;
  /** Subscribe to size changes; returns the unsubscribe. */
  onResize?: (fn: () => void) => () => void;
  /** Called once the console is connected, and when the relay ends (the caller's terminal mode). */
  begin?: () => Promise<void>;
  end?: () => void;
}

export type RelayEnd =
  | { how: 'exited'; status: number }
  | { how: 'detached' }
  /** The console went away without a status (the shim was killed). */
  | { how: 'lost' };

/** `input`: the container takes input (-i); without it, the caller's stdin is not read. */
export async function relay(conn: ConsoleConnection, streams: RelayStreams, input = true): Promise<RelayEnd> {
  const { stdin: _unread, ...withoutInput } = streams;
  const io: RelayStreams = input ? streams : withoutInput;
  const sendSize = (): void => {
    const size = io.size?.();
    if (size && size.rows > 0 && size.columns > 0) conn.resize(size.rows, size.columns);
  };
  await io.begin?.();
  sendSize();
  const unsubscribe = io.onResize?.(sendSize);

  conn.onOutput((stream, data) => {
    const out = stream === 'stdout' ? io.stdout : io.stderr;
    const more = out.write(data);
    if (!more) out.once('drain', () => conn.resume());
    return more;
  });

  let detach: () => void = () => undefined;
  const detached = new Promise<'detached'>((resolve) => {
    detach = () => resolve('detached');
  });
  const scanner = new DetachKeyScanner(io.detachKeys);
  const onInput = (chunk: Buffer | string): void => {
    const { forward, detached: done } = scanner.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (forward.length > 0) conn.write(forward);
    if (done) detach();
  };
  const onEnd = (): void => conn.closeStdin();
  if (io.stdin) {
    io.stdin.on('data', onInput);
    io.stdin.once('end', onEnd);
  }
  try {
    const end = await Promise.race([conn.ended, detached]);
    if (end === 'detached') return { how: 'detached' };
    await flushed(io.stdout);
    await flushed(io.stderr);
    return end === undefined ? { how: 'lost' } : { how: 'exited', status: end };
  } finally {
    io.end?.();
    unsubscribe?.();
    if (io.stdin) {
      io.stdin.off('data', onInput);
      io.stdin.off('end', onEnd);
      io.stdin.pause();
    }
    conn.close();
  }
}

/** Resolves once what was written to `out` has been handed to the system. */
function flushed(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => out.write('', () => resolve()));
}
