// Test images built from literal data: layers, configs, manifests, and the archives that carry them
// (OCI layouts, docker save classic and Docker 25+), all written by hand so tests control every byte.
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { strict as assert } from 'node:assert';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { makeTar, type TarEntry } from './fixtures.js';

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function hex(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

export interface ImageSpec {
  layers: TarEntry[][];
  config?: Record<string, unknown>;
  /** gzip the layer blobs (default true). */
  gzip?: boolean;
  architecture?: string;
  os?: string;
  variant?: string;
}

export interface BuiltLayer {
  /** The uncompressed tar. */
  tar: Buffer;
  /** The blob as stored (gzip or plain). */
  blob: Buffer;
  digest: string;
  diffId: string;
  mediaType: string;
}

export interface BuiltImage {
  layers: BuiltLayer[];
  configBytes: Buffer;
  configDigest: string;
  manifestBytes: Buffer;
  manifestDigest: string;
  platform: { os: string; architecture: string; variant?: string };
}

export function buildImage(spec: ImageSpec): BuiltImage {
  const gzip = spec.gzip ?? true;
  const layers = spec.layers.map((entries) => {
    const tar = makeTar(entries);
    const blob = gzip ? gzipSync(tar) : tar;
    return {
      tar,
      blob,
      digest: sha256(blob),
      diffId: sha256(tar),
      mediaType: gzip ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar',
    };
  });
  const platform = { os: spec.os ?? 'linux', architecture: spec.architecture ?? 'amd64', ...(spec.variant ? { variant: spec.variant } : {}) };
  const config = {
    created: '2024-05-01T12:00:00Z',
    ...platform,
    config: spec.config ?? {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created: '2024-05-01T12:00:00Z', created_by: 'test' })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(configBytes), size: configBytes.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return { layers, configBytes, configDigest: sha256(configBytes), manifestBytes, manifestDigest: sha256(manifestBytes), platform };
}

/** An index (manifest list) over several images, one per platform. */
export function buildIndex(images: BuiltImage[]): { bytes: Buffer; digest: string } {
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: images.map((img) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: img.manifestDigest,
      size: img.manifestBytes.length,
      platform: img.platform,
    })),
  };
  const bytes = Buffer.from(JSON.stringify(index));
  return { bytes, digest: sha256(bytes) };
}

/** Files of an archive or layout: path → bytes (symlinks as { link }). */
export type Files = Map<string, Buffer | { link: string }>;

function addBlob(files: Files, bytes: Buffer): void {
  files.set(`blobs/sha256/${hex(sha256(bytes))}`, bytes);
}

export interface LayoutEntry {
  image: BuiltImage;
  /** org.opencontainers.image.ref.name */
  refName?: string;
  /** io.containerd.image.name */
  fullName?: string;
}

/** An OCI image layout: oci-layout, index.json, blobs/sha256/… (an index entry may be a multi-platform index). */
export function ociLayout(entries: (LayoutEntry | { index: BuiltImage[]; refName?: string })[]): Files {
  const files: Files = new Map();
  files.set('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  const manifests = [];
  for (const e of entries) {
    const annotations: Record<string, string> = {};
    if (e.refName !== undefined) annotations['org.opencontainers.image.ref.name'] = e.refName;
    if ('fullName' in e && e.fullName !== undefined) annotations['io.containerd.image.name'] = e.fullName;
    const images = 'index' in e ? e.index : [e.image];
    for (const img of images) {
      addBlob(files, img.manifestBytes);
      addBlob(files, img.configBytes);
      for (const l of img.layers) addBlob(files, l.blob);
    }
    if ('index' in e) {
      const idx = buildIndex(e.index);
      addBlob(files, idx.bytes);
      manifests.push({ mediaType: 'application/vnd.oci.image.index.v1+json', digest: idx.digest, size: idx.bytes.length, annotations });
    } else {
      manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: e.image.manifestDigest, size: e.image.manifestBytes.length, annotations });
    }
  }
  files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests })));
  return files;
}

/** docker save as Docker up to 24 wrote it: <id>.json, <layerid>/layer.tar (uncompressed), manifest.json, repositories. */
export function dockerSaveLegacy(entries: { image: BuiltImage; repoTags: string[] | null }[], options: { linkSharedLayers?: boolean } = {}): Files {
  const files: Files = new Map();
  const manifest = [];
  const seen = new Map<string, string>();
  for (const { image, repoTags } of entries) {
    files.set(`${hex(image.configDigest)}.json`, image.configBytes);
    const layerNames: string[] = [];
    for (const [i, l] of image.layers.entries()) {
      const name = `${hex(sha256(`v1:${image.configDigest}:${i}`))}/layer.tar`;
      const first = seen.get(l.diffId);
      if (first !== undefined && options.linkSharedLayers) {
        files.set(name, { link: `../${first}` });
      } else {
        files.set(name, l.tar);
        files.set(name.replace('layer.tar', 'VERSION'), Buffer.from('1.0'));
        seen.set(l.diffId, name);
      }
      layerNames.push(name);
    }
    manifest.push({ Config: `${hex(image.configDigest)}.json`, RepoTags: repoTags, Layers: layerNames });
  }
  files.set('manifest.json', Buffer.from(JSON.stringify(manifest)));
  return files;
}

/** docker save as Docker 25+ writes it: an OCI layout (uncompressed layers) plus manifest.json pointing into blobs/. */
export function dockerSaveV25(entries: { image: BuiltImage; repoTags: string[] }[]): Files {
  const layout = ociLayout(entries.map((e) => ({ image: e.image, ...(e.repoTags[0] ? { fullName: `docker.io/library/${e.repoTags[0]}`, refName: e.repoTags[0].split(':')[1] ?? 'latest' } : {}) })));
  const manifest = entries.map(({ image, repoTags }) => ({
    Config: `blobs/sha256/${hex(image.configDigest)}`,
    RepoTags: repoTags,
    Layers: image.layers.map((l) => `blobs/sha256/${hex(l.digest)}`),
  }));
  layout.set('manifest.json', Buffer.from(JSON.stringify(manifest)));
  return layout;
}

/** The files as a tar (directories implied, in the order given). */
export function tarFiles(files: Files): Buffer {
  const entries: TarEntry[] = [];
  const dirs = new Set<string>();
  for (const [path, content] of files) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = `${parts.slice(0, i).join('/')}/`;
      if (!dirs.has(dir)) {
        dirs.add(dir);
        entries.push({ name: dir, type: 'dir' });
      }
    }
    if (Buffer.isBuffer(content)) entries.push({ name: path, data: content });
    else entries.push({ name: path, type: 'symlink', linkname: content.link });
  }
  return makeTar(entries);
}

/** Write the files under `dir`. */
export async function writeFiles(dir: string, files: Files): Promise<void> {
  const { symlink } = await import('node:fs/promises');
  for (const [path, content] of files) {
    const dest = join(dir, path);
    await mkdir(dirname(dest), { recursive: true });
    if (Buffer.isBuffer(content)) await writeFile(dest, content);
    else await symlink(content.link, dest);
  }
}

/**
 * A three-layer image exercising what layers can do: whiteouts, an opaque directory, a directory
 * replaced by a file and a symlink by a file, hard links, setuid modes and owners, a file written
 * through a lower layer's `lib -> usr/lib` symlink, and a full image config.
 */
export const SAMPLE_LAYERS: TarEntry[][] = [
  [
    { name: 'bin/', type: 'dir' },
    { name: 'bin/tool', content: '#!/bin/sh\necho tool v1\n', mode: 0o4755, uid: 1000, gid: 1000 },
    { name: 'bin/sh', type: 'symlink', linkname: 'tool' },
    { name: 'etc/', type: 'dir' },
    { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n' },
    { name: 'etc/group', content: 'root:x:0:\n' },
    { name: 'etc/conf.d/', type: 'dir' },
    { name: 'etc/conf.d/old.conf', content: 'old' },
    { name: 'usr/', type: 'dir' },
    { name: 'usr/lib/', type: 'dir' },
    { name: 'usr/lib/libc.so', content: 'libc' },
    { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
    { name: 'olddir/', type: 'dir' },
    { name: 'olddir/a', content: 'a' },
    { name: 'olddir/sub/', type: 'dir' },
    { name: 'olddir/sub/b', content: 'b' },
    { name: 'opaque/', type: 'dir' },
    { name: 'opaque/lower', content: 'lower' },
    { name: 'keep/', type: 'dir', mode: 0o755 },
    { name: 'keep/k', content: 'k' },
    { name: 'tmp/', type: 'dir', mode: 0o1777 },
  ],
  [
    { name: 'etc/', type: 'dir' },
    { name: 'etc/.wh.group', content: '' },
    { name: '.wh.olddir', content: '' },
    { name: 'opaque/', type: 'dir' },
    { name: 'opaque/.wh..wh..opq', content: '' },
    { name: 'opaque/upper', content: 'upper' },
    { name: 'keep/', type: 'dir', mode: 0o700, uid: 1000, gid: 1000 },
    { name: 'bin/h1', content: 'hardlinked', mode: 0o750 },
    { name: 'bin/h2', type: 'hardlink', linkname: 'bin/h1' },
    { name: 'lib/libnew.so', content: 'new' },
    { name: 'srv/', type: 'dir' },
    { name: 'srv/.wh.nothing-here', content: '' },
    { name: 'srv/index.html', content: '<h1>hello</h1>\n' },
  ],
  [
    { name: 'bin/tool', content: '#!/bin/sh\necho tool v3\n', mode: 0o755 },
    { name: 'bin/sh', content: 'now a file' },
    { name: 'etc/conf.d', content: 'now a file too' },
  ],
];

export const SAMPLE_CONFIG = {
  Entrypoint: ['/bin/tool'],
  Cmd: ['--serve', '/srv'],
  Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'GREETING=hello world'],
  WorkingDir: '/srv',
  User: 'app',
  ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
  Labels: { ignored: 'yes' },
};

export const SAMPLE_IMAGE_CONFIG = {
  Entrypoint: ['/bin/tool'],
  Cmd: ['--serve', '/srv'],
  Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'GREETING=hello world'],
  WorkingDir: '/srv',
  User: 'app',
  ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
};

/** What a rootfs made from SAMPLE_LAYERS must look like: path → content, or a symlink/dir marker; null = absent. */
export const SAMPLE_EXPECT: Record<string, string | { link: string } | { dir: number } | null> = {
  'bin/tool': '#!/bin/sh\necho tool v3\n',
  'bin/sh': 'now a file',
  'bin/h1': 'hardlinked',
  'bin/h2': 'hardlinked',
  'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n',
  'etc/group': null,
  'etc/conf.d': 'now a file too',
  lib: { link: 'usr/lib' },
  'usr/lib/libc.so': 'libc',
  'usr/lib/libnew.so': 'new',
  olddir: null,
  'opaque/lower': null,
  'opaque/upper': 'upper',
  'opaque/.wh..wh..opq': null,
  'keep/k': 'k',
  keep: { dir: 0o700 },
  tmp: { dir: 0o1777 },
  'srv/index.html': '<h1>hello</h1>\n',
  'srv/.wh.nothing-here': null,
  'etc/.wh.group': null,
  '.wh.olddir': null,
};

/** Check a rootfs against an expectation table (content, symlink, dir mode, or absent). */
export async function checkTree(rootfs: string, expect: typeof SAMPLE_EXPECT): Promise<void> {
  for (const [path, want] of Object.entries(expect)) {
    const abs = join(rootfs, path);
    if (want === null) {
      await assert.rejects(lstat(abs), { code: 'ENOENT' }, `${path} must be gone`);
    } else if (typeof want === 'string') {
      assert.ok((await lstat(abs)).isFile(), `${path} is a file`);
      assert.equal(await readFile(abs, 'utf8'), want, path);
    } else if ('link' in want) {
      assert.equal(await readlink(abs), want.link, path);
    } else {
      const st = await lstat(abs);
      assert.ok(st.isDirectory(), `${path} is a directory`);
      assert.equal(st.mode & 0o7777, want.dir, `${path} mode`);
    }
  }
}

