// The user's terminal goes raw while attached to a container's terminal. Should minictr be
// killed (even with SIGKILL), a small process that outlives it (the shim's --guard-tty) puts
// the terminal's settings back: it saved them first, and restores them when its pipe from
// minictr closes without a word.
import type { Socket } from 'node:net';
import { SHIM_PATH } from '../base/install-paths.js';
import { spawnProcess } from '../exec/runner.js';

export interface TerminalGuard {
  /** minictr restored the terminal itself: the guard leaves without touching it. */
  release(): void;
}

/** Start the guard over the terminal on fd `tty` (the caller's stdin); resolves once it has saved the settings. */
export async function guardTerminal(tty = 0): Promise<TerminalGuard> {
  const child = spawnProcess([SHIM_PATH, '--guard-tty'], { stdio: ['pipe', 'pipe', 'ignore', tty], detached: true });
  await new Promise<void>((resolve) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  child.stdout?.destroy();
  child.unref();
  // The pipe must not keep minictr alive; it closes when minictr ends, however it ends.
  const pipe = child.stdin as Socket | null;
  pipe?.unref();
  return {
    release() {
      pipe?.end('done\n');
    },
  };
}
