// `system prune`: every stopped container, every network no container uses, and leftovers no
// record leads back to (namespaces and firewall rules of containers minictr no longer knows).
import { applyPlanBestEffort } from '../exec/apply.js';
import { planOrphanCleanup } from '../network/plan.js';
import { stepOptions, type RuntimeContext } from './context.js';
import { firewallDumps, namedNamespaces } from './gather.js';
import { list } from './lifecycle.js';
import { removeMany } from './remove-many.js';
import { pruneNetworks } from './networks.js';
import { planOrphanCgroups } from '../cgroup/plan.js';
import { CGROUP_PARENT } from './cgroup-life.js';
import { cgroupFacts, listContainerCgroups } from './cgroups.js';

export interface Pruned {
  containers: string[];
  networks: string[];
  /** Leftovers no record held: network namespaces, and how many firewall rules. */
  orphanNamespaces: string[];
  orphanRules: number;
  /** Container cgroups no record held (ids). */
  orphanCgroups: string[];
  warnings: string[];
}

/** How long a cgroup must have stood untouched before it counts as left over: see planOrphanCgroups. */
const ORPHAN_CGROUP_AGE_MS = 60_000;

/** Remove what no record leads back to, under the network lock (an attach records before it creates). */
async function pruneOrphans(ctx: RuntimeContext): Promise<Pick<Pruned, 'orphanNamespaces' | 'orphanRules' | 'orphanCgroups' | 'warnings'>> {
  return ctx.store.lock('network', async () => {
    // Entries of the container index that a crash left without a record go too.
    await ctx.store.index.rebuild();
    const records = await ctx.store.listContainers();
    const held = new Set(records.map((c) => c.id.slice(0, 12)));
    const networks = await ctx.store.listNetworks();
    const [namespaces, dumps, facts] = await Promise.all([namedNamespaces(ctx.runner), firewallDumps(ctx.runner, networks), cgroupFacts()]);
    const found = planOrphanCleanup(held, namespaces, dumps);
    const cgroups = planOrphanCgroups(facts, CGROUP_PARENT, listContainerCgroups(facts, CGROUP_PARENT), new Set(records.map((c) => c.id)), ORPHAN_CGROUP_AGE_MS);
    const reports = await Promise.all([
      applyPlanBestEffort(found.plan, ctx.runner, stepOptions(ctx)),
      applyPlanBestEffort(cgroups.plan, ctx.runner, stepOptions(ctx)),
    ]);
    // A cgroup that refused rmdir (EBUSY: another state root's live container) was not removed: not said.
    const standing = new Set(listContainerCgroups(facts, CGROUP_PARENT).map((c) => c.id));
    return {
      orphanNamespaces: found.namespaces,
      orphanRules: found.rules,
      orphanCgroups: cgroups.ids.filter((id) => !standing.has(id)),
      warnings: reports.flatMap((r) => r.failures.map(({ op, error }) => `could not ${op.why}: ${error.message}`)),
    };
  });
}

export async function systemPrune(ctx: RuntimeContext): Promise<Pruned> {
  const pruned: Pruned = { containers: [], networks: [], orphanNamespaces: [], orphanRules: 0, orphanCgroups: [], warnings: [] };
  const stopped = (await list(ctx, true)).filter((r) => r.state.status !== 'running');
  const { removed } = await removeMany(ctx, stopped.map((r) => r.id), { force: true });
  for (const { record, warnings } of removed) {
    pruned.containers.push(record.id);
    pruned.warnings.push(...warnings);
  }
  const orphans = await pruneOrphans(ctx);
  pruned.networks = await pruneNetworks(ctx);
  return { ...pruned, ...orphans, warnings: [...pruned.warnings, ...orphans.warnings] };
}
