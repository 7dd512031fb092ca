// Reading and writing tarballs: recognise, hash, unpack rootfs tarballs and image layers safely,
// read the members of an image archive, and pack trees. The one importer of `tar`.
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lchown, lstat, mkdir, open, readdir, symlink, unlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { createGunzip } from 'node:zlib';
import { join, posix, relative } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Parser, Unpack, create as createTar, type ReadEntry } from 'tar';
import { MinictrError, errorMessage } from '../base/errors.js';
import type { SymlinkSpec } from './tree.js';
import { skippedDevices } from './unpack-notes.js';

const BLOCK = 512;
type Format = 'tar' | 'gzip';

/** Entry types whose mode we restore exactly after unpacking (links share or ignore modes). */
const MODED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'GNUDumpDir']);

const OTHER_COMPRESSION: [Buffer, string, string][] = [
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'xz', 'xz -d'],
  [Buffer.from('BZh'), 'bzip2', 'bunzip2'],
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'zstd', 'zstd -d'],
];

function checkFirstBlock(block: Buffer, label: string, inside = ''): void {
  if (block.length >= BLOCK && block.subarray(0, BLOCK).every((b) => b === 0)) {
    throw badArchive(label, `is an empty tar archive${inside}; an image needs at least one file`);
  }
  if (!isTarHeader(block)) {
    throw badArchive(label, inside === '' ? undefined : 'is gzip-compressed but not a tar archive inside');
  }
}

function badArchive(label: string, detail = 'is not a tar archive (plain or gzip-compressed)'): MinictrError {
  return new MinictrError('E_BAD_ARCHIVE', `${label} ${detail}`);
}

/** A tar header block: its checksum is valid (unsigned, or the old signed sum). */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < BLOCK) return false;
  const field = block.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  const stored = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

async function firstBytes(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function firstGunzippedBlock(path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  const input = createReadStream(path);
  const gunzip = createGunzip();
  try {
    for await (const chunk of input.pipe(gunzip) as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      have += chunk.length;
      if (have >= BLOCK) break;
    }
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  return Buffer.concat(chunks);
}

/** Tell plain tar from gzip by magic bytes, and check the first header really is tar. */
export async function sniffArchive(path: string, label: string): Promise<Format> {
  const head = await firstBytes(path, BLOCK);
  for (const [magic, name, tool] of OTHER_COMPRESSION) {
    if (head.subarray(0, magic.length).equals(magic)) {
      throw badArchive(label, `is ${name}-compressed, which minictr cannot read; decompress it first (${tool})`);
    }
  }
  if (head[0] === 0x1f && head[1] === 0x8b) {
    let block: Buffer;
    try {
      block = await firstGunzippedBlock(path);
    } catch (err) {
      throw badArchive(label, `is a damaged gzip file (${errorMessage(err)})`);
    }
    checkFirstBlock(block, label, ' (gzip-compressed)');
    return 'gzip';
  }
  checkFirstBlock(head, label);
  return 'tar';
}

/** sha256 (hex) of a file's bytes. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** Copy a stream (stdin) to a file, hashing on the way; returns the sha256 hex. */
export async function spoolToFile(input: Readable, dest: string): Promise<string> {
  const hash = createHash('sha256');
  const tee = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(input, tee, createWriteStream(dest, { mode: 0o600 }));
  return hash.digest('hex');
}

function warnedPath(data: Record<string, unknown>): string | undefined {
  const entry = data['entry'] as ReadEntry | undefined;
  const path = entry?.path ?? data['path'];
  return typeof path === 'string' ? path : undefined;
}

/** What settleTree() must still do after an unpack: exact modes, and the real symlink targets. */
export interface Unpacked {
  /** Relative path ('' is the root) → exact mode, for files and directories. */
  modes: Map<string, number>;
  /** Relative path → symlink target as written in the archive (and its owner, as root). */
  symlinks: Map<string, SymlinkSpec>;
  /** Unpacked by a normal user (rootless): each entry's owner in the archive, for image/owners.ts to map. */
  owners?: Map<string, { uid: number; gid: number }>;
}

/** Symlinks are first made pointing here (a name in their own directory that is never created). */
export const PENDING_SYMLINK_TARGET = '.minictr-symlink-pending';

/**
 * Unpack `archive` into the new directory `rootfs`, keeping owners (as root) and hard links.
 * Entries that would land outside (`..`, writing through a symlink, hard links out) fail the
 * whole unpack; absolute paths are taken relative to the rootfs, as Docker does. Device nodes are
 * skipped (the runtime gives containers their own /dev).
 *
 * Symlink targets are a rootfs's own business (`/bin/sh -> /bin/busybox`, `../../lib/x`): they
 * mean something only inside the container and are never followed while unpacking. tar would
 * rewrite or refuse such targets, so each symlink is made pointing at a harmless placeholder and
 * its real target is returned for settleTree() to put in place once every entry is written.
 */
export async function extractArchive(archive: string, rootfs: string, label: string): Promise<Unpacked> {
  return unpackStream(() => createReadStream(archive), rootfs, label);
}

/** A tar stream (plain, or gzip that tar recognises itself) unpacked under the rules of extractArchive. */
async function unpackStream(open: () => Readable, rootfs: string, label: string): Promise<Unpacked> {
  await mkdir(rootfs, { mode: 0o755 });
  return unpackTracked((sink) => {
    const input = open();
    input.on('error', (err: unknown) => sink.emit('error', err));
    input.pipe(sink);
  }, rootfs, label);
}

/**
 * The one unpack both an image layer and `cp` go through: tar's own refusals (`..`, absolute
 * names, writing through a symlink) fail the whole unpack; each symlink is made at a placeholder
 * (tar never judges or follows its target) and each entry's exact mode noted, for the caller to
 * put in place once every entry is written. Later entries win. `rename` renames the top entry.
 */
async function unpackTracked(
  feed: (sink: NodeJS.WritableStream) => void, cwd: string, label: string, rename?: Rename,
): Promise<Unpacked> {
  const modes = new Map<string, number>();
  const symlinks = new Map<string, SymlinkSpec>();
  const asRead = new WeakMap<ReadEntry, { mode?: number; link?: SymlinkSpec }>();
  const preserveOwner = process.getuid?.() === 0;
  const owners = new Map<string, { uid: number; gid: number }>();
  const ownerOf = new WeakMap<ReadEntry, { uid: number; gid: number }>();
  const refused: string[] = [];
  const devices: string[] = [];
  const unpack = new Unpack({
    cwd,
    preserveOwner,
    preservePaths: false,
    onwarn: (code, message, data) => {
      if (code === 'TAR_ENTRY_INFO' || code === 'TAR_ENTRY_UNSUPPORTED') return;
      const path = warnedPath(data);
      refused.push(`${path === undefined ? '' : `entry ${JSON.stringify(path)}: `}${message}`);
    },
    // Runs before Unpack's own handler, which widens directory modes and checks link targets.
    onReadEntry: (entry) => {
      if (rename) entry.path = renamed(entry.path, rename);
      if (entry.type === 'CharacterDevice' || entry.type === 'BlockDevice') devices.push(posix.normalize(`/${entry.path}`));
      const seen: { mode?: number; link?: SymlinkSpec } = {};
      if (typeof entry.mode === 'number') seen.mode = entry.mode & 0o7777;
      if (entry.type === 'SymbolicLink' && typeof entry.linkpath === 'string') {
        seen.link = { target: entry.linkpath };
        if (preserveOwner && typeof entry.uid === 'number' && typeof entry.gid === 'number') {
          seen.link.owner = { uid: entry.uid, gid: entry.gid };
        }
        entry.linkpath = PENDING_SYMLINK_TARGET;
      }
      asRead.set(entry, seen);
      if (!preserveOwner && typeof entry.uid === 'number' && typeof entry.gid === 'number') ownerOf.set(entry, { uid: entry.uid, gid: entry.gid });
    },
  });
  // Runs after Unpack's handler has checked and normalised the entry's path.
  unpack.on('entry', (entry: ReadEntry) => {
    if (typeof entry.absolute !== 'string') return;
    const rel = relative(cwd, entry.absolute);
    const seen = asRead.get(entry) ?? {};
    if (seen.mode !== undefined && MODED_TYPES.has(entry.type)) modes.set(rel, seen.mode);
    else modes.delete(rel);
    if (seen.link !== undefined) symlinks.set(rel, seen.link);
    else symlinks.delete(rel);
    const owner = ownerOf.get(entry);
    if (owner) owners.set(rel, owner);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      unpack.on('error', reject);
      unpack.on('close', () => resolve());
      feed(unpack as unknown as NodeJS.WritableStream);
    });
  } catch (err) {
    throw badArchive(label, `could not be unpacked: ${errorMessage(err)}`);
  }
  if (refused.length > 0) {
    const more = refused.length > 1 ? ` (and ${refused.length - 1} more)` : '';
    throw badArchive(label, `was refused: ${refused[0]}${more}`);
  }
  if (devices.length > 0) skippedDevices(label, devices);
  return { modes, symlinks, ...(preserveOwner ? {} : { owners }) };
}

export type Compression = 'gzip' | 'zstd' | '';

/** Compression of a file by its magic bytes: gzip, zstd, or '' (anything else: maybe plain tar). */
export async function sniffCompression(path: string): Promise<Compression> {
  const head = await firstBytes(path, 4);
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length === 4 && head.equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
  return '';
}

function decompressor(compression: Compression, label: string): Transform | undefined {
  if (compression === 'gzip') return createGunzip();
  if (compression === 'zstd') {
    const make = (zlib as unknown as { createZstdDecompress?: () => Transform }).createZstdDecompress;
    if (typeof make !== 'function') {
      throw badArchive(label, `is zstd-compressed, which this Node.js (${process.version}) cannot decompress; Node 22.15 or later can`);
    }
    return make();
  }
  return undefined;
}

/** What unpacking one image layer gives: the fix-ups for settleTree, and the layer's diff id. */
export interface UnpackedLayer extends Unpacked {
  /** sha256:… of the uncompressed tar stream (what the config's rootfs.diff_ids lists). */
  diffId: string;
}

/**
 * Unpack one image layer (plain, gzip or zstd tar) into the new directory `dir`, under the same
 * rules as extractArchive, hashing the uncompressed stream on the way for its diff id. Whiteouts
 * (`.wh.*`) are unpacked as the plain files they are; mergeLayer() gives them their meaning.
 */
export async function extractLayer(path: string, dir: string, label: string): Promise<UnpackedLayer> {
  const compression = await sniffCompression(path);
  const inflate = decompressor(compression, label);
  const hash = createHash('sha256');
  let failed: unknown;
  const unpacked = await unpackStream(
    () => {
      const input = createReadStream(path);
      const tee = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      });
      const fail = (err: unknown): void => {
        failed ??= err;
        tee.destroy(err instanceof Error ? err : new Error(String(err)));
      };
      if (inflate) {
        inflate.on('error', fail);
        input.on('error', fail);
        input.pipe(inflate).pipe(tee);
      } else {
        input.on('error', fail);
        input.pipe(tee);
      }
      return tee;
    },
    dir,
    label,
  );
  if (failed !== undefined) throw badArchive(label, `could not be decompressed: ${errorMessage(failed)}`);
  return { ...unpacked, diffId: `sha256:${hash.digest('hex')}` };
}

/** One member of an archive read by readTarMembers. */
export type Member =
  | { type: 'file'; path: string; size: number; sha256: string }
  | { type: 'symlink'; target: string }
  | { type: 'dir' };

/** A member name as a clean relative path ('./a//b/' → 'a/b'); undefined for names that climb out. */
export function cleanMemberName(name: string): string | undefined {
  const norm = posix.normalize(`/${name}`).slice(1).replace(/\/+$/, '');
  return norm.split('/').includes('..') ? undefined : norm;
}

/**
 * Read every member of a tar archive (plain or gzip) without unpacking it as a tree: each regular
 * file is written to `dir` under a made-up name (m0, m1, …) and hashed on the way; symlinks are
 * only recorded. So no member's name can place anything anywhere. Returns name → member.
 */
export async function readTarMembers(archive: string, dir: string, label: string): Promise<Map<string, Member>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const head = await firstBytes(archive, 2);
  const members = new Map<string, Member>();
  const writes: Promise<void>[] = [];
  let n = 0;
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      const name = cleanMemberName(entry.path);
      if (name === undefined || name === '') {
        entry.resume();
        return;
      }
      if (entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile') {
        const path = join(dir, `m${n++}`);
        const hash = createHash('sha256');
        let size = 0;
        const tee = new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk);
            size += chunk.length;
            done(null, chunk);
          },
        });
        const out = createWriteStream(path, { mode: 0o600 });
        writes.push(
          new Promise<void>((resolve, reject) => {
            out.on('close', () => {
              members.set(name, { type: 'file', path, size, sha256: hash.digest('hex') });
              resolve();
            });
            out.on('error', reject);
            tee.on('error', reject);
          }),
        );
        entry.pipe(tee).pipe(out);
        return;
      }
      if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
        // A hard link in an image archive names another member (docker save links shared layers).
        const target = entry.type === 'Link' ? `/${entry.linkpath ?? ''}` : (entry.linkpath ?? '');
        members.set(name, { type: 'symlink', target });
      } else if (entry.type === 'Directory') {
        members.set(name, { type: 'dir' });
      }
      entry.resume();
    },
  });
  // A tar ends with zero blocks; one cut short between two members would otherwise look complete.
  let total = 0;
  let tail = Buffer.alloc(0);
  const watchEnd = new Transform({
    transform(chunk: Buffer, _enc, done) {
      total += chunk.length;
      tail = Buffer.concat([tail, chunk]).subarray(-BLOCK);
      done(null, chunk);
    },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      parser.on('error', reject);
      parser.on('close', () => resolve());
      watchEnd.on('error', reject);
      const input = createReadStream(archive);
      input.on('error', reject);
      const gunzip = decompressor(head[0] === 0x1f && head[1] === 0x8b ? 'gzip' : '', label);
      if (gunzip) {
        gunzip.on('error', reject);
        input.pipe(gunzip).pipe(watchEnd).pipe(parser);
      } else input.pipe(watchEnd).pipe(parser);
    });
    await Promise.all(writes);
  } catch (err) {
    await Promise.allSettled(writes);
    const message = errorMessage(err);
    throw badArchive(label, /truncated/i.test(message) ? `is truncated: ${message}` : `could not be read: ${message}`);
  }
  if (total % BLOCK !== 0 || tail.length < BLOCK || !tail.every((b) => b === 0)) {
    throw badArchive(label, 'is truncated: it ends without the tar end-of-archive blocks');
  }
  return members;
}

/**
 * Write a tar of the tree under `dir` (its top-level entries, named without `./`) to `dest`,
 * keeping owners, modes, symlinks and hard links: an image layer, or with `portable` an archive
 * whose members carry no owner (docker save's outer archive).
 */
export async function packTree(dir: string, dest: string, portable = false, ownerInImage?: (owner: { uid: number; gid: number }) => { uid: number; gid: number }): Promise<void> {
  const names = (await readdir(dir)).sort();
  if (names.length === 0) {
    // An empty tree is an empty archive: the two zero blocks.
    await pipeline(async function* () {
      yield Buffer.alloc(1024);
    }, createWriteStream(dest, { mode: 0o600 }));
    return;
  }
  // Rootless: files are owned by host ids of the user's range; the archive gets the ids they are in the image.
  // tar writes each header from the stat its filter saw.
  const filter = ownerInImage
    ? (_path: string, stat: { uid: number; gid: number }): boolean => {
      const owner = ownerInImage({ uid: stat.uid, gid: stat.gid });
      stat.uid = owner.uid;
      stat.gid = owner.gid;
      return true;
    }
    : undefined;
  await createTar({ cwd: dir, file: dest, portable, noDirRecurse: false, mode: 0o600, ...(filter ? { filter } : {}) } as Parameters<typeof createTar>[0] & { file: string }, names);
}

/**
 * Stream a tar of `names` (entries of `cwd`) into `out` (`docker cp`): owners, modes, hard links,
 * and symlinks as symlinks, never followed. `end: false` leaves `out` open (the process's stdout).
 */
export async function packEntries(cwd: string, names: string[], out: NodeJS.WritableStream, end = true): Promise<void> {
  const pack = createTar({ cwd, portable: false, follow: false }, names);
  await new Promise<void>((resolve, reject) => {
    pack.on('error', reject);
    out.on('error', reject);
    if (end) out.on('finish', () => resolve());
    else pack.on('end', () => resolve());
    pack.pipe(out, { end });
  });
}

/** The top entry renamed on the way in (`docker cp a c:/dir/b` makes b): `from` and below become `to`. */
export interface Rename {
  from: string;
  to: string;
}

function renamed(path: string, rename: Rename | undefined): string {
  const clean = path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (!rename) return path;
  if (clean === rename.from) return rename.to;
  if (clean.startsWith(`${rename.from}/`)) return `${rename.to}${clean.slice(rename.from.length)}`;
  return path;
}

/**
 * Unpack a tar stream into the existing directory `dir` (`docker cp` into a container): owners
 * (as root), exact modes and symlinks as in the archive. `..`, absolute names and writing
 * through a symlink are refused by tar; symlinks are first made at a placeholder, so tar never
 * judges or follows their targets, and put in place once every entry is written.
 */
export async function unpackInto(
  feed: (sink: NodeJS.WritableStream) => void, dir: string, label: string, rename?: Rename,
): Promise<void> {
  const { modes, symlinks } = await unpackTracked(feed, dir, label, rename);
  // Only the entries written here: the rest of the directory (a container's whole root) is not walked.
  for (const [rel, spec] of symlinks) {
    const abs = join(dir, rel);
    await unlink(abs);
    await symlink(spec.target, abs);
    if (spec.owner) await lchown(abs, spec.owner.uid, spec.owner.gid);
  }
  for (const [rel, mode] of modes) {
    const abs = join(dir, rel);
    const st = await lstat(abs);
    if ((st.isFile() || st.isDirectory()) && (st.mode & 0o7777) !== mode) await chmod(abs, mode);
  }
}

/** A tar of `names` in `cwd`, unpacked into `dir` (a copy out to the host, or from the host in). */
export async function copyEntries(cwd: string, names: string[], dir: string, label: string, rename?: Rename): Promise<void> {
  await unpackInto((sink) => {
    const pack = createTar({ cwd, portable: false, follow: false }, names);
    pack.on('error', (err: unknown) => sink.emit('error', err));
    pack.pipe(sink);
  }, dir, label, rename);
}
