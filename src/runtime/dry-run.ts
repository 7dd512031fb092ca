// `run --dry-run`: everything a run would do to the host, planned and changing nothing (the
// image must already be there: a dry run pulls nothing; the default busybox image is built
// from the host on first use, as for a real run).
import type { ContainerRecord } from '../base/records.js';
import type { AttachPlans } from '../network/plan.js';
import { prepare, resolveSpec, initSpec, type ContainerSpec } from './containers.js';
import type { RuntimeContext } from './context.js';
import { initCommand } from './init-script.js';
import { planContainerAttach } from './attach.js';

export interface RunPlan {
  record: ContainerRecord;
  /** The network part (none for --network none/host). */
  network?: AttachPlans;
  /** Directories the container's writable root needs. */
  dirs: string[];
  /** The container's init, as the monitor would start it. */
  init: { argv: readonly string[]; env: Record<string, string> };
}

export async function planRun(ctx: RuntimeContext, spec: ContainerSpec): Promise<RunPlan> {
  const record = await prepare(ctx, await resolveSpec(ctx, { ...spec, pull: 'never' }));
  if (!record.name) record.name = '<generated>';
  const network = await planContainerAttach(ctx, record, await ctx.store.listContainers());
  const fs = ctx.store.paths.containerRootfs(record.id);
  const init = initCommand(await initSpec(ctx, record, network?.attachment.netns));
  return { record, ...(network ? { network } : {}), dirs: [fs.upper, fs.work, fs.merged], init };
}

