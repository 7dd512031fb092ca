// Whose a state root is. A rootless user's root is marked with its owner's uid when first used;
// rootful minictr never uses a marked root, and a rootless one uses only its own (or a new) one,
// so rootful and rootless state never mix.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MinictrError } from '../base/errors.js';

const MARK = 'rootless-owner';

/** The uid a root is marked with; undefined when unmarked (rootful, or not made yet). */
function markedOwner(root: string): number | undefined {
  try {
    const uid = Number(readFileSync(join(root, MARK), 'utf8').trim());
    return Number.isInteger(uid) ? uid : undefined;
  } catch {
    return undefined;
  }
}

/** empty (or missing), full, or not readable by this user. */
function contents(root: string): 'empty' | 'full' | 'unreadable' {
  try {
    return readdirSync(root).length === 0 ? 'empty' : 'full';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'empty' : 'unreadable';
  }
}

/**
 * Refuse a root of the other kind (or of another user); a rootless user's new root is made
 * private (0700) and marked. Synchronous: called once when a command opens its root.
 */
export function claimRoot(root: string, uid: number): void {
  const owner = markedOwner(root);
  if (uid === 0) {
    if (owner !== undefined) {
      throw new MinictrError('E_ROOT_MIXED', `${root} is the state of rootless minictr (uid ${owner}): run minictr as that user, or give root its own --root`);
    }
    return;
  }
  if (owner === uid) return;
  if (owner !== undefined) {
    throw new MinictrError('E_ROOT_MIXED', `${root} belongs to rootless minictr of uid ${owner}, not yours (uid ${uid}): use your own --root`);
  }
  const found = contents(root);
  if (found !== 'empty') {
    const what = found === 'full' ? "holds rootful minictr's state" : 'is not yours (root\'s state, or another user\'s)';
    throw new MinictrError('E_ROOT_MIXED', `${root} ${what}: rootless minictr keeps its own; leave out --root (default ~/.local/share/minictr) or give an empty directory of yours`);
  }
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    writeFileSync(join(root, MARK), `${uid}\n`, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' && markedOwner(root) === uid) return;
    throw new MinictrError('E_ROOT', `cannot use ${root} as your state root: ${(err as Error).message}; give a directory of your own with --root`);
  }
}
