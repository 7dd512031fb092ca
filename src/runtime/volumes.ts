// Volumes: create, inspect, list, remove, prune (Docker's local driver), and the resolution
// of a container's mount requests into MountPoints: binds checked on the host, volumes made.
// Mounting them inside the container is the init's job (./init-script.ts).
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { MinictrError } from '../base/errors.js';
import type { ContainerRecord, MountPoint, VolumeRecord } from '../base/records.js';
import type { RuntimeContext } from './context.js';
import { checkDuplicates, cleanPath, pathDepth, validateVolumeName, type MountRequest } from './mount-specs.js';
import { removeVolumeFiles } from './rootless-run.js';

/** Docker's label on volumes made for one container (23+); prune without --all removes only these. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

function noSuchVolume(message: string): MinictrError {
  return new MinictrError('E_NO_SUCH_VOLUME', message, { exitCode: 1 });
}

function newRecord(ctx: RuntimeContext, name: string, labels: Record<string, string>, anonymous: boolean): VolumeRecord {
  return {
    schemaVersion: 1,
    name,
    driver: 'local',
    mountpoint: ctx.store.paths.volumeData(name),
    created: new Date().toISOString(),
    labels,
    anonymous,
  };
}

/** Create under the volumes lock (the caller holds it): an existing name is returned as it is. */
async function createLocked(
  ctx: RuntimeContext,
  name: string | undefined,
  labels: Record<string, string>,
  anonymous: boolean,
): Promise<{ record: VolumeRecord; made: boolean }> {
  if (name !== undefined) {
    validateVolumeName(name);
    const existing = await ctx.store.loadVolume(name);
    if (existing) return { record: existing, made: false };
  }
  const record = newRecord(ctx, name ?? randomBytes(32).toString('hex'), labels, anonymous);
  await ctx.store.saveVolume(record);
  return { record, made: true };
}

/** `volume create [NAME]`: no name makes a random 64-hex one; an existing name is returned unchanged, as Docker does. */
export async function createVolume(
  ctx: RuntimeContext,
  name?: string,
  labels: Record<string, string> = {},
  anonymous = false,
): Promise<VolumeRecord> {
  if (name !== undefined) validateVolumeName(name);
  return ctx.store.lock('volumes', async () => (await createLocked(ctx, name, labels, anonymous)).record);
}

export async function inspectVolume(ctx: RuntimeContext, name: string): Promise<VolumeRecord> {
  const record = await ctx.store.loadVolume(name);
  if (!record) throw noSuchVolume(`no such volume: ${name}`);
  return record;
}

/** `volume ls --filter`: each given kind must match (names: any of them; labels: all of them). */
export interface VolumeFilter {
  /** true: only volumes no container mounts; false: only mounted ones. */
  dangling?: boolean;
  /** Docker matches a name filter anywhere in the name (a regular expression). */
  name?: string[];
  /** `key` or `key=value`. */
  label?: string[];
}

function nameMatches(pattern: string, name: string): boolean {
  try {
    return new RegExp(pattern).test(name);
  } catch {
    return name.includes(pattern);
  }
}

function labelMatches(want: string, labels: Record<string, string>): boolean {
  const eq = want.indexOf('=');
  return eq < 0 ? want in labels : labels[want.slice(0, eq)] === want.slice(eq + 1);
}

export async function listVolumes(ctx: RuntimeContext, filter: VolumeFilter = {}): Promise<VolumeRecord[]> {
  const all = await ctx.store.listVolumes();
  const used = filter.dangling === undefined ? new Map<string, string[]>() : volumeUsers(await ctx.store.listContainers());
  return all.filter(
    (v) =>
      (filter.dangling === undefined || filter.dangling !== used.has(v.name)) &&
      (!filter.name?.length || filter.name.some((n) => nameMatches(n, v.name))) &&
      (filter.label ?? []).every((l) => labelMatches(l, documentLabels(v))),
  );
}

/** Which containers (full ids) mount each volume, by name. */
function volumeUsers(containers: ContainerRecord[]): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const c of containers) {
    for (const m of c.mounts ?? []) {
      if (m.type !== 'volume' || !m.name) continue;
      const ids = users.get(m.name) ?? [];
      if (!ids.includes(c.id)) ids.push(c.id);
      users.set(m.name, ids);
    }
  }
  return users;
}

/**
 * `volume rm`: refused while any container (running or not) mounts it, as Docker's 409;
 * -f only forgives a volume that does not exist.
 */
export async function removeVolume(ctx: RuntimeContext, name: string, force: boolean): Promise<void> {
  const { store } = ctx;
  await store.lock('containers', () =>
    store.lock('volumes', async () => {
      if (!(await store.loadVolume(name))) {
        if (force) return;
        throw noSuchVolume(`get ${name}: no such volume`);
      }
      const users = volumeUsers(await store.listContainers()).get(name) ?? [];
      if (users.length > 0) {
        throw new MinictrError('E_VOLUME_IN_USE', `remove ${name}: volume is in use - [${users.join(', ')}]`, { exitCode: 1 });
      }
      await removeVolumeFiles(ctx, name);
    }),
  );
}

/** Remove volumes a failed create made (best effort: what is gone is gone). */
export async function removeVolumes(ctx: RuntimeContext, names: string[]): Promise<void> {
  if (names.length === 0) return;
  await ctx.store.lock('volumes', async () => {
    for (const name of names) await removeVolumeFiles(ctx, name).catch(() => undefined);
  });
}

/**
 * `rm -v` and `--rm`: remove the container's anonymous volumes that no other container
 * mounts. Call it once the container's record is gone; it takes only the volumes lock, so the
 * caller may hold the containers lock. Returns the names removed.
 */
export async function releaseVolumes(ctx: RuntimeContext, record: ContainerRecord): Promise<string[]> {
  const mine = (record.mounts ?? []).flatMap((m) => (m.type === 'volume' && m.anonymous && m.name ? [m.name] : []));
  if (mine.length === 0) return [];
  return ctx.store.lock('volumes', async () => {
    const others = volumeUsers((await ctx.store.listContainers()).filter((c) => c.id !== record.id));
    const removed: string[] = [];
    for (const name of mine) {
      if (others.has(name) || !(await ctx.store.loadVolume(name))) continue;
      await removeVolumeFiles(ctx, name);
      removed.push(name);
    }
    return removed;
  });
}

/** Bytes of the files under a directory, hard links counted once (Docker's directory.Size). */
export async function directorySize(dir: string, seen = new Set<string>()): Promise<number> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return 0;
  }
  let total = 0;
  for (const entry of entries) {
    const path = join(dir, entry);
    const st = await lstat(path).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) {
      total += await directorySize(path, seen);
    } else if (!seen.has(`${st.dev}:${st.ino}`)) {
      seen.add(`${st.dev}:${st.ino}`);
      total += st.size;
    }
  }
  return total;
}

export interface PrunedVolumes {
  names: string[];
  reclaimed: number;
}

/** `volume prune`: unused anonymous volumes (Docker 23+), every unused one with `all`. */
export async function pruneVolumes(ctx: RuntimeContext, all: boolean): Promise<PrunedVolumes> {
  const { store } = ctx;
  return store.lock('containers', () =>
    store.lock('volumes', async () => {
      const used = volumeUsers(await store.listContainers());
      const pruned: PrunedVolumes = { names: [], reclaimed: 0 };
      for (const volume of await store.listVolumes()) {
        if (used.has(volume.name) || !(all || volume.anonymous)) continue;
        pruned.reclaimed += await directorySize(store.paths.volumeData(volume.name));
        await removeVolumeFiles(ctx, volume.name);
        pruned.names.push(volume.name);
      }
      return pruned;
    }),
  );
}

/** The labels Docker shows: an anonymous volume carries its mark. */
function documentLabels(record: VolumeRecord): Record<string, string> {
  return record.anonymous ? { ...record.labels, [ANONYMOUS_LABEL]: '' } : record.labels;
}

/** Docker's `volume inspect` document. */
export function volumeDocument(record: VolumeRecord): Record<string, unknown> {
  return {
    CreatedAt: record.created.replace(/\.\d+Z$/, 'Z'),
    Driver: record.driver,
    Labels: documentLabels(record),
    Mountpoint: record.mountpoint,
    Name: record.name,
    Options: record.anonymous ? null : {},
    Scope: 'local',
  };
}

async function isEmptyDir(dir: string): Promise<boolean> {
  return (await readdir(dir).catch(() => [])).length === 0;
}

/** A bind's host source, symlinks resolved on the host; a missing one is made (-v) or refused (--mount). */
async function bindSource(request: MountRequest): Promise<string> {
  try {
    return await realpath(request.source);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!request.createHostPath) {
    throw new MinictrError('E_BAD_FLAG', `invalid mount config for type "bind": bind source path does not exist: ${request.source}`);
  }
  await mkdir(request.source, { recursive: true, mode: 0o755 });
  return realpath(request.source);
}

export interface VolumesFrom {
  record: ContainerRecord;
  /** true: every mount read-only; otherwise each keeps its own mode. */
  readOnly?: boolean;
}

/**
 * Resolve a container's mounts: user requests (binds, named and anonymous volumes, tmpfs),
 * the mounts of --volumes-from containers (a user mount on the same path wins), and the
 * image's VOLUMEs not covered by either (anonymous volumes). `created` names the volumes
 * made here, for `removeVolumes` if the container's create fails later. Takes the volumes lock.
 */
export async function resolveMounts(
  ctx: RuntimeContext,
  requests: MountRequest[],
  imageVolumes: string[],
  volumesFrom: VolumesFrom[],
): Promise<{ mounts: MountPoint[]; created: string[] }> {
  checkDuplicates(requests);
  const requested = new Set(requests.map((r) => cleanPath(r.destination)));
  const inherited: MountPoint[] = [];
  for (const from of volumesFrom) {
    for (const m of from.record.mounts ?? []) {
      // A tmpfs holds nothing to share; a user mount on the same path replaces the inherited one.
      if (m.type === 'tmpfs' || requested.has(m.destination) || inherited.some((i) => i.destination === m.destination)) continue;
      const { anonymous: _anonymous, copyUp: _copyUp, ...rest } = m;
      inherited.push({ ...rest, readOnly: from.readOnly === true || m.readOnly });
    }
  }
  const covered = new Set([...requested, ...inherited.map((m) => m.destination)]);
  const fromImage = [...new Set(imageVolumes.map(cleanPath))].filter((dest) => !covered.has(dest));

  const binds = new Map<MountRequest, string>();
  for (const r of requests) if (r.type === 'bind') binds.set(r, await bindSource(r));

  const created: string[] = [];
  // Most containers have no volume: no lock to queue for.
  const volumes = requests.some((r) => r.type === 'volume') || fromImage.length > 0;
  const lockIfVolumes = <T>(fn: () => Promise<T>): Promise<T> => (volumes ? ctx.store.lock('volumes', fn) : fn());
  const mounts = await lockIfVolumes(async () => {
    const volume = async (name: string | undefined, noCopy: boolean): Promise<{ record: VolumeRecord; copyUp: boolean }> => {
      const { record, made } = await createLocked(ctx, name, {}, name === undefined);
      if (made) created.push(record.name);
      return { record, copyUp: !noCopy && (made || (await isEmptyDir(record.mountpoint))) };
    };
    const out: MountPoint[] = [...inherited];
    try {
      for (const r of requests) {
        const destination = cleanPath(r.destination);
        if (r.type === 'bind') {
          out.push({ type: 'bind', source: binds.get(r) ?? r.source, destination, readOnly: r.readOnly, propagation: r.propagation || 'rprivate', options: '' });
        } else if (r.type === 'tmpfs') {
          out.push({ type: 'tmpfs', source: '', destination, readOnly: r.readOnly, propagation: '', options: r.options });
        } else {
          const { record, copyUp } = await volume(r.source === '' ? undefined : r.source, r.noCopy);
          out.push({
            type: 'volume', name: record.name, source: record.mountpoint, destination, readOnly: r.readOnly, propagation: '', options: '',
            ...(record.anonymous && r.source === '' ? { anonymous: true } : {}),
            copyUp,
          });
        }
      }
      for (const destination of fromImage) {
        const { record, copyUp } = await volume(undefined, false);
        out.push({ type: 'volume', name: record.name, source: record.mountpoint, destination, readOnly: false, propagation: '', options: '', anonymous: true, copyUp });
      }
    } catch (err) {
      for (const name of created) await removeVolumeFiles(ctx, name).catch(() => undefined);
      created.length = 0;
      throw err;
    }
    return out;
  });
  // Stable: mounts at the same depth keep the order they were given in.
  return { mounts: [...mounts].sort((a, b) => pathDepth(a.destination) - pathDepth(b.destination)), created };
}
