// Test helpers: a temp state root, a hand-written tar encoder (full control, including hostile entries).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Store } from '../../../src/state/store.js';

export interface TempRoot {
  dir: string;
  store: Store;
  cleanup(): Promise<void>;
}

export async function tempRoot(prefix = 'minictr-image-test-'): Promise<TempRoot> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, store: new Store(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export type TarType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev';

export interface TarEntry {
  name: string;
  type?: TarType;
  content?: string;
  /** Raw bytes (instead of content). */
  data?: Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
}

const TYPEFLAG: Record<TarType, string> = { file: '0', dir: '5', symlink: '2', hardlink: '1', chardev: '3' };

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const type = e.type ?? 'file';
  h.write(e.name, 0, 100, 'utf8');
  h.write(octal(e.mode ?? (type === 'dir' ? 0o755 : 0o644), 8), 100, 'latin1');
  h.write(octal(e.uid ?? 0, 8), 108, 'latin1');
  h.write(octal(e.gid ?? 0, 8), 116, 'latin1');
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(1_700_000_000, 12), 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(TYPEFLAG[type], 156, 'latin1');
  h.write(e.linkname ?? '', 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** A plain ustar archive of the entries, in order, with the two zero end blocks. */
export function makeTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const isFile = e.type === undefined || e.type === 'file';
    const body = isFile ? (e.data ?? Buffer.from(e.content ?? '')) : Buffer.alloc(0);
    parts.push(header(e, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function makeTarGz(entries: TarEntry[]): Buffer {
  return gzipSync(makeTar(entries));
}
