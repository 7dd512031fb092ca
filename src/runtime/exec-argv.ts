// The nsenter command that joins a running container (pure).
import type { Argv } from '../plan/types.js';

/**
 * Join every namespace of the container's first process, its root and a working directory.
 * nsenter opens --wd's path before it enters the root, so the path goes through
 * /proc/PID/root to land inside the container.
 */
export function execArgv(pid: number, workdir: string, command: string[]): Argv {
  return [
    'nsenter', `--target=${pid}`, '--mount', '--uts', '--ipc', '--net', '--pid',
    '--root', `--wd=/proc/${pid}/root${workdir && workdir !== '/' ? workdir : ''}`, '--', ...command,
  ];
}
