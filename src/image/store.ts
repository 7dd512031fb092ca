// The image store: resolve references, build the default busybox image, import tarballs, remove images.
import { pathExists } from '../base/path-exists.js';
import { access, chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { MinictrError, errorMessage } from '../base/errors.js';
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
import { parseImageRef, parseNamed, registryKey, shortName, splitRepoTag, type ImageRef } from './reference.js';
import { RegistryClient, insecureFromEnv, type Credentials } from './registry.js';
import { removeCredentials, storeCredentials } from './auth.js';
import type { Platform } from './formats.js';
import { discardDir, makeScratch, sweepScratch } from './scratch.js';
import { pruneBlobs, storeBlob } from './blobs.js';
import { settleTree } from './tree.js';
import { mapOwnersOf, type OwnerMapper } from './assemble.js';
import { byCodeUnits } from '../base/compare.js';

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
  /** Rootless: gives unpacked files their archive owners inside the user's namespace (image/owners.ts). */
  mapOwners?: OwnerMapper;
  /** Rootless: removes a tree whose files the user's range owns (image/owners.ts). */
  removeTree?: (path: string) => Promise<void>;
  /** Rootless: the owner a file of the user's range has in the image (what `save` writes). */
  ownerInImage?: (owner: { uid: number; gid: number }) => { uid: number; gid: number };
}

/** `run --pull`: missing (default) pulls only an image not found locally; always pulls; never does not. */
export type PullPolicy = 'missing' | 'always' | 'never';

export interface PullFlags {
  /** Where progress and status lines go (default: process.stdout). */
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Hosts to reach over plain http (besides loopback and MINICTR_INSECURE_REGISTRIES). */
  insecureRegistries?: readonly string[];
  /** Injected fetch, for tests. */
  fetch?: typeof fetch;
  /** The platform to pull from a multi-platform image (default: the host's). */
  platform?: Platform;
  /** Abandons the pull (its requests, and what it has fetched so far) when aborted: an API client gone. */
  signal?: AbortSignal;
}

/** `fetch` whose every request is also abandoned when `signal` aborts. */
function fetchUntil(signal: AbortSignal, inner: typeof fetch = fetch): typeof fetch {
  return (input, init) => inner(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
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

/** Find an image by tag first, then by full id or unique id prefix (Docker's order); or by repo digest. */
function findIn(images: ImageRecord[], ref: ImageRef): Match | undefined {
  if (ref.repoDigest !== undefined) {
    const digest = ref.repoDigest;
    const image = images.find((img) => img.repoDigests?.includes(digest));
    return image ? { image, viaTag: undefined } : undefined;
  }
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
  if (ref.repoDigest !== undefined) {
    return new MinictrError('E_NO_SUCH_IMAGE', `Unable to find image '${ref.repoDigest}' locally; pull it with "minictr pull ${ref.given}"`);
  }
  if (!ref.named) return new MinictrError('E_NO_SUCH_IMAGE', `No such image: ${ref.given}`);
  const tag = ref.named.familiar;
  return new MinictrError(
    'E_NO_SUCH_IMAGE',
    `Unable to find image '${tag}' locally; pull it (minictr pull ${shortName(tag)}), load it (minictr load -i FILE) or import a rootfs (minictr import FILE ${shortName(tag)})`,
  );
}

/**
 * Move `tag` onto `image` (taking it off any other image, which may become dangling). Returns the
 * id of the image the tag was taken from, if any (load reports it as Docker does).
 */
function retag(images: ImageRecord[], image: ImageRecord, tag: string | undefined): string | undefined {
  if (tag === undefined) return undefined;
  let movedFrom: string | undefined;
  for (const other of images) {
    if (other !== image && other.repoTags.includes(tag)) {
      other.repoTags = other.repoTags.filter((t) => t !== tag);
      movedFrom = other.id;
    }
  }
  if (!image.repoTags.includes(tag)) image.repoTags.push(tag);
  return movedFrom;
}

/** An image unpacked in scratch, ready to be committed by load or pull. */
export interface PreparedImage {
  /** A scratch dir holding exactly `rootfs/`; it becomes images/store/<id>. */
  dir: string;
  /** The record to write (repoTags are given by `tags`). */
  record: ImageRecord;
  /** Familiar tags to point at the image. */
  tags: string[];
  /** 'repo@sha256:…' to add to the image's repo digests. */
  repoDigest?: string;
  /** Verified blobs (digest → file) to keep in the blob store. */
  blobs: Map<string, string>;
}

export interface Committed {
  image: ImageRecord;
  /** Whether the image was already in the store (only tags and digests changed). */
  existed: boolean;
  /** Tags that were taken from another image: tag → that image's id. */
  moved: Map<string, string>;
}

export class ImageStore {
  readonly paths: Paths;
  private readonly runner: Runner;
  private readonly candidates: string[] | undefined;
  private readonly recipeDir: string;
  private readonly now: () => Date;
  private readonly stdin: Readable;
  private readonly mapOwners: OwnerMapper | undefined;
  private readonly removeTree: ((path: string) => Promise<void>) | undefined;
  private readonly ownerInImage: ImageStoreOptions['ownerInImage'];

  constructor(store: Store, options: ImageStoreOptions = {}) {
    this.ownerInImage = options.ownerInImage;
    this.mapOwners = options.mapOwners;
    this.removeTree = options.removeTree;
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
    return images.sort((a, b) => byCodeUnits(b.created, a.created));
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
      if (same && (await pathExists(this.paths.imageRootfs(id)))) {
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

  /**
   * Record images that load or pull unpacked in scratch: keep their blobs, move each rootfs into
   * the store, point the tags at them. One images-lock section for all of them, so a load of
   * several images is recorded whole or not at all.
   */
  async commitPrepared(prepared: PreparedImage[]): Promise<Committed[]> {
    return changeImageIndex(this.paths, async (images) => {
      await sweepScratch(this.paths);
      const results: Committed[] = [];
      for (const p of prepared) {
        for (const [digest, file] of p.blobs) await storeBlob(this.paths, digest, file);
        const before = images.find((img) => img.id === p.record.id);
        const existed = before !== undefined && (await pathExists(this.paths.imageRootfs(p.record.id)));
        if (!existed && !(await pathExists(join(p.dir, 'rootfs')))) {
          throw new MinictrError('E_IMAGE_GONE', `image sha256:${p.record.id} was removed while it was being loaded; run the command again`);
        }
        const image = await this.commit(images, p.dir, p.record);
        if (p.record.layers && !image.layers) {
          image.layers = p.record.layers;
        }
        const moved = new Map<string, string>();
        for (const tag of p.tags) {
          const from = retag(images, image, tag);
          if (from !== undefined) moved.set(tag, from);
        }
        if (p.repoDigest !== undefined) {
          const digests = image.repoDigests ?? [];
          if (!digests.includes(p.repoDigest)) image.repoDigests = [...digests, p.repoDigest];
        }
        results.push({ image, existed, moved });
      }
      return results;
    });
  }

  /** Whether the image with this id is in the store, unpacked. */
  async has(id: string): Promise<boolean> {
    return (await readImageIndex(this.paths)).some((img) => img.id === id) && (await pathExists(this.paths.imageRootfs(id)));
  }

  /**
   * `docker load -i FILE|-`: docker save archives and OCI layouts. Returns the lines Docker prints.
   * `from` replaces stdin as the archive's stream (the Engine API's request body).
   */
  async load(source: string, from?: Readable): Promise<string[]> {
    const { loadImages } = await import('./load.js');
    return loadImages(source, {
      paths: this.paths,
      now: this.now,
      stdin: from ?? this.stdin,
      commit: (prepared) => this.commitPrepared(prepared),
      has: (id) => this.has(id),
      ...(this.mapOwners ? { mapOwners: this.mapOwners } : {}),
      ...(this.removeTree ? { removeTree: this.removeTree } : {}),
    });
  }

  /**
   * `docker save -o FILE IMAGE…` (or to a stream): an archive `docker load` reads. An image named
   * by tag is saved with that tag; one named by id with none (as Docker does).
   */
  async save(refs: string[], output: string | Writable): Promise<void> {
    const items: { image: ImageRecord; tags: string[] }[] = [];
    for (const ref of refs) {
      const parsed = parseImageRef(ref);
      const image = await this.resolve(ref);
      const viaTag = parsed.named !== undefined && image.repoTags.includes(parsed.named.familiar) ? parsed.named.familiar : undefined;
      const same = items.find((i) => i.image.id === image.id);
      if (same) {
        if (viaTag !== undefined && !same.tags.includes(viaTag)) same.tags.push(viaTag);
      } else items.push({ image, tags: viaTag === undefined ? [] : [viaTag] });
    }
    const { saveImages } = await import('./save.js');
    await saveImages(items, output, { paths: this.paths, rootfsOf: (img) => this.rootfsOf(img), ...(this.ownerInImage ? { ownerInImage: this.ownerInImage } : {}) });
  }

  /** `docker pull NAME[:TAG|@DIGEST]`: prints Docker's progress and status lines to `flags.out`. */
  async pull(ref: string, flags: PullFlags = {}): Promise<ImageRecord> {
    const { pullImage } = await import('./pull.js');
    const result = await pullImage(ref, {
      paths: this.paths,
      now: this.now,
      commit: (prepared) => this.commitPrepared(prepared),
      has: (id) => this.has(id),
      ...(this.mapOwners ? { mapOwners: this.mapOwners } : {}),
      out: flags.out ?? process.stdout,
      ...(flags.insecureRegistries ? { insecureRegistries: flags.insecureRegistries } : {}),
      ...(flags.signal ? { fetch: fetchUntil(flags.signal, flags.fetch) } : flags.fetch ? { fetch: flags.fetch } : {}),
      ...(flags.platform ? { platform: flags.platform } : {}),
    });
    return result.image;
  }

  /**
   * `docker login`: check the credentials against the registry, then keep them (mode 0600) for
   * pulls from it. Returns the file they are stored in.
   */
  async login(server: string | undefined, creds: Credentials, flags: PullFlags = {}): Promise<string> {
    const key = registryKey(server);
    const client = new RegistryClient(key, {
      insecure: [...insecureFromEnv(), ...(flags.insecureRegistries ?? [])],
      credentials: creds,
      ...(flags.fetch ? { fetch: flags.fetch } : {}),
    });
    await client.checkLogin();
    return storeCredentials(this.paths, key, creds);
  }

  /** `docker logout`: forget a registry's credentials. Returns the registry key and whether any were stored. */
  async logout(server: string | undefined): Promise<{ key: string; removed: boolean }> {
    const key = registryKey(server);
    return { key, removed: await removeCredentials(this.paths, key) };
  }

  /**
   * The image for `run`/`create` under a pull policy (`--pull missing|always|never`), as Docker:
   * missing pulls only when the image is not here (saying "Unable to find image … locally" first);
   * the default busybox image is built from the host instead of pulled. Progress goes to
   * `flags.out` (run passes stderr, as Docker prints pull progress there).
   */
  async ensure(ref: string, policy: PullPolicy = 'missing', flags: PullFlags = {}): Promise<ImageRecord> {
    if (policy === 'never') return this.resolve(ref);
    const parsed = parseImageRef(ref);
    if (policy === 'missing') {
      const found = findIn(await readImageIndex(this.paths), parsed);
      if (found) return found.image;
      if (parsed.named?.familiar === DEFAULT_IMAGE) return this.resolve(ref);
      if (!parsed.named && parsed.repoDigest === undefined) throw noSuchImage(parsed);
      const out = flags.out ?? process.stdout;
      out.write(`Unable to find image '${parsed.repoDigest ?? parsed.named?.familiar ?? ref}' locally\n`);
    } else if (!parsed.named && parsed.repoDigest === undefined) {
      throw new MinictrError('E_BAD_REFERENCE', `cannot pull ${ref}: an image id names no repository`);
    }
    return this.pull(ref, flags);
  }

  /** `docker tag SOURCE TARGET`: point TARGET (NAME[:TAG]) at the image SOURCE names. */
  async tag(source: string, target: string): Promise<ImageRecord> {
    const tag = parseNamed(target).familiar;
    const parsed = parseImageRef(source);
    if (parsed.named?.familiar === DEFAULT_IMAGE) await this.resolve(source);
    return changeImageIndex(this.paths, (images) => {
      const found = findIn(images, parsed);
      if (!found) throw new MinictrError('E_NO_SUCH_IMAGE', `No such image: ${parsed.named?.familiar ?? parsed.repoDigest ?? source}`);
      retag(images, found.image, tag);
      return found.image;
    });
  }

  /** Move a finished scratch dir into store/<id> and record it (caller holds the images lock). */
  private async commit(images: ImageRecord[], scratch: string, record: ImageRecord, tag?: string): Promise<ImageRecord> {
    const dir = this.paths.imageDir(record.id);
    const existing = images.find((img) => img.id === record.id);
    if (existing && (await pathExists(this.paths.imageRootfs(record.id)))) {
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
      const unpacked = await extractArchive(archive, rootfs, label);
      await settleTree(rootfs, unpacked);
      await mapOwnersOf(rootfs, unpacked.owners ?? new Map(), this.mapOwners);
      const size = await settleTree(rootfs);
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
      if (deleted === undefined) return;
      await discardDir(this.paths, this.paths.imageDir(deleted), this.removeTree);
      await pruneBlobs(this.paths, await readImageIndex(this.paths));
    });
    return removed.lines;
  }
}
