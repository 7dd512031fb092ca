// The one importer of proper-lockfile: short critical sections around state changes.
// Taking and releasing a free lock uses blocking calls (proper-lockfile's lockSync): about ten
// tiny file operations, which cost ~0.2 ms this way and ~2 ms as a chain of thread-pool round
// trips, and a run takes six locks. Waiting for a held lock stays asynchronous.
import lockfile from 'proper-lockfile';
import { accessSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync, type BigIntStats } from 'node:fs';
import { access, constants, readFile, stat, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MinictrError } from '../base/errors.js';
import { startTimeOf } from '../base/proc.js';
import type { Paths } from './paths.js';

/**
 * Lock names: "containers" guards names and records, "network" guards IPAM,
 * bridges and firewall rules, "images" guards the image index, "volumes" guards volume
 * records and data dirs. Taken in that order: a container's own lock, network, containers, volumes,
 * a record's lock.
 */
/** `dns`: the resolver's files and process (a leaf, after `network`). */
/** `index`: the container index's files (state/container-index.ts); the very last leaf, after a record's lock. */
export type LockName = 'containers' | 'network' | 'images' | 'volumes' | 'dns' | 'index' | ContainerLockName | RecordLockName;

/**
 * One container's network objects while they are made or removed (`container-<id>`): taken
 * before `network`, so an attach can make the links and rules without holding `network`, and a
 * removal of the same container waits for it.
 */
export type ContainerLockName = `container-${string}`;

/**
 * One container record's read-modify-write (`record-<id>`): a leaf, taken last. Twenty starts
 * at once then update their own records side by side instead of queueing on "containers",
 * which stays for what spans records: names at create, and forgetting a record.
 */
export type RecordLockName = `record-${string}`;

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

/** How long to wait for a lock another minictr holds. */
const LOCK_WAIT_MS = 60_000;
/**
 * A lock whose holder stopped refreshing it this long ago is stale. Generous, because a
 * busy 2-core machine can delay the refresh timer by seconds; a holder that died is found at
 * once by its pid instead (see deadHolderLock).
 */
const STALE_MS = 60_000;

/**
 * Who holds a lock: pid and start time, plus the lock dir's inode and birth time so a file
 * left by an earlier holder is never mistaken for the current one's. Beside the lock dir,
 * not in it (proper-lockfile removes the dir with rmdir).
 */
function ownerFile(lockDir: string): string {
  return `${lockDir}.owner`;
}

/**
 * In nanoseconds: a lock dir made again within the same millisecond can get the same inode,
 * and a dead holder's leftover owner file would then pass for the new holder's.
 */
function identityOf(st: BigIntStats): string {
  return `${st.ino}:${st.birthtimeNs}`;
}

async function lockIdentity(lockDir: string): Promise<string | undefined> {
  const st = await stat(lockDir, { bigint: true }).catch(() => undefined);
  return st ? identityOf(st) : undefined;
}

/**
 * The identity of the lock dir when its recorded holder no longer runs (killed with -9,
 * rebooted); undefined while it lives, or when the dir is not the one the owner file names.
 */
async function deadHolderLock(lockDir: string): Promise<string | undefined> {
  const owner = await readFile(ownerFile(lockDir), 'utf8').catch(() => '');
  const [pid, start, identity] = owner.trim().split(' ');
  if (!pid || !start || !identity) return undefined;
  if (String(startTimeOf(Number(pid))) === start) return undefined;
  // Compared only now that the holder is known dead: compared first, the holder could have
  // released and exited in between (a busy machine stretches that to tens of ms), and the dir
  // would be a live newcomer's. A dead holder releases nothing, so a match now is its lock.
  return (await lockIdentity(lockDir)) === identity ? identity : undefined;
}

let ownStart: number | undefined;

function recordOwner(lockDir: string): void {
  ownStart ??= startTimeOf(process.pid);
  const st = statSync(lockDir, { bigint: true, throwIfNoEntry: false });
  if (!st) return;
  const tmp = `${ownerFile(lockDir)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${process.pid} ${ownStart || ''} ${identityOf(st)}\n`);
  renameSync(tmp, ownerFile(lockDir));
}

/** Lock dirs this process has already found writable (a command takes several locks). */
const writableLockDirs = new Set<string>();

export async function withLock<T>(paths: Paths, name: LockName, fn: () => Promise<T>): Promise<T> {
  // A state dir we cannot write fails at once and says why (the lock would only retry).
  if (!writableLockDirs.has(paths.locks)) {
    try {
      mkdirSync(paths.locks, { recursive: true });
      accessSync(paths.locks, constants.W_OK);
      writableLockDirs.add(paths.locks);
    } catch (err) {
      const code = await writeProblem(paths.root, (err as NodeJS.ErrnoException).code);
      const why = code === 'EROFS' ? 'is on a read-only file system' : code === 'ENOSPC' ? 'is on a full disk' : `cannot be written (${code ?? 'error'})`;
      throw new MinictrError('E_STATE_DIR', `the state dir ${paths.root} ${why}; use a writable --root or free some space`, { cause: err });
    }
  }
  const target = paths.lock(name);
  let release: () => void = () => undefined;
  const deadline = Date.now() + LOCK_WAIT_MS;
  // Short polls: with twenty starts at once, a waiter asleep long after the lock came free is
  // time nobody uses.
  for (let delay = 2; ; delay = Math.min(delay * 1.5, 10)) {
    try {
      release = lockfile.lockSync(target, {
        realpath: false,
        lockfilePath: `${target}.lock`,
        stale: STALE_MS,
        update: 5_000,
        retries: 0,
        // Not a throw: an exception from a timer would kill minictr halfway through a change.
        onCompromised: (err) => {
          process.stderr.write(`minictr: warning: the ${name} lock was taken over (${err.message})\n`);
        },
      });
      try {
        recordOwner(`${target}.lock`);
      } catch {
        // only a faster judgement of a dead holder is lost
      }
      break;
    } catch (err) {
      if (err instanceof MinictrError) throw err;
      // Only "someone else holds it" is worth waiting for; a full or read-only disk is not.
      // (ENOENT: the holder released it between our mkdir and stat; just try again.)
      const code = (err as NodeJS.ErrnoException).code;
      const held = code === 'ELOCKED' || code === 'ENOENT';
      if (!held || Date.now() > deadline) {
        throw new MinictrError(
          'E_LOCK',
          held
            ? `timed out waiting for the ${name} lock (${target}.lock); is another minictr stuck?`
            : `could not lock ${target}: ${(err as Error).message}; is the state dir writable and not full?`,
          { cause: err },
        );
      }
      // Its holder is gone: age the lock so proper-lockfile removes it as stale on the next try.
      const dead = await deadHolderLock(`${target}.lock`);
      if (dead) {
        await utimes(`${target}.lock`, new Date(0), new Date(0)).catch(() => undefined);
        // Another waiter may have cleared it and taken the lock just before: never leave a live lock aged.
        if ((await lockIdentity(`${target}.lock`)) !== dead) {
          await utimes(`${target}.lock`, new Date(), new Date()).catch(() => undefined);
        }
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  try {
    return await fn();
  } finally {
    // The owner file goes first: once the lock dir is gone, nobody may judge a holder by it.
    try {
      rmSync(ownerFile(`${target}.lock`), { force: true });
    } catch {
      // a read-only or vanished dir: nothing to judge a holder by either way
    }
    try {
      release();
    } catch {
      // already released (compromised) or removed by hand
    }
  }
}
