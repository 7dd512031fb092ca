// `stats`: what each container's cgroup and network namespace counted, sampled from the kernel.
import type { ContainerRecord } from '../base/records.js';
import type { StatsSample } from '../cgroup/stats.js';
import { cgroupFacts, readStatsSample } from './cgroups.js';
import type { RuntimeContext } from './context.js';
import { find, list } from './lifecycle.js';

/** The containers `stats` shows: those named, else the running ones (all with `-a`). */
export async function statsTargets(ctx: RuntimeContext, refs: string[], all: boolean): Promise<ContainerRecord[]> {
  if (refs.length > 0) return Promise.all(refs.map((ref) => find(ctx, ref)));
  return list(ctx, all);
}

const ZERO: Omit<StatsSample, 'at'> = {
  cpuNanos: 0, systemNanos: 0, onlineCpus: 0, memUsage: 0, memLimit: 0, netRx: 0, netTx: 0, blkRead: 0, blkWrite: 0, pids: 0,
};

/** One sample of a container's counters; zeros for a container that is not running (as Docker shows it). */
export async function sampleStats(record: ContainerRecord): Promise<StatsSample> {
  if (record.state.status !== 'running' || !record.cgroup) return { ...ZERO, at: Date.now() };
  return readStatsSample(await cgroupFacts(), record.cgroup, record.state.pid);
}
