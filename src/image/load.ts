// `load`: images from `docker save` archives (the classic layout and Docker 25+'s OCI-in-docker-save)
// and from OCI image layouts (a tar or a directory). Everything is unpacked and verified in scratch
// first; only complete images are recorded.
import { createHash } from 'node:crypto';
import { lstat, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { join, posix, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { MinictrError, errorMessage } from '../base/errors.js';
import type { LayerRecord } from '../state/images.js';
import type { Paths } from '../state/paths.js';
import { cleanMemberName, hashFile, readTarMembers, sniffArchive, sniffCompression, spoolToFile, type Member } from './archive.js';
import { assembleRootfs, verifyFile, type LayerFile, type OwnerMapper } from './assemble.js';
import {
  ANNOTATION_IMAGE_NAME,
  ANNOTATION_REF_NAME,
  MEDIA,
  formatError,
  hostPlatform,
  parseImageConfig,
  layeredImageRecord,
  parseManifest,
  parseSaveManifest,
  platformScore,
  selectPlatform,
  type Descriptor,
  type Platform,
} from './formats.js';
import { parseNamed } from './reference.js';
import { makeScratch } from './scratch.js';
import type { Committed, PreparedImage } from './store.js';

const MAX_LINKS = 40;
const BLOB_NAME = /^blobs\/sha256\/([0-9a-f]{64})$/;
const LEGACY_CONFIG_NAME = /^([0-9a-f]{64})\.json$/;

/** A file found in an image archive: where its bytes are on disk, and its sha256 if already known. */
interface FoundFile {
  path: string;
  sha256?: string;
}

/** The members of an image archive, whether it came as a tar or as a directory. */
interface ArchiveView {
  label: string;
  has(name: string): Promise<boolean>;
  file(name: string): Promise<FoundFile>;
}

function notInArchive(label: string, name: string, why = 'is not in the archive'): MinictrError {
  return new MinictrError('E_BAD_IMAGE', `${label}: ${JSON.stringify(name)} ${why}; the archive is incomplete or not an image archive`);
}

/** A tar read by readTarMembers: symlinks and hard links between members are followed inside the archive. */
function tarView(label: string, members: Map<string, Member>): ArchiveView {
  const resolve = (name: string): Member | undefined => {
    let current = cleanMemberName(name);
    for (let hops = 0; current !== undefined && hops <= MAX_LINKS; hops++) {
      const m = members.get(current);
      if (m === undefined || m.type !== 'symlink') return m;
      const base = m.target.startsWith('/') ? m.target : posix.join(posix.dirname(current), m.target);
      current = cleanMemberName(base);
    }
    return undefined;
  };
  return {
    label,
    has: async (name) => resolve(name)?.type === 'file',
    file: async (name) => {
      const m = resolve(name);
      if (m?.type !== 'file') throw notInArchive(label, name);
      return { path: m.path, sha256: m.sha256 };
    },
  };
}

/** An OCI layout directory: members are files under it, and may not lead outside it. */
async function dirView(label: string, dir: string): Promise<ArchiveView> {
  const root = await realpath(dir);
  const find = async (name: string): Promise<string | undefined> => {
    const clean = cleanMemberName(name);
    if (clean === undefined || clean === '') return undefined;
    let real: string;
    try {
      real = await realpath(join(root, clean));
    } catch {
      return undefined;
    }
    if (!real.startsWith(`${root}${sep}`)) throw notInArchive(label, name, 'leads outside the directory');
    return (await stat(real)).isFile() ? real : undefined;
  };
  return {
    label,
    has: async (name) => (await find(name)) !== undefined,
    file: async (name) => {
      const path = await find(name);
      if (path === undefined) throw notInArchive(label, name);
      return { path };
    },
  };
}

/** One image found in an archive, everything checked but the layers' unpacked content. */
interface Planned {
  configBytes: Buffer;
  layers: { file: FoundFile; digest: string; mediaType: string; label: string }[];
  tags: string[];
}

async function readVerified(view: ArchiveView, name: string, digest: string | undefined, what: string): Promise<{ found: FoundFile; bytes: Buffer }> {
  const found = await view.file(name);
  const bytes = await readFile(found.path);
  if (digest !== undefined) {
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (actual !== digest) {
      throw new MinictrError('E_DIGEST_MISMATCH', `${view.label}: ${what} does not match its digest ${digest} (got ${actual}); the archive is corrupt`);
    }
  }
  return { found, bytes };
}

/** The digest a member's name promises: blobs/sha256/<hex>, or docker save's <hex>.json config (the image id). */
function digestFromName(name: string): string | undefined {
  const clean = cleanMemberName(name) ?? '';
  const hex = BLOB_NAME.exec(clean)?.[1] ?? LEGACY_CONFIG_NAME.exec(clean)?.[1];
  return hex === undefined ? undefined : `sha256:${hex}`;
}

async function layerMediaType(path: string): Promise<string> {
  const c = await sniffCompression(path);
  return c === 'gzip' ? MEDIA.ociLayerGzip : c === 'zstd' ? MEDIA.ociLayerZstd : MEDIA.ociLayer;
}

/** docker save, classic or Docker 25+: manifest.json lists each image's config, tags and layers. */
async function planDockerSave(view: ArchiveView): Promise<Planned[]> {
  const { bytes } = await readVerified(view, 'manifest.json', undefined, 'manifest.json');
  const entries = parseSaveManifest(bytes, `${view.label}: manifest.json`);
  const planned: Planned[] = [];
  for (const entry of entries) {
    const { bytes: configBytes } = await readVerified(view, entry.config, digestFromName(entry.config), `config ${entry.config}`);
    const layers = [];
    for (const [i, name] of entry.layers.entries()) {
      const file = await view.file(name);
      const promised = digestFromName(name);
      const label = `${view.label}: layer ${i + 1} (${name})`;
      if (promised !== undefined) await verifyFile(file.path, promised, label, file.sha256);
      const sha = file.sha256 ?? (await hashFile(file.path));
      file.sha256 = sha;
      layers.push({ file, digest: `sha256:${sha}`, mediaType: await layerMediaType(file.path), label });
    }
    const tags = entry.repoTags.map((t) => {
      try {
        return parseNamed(t).familiar;
      } catch (err) {
        throw formatError(`${view.label}: manifest.json`, `bad RepoTags entry ${JSON.stringify(t)}: ${errorMessage(err)}`);
      }
    });
    planned.push({ configBytes, layers, tags });
  }
  return planned;
}

/** The name an OCI index entry gives its image: containerd's full name, or a ref.name that is a full name. */
function ociName(d: Descriptor): string | undefined {
  const full = d.annotations?.[ANNOTATION_IMAGE_NAME];
  const ref = d.annotations?.[ANNOTATION_REF_NAME];
  for (const candidate of [full, ref]) {
    if (candidate === undefined || candidate === '') continue;
    // A bare tag ("1.0") names no repository: the image loads untagged, as with Docker.
    if (candidate === ref && !/[/:]/.test(candidate)) continue;
    try {
      return parseNamed(candidate).familiar;
    } catch {
      continue;
    }
  }
  return undefined;
}

/** Follow an index entry down to one image manifest for `want` (nested indexes choose by platform). */
async function resolveOci(view: ArchiveView, d: Descriptor, want: Platform, depth = 0): Promise<Planned> {
  if (depth > 4) throw formatError(view.label, 'indexes nested too deeply');
  const name = `blobs/sha256/${d.digest.slice('sha256:'.length)}`;
  const { bytes } = await readVerified(view, name, d.digest, `manifest ${d.digest}`);
  const manifest = parseManifest(bytes, `${view.label}: manifest ${d.digest}`, d.mediaType);
  if (manifest.kind === 'index') return resolveOci(view, selectPlatform(manifest.manifests, want), want, depth + 1);
  const configName = `blobs/sha256/${manifest.config.digest.slice('sha256:'.length)}`;
  const { bytes: configBytes } = await readVerified(view, configName, manifest.config.digest, `config ${manifest.config.digest}`);
  const layers = [];
  for (const [i, l] of manifest.layers.entries()) {
    const layerName = `blobs/sha256/${l.digest.slice('sha256:'.length)}`;
    const label = `${view.label}: layer ${i + 1} (${l.digest})`;
    const file = await view.file(layerName);
    await verifyFile(file.path, l.digest, label, file.sha256);
    layers.push({ file, digest: l.digest, mediaType: l.mediaType || (await layerMediaType(file.path)), label });
  }
  return { configBytes, layers, tags: [] };
}

/** An OCI image layout: index.json's entries, grouped by name; a group of several platforms gives one image. */
async function planOci(view: ArchiveView, want: Platform): Promise<Planned[]> {
  const { bytes } = await readVerified(view, 'index.json', undefined, 'index.json');
  const index = parseManifest(bytes, `${view.label}: index.json`, MEDIA.ociIndex);
  if (index.kind !== 'index') throw formatError(`${view.label}: index.json`, 'not an image index');
  if (index.manifests.length === 0) throw formatError(`${view.label}: index.json`, 'lists no images');
  const groups = new Map<string, Descriptor[]>();
  for (const d of index.manifests) {
    const key = ociName(d) ?? `\0${d.digest}`;
    groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  const planned: Planned[] = [];
  for (const [key, descriptors] of groups) {
    const runnable = descriptors.filter((d) => d.platform === undefined || platformScore(d.platform, want) >= 0);
    const chosen = descriptors.length === 1 ? descriptors[0] : selectPlatform(runnable.length > 0 ? runnable : descriptors, want);
    if (chosen === undefined) continue;
    const plan = await resolveOci(view, chosen, want);
    if (!key.startsWith('\0')) plan.tags = [key];
    planned.push(plan);
  }
  return planned;
}

export interface LoadOptions {
  paths: Paths;
  /** Rootless: gives files their archive owners inside the user's namespace (image/owners.ts). */
  mapOwners?: OwnerMapper;
  /** Rootless: removes a scratch tree whose files the user's range owns. */
  removeTree?: (path: string) => Promise<void>;
  now: () => Date;
  stdin: Readable;
  /** Records what was unpacked (ImageStore.commitPrepared). */
  commit: (prepared: PreparedImage[]) => Promise<Committed[]>;
  /** Whether the store already has the image with this id, unpacked (then it is not unpacked again). */
  has: (id: string) => Promise<boolean>;
  platform?: Platform;
}

/**
 * `docker load -i FILE` (or stdin with '-'): returns the lines Docker prints — `Loaded image: NAME`
 * per tag, `Loaded image ID: sha256:…` for an untagged image.
 */
export async function loadImages(source: string, opts: LoadOptions): Promise<string[]> {
  const work = await makeScratch(opts.paths, 'load');
  const prepared: PreparedImage[] = [];
  try {
    const label = source === '-' ? 'stdin' : source;
    let view: ArchiveView;
    let isDir = false;
    if (source !== '-') {
      try {
        isDir = (await lstat(source)).isDirectory();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new MinictrError('E_NO_SUCH_FILE', `open ${source}: ${code === 'ENOENT' ? 'no such file or directory' : errorMessage(err)}`);
      }
    }
    if (isDir) view = await dirView(label, source);
    else {
      let archive = source;
      if (source === '-') {
        if (opts.stdin === process.stdin && process.stdin.isTTY) {
          throw new MinictrError('E_BAD_ARCHIVE', 'requested load from stdin, but stdin is a terminal; give -i FILE or pipe an archive in');
        }
        archive = join(work, 'archive');
        await spoolToFile(opts.stdin, archive);
      }
      await sniffArchive(archive, label);
      view = tarView(label, await readTarMembers(archive, join(work, 'members'), label));
    }
    let plans: Planned[];
    if (await view.has('manifest.json')) plans = await planDockerSave(view);
    else if (await view.has('index.json')) plans = await planOci(view, opts.platform ?? hostPlatform());
    else {
      throw new MinictrError(
        'E_BAD_IMAGE',
        `${label} is not an image archive: it has neither manifest.json (docker save) nor index.json (OCI image layout); to make an image from a root filesystem tarball, use "minictr import"`,
      );
    }
    for (const [i, plan] of plans.entries()) prepared.push(await unpackPlanned(plan, opts, join(work, `config-${i}`)));
    const committed = await opts.commit(prepared);
    const lines: string[] = [];
    for (const [i, c] of committed.entries()) {
      for (const [tag, from] of c.moved) {
        lines.push(`The image ${tag} already exists, renaming the old one with ID sha256:${from} to empty string`);
      }
      const tags = prepared[i]?.tags ?? [];
      if (tags.length === 0) lines.push(`Loaded image ID: sha256:${c.image.id}`);
      for (const tag of tags) lines.push(`Loaded image: ${tag}`);
    }
    return lines;
  } finally {
    await rm(work, { recursive: true, force: true });
    for (const p of prepared) await rm(p.dir, { recursive: true, force: true });
  }
}

/** Unpack one planned image into its own scratch dir (skipped when the store has it already). */
async function unpackPlanned(plan: Planned, opts: LoadOptions, configFile: string): Promise<PreparedImage> {
  const id = createHash('sha256').update(plan.configBytes).digest('hex');
  const parsed = parseImageConfig(plan.configBytes, `image config sha256:${id}`);
  const dir = await makeScratch(opts.paths, 'image');
  const blobs = new Map<string, string>();
  try {
    const layerFiles: LayerFile[] = plan.layers.map((l) => ({ file: l.file.path, label: l.label }));
    const size = (await opts.has(id)) ? 0 : await assembleRootfs(dir, layerFiles, parsed.diffIds, undefined, opts.mapOwners);
    const layers: LayerRecord[] = [];
    for (const [i, l] of plan.layers.entries()) {
      blobs.set(l.digest, l.file.path);
      layers.push({ digest: l.digest, diffId: parsed.diffIds[i] ?? '', size: (await stat(l.file.path)).size, mediaType: l.mediaType });
    }
    await writeFile(configFile, plan.configBytes, { mode: 0o600 });
    blobs.set(`sha256:${id}`, configFile);
    const record = layeredImageRecord(id, parsed, size, layers, opts.now);
    return { dir, record, tags: [...new Set(plan.tags)], blobs };
  } catch (err) {
    await rm(dir, { recursive: true, force: true }).catch(async (rmErr: unknown) => {
      if (!opts.removeTree) throw rmErr;
      await opts.removeTree(dir);
    });
    throw err;
  }
}
