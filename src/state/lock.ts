// The one importer of proper-lockfile: short critical sections around state changes.
import lockfile from 'proper-lockfile';
import { mkdir } from 'node:fs/promises';
import { MinictrError } from '../errors.js';
import type { Paths } from './paths.js';

/**
 * Lock names: "containers" guards names and records, "network" guards IPAM,
 * bridges and firewall rules, "images" guards the image index.
 */
export type LockName = 'containers' | 'network' | 'images';

export async function withLock<T>(paths: Paths, name: LockName, fn: () => Promise<T>): Promise<T> {
  await mkdir(paths.locks, { recursive: true });
  const target = paths.lock(name);
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(target, {
      realpath: false,
      lockfilePath: `${target}.lock`,
      // A minictr killed while holding the lock frees it after `stale` ms.
      stale: 5_000,
      update: 1_000,
      retries: { retries: 600, factor: 1.2, minTimeout: 5, maxTimeout: 100 },
      onCompromised: (err) => {
        throw new MinictrError('E_LOCK_COMPROMISED', `lost the ${name} lock: ${err.message}`);
      },
    });
  } catch (err) {
    if (err instanceof MinictrError) throw err;
    throw new MinictrError(
      'E_LOCK',
      `could not lock ${target}: ${(err as Error).message}; is the state dir writable?`,
      { cause: err },
    );
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
