// The image index: which images exist, their tags and configs. The one reader/writer of index.json.
import { MinictrError } from '../base/errors.js';
import { readJson, writeJsonAtomic } from './files.js';
import { withLock } from './lock.js';
import type { Paths } from './paths.js';

/** The subset of an OCI/Docker image config that minictr uses. */
export interface ImageConfig {
  Cmd: string[];
  Entrypoint: string[];
  Env: string[];
  WorkingDir: string;
  User: string;
  ExposedPorts?: Record<string, object>;
  /** VOLUME paths: each becomes an anonymous volume unless a mount covers it. */
  Volumes?: Record<string, object>;
}

/** One layer of an image that came from a registry or an image archive, kept as a blob. */
export interface LayerRecord {
  /** sha256:… of the blob as stored (compressed or not): its name in images/blobs/sha256/. */
  digest: string;
  /** sha256:… of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
  /** Bytes of the blob. */
  size: number;
  mediaType: string;
}

export interface ImageRecord {
  /** 64 hex digits; shown as sha256:<id>. */
  id: string;
  /** Familiar names with tag, e.g. 'busybox:latest'. A tag belongs to at most one image. */
  repoTags: string[];
  /** ISO time the image was built or imported. */
  created: string;
  /** Bytes of the unpacked rootfs (regular files counted once per inode, plus symlinks). */
  size: number;
  config: ImageConfig;
  /** 'alpine@sha256:…': the manifest digests this image was pulled by (one per repository). */
  repoDigests?: string[];
  /**
   * Set for images pulled or loaded from an image archive: the id is then the sha256 of the
   * config blob (as in Docker), and the config and these layers are kept in images/blobs/sha256/.
   */
  layers?: LayerRecord[];
  /** The platform from the image config. */
  os?: string;
  architecture?: string;
  variant?: string;
}

interface ImageIndexFile {
  schemaVersion: 1;
  images: ImageRecord[];
}

export const IMAGE_ID_PATTERN = /^[0-9a-f]{64}$/;

function parseIndex(path: string, raw: unknown): ImageRecord[] {
  if (raw === undefined) return [];
  const file = raw as Partial<ImageIndexFile> | null;
  if (!file || typeof file !== 'object' || !Array.isArray(file.images)) {
    throw new MinictrError('E_STATE_CORRUPT', `${path} is not an image index; remove it or restore it`);
  }
  return file.images.filter((img) => img && typeof img.id === 'string' && IMAGE_ID_PATTERN.test(img.id));
}

/** Every image in the index (unlocked read: the file is only ever replaced whole). */
export async function readImageIndex(paths: Paths): Promise<ImageRecord[]> {
  return parseIndex(paths.imageIndex, await readJson<unknown>(paths.imageIndex));
}

/**
 * Run `change` under the images lock with the current index; it may mutate the array it is
 * given, which is then written atomically (only if it changed). `afterWrite` runs next, still
 * under the lock (to delete what the index no longer names). What `change` returns is returned.
 */
export async function changeImageIndex<T>(
  paths: Paths,
  change: (images: ImageRecord[]) => Promise<T> | T,
  afterWrite?: (result: T) => Promise<void>,
): Promise<T> {
  return withLock(paths, 'images', async () => {
    const images = await readImageIndex(paths);
    const before = JSON.stringify(images);
    const result = await change(images);
    if (JSON.stringify(images) !== before) {
      const file: ImageIndexFile = { schemaVersion: 1, images };
      await writeJsonAtomic(paths.imageIndex, file);
    }
    if (afterWrite) await afterWrite(result);
    return result;
  });
}
