// What a container may do as root: Docker's default capability set, applied with util-linux
// setpriv. setpriv is a host binary that cannot run from inside the container's root, so it
// is started through its loader from an open descriptor of the host's root directory.
import { existsSync, realpathSync } from 'node:fs';
import { readElf } from '../image/elf.js';
import { MinictrError } from '../base/errors.js';

/** Docker's default capabilities (no NET_ADMIN, no SYS_ADMIN, …). */
export const DEFAULT_CAPABILITIES = [
  'chown', 'dac_override', 'fsetid', 'fowner', 'mknod', 'net_raw', 'setgid', 'setuid',
  'setfcap', 'setpcap', 'net_bind_service', 'sys_chroot', 'kill', 'audit_write',
] as const;

export function boundingSet(): string {
  return ['-all', ...DEFAULT_CAPABILITIES.map((c) => `+${c}`)].join(',');
}

/** Host paths (fully resolved) of setpriv, its loader and the library dirs the loader searches. */
export interface PrivilegeTools {
  setpriv: string;
  /** util-linux setsid: with a terminal, the command's session and controlling terminal. */
  setsid?: string;
  loader: string;
  libraryDirs: string[];
}

const LIBRARY_DIRS = [
  '/lib', '/usr/lib', '/lib64', '/usr/lib64',
  `/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
  `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
];

/** setpriv, its ELF loader and the library dirs it may need. */
export function findPrivilegeTools(): PrivilegeTools {
  let setpriv: string;
  try {
    setpriv = realpathSync('/usr/bin/setpriv');
  } catch {
    throw new MinictrError('E_MISSING_TOOL', 'setpriv not found; install util-linux (sudo make install does)');
  }
  const setsid = existsSync('/usr/bin/setsid') ? realpathSync('/usr/bin/setsid') : undefined;
  const elf = readElf(setpriv);
  const loader = elf.interpreter ? realpathSync(elf.interpreter) : '';
  const dirs = LIBRARY_DIRS.filter((d) => existsSync(d)).map((d) => realpathSync(d));
  return { setpriv, ...(setsid ? { setsid } : {}), loader, libraryDirs: [...new Set(dirs)] };
}

/**
 * argv that runs `command` with Docker's capabilities, all host paths reached through
 * `rootFd` (e.g. /proc/self/fd/9, an open descriptor of the host's /). The busybox shell
 * closes it (and every other inherited descriptor) before the command runs.
 */
/** The user a container's process runs as (from --user or the image's User), already resolved. */
export interface ProcessUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

/** setpriv's arguments for switching to `user`; like Docker, its primary group is also a supplementary one. */
export function userArgs(user: ProcessUser | undefined): string[] {
  if (!user) return [];
  const groups = [...new Set([user.gid, ...user.additionalGids])];
  return [`--reuid=${user.uid}`, `--regid=${user.gid}`, `--groups=${groups.join(',')}`];
}

export function dropCapabilitiesArgv(
  tools: PrivilegeTools,
  busybox: string,
  rootFd: number,
  command: string[],
  tail = 'exec "$@"',
  user?: ProcessUser,
  ctty = false,
): string[] {
  const via = (path: string): string => `/proc/self/fd/${rootFd}${path}`;
  const loaded = (path: string): string[] =>
    tools.loader ? [via(tools.loader), '--library-path', tools.libraryDirs.map(via).join(':'), via(path)] : [via(path)];
  // With a terminal (stdin is its slave): a new session whose controlling terminal it is, so the
  // shell gets job control and Ctrl-C reaches its foreground process group, as runc does.
  if (ctty && !tools.setsid) throw new MinictrError('E_MISSING_TOOL', 'setsid not found; install util-linux (sudo make install does)');
  const session = ctty && tools.setsid ? [...loaded(tools.setsid), '--ctty'] : [];
  const setpriv = [...loaded(tools.setpriv), ...userArgs(user), '--bounding-set', boundingSet(), '--'];
  // Every descriptor but stdin/out/err is closed (the host-root one and any minictr inherited).
  const closeAll = 'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done';
  const shell = [via(busybox), 'sh', '-c', `${closeAll}; ${tail}`, 'minictr-init', ...command];
  return [...session, ...setpriv, ...shell];
}
