// `save`: write images as Docker 25+ writes `docker save` archives — an OCI image layout
// (oci-layout, index.json, blobs/sha256/…) plus manifest.json — which every Docker since 1.10,
// `docker load`, skopeo's docker-archive: and OCI tools read. Layers are uncompressed tars.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import { MinictrError, errorMessage } from '../base/errors.js';
import type { ImageRecord } from '../state/images.js';
import type { Paths } from '../state/paths.js';
import { hashFile, packTree, sniffCompression } from './archive.js';
import { blobPath } from './blobs.js';
import { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, MEDIA, hostPlatform } from './formats.js';
import { parseRemote, splitRepoTag } from './reference.js';
import { makeScratch } from './scratch.js';

/** An image to save, and the tags to record for it in the archive. */
export interface SaveItem {
  image: ImageRecord;
  tags: string[];
}

export interface SaveOptions {
  paths: Paths;
  rootfsOf: (image: ImageRecord) => string;
  /** Rootless: the owner a file of the user's range has in the image. */
  ownerInImage?: (owner: { uid: number; gid: number }) => { uid: number; gid: number };
}

interface Written {
  configDigest: string;
  layerDigests: string[];
  manifestDigest: string;
  manifestSize: number;
}

async function writeBlob(blobs: string, bytes: Buffer): Promise<string> {
  const hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(blobs, hex), bytes, { mode: 0o644 });
  return `sha256:${hex}`;
}

/** Copy a stored layer blob into the archive uncompressed, checking it against its diff id on the way. */
async function writeLayer(src: string, diffId: string, blobs: string): Promise<void> {
  const dest = join(blobs, diffId.replace(/^sha256:/, ''));
  try {
    await stat(dest);
    return; // shared with an image already written
  } catch {
    // not yet
  }
  const compression = await sniffCompression(src);
  const tmp = `${dest}.tmp`;
  if (compression === '') {
    await copyFile(src, tmp);
  } else if (compression === 'gzip') {
    await pipeline(createReadStream(src), createGunzip(), createWriteStream(tmp, { mode: 0o644 }));
  } else {
    throw new MinictrError('E_SAVE', `layer ${diffId} is ${compression}-compressed, which minictr cannot decompress on this Node.js`);
  }
  const actual = `sha256:${await hashFile(tmp)}`;
  if (actual !== diffId) {
    throw new MinictrError('E_DIGEST_MISMATCH', `stored layer for ${diffId} has changed on disk (its content is ${actual}); remove the image and pull or load it again`);
  }
  await rename(tmp, dest);
}

/** An image minictr built or imported has no layers of its own: its rootfs becomes one layer and a config is made for it. */
async function writeFlattened(item: SaveItem, opts: SaveOptions, staging: string, blobs: string): Promise<{ config: string; layers: string[] }> {
  const layerTmp = join(staging, `layer-${item.image.id}.tar`);
  await packTree(opts.rootfsOf(item.image), layerTmp, false, opts.ownerInImage);
  const diffId = `sha256:${await hashFile(layerTmp)}`;
  await rename(layerTmp, join(blobs, diffId.replace(/^sha256:/, '')));
  const platform = hostPlatform();
  const c = item.image.config;
  const config = {
    architecture: item.image.architecture ?? platform.architecture,
    os: item.image.os ?? platform.os,
    ...(item.image.variant ?? platform.variant ? { variant: item.image.variant ?? platform.variant } : {}),
    created: item.image.created,
    config: {
      ...(c.User ? { User: c.User } : {}),
      ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}),
      ...(c.Volumes ? { Volumes: c.Volumes } : {}),
      Env: c.Env,
      ...(c.Entrypoint.length > 0 ? { Entrypoint: c.Entrypoint } : {}),
      ...(c.Cmd.length > 0 ? { Cmd: c.Cmd } : {}),
      WorkingDir: c.WorkingDir,
    },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: item.image.created, created_by: `minictr: image sha256:${item.image.id}`, comment: 'flattened by minictr save' }],
  };
  return { config: await writeBlob(blobs, Buffer.from(JSON.stringify(config))), layers: [diffId] };
}

async function writeImage(item: SaveItem, opts: SaveOptions, staging: string, blobs: string): Promise<Written> {
  let configDigest: string;
  let layerDigests: string[];
  if (item.image.layers) {
    configDigest = await writeBlob(blobs, await readFile(blobPath(opts.paths, `sha256:${item.image.id}`)));
    layerDigests = [];
    for (const layer of item.image.layers) {
      await writeLayer(blobPath(opts.paths, layer.digest), layer.diffId, blobs);
      layerDigests.push(layer.diffId);
    }
  } else {
    const flat = await writeFlattened(item, opts, staging, blobs);
    configDigest = flat.config;
    layerDigests = flat.layers;
  }
  const configBytes = await readFile(join(blobs, configDigest.replace(/^sha256:/, '')));
  const layers = [];
  for (const d of layerDigests) layers.push({ mediaType: MEDIA.ociLayer, digest: d, size: (await stat(join(blobs, d.replace(/^sha256:/, '')))).size });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: configDigest, size: configBytes.length },
      layers,
    }),
  );
  return { configDigest, layerDigests, manifestDigest: await writeBlob(blobs, manifest), manifestSize: manifest.length };
}

/**
 * Write `items` to `output` (a file, replaced only once the archive is complete) or to a stream.
 */
export async function saveImages(items: SaveItem[], output: string | Writable, opts: SaveOptions): Promise<void> {
  const work = await makeScratch(opts.paths, 'save');
  try {
    const staging = join(work, 'archive');
    const blobs = join(staging, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true, mode: 0o755 });
    const manifestJson = [];
    const indexEntries = [];
    for (const item of items) {
      const w = await writeImage(item, opts, work, blobs);
      manifestJson.push({
        Config: `blobs/sha256/${w.configDigest.replace(/^sha256:/, '')}`,
        RepoTags: item.tags,
        Layers: w.layerDigests.map((d) => `blobs/sha256/${d.replace(/^sha256:/, '')}`),
      });
      const names = item.tags.length > 0 ? item.tags : [undefined];
      for (const tag of names) {
        const annotations: Record<string, string> = {};
        if (tag !== undefined) {
          annotations[ANNOTATION_IMAGE_NAME] = parseRemote(tag).canonical;
          annotations[ANNOTATION_REF_NAME] = splitRepoTag(tag)[1];
        }
        indexEntries.push({ mediaType: MEDIA.ociManifest, digest: w.manifestDigest, size: w.manifestSize, ...(tag !== undefined ? { annotations } : {}) });
      }
    }
    await writeFile(join(staging, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(staging, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: indexEntries }));
    await writeFile(join(staging, 'manifest.json'), JSON.stringify(manifestJson));
    if (typeof output === 'string') {
      // Written beside the destination and renamed over it: a failed save leaves no partial file.
      const tmp = join(dirname(output), `.${process.pid}.minictr-save.tmp`);
      try {
        await packTree(staging, tmp, true);
        await rename(tmp, output);
      } catch (err) {
        await rm(tmp, { force: true });
        throw new MinictrError('E_SAVE', `cannot write ${output}: ${errorMessage(err)}`);
      }
    } else {
      const tarFile = join(work, 'out.tar');
      await packTree(staging, tarFile, true);
      for await (const chunk of createReadStream(tarFile)) {
        if (!output.write(chunk)) await once(output, 'drain');
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
