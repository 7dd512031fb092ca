// The one importer of proper-lockfile: short critical sections around state changes.
import lockfile from 'proper-lockfile';
import { access, constants, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MinictrError } from '../errors.js';
import type { Paths } from './paths.js';

/**
 * Lock names: "containers" guards names and records, "network" guards IPAM,
 * bridges and firewall rules, "images" guards the image index.
 */
export type LockName = 'containers' | 'network' | 'images';

/**
 * Why the state dir cannot be written: mkdir -p on a read-only file system can say ENOENT,
 * so ask the nearest directory that exists.
 */
async function writeProblem(dir: string, code: string | undefined): Promise<string | undefined> {
  if (code !== 'ENOENT') return code;
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    try {
      await access(d, constants.W_OK);
      return code;
    } catch (err) {
      const c = (err as NodeJS.ErrnoException).code;
      if (c !== 'ENOENT') return c;
    }
  }
  return code;
}

/** How long to wait for a lock another minictr holds (a crashed holder's goes stale in 5 s). */
const LOCK_WAIT_MS = 60_000;

export async function withLock<T>(paths: Paths, name: LockName, fn: () => Promise<T>): Promise<T> {
  // A state dir we cannot write fails at once and says why (the lock would only retry).
  try {
    await mkdir(paths.locks, { recursive: true });
    await access(paths.locks, constants.W_OK);
  } catch (err) {
    const code = await writeProblem(paths.root, (err as NodeJS.ErrnoException).code);
    const why = code === 'EROFS' ? 'is on a read-only file system' : code === 'ENOSPC' ? 'is on a full disk' : `cannot be written (${code ?? 'error'})`;
    throw new MinictrError('E_STATE_DIR', `the state dir ${paths.root} ${why}; use a writable --root or free some space`, { cause: err });
  }
  const target = paths.lock(name);
  let release: () => Promise<void> = async () => undefined;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let delay = 2; ; delay = Math.min(delay * 1.5, 50)) {
    try {
      release = await lockfile.lock(target, {
        realpath: false,
        lockfilePath: `${target}.lock`,
        // A minictr killed while holding the lock frees it after `stale` ms.
        stale: 5_000,
        update: 1_000,
        retries: 0,
        onCompromised: (err) => {
          throw new MinictrError('E_LOCK_COMPROMISED', `lost the ${name} lock: ${err.message}`);
        },
      });
      break;
    } catch (err) {
      if (err instanceof MinictrError) throw err;
      // Only "someone else holds it" is worth waiting for; a full or read-only disk is not.
      const held = (err as NodeJS.ErrnoException).code === 'ELOCKED';
      if (!held || Date.now() > deadline) {
        throw new MinictrError(
          'E_LOCK',
          held
            ? `timed out waiting for the ${name} lock (${target}.lock); is another minictr stuck?`
            : `could not lock ${target}: ${(err as Error).message}; is the state dir writable and not full?`,
          { cause: err },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
