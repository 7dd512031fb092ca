// Building a rootfs from verified layer files: the part of load and pull that touches tar.
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MinictrError } from '../base/errors.js';
import { extractLayer, hashFile } from './archive.js';
import { mergeLayer } from './layers.js';
import { settleTree } from './tree.js';

/** Check a file's sha256 against the digest it is known by; the error names what was being read. */
export async function verifyFile(file: string, digest: string, what: string, known?: string): Promise<void> {
  const actual = `sha256:${known ?? (await hashFile(file))}`;
  if (actual !== digest) {
    throw new MinictrError('E_DIGEST_MISMATCH', `${what}: content does not match its digest ${digest} (got ${actual}); it is corrupt or was altered`);
  }
}

/**
 * The directories a container's root needs to mount /proc, /dev and /sys on. Most images carry
 * them; images built FROM scratch often do not. Docker makes them in its "init layer"; minictr
 * adds them (empty, root-owned, 0755) where the image has nothing at that path.
 */
export const MOUNT_POINTS = ['proc', 'dev', 'sys'];

async function addMountPoints(rootfs: string): Promise<void> {
  for (const name of MOUNT_POINTS) {
    try {
      await mkdir(join(rootfs, name), { mode: 0o755 });
      await chmod(join(rootfs, name), 0o755);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

export interface LayerFile {
  /** The layer blob on disk (plain, gzip or zstd tar). */
  file: string;
  /** How errors name it: 'layer 2 (sha256:…)'. */
  label: string;
}

/**
 * Build a rootfs in `dir/rootfs` from layers, bottom first: each is unpacked safely into its own
 * scratch dir (archive.ts's rules), its uncompressed stream checked against the config's
 * diff_id, settled (modes, symlinks) and merged onto the rootfs with its whiteouts applied.
 * Returns the rootfs size. `onLayer` hears when each layer has been applied.
 */
export async function assembleRootfs(
  dir: string,
  layers: LayerFile[],
  diffIds: string[],
  onLayer?: (index: number) => void,
  mapOwners?: OwnerMapper,
): Promise<number> {
  const owners = new Map<string, Owner>();
  if (layers.length !== diffIds.length) {
    throw new MinictrError('E_BAD_IMAGE', `the image has ${layers.length} layers but its config lists ${diffIds.length} (rootfs.diff_ids)`);
  }
  const rootfs = join(dir, 'rootfs');
  await mkdir(rootfs, { mode: 0o755 });
  for (const [i, layer] of layers.entries()) {
    const unpackDir = join(dir, `layer-${i}`);
    try {
      const unpacked = await extractLayer(layer.file, unpackDir, layer.label);
      if (unpacked.diffId !== diffIds[i]) {
        throw new MinictrError(
          'E_DIGEST_MISMATCH',
          `${layer.label}: uncompressed content has ${unpacked.diffId}, but the image config says ${diffIds[i]}; the layer is corrupt or belongs to another image`,
        );
      }
      await settleTree(unpackDir, unpacked);
      await mergeLayer(unpackDir, rootfs, new Set(unpacked.modes.keys()));
      // A later layer's entry decides its path's owner; whiteouts name no file that stays.
      for (const [rel, owner] of unpacked.owners ?? []) owners.set(rel, owner);
    } finally {
      await rm(unpackDir, { recursive: true, force: true });
    }
    onLayer?.(i);
  }
  await addMountPoints(rootfs);
  await mapOwnersOf(rootfs, owners, mapOwners);
  return settleTree(rootfs);
}

export interface Owner {
  uid: number;
  gid: number;
}

/** Gives files of a rootfs unpacked by a normal user their archive owners, inside the user's namespace (image/owners.ts). */
export type OwnerMapper = (rootfs: string, owners: [string, Owner][]) => Promise<void>;

/** Only what is not root's needs mapping: everything the user unpacked is root's inside already. */
export async function mapOwnersOf(rootfs: string, owners: Map<string, Owner>, mapOwners?: OwnerMapper): Promise<void> {
  if (!mapOwners) return;
  const others = [...owners].filter(([, o]) => o.uid !== 0 || o.gid !== 0);
  if (others.length > 0) await mapOwners(rootfs, others);
}
