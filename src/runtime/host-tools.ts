// The host programs a container's start runs, looked up once per process: the static busybox
// stage 2 runs from, util-linux mount with the kernel paths it masks, and setpriv with its loader.
// Blocking calls on purpose: ~30 tiny stat/realpath/header reads take well under a millisecond
// this way, while as many asynchronous ones would queue in Node's 4-thread pool ahead of the
// container's own record and lock I/O.
import { realpathSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { MinictrError } from '../base/errors.js';
import { staticBusyboxPath } from '../image/busybox.js';
import { MASKED_PATHS, READONLY_PATHS, type KernelPath } from './init-script.js';
import { findPrivilegeTools, type PrivilegeTools } from './privileges.js';

export interface HostTools {
  /** Resolved: an absolute symlink, as on merged-/usr hosts, would point into the container after the pivot. */
  busybox: string;
  /** util-linux mount (busybox's has no X-mount.mkdir and no read-only binds). */
  mount: string;
  /** util-linux unshare, by path: stage 1's busybox would run its own applet, which has no --cgroup. */
  unshare: string;
  /** Which of Docker's masked and read-only kernel paths this kernel has (a container's fresh /proc and /sys show the same). */
  masked: KernelPath[];
  readonly: KernelPath[];
  privileges: PrivilegeTools;
}

function present(paths: readonly string[]): KernelPath[] {
  return paths.flatMap((path) => {
    try {
      return [{ path, dir: statSync(path).isDirectory() }];
    } catch {
      return []; // not on this kernel
    }
  });
}

/** A util-linux program by its real path (not busybox's applet of the same name). */
function findUtilLinux(name: string, pkg: string): string {
  for (const candidate of [`/usr/bin/${name}`, `/bin/${name}`]) {
    let real: string;
    try {
      real = realpathSync(candidate);
    } catch {
      continue;
    }
    if (basename(real) === name) return real;
  }
  throw new MinictrError('E_MISSING_TOOL', `util-linux ${name} not found; install the "${pkg}" package (sudo make install does)`);
}

let found: HostTools | undefined;

/** Looked up on first use, then kept for the rest of the process. */
export function hostTools(): HostTools {
  found ??= {
    busybox: realpathSync(staticBusyboxPath()),
    mount: findUtilLinux('mount', 'mount'),
    unshare: findUtilLinux('unshare', 'util-linux'),
    masked: present(MASKED_PATHS),
    readonly: present(READONLY_PATHS),
    privileges: findPrivilegeTools(),
  };
  return found;
}

/** Static builds of an init Docker's --init can use, in order of preference (Debian's tini: /usr/bin/tini-static). */
const DOCKER_INIT_CANDIDATES = ['/usr/bin/tini-static', '/usr/libexec/docker/docker-init'];

let dockerInit: string | undefined;

/**
 * The static tini `--init` bind-mounts at /sbin/docker-init: static, because it runs inside the
 * container's root, where the host's libraries are not. Looked up only when a container asks for it.
 */
export function dockerInitPath(): string {
  if (dockerInit) return dockerInit;
  for (const candidate of DOCKER_INIT_CANDIDATES) {
    try {
      const real = realpathSync(candidate);
      if (statSync(real).isFile()) return (dockerInit = real);
    } catch {
      // not installed here
    }
  }
  throw new MinictrError('E_MISSING_TOOL', 'a static tini for --init was not found (/usr/bin/tini-static); install the "tini" package (sudo make install does)');
}
