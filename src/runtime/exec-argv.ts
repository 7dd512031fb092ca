// The nsenter command that joins a running container (pure).
import type { Argv } from '../base/plan.js';
import { dropCapabilitiesArgv, type PrivilegeTools, type ProcessUser } from './privileges.js';

/** nsenter is given the host's / as this descriptor; setpriv is reached through it. */
export const EXEC_ROOT_FD = 3;

/**
 * Join every namespace of the container's first process, its root and a working directory.
 * nsenter opens --wd's path before it enters the root, so the path goes through
 * /proc/PID/root to land inside the container.
 */
export function execArgv(
  pid: number, workdir: string, command: string[], tools: PrivilegeTools, busybox: string, user?: ProcessUser, cgroupJoin: string[] = [],
  ctty = false,
  userns = false,
): Argv {
  const nsenter = [
    // Rootless: its user namespace first, by a process of its own (it becomes root there, the
    // user), then the others it owns: a fuse-overlayfs root answers only processes inside that
    // user namespace, and nsenter opens --root and --wd before it enters any namespace.
    ...(userns ? ['nsenter', `--target=${pid}`, '--user', '--'] : []),
    'nsenter', `--target=${pid}`, '--mount', '--uts', '--ipc', '--net', '--pid', ...(cgroupJoin.length > 0 ? ['--cgroup'] : []),
    '--root', `--wd=/proc/${pid}/root${workdir && workdir !== '/' ? workdir : ''}`, '--',
    // The same capabilities as the container's own process.
    ...dropCapabilitiesArgv(tools, busybox, EXEC_ROOT_FD, command, undefined, user, ctty),
  ];
  if (cgroupJoin.length === 0) return nsenter;
  // Into the container's cgroups first (its limits count the exec'd command too, as Docker's do),
  // so the cgroup namespace nsenter joins shows the container's cgroup as /.
  return ['/bin/sh', '-c', JOIN_CGROUPS, 'minictr-exec', String(cgroupJoin.length), ...cgroupJoin, ...nsenter];
}

/** `JOIN_CGROUPS N file… command…`: enter the cgroup through N files ("0": this task), then exec the command. */
const JOIN_CGROUPS = String.raw`n=$1; shift
while [ "$n" -gt 0 ]; do echo 0 > "$1" || exit 126; shift; n=$((n - 1)); done
exec "$@"`;
