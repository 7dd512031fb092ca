// The caller's side of an attached container: its streams for the runtime's relay, and its
// terminal raw (with a guard that restores it even if minictr is killed) while a container's
// terminal is attached.
import { MinictrError } from '../base/errors.js';
import type { RelayStreams } from '../runtime/relay.js';
import { guardTerminal, type TerminalGuard } from '../runtime/terminal-guard.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../runtime/detach-keys.js';

export interface AttachMode {
  /** The container has a terminal (-t). */
  tty: boolean;
  /** Input goes to the container (-i, attach without --no-stdin). */
  stdin: boolean;
  /** --detach-keys, or Docker's default. */
  detachKeys?: string;
}

/** The mode of -t, -i and --detach-keys as given. */
export function attachMode(tty: boolean, stdin: boolean, detachKeys: string | undefined): AttachMode {
  return { tty, stdin, ...(detachKeys !== undefined ? { detachKeys } : {}) };
}

/** Docker's refusal of `-it` when stdin is not a terminal; checked before anything is created. */
export function checkTerminal(mode: { tty: boolean; stdin: boolean }): void {
  if (mode.tty && mode.stdin && process.stdin.isTTY !== true) {
    throw new MinictrError('E_NOT_A_TTY', 'the input device is not a TTY: run without -t, or from a terminal', { exitCode: 1 });
  }
}

/**
 * The caller's streams for a relay. With -it on a terminal, the terminal goes raw once the
 * console is connected (not while an image is pulled) and back when the relay ends.
 */
export function attachedStreams(mode: AttachMode): RelayStreams {
  const detachKeys = parseDetachKeys(mode.detachKeys ?? DEFAULT_DETACH_KEYS);
  const raw = mode.tty && mode.stdin && process.stdin.isTTY === true;
  const follows = mode.tty && process.stdout.isTTY === true;
  let guard: TerminalGuard | undefined;
  return {
    ...(mode.stdin ? { stdin: process.stdin } : {}),
    stdout: process.stdout,
    stderr: process.stderr,
    // Docker's detach keys work only where input is read.
    detachKeys: mode.stdin ? detachKeys : Buffer.alloc(0),
    ...(follows
      ? {
          size: () => ({ rows: process.stdout.rows, columns: process.stdout.columns }),
          onResize: (f: () => void) => {
            process.stdout.on('resize', f);
            return () => process.stdout.off('resize', f);
          },
        }
      : {}),
    begin: async () => {
      if (!raw) return;
      guard = await guardTerminal(0);
      process.stdin.setRawMode(true);
    },
    end: () => {
      if (raw) process.stdin.setRawMode(false);
      guard?.release();
      // Input is no longer read: stdin must not keep minictr alive.
      if (mode.stdin) process.stdin.destroy();
    },
  };
}
