// `network update -o firewall=…`: move a network's rules, and its containers', from one firewall
// driver to the other while they run. The new driver's rules go in first (what the dump lacks,
// as a repair would), then the record names the new driver, then the old driver's rules go: no
// moment without rules, and none of the old ones left.
import { MinictrError } from '../base/errors.js';
import { concatPlans } from '../base/plan.js';
import type { NetworkRecord } from '../base/records.js';
import { applyPlan, applyPlanBestEffort } from '../exec/apply.js';
import { firewallDriverFor } from '../network/drivers.js';
import { attachedTo, planRepair } from '../network/plan.js';
import { stepOptions, type RuntimeContext } from './context.js';
import { checkFirewallUsable, firewallChoice } from './firewall-choice.js';
import { firewallDump } from './gather.js';
import { resolveNetwork } from './networks.js';

export interface FirewallSwitch {
  network: NetworkRecord;
  /** The driver it had ('' when it was already on the one asked for). */
  from: string;
  /** What the old driver could not remove (left on the host). */
  warnings: string[];
}

export async function switchFirewall(ctx: RuntimeContext, name: string, option: string): Promise<FirewallSwitch> {
  const { store, runner } = ctx;
  const to = firewallChoice(store, option);
  return store.lock('network', async () => {
    const net = await resolveNetwork(store, name);
    const recorded = await store.loadNetwork(name);
    const from = firewallDriverFor(net);
    if (from.name === to) return { network: net, from: '', warnings: [] };
    await checkFirewallUsable(runner, to);
    const moved: NetworkRecord = { ...net, firewall: to };
    if (!recorded) {
      // The default network before its first use: nothing on the host yet, only the choice to record.
      await store.saveNetwork(moved);
      return { network: moved, from: from.name, warnings: [] };
    }
    const records = await store.listContainers();
    if (records.some((r) => r.network?.network === name && r.network.pending)) {
      throw new MinictrError('E_NETWORK_BUSY', `a container is still being attached to network ${name}; try again in a moment`);
    }
    const networks = (await store.listNetworks()).map((n) => (n.name === name ? moved : n));
    const next = firewallDriverFor(moved);
    await applyPlan(planRepair(await firewallDump(runner, moved), networks, records, next), runner, stepOptions(ctx));
    await store.saveNetwork(moved);
    const lastOfOld = networks.every((n) => n.name === name || firewallDriverFor(n).name !== from.name);
    const lastIPv6OfOld = net.subnet6 !== undefined && networks.every((n) => n.name === name || !n.subnet6 || firewallDriverFor(n).name !== from.name);
    const old = concatPlans(
      `remove the ${from.name} rules of network ${name}`,
      ...attachedTo(records, name).map((att) => from.planContainerTeardown(att)),
      from.planNetworkTeardown(net, { lastNetwork: lastOfOld, lastIPv6Network: lastIPv6OfOld }),
    );
    const { failures } = await applyPlanBestEffort(old, runner, stepOptions(ctx));
    return { network: moved, from: from.name, warnings: failures.map(({ op, error }) => `could not ${op.why}: ${error.message}`) };
  });
}
