// `rm -f a b c …` in one pass: every running container killed, then all waited for at once,
// and the network objects of all of them torn down together (one firewall restore per table,
// one batch of namespace deletions), under their locks taken once. Each container's outcome is
// its own, as with one `remove` per argument: a failure or a warning is said of its container.
import { concatBatches } from '../base/plan.js';
import { MinictrError } from '../base/errors.js';
import { processStartTime } from '../base/proc.js';
import type { ContainerRecord } from '../base/records.js';
import { applyBatchBestEffort, type BestEffortReport } from '../exec/apply.js';
import { planContainersTeardown, type TeardownItem } from '../network/plan.js';
import type { LockName } from '../state/lock.js';
import type { Store } from '../state/store.js';
import { containerLock, recordLock, teardownWarnings } from './attach.js';
import { releaseCgroup } from './cgroup-life.js';
import { syncNames } from './containers.js';
import { stepOptions, type RuntimeContext } from './context.js';
import { find, judgeExit, markStopped, pausedRemoval, restartingRemoval, sendSignal, signalPid, waitForExit, writtenNumber, type RemoveOptions, type Removed } from './lifecycle.js';
import { releaseVolumes } from './volumes.js';
import { removeContainerFiles } from './rootless-run.js';

export interface RemovedMany {
  /** In argument order. */
  removed: (Removed & { ref: string })[];
  failed: { ref: string; error: MinictrError }[];
}

interface Target {
  ref: string;
  record: ContainerRecord;
  warnings: string[];
}

export async function removeMany(ctx: RuntimeContext, refs: string[], options: RemoveOptions): Promise<RemovedMany> {
  const failed: RemovedMany['failed'] = [];
  const targets: Target[] = [];
  const seen = new Set<string>();
  for (const ref of refs) {
    try {
      const record = await find(ctx, ref);
      // Named twice: the second is removed already by then, as Docker's one-by-one says.
      if (seen.has(record.id)) throw new MinictrError('E_NO_SUCH_CONTAINER', `no such container: ${ref}`, { exitCode: 1 });
      if (record.state.status === 'running' && !options.force) {
        if (record.state.paused) throw pausedRemoval(record);
        throw new MinictrError('E_RUNNING', `cannot remove container "${record.name}": container is running; stop it first or use rm -f`, { exitCode: 1 });
      }
      if (record.state.restarting && !options.force) throw restartingRemoval(record);
      // Removed by hand: a pending restart is cancelled before anything else.
      if (options.force) await markStopped(ctx, record);
      seen.add(record.id);
      targets.push({ ref, record, warnings: [] });
    } catch (err) {
      if (!(err instanceof MinictrError)) throw err;
      failed.push({ ref, error: err });
    }
  }
  await killAll(ctx, targets);
  await removeRecords(ctx, targets, options.volumes ?? false);
  const removed = targets.map(({ ref, record, warnings }) => {
    const { network: _gone, ...rest } = record;
    return { ref, record: rest, warnings };
  });
  return { removed, failed };
}

/** SIGKILL every running one (kill marks first: their monitors leave the exit to us), wait for all, judge each exit. */
async function killAll(ctx: RuntimeContext, targets: Target[]): Promise<void> {
  const running = targets.filter((t) => t.record.state.status === 'running');
  for (const t of running) {
    if (t.record.state.pid === 0) {
      // minictr died between starting the monitor and recording the pid: the init wrote it.
      const pid = writtenNumber(ctx.store.paths.containerPidFile(t.record.id)) ?? 0;
      if (pid > 0) t.record = { ...t.record, state: { ...t.record.state, pid, pidStartTime: await processStartTime(pid) } };
    }
    if (t.record.state.pid !== 0) await sendSignal(ctx, t.record, 'SIGKILL');
    else if (t.record.state.monitorPid !== 0) signalPid(t.record.state.monitorPid, 'SIGKILL');
  }
  await Promise.all(running.map((t) => waitForExit(t.record, 10_000)));
  // Judged, not saved: the records are forgotten below. A crash before that leaves them
  // "running" with a dead process and a kill mark, which the next look finalizes as 137.
  await Promise.all(
    running.map(async (t) => {
      const { exited, cgroup } = await judgeExit(ctx, t.record);
      const record: ContainerRecord = { ...t.record, state: { ...t.record.state } };
      exited(record);
      t.record = record;
      t.warnings.push(...cgroup.warnings);
    }),
  );
  // A crash between exit and finalize leaves the cgroup of a stopped one: it goes with the record.
  await Promise.all(
    targets
      .filter((t) => !running.includes(t))
      .map(async (t) => t.warnings.push(...(await releaseCgroup(ctx, t.record)).warnings)),
  );
}

/** Take locks one inside another, in the order given. */
function withLocks<T>(store: Store, names: LockName[], fn: () => Promise<T>): Promise<T> {
  const [first, ...rest] = names;
  return first === undefined ? fn() : store.lock(first, () => withLocks(store, rest, fn));
}

/**
 * removeRecord of many: under every container's lock (taken in id order, so two batches never
 * wait on each other crosswise), then `network`, each record is re-read (a start may have
 * attached it anew), all are torn down together, and only then forgotten: a crash in between
 * still leaves every record to tear down from. The files go last.
 */
async function removeRecords(ctx: RuntimeContext, targets: Target[], volumes: boolean): Promise<void> {
  const { store } = ctx;
  if (targets.length === 0) return;
  const rootfs = targets.map((t) => removeContainerFiles(ctx, t.record.id, 'rootfs'));
  for (const p of rootfs) p.catch(() => undefined);
  const ids = targets.map((t) => t.record.id).sort();
  const networks = await withLocks(store, ids.map(containerLock), () => store.lock('network', async () => {
    const items: (TeardownItem & { target: Target })[] = [];
    const extras: (TeardownItem & { target: Target })[] = [];
    for (const target of targets) {
      // Gone meanwhile: another removal tore it down under these same locks.
      const current = await store.loadContainer(target.record.id);
      const attachment = current?.network;
      if (attachment) items.push({ owner: target.record.id, attachment, target, ...netOf(await store.loadNetwork(attachment.network)) });
      // Networks joined with `network connect`: their rules; their interfaces go with the namespace.
      for (const extra of current?.extraNetworks ?? []) extras.push({ owner: target.record.id, attachment: extra, target, ...netOf(await store.loadNetwork(extra.network)) });
    }
    const planned = planContainersTeardown(items);
    const links = planned.links;
    const firewall = concatBatches(planned.firewall.title, planned.firewall, planContainersTeardown(extras).firewall);
    const reports = await Promise.all([applyBatchBestEffort(firewall, ctx.runner, stepOptions(ctx)), applyBatchBestEffort(links, ctx.runner, stepOptions(ctx))]);
    for (const { owner, target } of items) {
      const mine = reports.map((r) => r.get(owner)).filter((r): r is BestEffortReport => r !== undefined);
      target.warnings.push(...mine.flatMap((r) => teardownWarnings(r, target.record)));
    }
    await store.lock('containers', async () => {
      for (const id of ids) await store.lock(recordLock(id), async () => store.forgetContainer(id));
    });
    return new Set([...items, ...extras].map((i) => i.attachment.network));
  }));
  await Promise.all(rootfs);
  for (const t of targets) await removeContainerFiles(ctx, t.record.id, 'all');
  for (const network of networks) await syncNames(ctx, network);
  // Anonymous volumes go with their container, unless another still uses one (--volumes-from).
  if (volumes) for (const t of targets) await releaseVolumes(ctx, t.record);
}

function netOf(net: TeardownItem['net']): Pick<TeardownItem, 'net'> {
  return net ? { net } : {};
}
