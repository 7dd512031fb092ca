// `system prune`: every stopped container, every network no container uses.
import type { RuntimeContext } from './context.js';
import { list, remove } from './lifecycle.js';
import { pruneNetworks } from './networks.js';

export interface Pruned {
  containers: string[];
  networks: string[];
  warnings: string[];
}

export async function systemPrune(ctx: RuntimeContext): Promise<Pruned> {
  const pruned: Pruned = { containers: [], networks: [], warnings: [] };
  for (const record of await list(ctx, true)) {
    if (record.state.status === 'running') continue;
    const { warnings } = await remove(ctx, record.id, true);
    pruned.containers.push(record.id);
    pruned.warnings.push(...warnings);
  }
  pruned.networks = await pruneNetworks(ctx);
  return pruned;
}
