// Applying image layers: an unpacked layer is moved onto the rootfs built so far, its whiteouts
// deleting what lower layers put there (Docker's rules). Nothing here ever follows a symlink out.
import { chmod, lchown, lstat, readdir, readlink, rename, rm, utimes } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { MinictrError } from '../base/errors.js';

export const WHITEOUT_PREFIX = '.wh.';
/** `.wh..wh.` names are the whiteout format's own metadata (aufs); only the opaque marker means anything. */
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

const MAX_SYMLINKS = 40;

/** What a directory entry of a layer means: a whiteout of a name, an opaque marker, metadata, or content. */
export type WhiteoutKind = { kind: 'opaque' } | { kind: 'whiteout'; name: string } | { kind: 'meta' } | { kind: 'content' };

/** Classify a file name found in a layer (pure). A whiteout of `.`, `..` or '' is refused. */
export function classifyName(name: string): WhiteoutKind {
  if (name === OPAQUE_WHITEOUT) return { kind: 'opaque' };
  if (name.startsWith(WHITEOUT_META_PREFIX)) return { kind: 'meta' };
  if (!name.startsWith(WHITEOUT_PREFIX)) return { kind: 'content' };
  const target = name.slice(WHITEOUT_PREFIX.length);
  if (target === '' || target === '.' || target === '..' || target.includes('/')) {
    throw new MinictrError('E_BAD_ARCHIVE', `layer has a whiteout for ${JSON.stringify(target)}, which names no file`);
  }
  return { kind: 'whiteout', name: target };
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Resolve `rel` (a path relative to `root`) as the container would see it, with `root` as `/`:
 * symlinks are followed inside the tree (absolute targets from `root`, `..` stops at `root`).
 * Returns the real relative path, with every component but possibly the last a real directory,
 * or undefined when a component is missing or not a directory.
 */
export async function resolveInRoot(root: string, rel: string): Promise<string | undefined> {
  let pending = rel.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const [head, ...rest] = pending;
    pending = rest;
    if (head === undefined) break;
    if (head === '..') {
      done.pop();
      continue;
    }
    const here = join(root, ...done, head);
    const st = await lstatOrUndefined(here);
    if (st === undefined) return undefined;
    if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) return undefined;
      const target = await readlink(here);
      if (target.startsWith('/')) done.length = 0;
      pending = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...pending];
      continue;
    }
    if (pending.length > 0 && !st.isDirectory()) return undefined;
    done.push(head);
  }
  return done.join('/');
}

interface MergeContext {
  /** The rootfs being built. */
  root: string;
  /** Layer-relative paths the layer tar had an entry for (directories with headers get their metadata applied). */
  explicit: ReadonlySet<string>;
  preserveOwner: boolean;
}

/** Give an existing rootfs directory the mode, owner and times of the layer's entry for it. */
async function copyDirMeta(from: Stats, to: string, preserveOwner: boolean): Promise<void> {
  if (preserveOwner) await lchown(to, from.uid, from.gid);
  await chmod(to, from.mode & 0o7777);
  await utimes(to, from.atime, from.mtime);
}

/** Delete the whiteout markers in a subtree that lands where nothing was (they hide nothing there). */
async function stripWhiteouts(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if (name.startsWith(WHITEOUT_PREFIX)) {
      classifyName(name);
      await rm(path, { recursive: true, force: true });
      continue;
    }
    const st = await lstat(path);
    if (st.isDirectory()) await stripWhiteouts(path);
  }
}

/** Make a scratch directory of the layer writable and searchable, so its children can be moved out. */
async function openUp(dir: string, st: Stats): Promise<void> {
  if ((st.mode & 0o700) !== 0o700) await chmod(dir, (st.mode & 0o7777) | 0o700);
}

async function mergeDir(ctx: MergeContext, src: string, dstRel: string, layerRel: string): Promise<void> {
  const dst = dstRel === '' ? ctx.root : join(ctx.root, dstRel);
  const names = (await readdir(src)).sort();
  const kinds = names.map((name) => ({ name, what: classifyName(name) }));
  // Opaque first: this directory shows only what this layer puts in it.
  if (kinds.some((k) => k.what.kind === 'opaque')) {
    for (const name of await readdir(dst)) await rm(join(dst, name), { recursive: true, force: true });
  }
  for (const { what } of kinds) {
    if (what.kind === 'whiteout') await rm(join(dst, what.name), { recursive: true, force: true });
  }
  for (const { name, what } of kinds) {
    if (what.kind !== 'content') continue;
    const from = join(src, name);
    const rel = layerRel === '' ? name : `${layerRel}/${name}`;
    const toRel = dstRel === '' ? name : `${dstRel}/${name}`;
    const to = join(ctx.root, toRel);
    const s = await lstat(from);
    const d = await lstatOrUndefined(to);
    if (s.isDirectory() && d !== undefined) {
      if (d.isDirectory()) {
        if (ctx.explicit.has(rel)) await copyDirMeta(s, to, ctx.preserveOwner);
        await openUp(from, s);
        await mergeDir(ctx, from, toRel, rel);
        continue;
      }
      if (d.isSymbolicLink() && !ctx.explicit.has(rel)) {
        // Only a parent of this layer's files (no entry of its own): write where the link leads
        // inside the rootfs, as Docker's chrooted unpack would (`lib -> usr/lib`).
        const real = await resolveInRoot(ctx.root, toRel);
        const st = real === undefined ? undefined : await lstatOrUndefined(real === '' ? ctx.root : join(ctx.root, real));
        if (real !== undefined && st?.isDirectory()) {
          await openUp(from, s);
          await mergeDir(ctx, from, real, rel);
          continue;
        }
      }
    }
    if (d !== undefined) await rm(to, { recursive: true, force: true });
    if (s.isDirectory()) {
      await openUp(from, s);
      await stripWhiteouts(from);
      if ((s.mode & 0o700) !== 0o700) await chmod(from, s.mode & 0o7777);
    }
    await rename(from, to);
  }
}

/**
 * Move the unpacked, settled layer in `layer` onto `root`, as Docker applies a layer:
 * - `.wh.NAME` deletes NAME (file or whole tree) from the lower layers, and is not kept;
 * - `.wh..wh..opq` in a directory hides everything lower layers put in it;
 * - an entry replaces what lower layers had at its path, except that a directory merges into a
 *   directory (taking the layer's mode, owner and times when the layer has an entry for it);
 * - hard links made within the layer stay links (the files are moved, not copied).
 * `explicit` lists the layer-relative paths the layer tar had entries for. `layer` is consumed.
 * Every path is reached through real directories of the rootfs only, never through a symlink
 * to the outside.
 */
export async function mergeLayer(layer: string, root: string, explicit: ReadonlySet<string>): Promise<void> {
  const ctx: MergeContext = { root, explicit, preserveOwner: process.getuid?.() === 0 };
  const top = await lstat(layer);
  if (explicit.has('')) await copyDirMeta(top, root, ctx.preserveOwner);
  await openUp(layer, top);
  await mergeDir(ctx, layer, '', '');
}
