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
export function execArgv(pid: number, workdir: string, command: string[], tools: PrivilegeTools, busybox: string, user?: ProcessUser): Argv {
  return [
    'nsenter', `--target=${pid}`, '--mount', '--uts', '--ipc', '--net', '--pid',
    '--root', `--wd=/proc/${pid}/root${workdir && workdir !== '/' ? workdir : ''}`, '--',
    // The same capabilities as the container's own process.
    ...dropCapabilitiesArgv(tools, busybox, EXEC_ROOT_FD, command, undefined, user),
  ];
}
