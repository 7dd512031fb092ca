// Rootless minictr's ids, pure: the user's subordinate ranges read from /etc/subuid and
// /etc/subgid, and the user namespace util-linux unshare makes from them with newuidmap and
// newgidmap (as podman maps it: uid 0 inside is the user, 1… the subordinate range).

/** One subordinate range: `count` host ids from `start`. */
export interface IdRange {
  start: number;
  count: number;
}

/** Who a rootless minictr runs as, and which host ids its containers' user namespaces map. */
export interface RootlessIds {
  uid: number;
  gid: number;
  user: string;
  /** Absent: no subordinate range, so only the user's own id is mapped (to 0). */
  uids?: IdRange;
  gids?: IdRange;
}

/**
 * The first range of `user` (by name or by uid, as shadow's tools accept both) in a subuid or
 * subgid file's text: `name:start:count` lines. A range that holds the user's own id is skipped,
 * as podman refuses it: the mapping would name that id twice.
 */
export function subordinateRange(text: string, user: string, id: number): IdRange | undefined {
  for (const line of text.split('\n')) {
    const [who, start, count] = line.trim().split(':');
    if (who !== user && who !== String(id)) continue;
    const range = { start: Number(start), count: Number(count) };
    if (!Number.isInteger(range.start) || !Number.isInteger(range.count) || range.start < 0 || range.count <= 0) continue;
    if (id >= range.start && id < range.start + range.count) continue;
    return range;
  }
  return undefined;
}

/** Both ranges present: the full map; else the single-id fallback. */
export function fullyMapped(ids: RootlessIds): boolean {
  return ids.uids !== undefined && ids.gids !== undefined;
}

/**
 * util-linux unshare's options for the container's user namespace. `--map-root-user` maps the
 * user to 0; `--map-users`/`--map-groups` (util-linux ≥ 2.38: outer,inner,count) add the range
 * at 1, and make unshare run newuidmap/newgidmap for the new namespace before it execs anything.
 */
export function userNamespaceArgs(ids: RootlessIds): string[] {
  const args = ['--user', '--map-root-user'];
  if (fullyMapped(ids) && ids.uids && ids.gids) {
    args.push(`--map-users=${ids.uids.start},1,${ids.uids.count}`, `--map-groups=${ids.gids.start},1,${ids.gids.count}`);
  }
  return args;
}

/** The uid_map (or gid_map) the kernel shows for a container of `ids`: what --dry-run and --explain print. */
export function idMapLines(own: number, range: IdRange | undefined): string[] {
  return [`0 ${own} 1`, ...(range ? [`1 ${range.start} ${range.count}`] : [])];
}

/** The one line said when only the user's own id can be mapped. */
export function singleIdNote(ids: RootlessIds): string {
  const missing = [ids.uids ? '' : '/etc/subuid', ids.gids ? '' : '/etc/subgid'].filter(Boolean).join(' and ');
  return `no subordinate id range for ${ids.user} in ${missing}: only your own id is mapped (to root) in containers, so image files of other owners and --user other than root will not work; fix: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${ids.user}`;
}

/** The id a host id has inside a container of this map (the user is 0, its range 1…); unmapped ids are the overflow id 65534. */
export function idInside(host: number, own: number, range: IdRange | undefined): number {
  if (host === own) return 0;
  if (range && host >= range.start && host < range.start + range.count) return host - range.start + 1;
  return 65534;
}
