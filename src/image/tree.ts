// Walk an unpacked rootfs without ever following a symlink: its size, and exact modes restored.
import { chmod, lstat, readdir } from 'node:fs/promises';
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

/**
 * One walk over an unpacked rootfs: set regular files and directories named in `modes` to their
 * exact modes (setuid/setgid/sticky included, which chown clears and umask masks), and return the
 * size: bytes of regular files (each inode once) plus symlink targets, like a layer's content size.
 * Paths are reached through real directories only, so a symlink can never redirect a chmod outside.
 */
export async function settleTree(root: string, modes: ReadonlyMap<string, number> = new Map()): Promise<number> {
  const seen = new Set<string>();
  let size = 0;
  await walkTree(root, async (rel, st) => {
    const want = modes.get(rel);
    if (want !== undefined && (st.isFile() || st.isDirectory()) && (st.mode & 0o7777) !== want) {
      await chmod(rel === '' ? root : join(root, rel), want);
    }
    if (st.isSymbolicLink()) size += st.size;
    if (!st.isFile()) return;
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    size += st.size;
  });
  return size;
}
