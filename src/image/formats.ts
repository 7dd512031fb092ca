// Image formats, pure: OCI and Docker manifests and indexes, image configs, docker-save's
// manifest.json, and choosing the host's platform from a manifest list. No I/O here.
import { MinictrError } from '../base/errors.js';
import type { ImageConfig, ImageRecord, LayerRecord } from '../state/images.js';

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifestV1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerManifestV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

/** What a registry is asked for: manifests and indexes, OCI and Docker v2. */
export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');

/** The name annotations an OCI index entry may carry (containerd's full name first). */
export const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

export type Manifest =
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] }
  | { kind: 'manifest'; mediaType: string; config: Descriptor; layers: Descriptor[] };

/** The parts of an image config minictr reads. */
export interface ParsedConfig {
  config: ImageConfig;
  diffIds: string[];
  os: string;
  architecture: string;
  variant?: string;
  created?: string;
}

/** A docker-save manifest.json entry. */
export interface SaveEntry {
  config: string;
  repoTags: string[];
  layers: string[];
}

export function formatError(what: string, detail: string): MinictrError {
  return new MinictrError('E_BAD_IMAGE', `${what}: ${detail}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined;
}

export function parseJson(bytes: Buffer | string, what: string): unknown {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (err) {
    throw formatError(what, `not valid JSON (${(err as Error).message})`);
  }
}

function parsePlatform(raw: unknown): Platform | undefined {
  if (!isObject(raw)) return undefined;
  const { os, architecture, variant } = raw;
  if (typeof os !== 'string' || typeof architecture !== 'string') return undefined;
  return typeof variant === 'string' && variant !== '' ? { os, architecture, variant } : { os, architecture };
}

export function parseDescriptor(raw: unknown, what: string): Descriptor {
  if (!isObject(raw)) throw formatError(what, 'a descriptor is not an object');
  const { mediaType, digest, size } = raw;
  if (typeof digest !== 'string' || !DIGEST_PATTERN.test(digest)) {
    throw formatError(what, `unsupported or malformed digest ${JSON.stringify(digest)} (minictr reads sha256 digests)`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw formatError(what, `descriptor ${digest} has no valid size`);
  }
  const d: Descriptor = { mediaType: typeof mediaType === 'string' ? mediaType : '', digest, size };
  const platform = parsePlatform(raw['platform']);
  if (platform) d.platform = platform;
  if (isObject(raw['annotations'])) {
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw['annotations'])) if (typeof v === 'string') annotations[k] = v;
    d.annotations = annotations;
  }
  const urls = strings(raw['urls']);
  if (urls) d.urls = urls;
  return d;
}

/**
 * Parse a manifest or index. The media type comes from the document itself, or from the
 * Content-Type a registry sent (`hint`) when the document does not say.
 */
export function parseManifest(bytes: Buffer | string, what: string, hint = ''): Manifest {
  const raw = parseJson(bytes, what);
  if (!isObject(raw)) throw formatError(what, 'not a JSON object');
  const hinted = hint.split(';')[0]?.trim() ?? '';
  const mediaType = typeof raw['mediaType'] === 'string' ? raw['mediaType'] : hinted;
  if (raw['schemaVersion'] === 1 || mediaType === MEDIA.dockerManifestV1 || mediaType === MEDIA.dockerManifestV1Signed) {
    throw formatError(what, 'Docker image manifest schema 1 is deprecated and not supported; push the image again with a current tool');
  }
  if (Array.isArray(raw['manifests'])) {
    const manifests = raw['manifests'].map((m, i) => parseDescriptor(m, `${what} (manifests[${i}])`));
    return { kind: 'index', mediaType: mediaType || MEDIA.ociIndex, manifests };
  }
  if (isObject(raw['config']) && Array.isArray(raw['layers'])) {
    const config = parseDescriptor(raw['config'], `${what} (config)`);
    const layers = raw['layers'].map((l, i) => parseDescriptor(l, `${what} (layers[${i}])`));
    return { kind: 'manifest', mediaType: mediaType || MEDIA.ociManifest, config, layers };
  }
  throw formatError(what, `not an image manifest or index${mediaType ? ` (media type ${mediaType})` : ''}`);
}

/** How a layer blob is compressed, from its media type ('' = plain tar; undefined = not a layer we can use). */
export function layerCompression(mediaType: string): 'gzip' | 'zstd' | '' | undefined {
  switch (mediaType) {
    case MEDIA.dockerLayer:
    case MEDIA.dockerForeignLayer:
    case MEDIA.ociLayerGzip:
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip':
      return 'gzip';
    case MEDIA.ociLayerZstd:
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd':
      return 'zstd';
    case MEDIA.ociLayer:
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar':
    case 'application/vnd.docker.image.rootfs.diff.tar':
      return '';
    default:
      return undefined;
  }
}

/** The platform the host runs, in OCI terms, from Node's process.arch. */
export function hostPlatform(arch: string = process.arch, armVersion?: string): Platform {
  const map: Record<string, Platform> = {
    x64: { os: 'linux', architecture: 'amd64' },
    arm64: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ia32: { os: 'linux', architecture: '386' },
    ppc64: { os: 'linux', architecture: 'ppc64le' },
    s390x: { os: 'linux', architecture: 's390x' },
    riscv64: { os: 'linux', architecture: 'riscv64' },
    loong64: { os: 'linux', architecture: 'loong64' },
    mips64el: { os: 'linux', architecture: 'mips64le' },
  };
  if (arch === 'arm') {
    const version = armVersion ?? String((process.config.variables as unknown as Record<string, unknown>)['arm_version'] ?? '7');
    return { os: 'linux', architecture: 'arm', variant: `v${version}` };
  }
  return map[arch] ?? { os: 'linux', architecture: arch };
}

export function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/**
 * How well an entry's platform suits `want` (higher is better), or -1 when it cannot run.
 * As containerd's default matcher: os and architecture must be equal; arm64 takes v8 or no
 * variant; 32-bit arm takes its own variant or an older one (v7 runs v6 and v5 images).
 */
export function platformScore(have: Platform, want: Platform): number {
  if (have.os !== want.os || have.architecture !== want.architecture) return -1;
  const hv = have.variant ?? '';
  const wv = want.variant ?? '';
  if (hv === wv) return 100;
  if (want.architecture === 'arm64') return hv === '' || hv === 'v8' || wv === '' ? 90 : -1;
  if (want.architecture === 'arm') {
    if (hv === '') return 50;
    const h = Number(hv.replace(/^v/, ''));
    const w = Number(wv.replace(/^v/, '') || '7');
    return Number.isFinite(h) && h <= w ? 50 + h : -1;
  }
  if (want.architecture === 'amd64') return hv === '' || hv === 'v1' || wv === '' ? 90 : -1;
  return hv === '' || wv === '' ? 80 : -1;
}

/** Choose the manifest for `want` from an index; Docker's error when there is none. */
export function selectPlatform(manifests: Descriptor[], want: Platform): Descriptor {
  let best: Descriptor | undefined;
  let bestScore = -1;
  for (const m of manifests) {
    if (m.platform === undefined) continue;
    const score = platformScore(m.platform, want);
    if (score > bestScore) {
      best = m;
      bestScore = score;
    }
  }
  if (best) return best;
  // An index of one entry that names no platform (some tools write those) is that image.
  const unnamed = manifests.filter((m) => m.platform === undefined);
  if (unnamed.length === 1 && manifests.length === 1 && unnamed[0]) return unnamed[0];
  throw new MinictrError('E_NO_PLATFORM', `no matching manifest for ${platformString(want)} in the manifest list entries`);
}

function stringList(v: unknown): string[] {
  return strings(v) ?? [];
}

/** Read the runnable settings and rootfs.diff_ids out of an image config blob. */
export function parseImageConfig(bytes: Buffer | string, what: string): ParsedConfig {
  const raw = parseJson(bytes, what);
  if (!isObject(raw)) throw formatError(what, 'not a JSON object');
  const rootfs = raw['rootfs'];
  if (!isObject(rootfs) || !Array.isArray(rootfs['diff_ids'])) throw formatError(what, 'no rootfs.diff_ids: not an image config');
  const diffIds = rootfs['diff_ids'].map((d) => {
    if (typeof d !== 'string' || !DIGEST_PATTERN.test(d)) throw formatError(what, `bad diff_id ${JSON.stringify(d)}`);
    return d;
  });
  const c = isObject(raw['config']) ? raw['config'] : {};
  const config: ImageConfig = {
    Cmd: stringList(c['Cmd']),
    Entrypoint: stringList(c['Entrypoint']),
    Env: stringList(c['Env']),
    WorkingDir: typeof c['WorkingDir'] === 'string' ? c['WorkingDir'] : '',
    User: typeof c['User'] === 'string' ? c['User'] : '',
  };
  if (isObject(c['ExposedPorts']) && Object.keys(c['ExposedPorts']).length > 0) {
    const ports: Record<string, object> = {};
    for (const port of Object.keys(c['ExposedPorts'])) ports[port] = {};
    config.ExposedPorts = ports;
  }
  if (isObject(c['Volumes']) && Object.keys(c['Volumes']).length > 0) {
    config.Volumes = Object.fromEntries(Object.keys(c['Volumes']).map((path) => [path, {}]));
  }
  const parsed: ParsedConfig = {
    config,
    diffIds,
    os: typeof raw['os'] === 'string' ? raw['os'] : '',
    architecture: typeof raw['architecture'] === 'string' ? raw['architecture'] : '',
  };
  if (typeof raw['variant'] === 'string' && raw['variant'] !== '') parsed.variant = raw['variant'];
  if (typeof raw['created'] === 'string' && !Number.isNaN(Date.parse(raw['created']))) parsed.created = raw['created'];
  return parsed;
}

/** docker save's manifest.json: a list of {Config, RepoTags, Layers}. */
export function parseSaveManifest(bytes: Buffer | string, what = 'manifest.json'): SaveEntry[] {
  const raw = parseJson(bytes, what);
  if (!Array.isArray(raw) || raw.length === 0) throw formatError(what, 'not a docker save manifest (a non-empty list of images)');
  return raw.map((entry, i) => {
    if (!isObject(entry) || typeof entry['Config'] !== 'string') throw formatError(what, `entry ${i} has no Config`);
    const layers = strings(entry['Layers']);
    if (!layers) throw formatError(what, `entry ${i} has no Layers list`);
    const tags = entry['RepoTags'] === null || entry['RepoTags'] === undefined ? [] : strings(entry['RepoTags']);
    if (!tags) throw formatError(what, `entry ${i} has a bad RepoTags list`);
    return { config: entry['Config'], repoTags: tags, layers };
  });
}

/** The index record of an image assembled from layers (loaded or pulled): no tags yet. */
export function layeredImageRecord(
  id: string,
  parsed: ParsedConfig,
  size: number,
  layers: LayerRecord[],
  now: () => Date,
): ImageRecord {
  return {
    id,
    repoTags: [],
    created: parsed.created ?? now().toISOString(),
    size,
    config: parsed.config,
    layers,
    ...(parsed.os ? { os: parsed.os } : {}),
    ...(parsed.architecture ? { architecture: parsed.architecture } : {}),
    ...(parsed.variant ? { variant: parsed.variant } : {}),
  };
}
