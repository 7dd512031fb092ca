// The host side of cgroups: where they are mounted, and a container's counters read from its
// cgroup's files. Small kernel files are read blocking, as gather.ts does.
import { existsSync, readFileSync, readdirSync, statSync, statfsSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { MinictrError } from '../base/errors.js';
import type { CgroupRecord } from '../base/records.js';
import type { HostCpus } from '../cgroup/limits.js';
import { cgroupVersion, parseCgroupMounts, pureV2Mounts } from '../cgroup/mounts.js';
import { freezerFiles, oomKillFile, parseFreezerState, parseOomKills, procsFile, type CgroupFacts, type FoundCgroup } from '../cgroup/plan.js';
import { parseCgroupCounters, parseNetDev, parseProcStat, statsFiles, type StatsSample } from '../cgroup/stats.js';

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function fsType(path: string): number | undefined {
  try {
    return statfsSync(path).type;
  } catch {
    return undefined;
  }
}

function firstLine(path: string): string | undefined {
  const text = read(path).trim();
  return text === '' ? undefined : text;
}

/** The facts as read from a host; exported for the one place that caches them. */
export function readCgroupFacts(): CgroupFacts {
  const mounts = pureV2Mounts(fsType('/sys/fs/cgroup'), read('/proc/self/cgroup')) ?? parseCgroupMounts(read('/proc/self/mountinfo'));
  const version = cgroupVersion(mounts);
  if (version === undefined) throw new MinictrError('E_NO_CGROUPS', 'no cgroup hierarchy is mounted (looked for cgroup and cgroup2 in /proc/self/mountinfo)');
  const facts: CgroupFacts = { version, v1: mounts.v1, ...(mounts.unified === undefined ? {} : { unified: mounts.unified }) };
  if (version === 1) {
    const cpuset = mounts.v1.cpuset;
    const cpus = cpuset === undefined ? undefined : firstLine(`${cpuset}/cpuset.cpus`);
    const mems = cpuset === undefined ? undefined : firstLine(`${cpuset}/cpuset.mems`);
    if (cpus !== undefined) facts.cpusetCpus = cpus;
    if (mems !== undefined) facts.cpusetMems = mems;
    const memory = mounts.v1.memory;
    if (memory !== undefined) facts.swapLimit = existsSync(`${memory}/memory.memsw.limit_in_bytes`);
  } else if (mounts.unified !== undefined) {
    const cpus = firstLine(`${mounts.unified}/cpuset.cpus.effective`);
    if (cpus !== undefined) facts.cpusetCpus = cpus;
    facts.controllers = read(`${mounts.unified}/cgroup.controllers`).trim().split(/\s+/).filter(Boolean);
  }
  return facts;
}

let cached: Promise<CgroupFacts> | undefined;

/** The host's cgroup layout, read once per process. */
export function cgroupFacts(): Promise<CgroupFacts> {
  cached ??= Promise.resolve().then(readCgroupFacts).catch((err: unknown) => {
    cached = undefined; // a failure is not remembered: the next call looks again
    throw err;
  });
  return cached;
}

/** What validateResources checks --cpus and --cpuset-cpus against. */
export function hostCpus(facts: CgroupFacts): HostCpus {
  const cpus = availableParallelism();
  return { cpus, cpusetCpus: facts.cpusetCpus ?? firstLine('/sys/devices/system/cpu/online') ?? `0-${cpus - 1}` };
}

/** One sample of a running container's counters; a file that is missing reads as 0. */
export async function readStatsSample(facts: CgroupFacts, record: CgroupRecord, pid: number): Promise<StatsSample> {
  const texts = new Map<string, string>();
  for (const [name, path] of statsFiles(facts, record)) texts.set(name, read(path));
  const counters = parseCgroupCounters(record.version, texts, totalmem());
  const net = pid > 0 ? parseNetDev(read(`/proc/${pid}/net/dev`)) : { rx: 0, tx: 0 };
  return {
    ...counters,
    systemNanos: parseProcStat(read('/proc/stat')),
    onlineCpus: availableParallelism(),
    netRx: net.rx,
    netTx: net.tx,
    at: Date.now(),
  };
}

/** How many times the kernel's OOM killer has killed in the container's cgroup (0 when unknown). */
export async function readOomKills(facts: CgroupFacts, record: CgroupRecord): Promise<number> {
  const file = oomKillFile(facts, record);
  return file === undefined ? 0 : parseOomKills(read(file));
}

/** The freezer's state of a container's cgroup, as the kernel has it ('thawed' when there is no freezer or no cgroup). */
export function readFreezer(facts: CgroupFacts, record: CgroupRecord): 'frozen' | 'freezing' | 'thawed' {
  const files = freezerFiles(facts, record);
  return files === undefined ? 'thawed' : parseFreezerState(record.version, read(files.state));
}

/** The host pids of the container's processes (its cgroup's cgroup.procs); none when it has no cgroup. */
export function readCgroupPids(facts: CgroupFacts, record: CgroupRecord): number[] {
  const file = procsFile(facts, record);
  if (file === undefined) return [];
  return read(file).split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
}

/** The container cgroups under `parent` (read in one hierarchy: every one holds the same ids), with their age. */
export function listContainerCgroups(facts: CgroupFacts, parent: string): FoundCgroup[] {
  const mount = facts.version === 2 ? facts.unified : facts.v1?.['memory'] ?? Object.values(facts.v1 ?? {})[0];
  if (mount === undefined) return [];
  const dir = `${mount}/${parent}`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const now = Date.now();
  return names.filter((n) => /^[0-9a-f]{64}$/.test(n)).flatMap((id) => {
    try {
      return [{ id, ageMs: now - statSync(`${dir}/${id}`).mtimeMs }];
    } catch {
      return [];
    }
  });
}
