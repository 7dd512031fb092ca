// What changes in a container's create and start when minictr runs rootless: no cgroup limits
// (no cgroup is delegated to the user), the default network, how the root filesystem is made.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { MinictrError } from '../base/errors.js';
import type { HostConfig, Resources } from '../base/records.js';
import { parsePortSpec } from '../network/ports.js';
import { DEFAULT_NETWORK } from '../network/names.js';
import type { Store } from '../state/store.js';
import type { ImageStoreOptions } from '../image/store.js';
import { userNamespaceOwners, userNamespaceRemover } from '../image/owners.js';
import { fullyMapped, idInside, userNamespaceArgs } from './rootless-ids.js';
import type { RuntimeContext } from './context.js';
import { hasLimits } from '../cgroup/limits.js';
import { overlaySupported } from '../explain/doctor.js';

/** The network modes a rootless container may have without a rootless network of its own. */
export const ROOTLESS_HELPER_MODES = new Set(['pasta', 'slirp4netns']);

/**
 * Podman's refusal on cgroup v1 (and v2 without delegation): a normal user has no cgroup of its
 * own to write limits into, so a limit flag would silently do nothing.
 */
export function refuseRootlessLimits(resources: Resources): void {
  if (!hasLimits(resources)) return;
  throw new MinictrError('E_ROOTLESS_LIMITS', 'rootless minictr cannot set resource limits (--memory, --cpus, --pids-limit …): no cgroup is delegated to your user; leave the limit out, or run as root');
}

/** Podman 5's default: pasta when installed, else slirp4netns. */
export function rootlessDefaultNetwork(): string {
  return ['/usr/bin/pasta', '/usr/local/bin/pasta'].some((p) => existsSync(p)) ? 'pasta' : 'slirp4netns';
}

/** `major.minor` of a kernel release string ("6.1.0-18-amd64" → [6, 1]). */
export function kernelVersion(text: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** Overlayfs mounts inside a user namespace from 5.11 (with userxattr); before that, a copy. */
export function overlayInUserNamespace(kernel: string, filesystems: string): boolean {
  const [major, minor] = kernelVersion(kernel);
  return overlaySupported(filesystems) && (major > 5 || (major === 5 && minor >= 11));
}

/** What a rootless container's root can be made with, as podman tries them: the kernel's overlay, fuse-overlayfs, a copy. */
export interface RootfsChoices {
  kernelOverlay: boolean;
  /** MINICTR_ROOTLESS_OVERLAY=fuse-overlayfs|copy: skip what comes before (tests, or a kernel overlay that misbehaves). */
  skipTo?: string;
  /** fuse-overlayfs installed, and /dev/fuse open to the user. */
  fuseOverlayfs: boolean;
}

export type RootfsMode = { rootfsMode: 'overlay' | 'copy'; overlayDriver?: 'fuse-overlayfs' };

export function chooseRootlessRootfs(c: RootfsChoices): RootfsMode {
  if (c.kernelOverlay && c.skipTo !== 'fuse-overlayfs' && c.skipTo !== 'copy') return { rootfsMode: 'overlay' };
  if (c.fuseOverlayfs && c.skipTo !== 'copy') return { rootfsMode: 'overlay', overlayDriver: 'fuse-overlayfs' };
  return { rootfsMode: 'copy' };
}

const FUSE_OVERLAYFS = ['/usr/bin/fuse-overlayfs', '/usr/local/bin/fuse-overlayfs'];

export async function rootlessRootfsMode(): Promise<RootfsMode> {
  let filesystems = '';
  try {
    filesystems = readFileSync('/proc/filesystems', 'utf8');
  } catch {
    // unreadable: no kernel overlay
  }
  let fuseDevice = false;
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
    fuseDevice = true;
  } catch {
    // a normal user may not open it here
  }
  const skipTo = process.env['MINICTR_ROOTLESS_OVERLAY'];
  return chooseRootlessRootfs({
    kernelOverlay: overlayInUserNamespace(release(), filesystems),
    ...(skipTo ? { skipTo } : {}),
    fuseOverlayfs: fuseDevice && FUSE_OVERLAYFS.some((p) => existsSync(p)),
  });
}

/** The network modes rootless minictr makes: none and host as rootful, the helpers' modes, the user's own networks. */
export async function validateRootlessNetworking(store: Pick<Store, 'loadNetwork'>, host: HostConfig): Promise<void> {
  for (const spec of host.portSpecs) parsePortSpec(spec);
  const mode = host.networkMode;
  if (mode === 'none' || mode === 'host') {
    if (host.portSpecs.length > 0) {
      throw new MinictrError('E_CONFLICTING_OPTIONS', `conflicting options: port publishing and --network ${mode}; ports are published only with pasta, slirp4netns or a network`);
    }
    return;
  }
  if (ROOTLESS_HELPER_MODES.has(mode)) return;
  if (mode === DEFAULT_NETWORK.name && !(await store.loadNetwork(mode))) {
    throw new MinictrError('E_ROOTLESS_NETWORK', `rootless minictr has no default bridge: use --network pasta or slirp4netns, or a network of your own (minictr network create NAME)`);
  }
  if (!(await store.loadNetwork(mode))) {
    throw new MinictrError('E_NO_SUCH_NETWORK', `network ${mode} not found; list networks with "minictr network ls"`);
  }
}

/** The image store of a runtime: rootless with a subordinate range, unpacked files get their archive owners mapped into it. */
export function imageStoreOptions(ctx: RuntimeContext): ImageStoreOptions {
  const ids = ctx.rootless;
  return {
    runner: ctx.runner,
    ...(ids && fullyMapped(ids)
      ? {
        mapOwners: userNamespaceOwners(ctx.runner, userNamespaceArgs(ids)),
        removeTree: userNamespaceRemover(ctx.runner, userNamespaceArgs(ids)),
        ownerInImage: (o: { uid: number; gid: number }) => ({ uid: idInside(o.uid, ids.uid, ids.uids), gid: idInside(o.gid, ids.gid, ids.gids) }),
      }
      : {}),
  };
}

/**
 * A removal that may meet files of the user's subordinate ids: rootless, a container's processes
 * of other ids (and mapped image files copied up) leave files the user cannot unlink from outside;
 * `dirs` then go inside the user namespace, with one rm.
 */
async function removeMapped(ctx: RuntimeContext, remove: () => Promise<void>, dirs: string[]): Promise<void> {
  try {
    await remove();
  } catch (err) {
    const ids = ctx.rootless;
    if (!ids || !fullyMapped(ids)) throw err;
    await ctx.runner.run(['unshare', ...userNamespaceArgs(ids), '--', 'rm', '-rf', '--', ...dirs]);
  }
}

/** Remove a container's files (rootless: inside the user namespace when they need it). */
export async function removeContainerFiles(ctx: RuntimeContext, id: string, what: 'rootfs' | 'all'): Promise<void> {
  const store = ctx.store;
  const fs = store.paths.containerRootfs(id);
  await removeMapped(ctx, () => (what === 'rootfs' ? store.removeContainerRootfs(id) : store.removeContainer(id)),
    what === 'rootfs' ? [fs.upper, fs.work, fs.merged] : [store.paths.container(id)]);
}

/** Remove a volume, its record first (rootless: files a container's other ids wrote, inside the user namespace). */
export async function removeVolumeFiles(ctx: RuntimeContext, name: string): Promise<void> {
  await removeMapped(ctx, () => ctx.store.removeVolume(name), [ctx.store.paths.volume(name)]);
}
