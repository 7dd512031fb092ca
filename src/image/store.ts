// The image store: resolve references, build the default busybox image, import tarballs, remove images.
import { access, chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import type { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { MinictrError, errorMessage } from '../errors.js';
import { HostRunner, type Runner } from '../exec/runner.js';
import { changeImageIndex, readImageIndex, type ImageConfig, type ImageRecord } from '../state/images.js';
import type { Paths } from '../state/paths.js';
import type { Store } from '../state/store.js';
import { applyChanges } from './changes.js';
import {
  DEFAULT_IMAGE,
  DEFAULT_RECIPE_DIR,
  buildBusyboxRootfs,
  busyboxCandidates,
  busyboxImageId,
  findStaticBusybox,
  listApplets,
  loadRecipe,
} from './busybox.js';
import { parseImageRef, parseNamed, shortName, splitRepoTag, type ImageRef } from './reference.js';
import { discardDir, makeScratch, sweepScratch } from './scratch.js';
import { settleTree } from './tree.js';

/** tar is loaded only by `import`: every other command starts faster without it. */
const loadArchive = () => import('./archive.js');

export type { ImageRecord, ImageConfig } from '../state/images.js';

export interface ImageStoreOptions {
  /** Runs `busybox --list`; tests may wrap it. */
  runner?: Runner;
  /** Where to look for the host busybox (default: /bin, /usr/bin, PATH). */
  busyboxCandidates?: string[];
  /** Directory holding recipe.json and the etc templates (default: rootfs/busybox/). */
  recipeDir?: string;
  /** Clock for `created`. */
  now?: () => Date;
  /** What `import -` reads (default: process.stdin). */
  stdin?: Readable;
}

export interface RemoveOptions {
  /** Remove an image by id even when it is tagged in several repositories. */
  force?: boolean;
}

/** What rmi did: the lines to print, and the id whose directory must go. */
interface Removal {
  lines: string[];
  deleted?: string;
}

/** An image matched by a reference, and whether it was matched through a tag. */
interface Match {
  image: ImageRecord;
  viaTag: string | undefined;
}

const EMPTY_CONFIG: ImageConfig = { Cmd: [], Entrypoint: [], Env: [], WorkingDir: '', User: '' };

export function shortId(id: string): string {
  return id.slice(0, 12);
}

/** Find an image by tag first, then by full id or unique id prefix (Docker's order). */
function findIn(images: ImageRecord[], ref: ImageRef): Match | undefined {
  if (ref.named) {
    const tag = ref.named.familiar;
    const image = images.find((img) => img.repoTags.includes(tag));
    if (image) return { image, viaTag: tag };
  }
  if (ref.idPrefix === undefined) return undefined;
  const prefix = ref.idPrefix;
  const exact = images.find((img) => img.id === prefix);
  if (exact) return { image: exact, viaTag: undefined };
  const matches = images.filter((img) => img.id.startsWith(prefix));
  if (matches.length > 1) {
    throw new MinictrError('E_AMBIGUOUS', `multiple images match "${ref.given}"; give more of the id`);
  }
  return matches[0] ? { image: matches[0], viaTag: undefined } : undefined;
}

function noSuchImage(ref: ImageRef): MinictrError {
  if (!ref.named) return new MinictrError('E_NO_SUCH_IMAGE', `No such image: ${ref.given}`);
  const tag = ref.named.familiar;
  return new MinictrError(
    'E_NO_SUCH_IMAGE',
    `Unable to find image '${tag}' locally; import it with "minictr import FILE ${shortName(tag)}" (pulling from registries is not supported yet)`,
  );
}

/** Move `tag` onto `image` (taking it off any other image, which may become dangling). */
function retag(images: ImageRecord[], image: ImageRecord, tag: string | undefined): void {
  if (tag === undefined) return;
  for (const other of images) {
    if (other !== image) other.repoTags = other.repoTags.filter((t) => t !== tag);
  }
  if (!image.repoTags.includes(tag)) image.repoTags.push(tag);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export class ImageStore {
  readonly paths: Paths;
  private readonly runner: Runner;
  private readonly candidates: string[] | undefined;
  private readonly recipeDir: string;
  private readonly now: () => Date;
  private readonly stdin: Readable;

  constructor(store: Store, options: ImageStoreOptions = {}) {
    this.paths = store.paths;
    this.runner = options.runner ?? new HostRunner();
    this.candidates = options.busyboxCandidates;
    this.recipeDir = options.recipeDir ?? DEFAULT_RECIPE_DIR;
    this.now = options.now ?? (() => new Date());
    this.stdin = options.stdin ?? process.stdin;
  }

  /** All images, newest first. */
  async list(): Promise<ImageRecord[]> {
    const images = await readImageIndex(this.paths);
    return images.sort((a, b) => b.created.localeCompare(a.created));
  }

  rootfsOf(img: ImageRecord): string {
    return this.paths.imageRootfs(img.id);
  }

  /** Look an image up without building anything; undefined when absent. */
  async find(ref: string): Promise<ImageRecord | undefined> {
    return findIn(await readImageIndex(this.paths), parseImageRef(ref))?.image;
  }

  /** The image a reference names; `busybox[:latest]` is built from the host on first use. */
  async resolve(ref: string): Promise<ImageRecord> {
    const parsed = parseImageRef(ref);
    const found = findIn(await readImageIndex(this.paths), parsed);
    if (found) return found.image;
    if (parsed.named?.familiar === DEFAULT_IMAGE) return this.buildDefault();
    throw noSuchImage(parsed);
  }

  /** Build busybox:latest under the images lock (a concurrent first use waits, then reuses it). */
  private async buildDefault(): Promise<ImageRecord> {
    return changeImageIndex(this.paths, async (images) => {
      const already = images.find((img) => img.repoTags.includes(DEFAULT_IMAGE));
      if (already) return already;
      const recipe = await loadRecipe(this.recipeDir);
      const host = await findStaticBusybox(this.candidates ?? busyboxCandidates());
      const id = busyboxImageId(host.binary, recipe);
      const same = images.find((img) => img.id === id);
      if (same && (await exists(this.paths.imageRootfs(id)))) {
        retag(images, same, DEFAULT_IMAGE);
        return same;
      }
      const applets = await listApplets(this.runner, host.path);
      await sweepScratch(this.paths);
      const scratch = await makeScratch(this.paths, 'build');
      try {
        const rootfs = join(scratch, 'rootfs');
        await buildBusyboxRootfs(rootfs, host.binary, applets, recipe);
        const size = await settleTree(rootfs);
        const record: ImageRecord = {
          id,
          repoTags: [],
          created: this.now().toISOString(),
          size,
          config: structuredClone(recipe.config),
        };
        return await this.commit(images, scratch, record, DEFAULT_IMAGE);
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    });
  }

  /** Move a finished scratch dir into store/<id> and record it (caller holds the images lock). */
  private async commit(images: ImageRecord[], scratch: string, record: ImageRecord, tag?: string): Promise<ImageRecord> {
    const dir = this.paths.imageDir(record.id);
    const existing = images.find((img) => img.id === record.id);
    if (existing && (await exists(this.paths.imageRootfs(record.id)))) {
      retag(images, existing, tag);
      return existing;
    }
    await mkdir(join(this.paths.images, 'store'), { recursive: true });
    await discardDir(this.paths, dir); // an orphan left by a crash between rename and index write
    await chmod(scratch, 0o755);
    await rename(scratch, dir);
    const index = images.findIndex((img) => img.id === record.id);
    if (index >= 0) images.splice(index, 1);
    images.push(record);
    retag(images, record, tag);
    return record;
  }

  /**
   * `docker import FILE|- [NAME[:TAG]]`: unpack a plain or gzip tarball as a new image. The id is
   * the sha256 of the archive bytes. An existing tag moves to the new image (the old one stays,
   * dangling if that was its only tag). `changes` are `--change` instructions (CMD ["sh"], ENV …).
   */
  async importTarball(source: string, ref?: string, changes: string[] = []): Promise<ImageRecord> {
    const tag = ref === undefined || ref === '' ? undefined : parseNamed(ref).familiar;
    const config = applyChanges(EMPTY_CONFIG, changes);
    const label = source === '-' ? 'stdin' : source;
    const scratch = await makeScratch(this.paths, 'import');
    try {
      let archive = source;
      let id: string;
      if (source === '-') {
        if (this.stdin === process.stdin && process.stdin.isTTY) {
          throw new MinictrError('E_BAD_ARCHIVE', 'import - reads a tar archive from stdin; pipe one in (minictr import - NAME < rootfs.tar)');
        }
        archive = join(scratch, 'archive');
        id = await (await loadArchive()).spoolToFile(this.stdin, archive);
      } else {
        await this.checkReadable(source);
        id = await (await loadArchive()).hashFile(source);
      }
      const { sniffArchive, extractArchive } = await loadArchive();
      await sniffArchive(archive, label);
      const rootfs = join(scratch, 'rootfs');
      const size = await settleTree(rootfs, await extractArchive(archive, rootfs, label));
      if (archive !== source) await rm(archive, { force: true });
      // Same bytes with a different --change config must be a different image.
      if (changes.length > 0) id = createHash('sha256').update(`${id}\0${JSON.stringify(config)}`).digest('hex');
      const record: ImageRecord = { id, repoTags: [], created: this.now().toISOString(), size, config };
      return await changeImageIndex(this.paths, async (images) => {
        await sweepScratch(this.paths);
        return this.commit(images, scratch, record, tag);
      });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  private async checkReadable(path: string): Promise<void> {
    try {
      if (!(await stat(path)).isFile()) throw new MinictrError('E_BAD_ARCHIVE', `${path} is not a file`);
      await access(path, constants.R_OK);
    } catch (err) {
      if (err instanceof MinictrError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : errorMessage(err);
      throw new MinictrError('E_NO_SUCH_FILE', `open ${path}: ${why}`, { cause: err });
    }
  }

  /**
   * `docker rmi`: untag when the image keeps other tags, else delete it — refused while a
   * container uses it. Returns the lines Docker prints (Untagged: …, Deleted: sha256:…).
   */
  async remove(
    ref: string,
    inUseBy: (imageId: string) => Promise<string[]>,
    options: RemoveOptions = {},
  ): Promise<string[]> {
    const parsed = parseImageRef(ref);
    const removed = await changeImageIndex(this.paths, async (images): Promise<Removal> => {
      const match = findIn(images, parsed);
      if (!match) {
        throw new MinictrError('E_NO_SUCH_IMAGE', `No such image: ${parsed.named?.familiar ?? ref}`, { exitCode: 1 });
      }
      const { image, viaTag } = match;
      if (viaTag !== undefined && image.repoTags.length > 1) {
        image.repoTags = image.repoTags.filter((t) => t !== viaTag);
        return { lines: [`Untagged: ${viaTag}`] };
      }
      const repos = new Set(image.repoTags.map((t) => splitRepoTag(t)[0]));
      if (viaTag === undefined && repos.size > 1 && !options.force) {
        throw new MinictrError(
          'E_IMAGE_CONFLICT',
          `conflict: unable to delete ${shortId(image.id)} (must be forced) - image is referenced in multiple repositories`,
          { exitCode: 1 },
        );
      }
      const users = await inUseBy(image.id);
      if (users.length > 0) {
        throw new MinictrError(
          'E_IMAGE_IN_USE',
          `conflict: unable to remove image ${viaTag ?? shortId(image.id)}: image is being used by container ${users.join(', ')}; remove it first (minictr rm)`,
          { exitCode: 1 },
        );
      }
      images.splice(images.indexOf(image), 1);
      const lines = image.repoTags.map((t) => `Untagged: ${t}`);
      lines.push(`Deleted: sha256:${image.id}`);
      return { lines, deleted: image.id };
    }, async ({ deleted }) => {
      if (deleted !== undefined) await discardDir(this.paths, this.paths.imageDir(deleted));
    });
    return removed.lines;
  }
}
