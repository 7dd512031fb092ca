// A container's cgroup as plans: the directories under each controller (v1) or the unified
// tree (v2), the limits written into their files, and their removal. Pure: the mounts come in
// as facts, the cgroup's path from the container's record.
import { mkdirOp, rmdirOp, write, type Op, type Plan } from '../base/plan.js';
import type { CgroupRecord, Resources } from '../base/records.js';

export interface CgroupFacts {
  version: 1 | 2;
  /** v1: controller name → its mount dir (co-mounted controllers share one). */
  v1?: Record<string, string>;
  /** v2: the unified mount (on a hybrid host too, where it holds no controller). */
  unified?: string;
  /** v1 cpuset: the parent's cpus/mems, copied down since a new cpuset cgroup starts empty. */
  cpusetCpus?: string;
  cpusetMems?: string;
  /** v2: the controllers the root offers (cgroup.controllers); absent = every one minictr uses. */
  controllers?: string[];
  /** Whether the kernel accounts swap (v1: memory.memsw.* exist); false leaves the swap limit out, as Docker does. */
  swapLimit?: boolean;
}

/** The v1 controllers a container gets a cgroup under, in the order they are made. */
export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'freezer', 'blkio', 'devices'] as const;
/** The v2 controllers enabled for containers. */
export const V2_CONTROLLERS = ['cpu', 'memory', 'pids', 'cpuset', 'io'] as const;

/** v1 cfs period: Docker's 100 ms, so the quota is the CPUs × 100 ms. */
export const CFS_PERIOD_US = 100_000;

/** A container's cgroup path below the mounts: "minictr/<id>". */
export function cgroupPath(parent: string, id: string): string {
  return `${parent.replace(/\/+$/, '')}/${id}`;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '' : path.slice(0, i);
}

/** The distinct v1 mount dirs, each with the first controller named for it (cpu and cpuacct often share one). */
function v1Mounts(facts: CgroupFacts): { controller: string; dir: string }[] {
  const seen = new Set<string>();
  const out: { controller: string; dir: string }[] = [];
  for (const controller of V1_CONTROLLERS) {
    const dir = facts.v1?.[controller];
    if (dir === undefined || seen.has(dir)) continue;
    seen.add(dir);
    out.push({ controller, dir });
  }
  return out;
}

/** The container's directories: one per distinct v1 mount, or the one in the unified tree. */
export function cgroupDirs(facts: CgroupFacts, record: CgroupRecord): string[] {
  if (record.version === 2) return facts.unified === undefined ? [] : [`${facts.unified}/${record.path}`];
  return v1Mounts(facts).map((m) => `${m.dir}/${record.path}`);
}

/** The dir of one controller's cgroup (v2: the unified one), or undefined when it is not mounted. */
export function controllerDir(facts: CgroupFacts, record: CgroupRecord, controller: string): string | undefined {
  const mount = record.version === 2 ? facts.unified : facts.v1?.[controller];
  return mount === undefined ? undefined : `${mount}/${record.path}`;
}

const MiB = 1024 * 1024;

/** Bytes as a learner reads them in a why: "32 MiB", "1536 KiB", "100 bytes". */
function amount(bytes: number): string {
  if (bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

function cpus(nanoCpus: number): string {
  return `${nanoCpus / 1e9} CPU${nanoCpus === 1e9 ? '' : 's'}`;
}

/** runc's conversion of cgroup v1 shares [2, 262144] to a v2 weight [1, 10000]. */
export function sharesToWeight(shares: number): number {
  const clamped = Math.min(Math.max(shares, 2), 262_144);
  return 1 + Math.floor(((clamped - 2) * 9999) / 262_142);
}

function mkdirs(parents: string[], dirs: string[]): Op[] {
  return [
    ...parents.map((p) => mkdirOp(p, 'the parent of every minictr cgroup (made by the first container, kept for the next)', { tolerate: /EEXIST/ })),
    // A start after a crash finds the cgroup of its last run; every limit below is written again.
    ...dirs.map((d) => mkdirOp(d, "the container's own cgroup: the kernel fills it with the controller's files", { tolerate: /EEXIST/ })),
  ];
}

function v1Limits(facts: CgroupFacts, record: CgroupRecord, r: Resources): Op[] {
  const at = (controller: string, file: string): string | undefined => {
    const dir = controllerDir(facts, record, controller);
    return dir === undefined ? undefined : `${dir}/${file}`;
  };
  const ops: Op[] = [];
  const add = (path: string | undefined, content: string, why: string): void => {
    if (path !== undefined) ops.push(write(path, content, why));
  };
  if (r.memory > 0) {
    add(at('memory', 'memory.limit_in_bytes'), String(r.memory), `cap memory at ${amount(r.memory)}: the kernel's OOM killer ends the container beyond it`);
  }
  // After memory.limit_in_bytes: the kernel refuses a memory+swap limit below the memory limit.
  if (r.memorySwap !== 0 && facts.swapLimit !== false) {
    add(
      at('memory', 'memory.memsw.limit_in_bytes'),
      String(r.memorySwap),
      r.memorySwap < 0 ? 'let the container swap without limit' : `cap memory plus swap at ${amount(r.memorySwap)}`,
    );
  }
  if (r.memoryReservation > 0) {
    add(at('memory', 'memory.soft_limit_in_bytes'), String(r.memoryReservation), `a soft limit of ${amount(r.memoryReservation)}: the first memory the kernel reclaims when the host runs short`);
  }
  if (r.nanoCpus > 0) {
    add(at('cpu', 'cpu.cfs_period_us'), String(CFS_PERIOD_US), 'count CPU time in periods of 100 ms');
    add(at('cpu', 'cpu.cfs_quota_us'), String(Math.round((r.nanoCpus * CFS_PERIOD_US) / 1e9)), `at most ${cpus(r.nanoCpus)}: CPU time per period, then the container waits for the next`);
  }
  if (r.cpuShares > 0) {
    add(at('cpu', 'cpu.shares'), String(r.cpuShares), `a CPU weight of ${r.cpuShares} (1024 is a default container's), felt only when CPUs are busy`);
  }
  if (r.cpusetCpus !== '') add(at('cpuset', 'cpuset.cpus'), r.cpusetCpus, `run only on CPUs ${r.cpusetCpus}`);
  add(at('pids', 'pids.max'), r.pidsLimit > 0 ? String(r.pidsLimit) : 'max', r.pidsLimit > 0 ? `at most ${r.pidsLimit} processes and threads: a fork bomb stops there` : 'no limit on processes');
  return ops;
}

/** v1 cpuset: a new cgroup has no CPUs and no memory nodes, so no process may join it until they are copied down. */
function v1Cpuset(facts: CgroupFacts, record: CgroupRecord): Op[] {
  const mount = facts.v1?.cpuset;
  if (mount === undefined || facts.cpusetCpus === undefined || facts.cpusetMems === undefined) return [];
  const parent = parentOf(record.path);
  const dirs = [...(parent === '' ? [] : [`${mount}/${parent}`]), `${mount}/${record.path}`];
  return dirs.flatMap((dir) => [
    write(`${dir}/cpuset.cpus`, facts.cpusetCpus ?? '', "the host's CPUs: a new cpuset cgroup starts with none"),
    write(`${dir}/cpuset.mems`, facts.cpusetMems ?? '', "the host's memory nodes: a new cpuset cgroup starts with none"),
  ]);
}

function v2Limits(facts: CgroupFacts, record: CgroupRecord, r: Resources): Op[] {
  const dir = controllerDir(facts, record, '');
  if (dir === undefined) return [];
  const ops: Op[] = [];
  const add = (file: string, content: string, why: string): void => {
    ops.push(write(`${dir}/${file}`, content, why));
  };
  if (r.memory > 0) add('memory.max', String(r.memory), `cap memory at ${amount(r.memory)}: the kernel's OOM killer ends the container beyond it`);
  if (r.memorySwap !== 0 && facts.swapLimit !== false) {
    // Docker's --memory-swap counts memory plus swap; v2 limits swap alone.
    const swap = r.memorySwap < 0 ? 'max' : String(Math.max(r.memorySwap - r.memory, 0));
    add('memory.swap.max', swap, r.memorySwap < 0 ? 'let the container swap without limit' : `cap swap at ${amount(Math.max(r.memorySwap - r.memory, 0))} (--memory-swap minus --memory)`);
  }
  if (r.memoryReservation > 0) {
    add('memory.low', String(r.memoryReservation), `protect ${amount(r.memoryReservation)} from reclaim while the host has other memory to take`);
  }
  if (r.nanoCpus > 0) {
    add('cpu.max', `${Math.round((r.nanoCpus * CFS_PERIOD_US) / 1e9)} ${CFS_PERIOD_US}`, `at most ${cpus(r.nanoCpus)}: CPU time per 100 ms period, then the container waits for the next`);
  }
  if (r.cpuShares > 0) {
    add('cpu.weight', String(sharesToWeight(r.cpuShares)), `CPU shares ${r.cpuShares} as a v2 weight (100 is a default container's), felt only when CPUs are busy`);
  }
  if (r.cpusetCpus !== '') add('cpuset.cpus', r.cpusetCpus, `run only on CPUs ${r.cpusetCpus}`);
  add('pids.max', r.pidsLimit > 0 ? String(r.pidsLimit) : 'max', r.pidsLimit > 0 ? `at most ${r.pidsLimit} processes and threads: a fork bomb stops there` : 'no limit on processes');
  return ops;
}

/** v2: a controller reaches a cgroup only when every ancestor enables it for its children. */
function v2Enable(facts: CgroupFacts, record: CgroupRecord): Op[] {
  const unified = facts.unified;
  if (unified === undefined) return [];
  const wanted = V2_CONTROLLERS.filter((c) => facts.controllers === undefined || facts.controllers.includes(c));
  if (wanted.length === 0) return [];
  const content = wanted.map((c) => `+${c}`).join(' ');
  const parent = parentOf(record.path);
  const levels = ['', ...parent.split('/').filter(Boolean).map((_, i, parts) => parts.slice(0, i + 1).join('/'))];
  return levels.map((level) => {
    const dir = level === '' ? unified : `${unified}/${level}`;
    return write(`${dir}/cgroup.subtree_control`, content, `let the cgroups below ${level === '' ? 'the root' : level} use the ${wanted.join(', ')} controllers`);
  });
}

/** Make the container's cgroup and write its limits; applied before its first process starts. */
export function planCgroupCreate(facts: CgroupFacts, record: CgroupRecord, r: Resources): Plan {
  const title = `create cgroup ${record.path}`;
  const parent = parentOf(record.path);
  if (record.version === 2) {
    if (facts.unified === undefined) return { title, ops: [] };
    const parents = parent === '' ? [] : [`${facts.unified}/${parent}`];
    const enable = v2Enable(facts, record);
    // The parent must exist before its subtree_control is written, and be written before the child is made.
    return {
      title,
      ops: [...mkdirs(parents, []), ...enable, ...mkdirs([], cgroupDirs(facts, record)), ...v2Limits(facts, record, r)],
    };
  }
  const mounts = v1Mounts(facts);
  const parents = parent === '' ? [] : mounts.map((m) => `${m.dir}/${parent}`);
  return {
    title,
    ops: [...mkdirs(parents, cgroupDirs(facts, record)), ...v1Cpuset(facts, record), ...v1Limits(facts, record, r)],
  };
}

/**
 * Remove the container's cgroup once its processes are gone. Planned from the record alone: a
 * cgroup already gone (a crash, a reboot) counts as removed.
 */
export function planCgroupRemove(facts: CgroupFacts, record: CgroupRecord): Plan {
  return {
    title: `remove cgroup ${record.path}`,
    ops: cgroupDirs(facts, record).map((dir) => rmdirOp(dir, "remove the container's cgroup (empty now: its processes are gone)", { tolerate: /ENOENT/ })),
  };
}

/** The files a process writes "0" into to enter the container's cgroup itself (v1: one per mount). */
export function cgroupJoinFiles(facts: CgroupFacts, record: CgroupRecord): string[] {
  // v1: the task file, to which "0" moves the writing thread alone, without the kernel's global
  // threadgroup lock (whose first writer waits an RCU grace period, ~10 ms here); v2: cgroup.procs.
  return cgroupDirs(facts, record).map((dir) => `${dir}/${facts.version === 1 ? 'tasks' : 'cgroup.procs'}`);
}

/** Where the kernel counts the OOM kills in the cgroup: v1 memory.oom_control, v2 memory.events. */
export function oomKillFile(facts: CgroupFacts, record: CgroupRecord): string | undefined {
  const dir = controllerDir(facts, record, 'memory');
  if (dir === undefined) return undefined;
  return `${dir}/${record.version === 2 ? 'memory.events' : 'memory.oom_control'}`;
}

/** The `oom_kill N` line of memory.oom_control or memory.events; 0 when absent (kernels before 4.13). */
export function parseOomKills(text: string): number {
  const m = /^oom_kill (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/**
 * Where the freezer is set and read: v1 the freezer controller's freezer.state (FROZEN/THAWED,
 * FREEZING while the kernel gets there); v2 cgroup.freeze (1/0), reached when cgroup.events says
 * `frozen 1`. Undefined when the freezer is not mounted.
 */
export function freezerFiles(facts: CgroupFacts, record: CgroupRecord): { set: string; state: string } | undefined {
  const dir = controllerDir(facts, record, 'freezer');
  if (dir === undefined) return undefined;
  return record.version === 2 ? { set: `${dir}/cgroup.freeze`, state: `${dir}/cgroup.events` } : { set: `${dir}/freezer.state`, state: `${dir}/freezer.state` };
}

/** Freeze every process of the container's cgroup (`pause`): they stop where they are, holding their memory. */
export function planFreeze(facts: CgroupFacts, record: CgroupRecord): Plan {
  const files = freezerFiles(facts, record);
  const why = "freeze every process of the container's cgroup: the scheduler skips them until they are thawed";
  return { title: `freeze cgroup ${record.path}`, ops: files === undefined ? [] : [write(files.set, record.version === 2 ? '1' : 'FROZEN', why)] };
}

/** Thaw the container's cgroup (`unpause`, and before a stop or kill: a frozen process cannot die). */
export function planThaw(facts: CgroupFacts, record: CgroupRecord): Plan {
  const files = freezerFiles(facts, record);
  const why = "thaw the container's cgroup: its processes run again from where they stopped";
  return { title: `thaw cgroup ${record.path}`, ops: files === undefined ? [] : [write(files.set, record.version === 2 ? '0' : 'THAWED', why)] };
}

/**
 * What the freezer's state file says: 'frozen' once the kernel has stopped every process,
 * 'freezing' on the way (v1 FREEZING), 'thawed' otherwise.
 */
export function parseFreezerState(version: 1 | 2, text: string): 'frozen' | 'freezing' | 'thawed' {
  if (version === 2) return /^frozen 1$/m.test(text) ? 'frozen' : 'thawed';
  const state = text.trim();
  return state === 'FROZEN' ? 'frozen' : state === 'FREEZING' ? 'freezing' : 'thawed';
}

/** The file listing the container's processes (host pids): v1 under the pids controller (or the first mounted), v2 the unified one. */
export function procsFile(facts: CgroupFacts, record: CgroupRecord): string | undefined {
  const dir = record.version === 2 ? controllerDir(facts, record, '') : (controllerDir(facts, record, 'pids') ?? cgroupDirs(facts, record)[0]);
  return dir === undefined ? undefined : `${dir}/cgroup.procs`;
}

/** A container cgroup found under minictr's parent, with how long ago it was last touched. */
export interface FoundCgroup {
  id: string;
  ageMs: number;
}

/**
 * Removing container cgroups no record of this root names (a crash's leftovers), by their dirs
 * under every controller. Only ones untouched for `minAgeMs`: another state root's container
 * may be between making its cgroup and entering it. A cgroup with processes refuses rmdir
 * (EBUSY): it belongs to a live container, and is left, silently.
 */
export function planOrphanCgroups(facts: CgroupFacts, parent: string, found: FoundCgroup[], held: ReadonlySet<string>, minAgeMs: number): { ids: string[]; plan: Plan } {
  const ids = found.filter((c) => !held.has(c.id) && c.ageMs >= minAgeMs).map((c) => c.id).sort();
  const ops = ids.flatMap((id) =>
    cgroupDirs(facts, { version: facts.version, path: cgroupPath(parent, id) }).map((dir) =>
      rmdirOp(dir, 'remove a container cgroup no record leads back to', { tolerate: /ENOENT|EBUSY/ })),
  );
  return { ids, plan: { title: 'remove cgroups no record holds', ops } };
}
