// Rootless minictr on this host: who the user is, their subordinate ranges, and whether the
// kernel lets them make a user namespace. Read once per process (blocking reads of a few
// small files, as host-tools.ts does).
import { accessSync, constants, readFileSync } from 'node:fs';
import { release, userInfo } from 'node:os';
import type { RootlessFacts } from '../explain/doctor-rootless.js';
import { overlayInUserNamespace } from './rootless-run.js';
import { MinictrError } from '../base/errors.js';
import { subordinateRange, type RootlessIds } from './rootless-ids.js';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The calling user's ids and ranges; undefined for root (rootful minictr). */
export function currentRootlessIds(): RootlessIds | undefined {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return undefined;
  const gid = process.getgid?.() ?? uid;
  let user = String(uid);
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry: the ranges are looked up by uid.
  }
  const uids = subordinateRange(readText('/etc/subuid') ?? '', user, uid);
  const gids = subordinateRange(readText('/etc/subgid') ?? '', user, gid === uid ? uid : gid);
  return { uid, gid, user, ...(uids ? { uids } : {}), ...(gids ? { gids } : {}) };
}

/** The sysctls that forbid unprivileged user namespaces, when one does; undefined when allowed. */
export function userNamespaceBlocker(read: (path: string) => string | undefined = readText): string | undefined {
  const max = read('/proc/sys/user/max_user_namespaces')?.trim();
  if (max === '0') return 'user.max_user_namespaces is 0: sudo sysctl -w user.max_user_namespaces=15000';
  const clone = read('/proc/sys/kernel/unprivileged_userns_clone')?.trim();
  if (clone === '0') return 'kernel.unprivileged_userns_clone is 0: sudo sysctl -w kernel.unprivileged_userns_clone=1';
  const apparmor = read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns')?.trim();
  if (apparmor === '1') return 'kernel.apparmor_restrict_unprivileged_userns is 1: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0';
  return undefined;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Can this user run a container? One line naming what is missing (exit 125), checked before
 * anything is created: the kernel's permission for user namespaces, and with a subordinate
 * range, newuidmap/newgidmap to map it.
 */
export function checkRootlessRun(ids: RootlessIds): void {
  const blocker = userNamespaceBlocker();
  const ranged = ids.uids !== undefined || ids.gids !== undefined;
  if (blocker) {
    const also = ranged ? '' : `; ${ids.user} also has no subordinate range in /etc/subuid and /etc/subgid (sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${ids.user})`;
    throw new MinictrError('E_NO_USERNS', `rootless minictr cannot make a user namespace: ${blocker}${also}`);
  }
  if (ranged && !['newuidmap', 'newgidmap'].every((t) => executable(`/usr/bin/${t}`))) {
    throw new MinictrError('E_MISSING_TOOL', 'newuidmap/newgidmap not found: they map your subordinate ids into containers; install the "uidmap" package (sudo apt-get install uidmap)');
  }
}

/** What `doctor` shows a normal user (explain/doctor-rootless.ts judges it). */
export function rootlessDoctorFacts(ids: RootlessIds): RootlessFacts {
  const filesystems = readText('/proc/filesystems') ?? '';
  const trimmed = (path: string): string | undefined => readText(path)?.trim();
  let tun = false;
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
    tun = true;
  } catch {
    // not usable by this user
  }
  const onPath = (name: string): boolean => ['/usr/bin', '/usr/local/bin', '/bin'].some((d) => executable(`${d}/${name}`));
  const max = trimmed('/proc/sys/user/max_user_namespaces');
  const clone = trimmed('/proc/sys/kernel/unprivileged_userns_clone');
  const apparmor = trimmed('/proc/sys/kernel/apparmor_restrict_unprivileged_userns');
  const portStart = trimmed('/proc/sys/net/ipv4/ip_unprivileged_port_start');
  const ping = trimmed('/proc/sys/net/ipv4/ping_group_range')?.replace(/\s+/g, ' ');
  return {
    user: ids.user, uid: ids.uid,
    ...(ids.uids ? { subuid: ids.uids } : {}), ...(ids.gids ? { subgid: ids.gids } : {}),
    newuidmap: onPath('newuidmap'), newgidmap: onPath('newgidmap'),
    ...(max !== undefined ? { maxUserNamespaces: max } : {}),
    ...(clone !== undefined ? { unprivilegedUsernsClone: clone } : {}),
    ...(apparmor !== undefined ? { apparmorRestrict: apparmor } : {}),
    pasta: onPath('pasta'), slirp4netns: onPath('slirp4netns'), fuseOverlayfs: onPath('fuse-overlayfs'),
    overlayInUserns: overlayInUserNamespace(release(), filesystems), kernel: release(),
    ...(portStart !== undefined ? { unprivilegedPortStart: portStart } : {}),
    ...(ping !== undefined ? { pingGroupRange: ping } : {}),
    tun,
  };
}
