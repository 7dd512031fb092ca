// What each of a container's mounts is for, in a learner's words (what --dry-run prints beside
// the init's mount lines). Pure.
import type { MountPoint } from '../base/records.js';

function why(m: MountPoint): string {
  const ro = m.readOnly ? ', read-only' : '';
  if (m.type === 'tmpfs') return `tmpfs at ${m.destination} (${m.options}): an empty in-memory filesystem, new at each start`;
  if (m.type === 'bind') {
    return `bind ${m.source} at ${m.destination}${ro}: the host's ${m.source} itself, seen inside; changes on either side show on the other`;
  }
  const copy = m.copyUp ? `; if it is empty, the image's ${m.destination} is copied in first (cp -a)` : '';
  const kind = m.anonymous ? 'anonymous volume' : `volume ${m.name ?? ''}`;
  return `${kind} at ${m.destination}${ro}: ${m.source}, kept under the state dir so it outlives the container${copy}`;
}

/**
 * One comment line per mount, in mount order, and what --read-only adds. The mounts are made
 * by the container's init after pivot_root (MINICTR_MOUNTS), so each destination, symlinks
 * included, is resolved inside the container's root.
 */
export function describeMounts(mounts: readonly MountPoint[], readonlyRoot: boolean): string[] {
  if (mounts.length === 0 && !readonlyRoot) return [];
  return [
    '# the container\'s mounts, made by its init after pivot_root (MINICTR_MOUNTS below), so every',
    '# destination is resolved inside the container\'s root, never on the host:',
    ...mounts.map((m) => `#   ${why(m)}`),
    ...(readonlyRoot ? ['#   --read-only: then the root itself is remounted read-only (mount -o remount,bind,ro /); /dev, /proc and tmpfs mounts stay writable'] : []),
  ];
}
