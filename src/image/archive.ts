// Reading rootfs tarballs (plain or gzip): recognise, hash, and unpack safely. The one importer of `tar`.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { relative } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Unpack, type ReadEntry } from 'tar';
import { MinictrError, errorMessage } from '../errors.js';

const BLOCK = 512;
type Format = 'tar' | 'gzip';

/** Entry types whose mode we restore exactly after unpacking (links share or ignore modes). */
const MODED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'GNUDumpDir']);

const OTHER_COMPRESSION: [Buffer, string, string][] = [
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'xz', 'xz -d'],
  [Buffer.from('BZh'), 'bzip2', 'bunzip2'],
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'zstd', 'zstd -d'],
];

function badArchive(label: string, detail = 'is not a tar archive (plain or gzip-compressed)'): MinictrError {
  return new MinictrError('E_BAD_ARCHIVE', `${label} ${detail}`);
}

/** A tar header block: checksum valid (unsigned or the old signed sum), or an all-zero end block. */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < BLOCK) return false;
  if (block.subarray(0, BLOCK).every((b) => b === 0)) return true;
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
    if (!isTarHeader(block)) throw badArchive(label, 'is gzip-compressed but not a tar archive inside');
    return 'gzip';
  }
  if (!isTarHeader(head)) throw badArchive(label);
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

/**
 * Unpack `archive` into the new directory `rootfs`, keeping owners (as root), symlinks and hard
 * links. Entries that would land outside (`..`, links through symlinks) fail the whole unpack;
 * absolute paths are taken relative to the rootfs, as Docker does. Device nodes are skipped (the
 * runtime gives containers their own /dev). Returns the exact mode wanted for each file and
 * directory (relative path, '' is the root) for settleTree() to restore.
 */
export async function extractArchive(archive: string, rootfs: string, label: string): Promise<Map<string, number>> {
  await mkdir(rootfs, { mode: 0o755 });
  const modes = new Map<string, number>();
  const asRead = new WeakMap<ReadEntry, number>();
  const refused: string[] = [];
  const unpack = new Unpack({
    cwd: rootfs,
    preserveOwner: process.getuid?.() === 0,
    preservePaths: false,
    onwarn: (code, message, data) => {
      if (code === 'TAR_ENTRY_INFO' || code === 'TAR_ENTRY_UNSUPPORTED') return;
      const path = warnedPath(data);
      refused.push(`${path === undefined ? '' : `entry ${JSON.stringify(path)}: `}${message}`);
    },
    // Runs before Unpack's own handler, which widens directory modes; remember them as written.
    onReadEntry: (entry) => {
      if (typeof entry.mode === 'number') asRead.set(entry, entry.mode & 0o7777);
    },
  });
  // Runs after Unpack's handler has checked and normalised the entry's path.
  unpack.on('entry', (entry: ReadEntry) => {
    if (typeof entry.absolute !== 'string') return;
    const rel = relative(rootfs, entry.absolute);
    const mode = asRead.get(entry);
    if (mode !== undefined && MODED_TYPES.has(entry.type)) modes.set(rel, mode);
    else modes.delete(rel);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      unpack.on('error', reject);
      unpack.on('close', () => resolve());
      const input = createReadStream(archive);
      input.on('error', reject);
      input.pipe(unpack);
    });
  } catch (err) {
    throw badArchive(label, `could not be unpacked: ${errorMessage(err)}`);
  }
  if (refused.length > 0) {
    const more = refused.length > 1 ? ` (and ${refused.length - 1} more)` : '';
    throw badArchive(label, `was refused: ${refused[0]}${more}`);
  }
  return modes;
}
