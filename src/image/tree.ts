// Walk an unpacked rootfs without ever following a symlink: its size, and exact modes restored.
import { chmod, lchown, lstat, readdir, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Stats } from 'node:fs';

/** Calls visit(relativePath, stats) for the root ('') and everything under it, depth first. */
export async function walkTree(root: string, visit: (rel: string, st: Stats) => Promise<void> | void): Promise<void> {
  const walk = async (rel: string): Promise<void> => {
    const abs = rel === '' ? root : join(root, rel);
    const st = await lstat(abs);
    await visit(rel, st);
    if (!st.isDirectory()) return;
    for (const name of await readdir(abs)) await walk(rel === '' ? name : `${rel}/${name}`);
  };
  await walk('');
}

/** Fix-ups for settleTree(), keyed by relative path ('' is the root). */
export interface TreeFixups {
  /** Exact modes for files and directories. */
  modes?: ReadonlyMap<string, number>;
  /** Symlinks to re-point at their real targets (they were made pointing at a placeholder). */
  symlinks?: ReadonlyMap<string, SymlinkSpec>;
}

export interface SymlinkSpec {
  target: string;
  /** Owner to give the link (set when unpacking as root with owners preserved). */
  owner?: { uid: number; gid: number };
}

/**
 * One walk over an unpacked rootfs: set files and directories to their exact modes
 * (setuid/setgid/sticky included, which chown clears and umask masks), put symlink targets in
 * place, and return the size: bytes of regular files (each inode once) plus symlink targets,
 * like a layer's content size. Paths are reached through real directories only, so no symlink
 * can redirect a chmod outside the tree.
 */
export async function settleTree(root: string, fixups: TreeFixups = {}): Promise<number> {
  const seen = new Set<string>();
  let size = 0;
  await walkTree(root, async (rel, st) => {
    const abs = rel === '' ? root : join(root, rel);
    const want = fixups.modes?.get(rel);
    if (want !== undefined && (st.isFile() || st.isDirectory()) && (st.mode & 0o7777) !== want) {
      await chmod(abs, want);
    }
    if (st.isSymbolicLink()) {
      const spec = fixups.symlinks?.get(rel);
      if (spec !== undefined) {
        await unlink(abs);
        await symlink(spec.target, abs);
        if (spec.owner) await lchown(abs, spec.owner.uid, spec.owner.gid);
        size += Buffer.byteLength(spec.target);
      } else size += st.size;
    }
    if (!st.isFile()) return;
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    size += st.size;
  });
  return size;
}
