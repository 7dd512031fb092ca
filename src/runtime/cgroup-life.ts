// A container's cgroup over its life: checked with the record, made (limits written) before
// the process starts, read for an OOM kill when it exits, removed at exit and at rm. Planned by
// cgroup/plan.ts and applied through the runner, so --explain shows every mkdir and write.
import { errorMessage } from '../base/errors.js';
import type { Plan } from '../base/plan.js';
import type { CgroupRecord, ContainerRecord, Resources } from '../base/records.js';
import { NO_RESOURCES, validateResources } from '../cgroup/limits.js';
import { cgroupJoinFiles, cgroupPath, planCgroupCreate, planCgroupRemove } from '../cgroup/plan.js';
import { applyPlan, applyPlanBestEffort } from '../exec/apply.js';
import { cgroupFacts, hostCpus, readFreezer, readOomKills } from './cgroups.js';
import { stepOptions, type RuntimeContext } from './context.js';

/** The parent of every container's cgroup, as Docker's is "docker". */
export const CGROUP_PARENT = 'minictr';

/** The spec's limits completed with Docker's zeros, checked against this host as the daemon checks them. */
export async function checkedResources(wanted: Partial<Resources> | undefined): Promise<Resources> {
  const resources = { ...NO_RESOURCES, ...wanted };
  const facts = await cgroupFacts();
  validateResources(resources, hostCpus(facts));
  // Docker's defaults: swap as large as the memory limit (memory + swap = twice it), or
  // unlimited where the kernel does not account swap.
  if (resources.memory > 0 && resources.memorySwap === 0) resources.memorySwap = facts.swapLimit === false ? -1 : resources.memory * 2;
  return resources;
}

/** Where the container's cgroup will be: recorded at create, before anything is made. */
export async function cgroupFor(id: string): Promise<CgroupRecord | undefined> {
  const facts = await cgroupFacts();
  return { version: facts.version, path: cgroupPath(CGROUP_PARENT, id) };
}

/** The cgroup's mkdirs and writes, as a plan (what --dry-run prints). */
export async function planCgroup(record: ContainerRecord): Promise<Plan | undefined> {
  if (!record.cgroup) return undefined;
  return planCgroupCreate(await cgroupFacts(), record.cgroup, { ...NO_RESOURCES, ...record.hostConfig.resources });
}

/** Make the cgroup and write its limits; returns the files the container's init enters it through. */
export async function makeCgroup(ctx: RuntimeContext, record: ContainerRecord): Promise<string[]> {
  if (!record.cgroup) return [];
  const facts = await cgroupFacts();
  const plan = planCgroupCreate(facts, record.cgroup, { ...NO_RESOURCES, ...record.hostConfig.resources });
  try {
    await applyPlan(plan, ctx.runner, stepOptions(ctx));
  } catch (err) {
    await applyPlanBestEffort(planCgroupRemove(facts, record.cgroup), ctx.runner);
    throw err;
  }
  return cgroupJoinFiles(facts, record.cgroup);
}

/**
 * Read whether the kernel's OOM killer struck, then remove the cgroup (its processes are gone).
 * Safe to repeat: a cgroup already removed reads as no OOM kill and removes as nothing.
 */
export async function releaseCgroup(ctx: RuntimeContext, record: ContainerRecord): Promise<{ oomKilled: boolean; warnings: string[] }> {
  if (!record.cgroup) return { oomKilled: false, warnings: [] };
  const facts = await cgroupFacts();
  const oomKilled = (await readOomKills(facts, record.cgroup).catch(() => 0)) > 0;
  const report = await applyPlanBestEffort(planCgroupRemove(facts, record.cgroup), ctx.runner, stepOptions(ctx));
  const warnings = report.failures.map(({ op, error }) => `container ${record.id.slice(0, 12)}: could not remove ${'path' in op ? op.path : 'its cgroup'}: ${errorMessage(error)}`);
  return { oomKilled, warnings };
}

/** Whether the kernel has a running container's cgroup frozen (or on the way to it): the truth of `paused`. */
export async function isFrozen(record: ContainerRecord): Promise<boolean> {
  if (!record.cgroup || record.state.status !== 'running') return false;
  const facts = await cgroupFacts().catch(() => undefined);
  return facts !== undefined && readFreezer(facts, record.cgroup) !== 'thawed';
}

/** The files through which a process enters a container's cgroup (as `exec` does); none without one. */
export async function cgroupJoinOf(record: ContainerRecord): Promise<string[]> {
  return record.cgroup ? cgroupJoinFiles(await cgroupFacts(), record.cgroup) : [];
}
