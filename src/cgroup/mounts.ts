// Where the cgroup hierarchies are mounted, from /proc/self/mountinfo's text, or on a pure
// cgroup v2 host from two cheaper facts (pure: the runtime reads them).
import { V1_CONTROLLERS } from './plan.js';

export interface CgroupMounts {
  /** v1 controller → its mount dir; only the controllers minictr uses. */
  v1: Record<string, string>;
  /** The cgroup2 mount, if any (on a hybrid host it holds no controller). */
  unified?: string;
}

/** mountinfo escapes spaces and the like in paths as octal ("\040"). */
function unescape(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseCgroupMounts(mountinfo: string): CgroupMounts {
  const out: CgroupMounts = { v1: {} };
  const wanted = new Set<string>(V1_CONTROLLERS);
  for (const line of mountinfo.split('\n')) {
    // "36 25 0:31 / /sys/fs/cgroup/memory rw,… shared:15 - cgroup cgroup rw,memory"
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const mountPoint = left.split(' ')[4];
    const [fsType, , superOptions = ''] = right.split(' ');
    if (mountPoint === undefined) continue;
    if (fsType === 'cgroup2') out.unified ??= unescape(mountPoint);
    if (fsType !== 'cgroup') continue;
    for (const option of superOptions.split(',')) {
      if (wanted.has(option)) out.v1[option] ??= unescape(mountPoint);
    }
  }
  return out;
}

/** Hybrid counts as v1: the limits live in the v1 controllers when any is mounted. */
export function cgroupVersion(mounts: CgroupMounts): 1 | 2 | undefined {
  if (Object.keys(mounts.v1).length > 0) return 1;
  return mounts.unified === undefined ? undefined : 2;
}

/** statfs(2)'s f_type of cgroup2 (linux/magic.h). */
export const CGROUP2_SUPER_MAGIC = 0x63677270;

/**
 * A pure cgroup v2 host's layout without the mount table: /sys/fs/cgroup is cgroup2 and the
 * process is in no v1 hierarchy (/proc/self/cgroup has only its "0::" line). Beside 1,000
 * containers the mount table holds a line per network namespace, and reading it takes 5 ms.
 * undefined: the host is laid out otherwise; read the mount table.
 */
export function pureV2Mounts(sysFsCgroupType: number | undefined, procSelfCgroup: string): CgroupMounts | undefined {
  if (sysFsCgroupType !== CGROUP2_SUPER_MAGIC) return undefined;
  const lines = procSelfCgroup.split('\n').filter((l) => l !== '');
  return lines.length > 0 && lines.every((l) => l.startsWith('0::')) ? { v1: {}, unified: '/sys/fs/cgroup' } : undefined;
}
