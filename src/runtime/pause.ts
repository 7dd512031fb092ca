// `pause` / `unpause`: every process of a container frozen (and thawed) through its cgroup's
// freezer, as Docker's runc does. The writes are planned by cgroup/plan.ts and applied through
// the runner (--explain shows them); the kernel's freezer state is the truth: `state.paused` is
// derived from it at each look (refresh), never stored.
import { MinictrError } from '../base/errors.js';
import { isAlive, sleep } from '../base/proc.js';
import type { ContainerRecord } from '../base/records.js';
import { planFreeze, planThaw } from '../cgroup/plan.js';
import { applyPlan, applyPlanBestEffort } from '../exec/apply.js';
import { cgroupFacts, readFreezer } from './cgroups.js';
import { stepOptions, type RuntimeContext } from './context.js';
import { containerLock } from './attach.js';
import { find } from './lifecycle.js';
import { isFrozen } from './cgroup-life.js';

/** How long the kernel may take to stop every process (runc waits as long, retrying the write). */
const FREEZE_TIMEOUT_MS = 10_000;

/**
 * The record re-read under the container's lock, with `paused` as the kernel has it. Not `find`:
 * its refresh may finalize an exit, which takes this very lock; a process gone meanwhile reads
 * as not running and is left to the next look.
 */
async function current(ctx: RuntimeContext, found: ContainerRecord): Promise<ContainerRecord> {
  const record = (await ctx.store.loadContainer(found.id)) ?? found;
  const alive = record.state.status === 'running' && record.state.pid !== 0 && (await isAlive(record.state.pid, record.state.pidStartTime));
  const state = { ...record.state, status: alive ? record.state.status : record.state.status === 'running' ? 'exited' as const : record.state.status };
  if (alive && (await isFrozen(record))) state.paused = true;
  else delete state.paused;
  return { ...record, state };
}

function notRunning(record: ContainerRecord): MinictrError {
  return new MinictrError('E_NOT_RUNNING', `Container ${record.id} is not running`, { exitCode: 1 });
}

/** Freeze a running container's processes; Docker's errors for one not running or already paused. */
export async function pause(ctx: RuntimeContext, ref: string): Promise<ContainerRecord> {
  const found = await find(ctx, ref);
  return ctx.store.lock(containerLock(found.id), async () => {
    const record = await current(ctx, found);
    if (record.state.status !== 'running') throw notRunning(record);
    if (record.state.paused) throw new MinictrError('E_PAUSED', `Container ${record.id} is already paused`, { exitCode: 1 });
    if (!record.cgroup) throw new MinictrError('E_NO_FREEZER', `Container ${record.id} has no cgroup to freeze (made before minictr had cgroups)`, { exitCode: 1 });
    const facts = await cgroupFacts();
    const plan = planFreeze(facts, record.cgroup);
    if (plan.ops.length === 0) throw new MinictrError('E_NO_FREEZER', 'the freezer cgroup controller is not mounted on this host', { exitCode: 1 });
    const cgroup = record.cgroup;
    try {
      // v1 can stay FREEZING while a process is busy in the kernel: the write is repeated until
      // it reaches FROZEN, as runc does; v2 says `frozen 1` in cgroup.events once it is there.
      const deadline = Date.now() + FREEZE_TIMEOUT_MS;
      await applyPlan(plan, ctx.runner, stepOptions(ctx));
      for (let tries = 0; readFreezer(facts, cgroup) !== 'frozen'; tries++) {
        if (Date.now() > deadline) throw new MinictrError('E_FREEZE_TIMEOUT', `container ${record.id.slice(0, 12)}: its processes did not freeze within ${FREEZE_TIMEOUT_MS / 1000} s`, { exitCode: 1 });
        await sleep(tries < 10 ? 1 : 10);
        if (facts.version === 1 && tries % 10 === 9) await applyPlan(plan, ctx.runner);
      }
    } catch (err) {
      await applyPlanBestEffort(planThaw(facts, cgroup), ctx.runner);
      throw err;
    }
    return { ...record, state: { ...record.state, paused: true } };
  });
}

/** Thaw a paused container; Docker's error for one that is not paused. */
export async function unpause(ctx: RuntimeContext, ref: string): Promise<ContainerRecord> {
  const found = await find(ctx, ref);
  return ctx.store.lock(containerLock(found.id), async () => {
    const record = await current(ctx, found);
    if (record.state.status !== 'running' || !record.state.paused || !record.cgroup) {
      throw new MinictrError('E_NOT_PAUSED', `Container ${record.id} is not paused`, { exitCode: 1 });
    }
    await applyPlan(planThaw(await cgroupFacts(), record.cgroup), ctx.runner, stepOptions(ctx));
    const { paused: _thawed, ...state } = record.state;
    return { ...record, state };
  });
}
