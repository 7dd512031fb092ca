// `pull`: fetch an image from a registry as Docker does — manifest (an index resolved to the host's
// platform), config, layers (each checked against its digest, stored once per digest and shared
// between images), unpacked in scratch and recorded only when complete.
import { link, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MinictrError } from '../base/errors.js';
import type { ImageRecord, LayerRecord } from '../state/images.js';
import type { Paths } from '../state/paths.js';
import { assembleRootfs, type OwnerMapper } from './assemble.js';
import { credentialsFor } from './auth.js';
import { blobPath } from './blobs.js';
import { hostPlatform, layeredImageRecord, parseImageConfig, parseManifest, selectPlatform, type Descriptor, type Platform } from './formats.js';
import { parseRemote, type RemoteRef } from './reference.js';
import { RegistryClient, insecureFromEnv } from './registry.js';
import { makeScratch } from './scratch.js';
import type { Committed, PreparedImage } from './store.js';

/** How many layers download at once (Docker's default). */
const CONCURRENT_DOWNLOADS = 3;

export interface PullOptions {
  paths: Paths;
  /** Rootless: gives files their archive owners inside the user's namespace (image/owners.ts). */
  mapOwners?: OwnerMapper;
  now: () => Date;
  commit: (prepared: PreparedImage[]) => Promise<Committed[]>;
  has: (id: string) => Promise<boolean>;
  /** Where progress and status lines go. */
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  platform?: Platform;
  insecureRegistries?: readonly string[];
  fetch?: typeof fetch;
  /** Draw live per-layer progress (default: when `out` is a terminal). */
  tty?: boolean;
}

export interface PullResult {
  image: ImageRecord;
  /** The digest of the manifest (or index) pulled: what `Digest:` shows. */
  digest: string;
  /** Whether anything new was downloaded. */
  downloaded: boolean;
}

/** go-units' HumanSize (3 significant digits, decimal units), as Docker's progress bars show. */
function human(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/**
 * Per-layer status lines. On a terminal they are redrawn in place, with a bar, bytes and rate
 * while downloading; otherwise each change of state is one plain line, as `docker pull | cat` shows.
 */
export class Progress {
  private readonly order: string[] = [];
  private readonly status = new Map<string, string>();
  private drawn = 0;
  private lastDraw = 0;

  constructor(
    private readonly out: NodeJS.WritableStream & { columns?: number },
    private readonly tty: boolean,
  ) {}

  line(text: string): void {
    this.out.write(`${text}\n`);
  }

  /** A new state for a layer: printed as a line (not a terminal) or redrawn (terminal). */
  set(id: string, text: string): void {
    if (!this.status.has(id)) this.order.push(id);
    this.status.set(id, text);
    if (this.tty) this.draw(true);
    else this.out.write(`${id}: ${text}\n`);
  }

  /** Bytes so far for a download; only a terminal shows these. */
  bytes(id: string, done: number, total: number, startedAt: number): void {
    if (!this.tty) return;
    const width = 50;
    const filled = total > 0 ? Math.min(width, Math.floor((done / total) * width)) : 0;
    const bar = `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}]`;
    const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
    this.status.set(id, `Downloading ${bar} ${human(done)}/${human(total)} ${human(done / seconds)}/s`);
    this.draw(false);
  }

  private draw(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const id of this.order) text += `\x1b[2K${id}: ${this.status.get(id) ?? ''}\n`;
    this.drawn = this.order.length;
    this.out.write(text);
  }

  /** Stop redrawing: the next lines are printed below the layers. */
  finish(): void {
    if (this.tty) this.draw(true);
    this.drawn = 0;
  }
}

function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** Run `tasks` with at most `limit` at once; the first failure fails the whole (the rest are awaited). */
async function limited<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
}

/** `docker pull NAME[:TAG|@DIGEST]`. */
export async function pullImage(refString: string, opts: PullOptions): Promise<PullResult> {
  const ref = parseRemote(refString);
  const progress = new Progress(opts.out, opts.tty ?? opts.out.isTTY === true);
  const client = new RegistryClient(ref.domain, {
    insecure: [...insecureFromEnv(), ...(opts.insecureRegistries ?? [])],
    credentials: await credentialsFor(opts.paths, ref.domain),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const what = (x: string): string => `${ref.familiar}: ${x}`;
  const top = await client.manifest(ref.path, ref.digest ?? ref.tag ?? 'latest', `manifest for ${ref.familiar}`);
  // As Docker: said once the registry has answered, so a failed pull prints only its error.
  progress.line(`${ref.tag !== undefined && ref.digest === undefined ? ref.tag : ref.digest}: Pulling from ${ref.path}`);
  let manifest = parseManifest(top.bytes, what('manifest'), top.mediaType);
  if (manifest.kind === 'index') {
    const chosen = selectPlatform(manifest.manifests, opts.platform ?? hostPlatform());
    const m = await client.manifest(ref.path, chosen.digest, what(`manifest ${chosen.digest}`));
    if (m.digest !== chosen.digest) throw new MinictrError('E_DIGEST_MISMATCH', what(`manifest ${chosen.digest} does not match its digest`));
    manifest = parseManifest(m.bytes, what(`manifest ${chosen.digest}`), m.mediaType);
    if (manifest.kind !== 'manifest') throw new MinictrError('E_BAD_IMAGE', what('an index inside an index is not supported'));
  }
  const id = manifest.config.digest.replace(/^sha256:/, '');
  const repoDigest = `${ref.repository}@${top.digest}`;
  const tags = ref.digest === undefined && ref.tag !== undefined ? [`${ref.repository}:${ref.tag}`] : [];

  const work = await makeScratch(opts.paths, 'pull');
  const dir = await makeScratch(opts.paths, 'image');
  try {
    if (await opts.has(id)) {
      const [committed] = await opts.commit([{ dir, record: { id, repoTags: [], created: opts.now().toISOString(), size: 0, config: { Cmd: [], Entrypoint: [], Env: [], WorkingDir: '', User: '' } }, tags, repoDigest, blobs: new Map() }]);
      progress.line(`Digest: ${top.digest}`);
      progress.line(`Status: Image is up to date for ${ref.familiar}`);
      progress.line(ref.canonical);
      if (!committed) throw new MinictrError('E_PULL', 'nothing was recorded');
      return { image: committed.image, digest: top.digest, downloaded: false };
    }
    const configBytes = await client.smallBlob(ref.path, manifest.config.digest, manifest.config.size, what('image config'));
    const parsed = parseImageConfig(configBytes, what(`image config ${manifest.config.digest}`));
    const configFile = join(work, 'config');
    await writeFile(configFile, configBytes, { mode: 0o600 });
    const layers = manifest.layers;
    const files = await downloadLayers(client, ref, layers, work, opts, progress);
    const size = await assembleRootfs(
      dir,
      layers.map((l, i) => ({ file: files[i] ?? '', label: what(`layer ${shortDigest(l.digest)}`) })),
      parsed.diffIds,
      (i) => progress.set(shortDigest(layers[i]?.digest ?? ''), 'Pull complete'),
      opts.mapOwners,
    );
    progress.finish();
    const blobs = new Map<string, string>([[manifest.config.digest, configFile]]);
    const layerRecords: LayerRecord[] = layers.map((l, i) => {
      blobs.set(l.digest, files[i] ?? '');
      return { digest: l.digest, diffId: parsed.diffIds[i] ?? '', size: l.size, mediaType: l.mediaType };
    });
    const record = layeredImageRecord(id, parsed, size, layerRecords, opts.now);
    const [committed] = await opts.commit([{ dir, record, tags, repoDigest, blobs }]);
    if (!committed) throw new MinictrError('E_PULL', 'nothing was recorded');
    progress.line(`Digest: ${top.digest}`);
    progress.line(`Status: Downloaded newer image for ${ref.familiar}`);
    progress.line(ref.canonical);
    return { image: committed.image, digest: top.digest, downloaded: true };
  } finally {
    progress.finish();
    await rm(work, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Get every layer into `work` (returns the files, in order): a layer already in the blob store is
 * linked (Docker's "Already exists"), the others are downloaded, CONCURRENT_DOWNLOADS at a time,
 * each verified against its digest before anything uses it.
 */
async function downloadLayers(
  client: RegistryClient,
  ref: RemoteRef,
  layers: Descriptor[],
  work: string,
  opts: PullOptions,
  progress: Progress,
): Promise<string[]> {
  const files = layers.map((l) => join(work, `layer-${l.digest.replace(/^sha256:/, '')}`));
  const pending: number[] = [];
  for (const [i, l] of layers.entries()) {
    const id = shortDigest(l.digest);
    if (files.indexOf(files[i] ?? '') !== i) continue; // the same blob twice in one image
    try {
      await link(blobPath(opts.paths, l.digest), files[i] ?? '');
      progress.set(id, 'Already exists');
    } catch {
      progress.set(id, 'Pulling fs layer');
      pending.push(i);
    }
  }
  await limited(pending, CONCURRENT_DOWNLOADS, async (i) => {
    const l = layers[i] as Descriptor;
    const id = shortDigest(l.digest);
    const started = Date.now();
    await client.blob(ref.path, l.digest, l.size, files[i] ?? '', `${ref.familiar}: layer ${l.digest}`, (n) => progress.bytes(id, n, l.size, started));
    progress.set(id, 'Verifying Checksum');
    progress.set(id, 'Download complete');
  });
  return files;
}
