// Scratch dirs for images in the making (images/tmp/<pid>-<random>), and sweeping dead ones.
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Paths } from '../state/paths.js';

/** A new empty scratch dir named after this process, so a later sweep knows whose it was. */
export async function makeScratch(paths: Paths, purpose: string): Promise<string> {
  await mkdir(paths.imageTmp, { recursive: true, mode: 0o700 });
  const dir = join(paths.imageTmp, `${process.pid}-${purpose}-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove scratch dirs left by processes that died mid-build or mid-import. */
export async function sweepScratch(paths: Paths): Promise<void> {
  let names: string[];
  try {
    names = await readdir(paths.imageTmp);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    await rm(join(paths.imageTmp, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Delete a directory tree by first renaming it into scratch, so it vanishes from its place at once. */
export async function discardDir(paths: Paths, dir: string, removeTree?: (path: string) => Promise<void>): Promise<void> {
  const trash = await makeScratch(paths, 'trash');
  try {
    await rename(dir, join(trash, 'old'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    await rm(trash, { recursive: true, force: true });
  } catch (err) {
    // Rootless: directories owned by ids of the user's range are removed inside its user namespace.
    if (!removeTree) throw err;
    await removeTree(trash);
  }
}
