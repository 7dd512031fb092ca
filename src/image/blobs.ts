// Content-addressed blobs (configs and layers of pulled and loaded images), stored once per
// digest under images/blobs/sha256/.
import { copyFile, link, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageRecord } from '../state/images.js';
import type { Paths } from '../state/paths.js';

export function blobDir(paths: Paths): string {
  return join(paths.images, 'blobs', 'sha256');
}

/** Where the blob `sha256:<hex>` lives. */
export function blobPath(paths: Paths, digest: string): string {
  return join(blobDir(paths), digest.replace(/^sha256:/, ''));
}

/** Put a verified file into the blob store (a hard link; a copy across filesystems). Present already: nothing to do. */
export async function storeBlob(paths: Paths, digest: string, file: string): Promise<void> {
  await mkdir(blobDir(paths), { recursive: true, mode: 0o700 });
  const dest = blobPath(paths, digest);
  try {
    await link(file, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'EXDEV' && code !== 'EPERM') throw err;
    const tmp = `${dest}.${process.pid}.tmp`;
    await copyFile(file, tmp);
    await rename(tmp, dest);
  }
}

/** The blobs an image record needs: its config (the id) and its layers. */
export function blobsOf(image: ImageRecord): string[] {
  if (!image.layers) return [];
  return [`sha256:${image.id}`, ...image.layers.map((l) => l.digest)];
}

/** Delete every blob no image in `images` needs (caller holds the images lock). */
export async function pruneBlobs(paths: Paths, images: ImageRecord[]): Promise<void> {
  const keep = new Set(images.flatMap(blobsOf).map((d) => d.replace(/^sha256:/, '')));
  let names: string[];
  try {
    names = await readdir(blobDir(paths));
  } catch {
    return;
  }
  for (const name of names) {
    if (!keep.has(name)) await rm(join(blobDir(paths), name), { force: true });
  }
}
