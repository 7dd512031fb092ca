// The host programs a container's start runs, looked up once per process: the static busybox
// stage 2 runs from, util-linux mount with the kernel paths it masks, and setpriv with its loader.
import { realpath, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { MinictrError } from '../errors.js';
import { findStaticBusybox } from '../image/busybox.js';
import { MASKED_PATHS, READONLY_PATHS, type KernelPath } from './init-script.js';
import { findPrivilegeTools, type PrivilegeTools } from './privileges.js';

export interface HostTools {
  /** Resolved: an absolute symlink, as on merged-/usr hosts, would point into the container after the pivot. */
  busybox: string;
  /** util-linux mount (busybox's has no X-mount.mkdir and no read-only binds). */
  mount: string;
  /** Which of Docker's masked and read-only kernel paths this kernel has (a container's fresh /proc and /sys show the same). */
  masked: KernelPath[];
  readonly: KernelPath[];
  privileges: PrivilegeTools;
}

async function present(paths: readonly string[]): Promise<KernelPath[]> {
  const found = await Promise.all(
    paths.map((path) => stat(path).then((st) => ({ path, dir: st.isDirectory() }), () => undefined)),
  );
  return found.filter((k): k is KernelPath => k !== undefined);
}

async function findMount(): Promise<string> {
  for (const candidate of ['/usr/bin/mount', '/bin/mount']) {
    const real = await realpath(candidate).catch(() => undefined);
    if (real && basename(real) === 'mount') return real;
  }
  throw new MinictrError('E_MISSING_TOOL', 'util-linux mount not found; install the "mount" package (sudo make install does)');
}

async function lookUp(): Promise<HostTools> {
  const [busybox, mount, masked, readonly, privileges] = await Promise.all([
    findStaticBusybox().then((found) => realpath(found.path)),
    findMount(),
    present(MASKED_PATHS),
    present(READONLY_PATHS),
    findPrivilegeTools(),
  ]);
  return { busybox, mount, masked, readonly, privileges };
}

let found: Promise<HostTools> | undefined;

/** Looked up on first use, then kept for the rest of the process. */
export function hostTools(): Promise<HostTools> {
  found ??= lookUp();
  return found;
}
