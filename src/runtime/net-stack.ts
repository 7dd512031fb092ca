// What `net inspect` and `network diagram` look at: the records, and the live network stack of
// the host or of a container (`ip -j …`, the firewall dump), gathered through the Runner. The
// parsing, checking and rendering are pure (src/explain/inspect-net.ts, src/explain/diagram.ts).
import { MinictrError } from '../base/errors.js';
import type { Runner } from '../exec/runner.js';
import type { InspectScope, Known, NetViewInput, RawStack } from '../explain/inspect-net.js';
import { attachmentsOf, type FirewallName } from '../base/records.js';
import { DEFAULT_FIREWALL, firewallDriverFor } from '../network/drivers.js';
import { NFT_TABLE_ID } from '../network/firewall/nftables.js';
import type { RuntimeContext } from './context.js';
import { firewallText } from './gather.js';
import { find, list } from './lifecycle.js';

/** minictr's records as the explain renderers need them. */
export async function collectKnown(ctx: RuntimeContext): Promise<Known> {
  const [networks, containers] = await Promise.all([ctx.store.listNetworks(), list(ctx, true)]);
  return {
    networks: networks.map((n) => ({
      name: n.name, bridge: n.bridge, subnet: n.subnet, gateway: n.gateway,
      ...(n.subnet6 ? { subnet6: n.subnet6 } : {}),
      ...(n.firewall ? { firewall: n.firewall } : {}),
      ...(n.internal ? { internal: true } : {}),
      ...(n.masquerade === false ? { masquerade: false as const } : {}),
      ...(n.clusterCidr ? { clusterCidr: n.clusterCidr } : {}),
    })),
    // One entry per attachment: a container joined to more networks (network connect) has rules on each.
    containers: containers.flatMap((c) => {
      const atts = attachmentsOf(c);
      return atts.length > 0 ? atts.map((attachment) => ({ name: c.name, id: c.id, attachment })) : [{ name: c.name, id: c.id }];
    }),
  };
}

/** `ip -d -j link`, `ip -j addr`, `ip -j route`, `ip -j neigh`, run under `prefix` (an nsenter, or nothing). */
async function collectStack(runner: Runner, prefix: string[] = []): Promise<RawStack> {
  const out = async (argv: string[]): Promise<string> => (await runner.run([...prefix, ...argv])).stdout;
  const [link, addr, route, neigh] = await Promise.all([
    out(['ip', '-d', '-j', 'link', 'show']),
    out(['ip', '-j', 'addr', 'show']),
    out(['ip', '-j', 'route', 'show']),
    out(['ip', '-j', 'neigh', 'show']),
  ]);
  return { link, addr, route, neigh };
}

async function dumpText(runner: Runner, prefix: string[] = [], firewall: FirewallName = DEFAULT_FIREWALL): Promise<string> {
  return firewallText(runner, firewallDriverFor({ firewall, name: '' }), prefix);
}

/**
 * The nftables dump when minictr's table is there though no recorded network uses nftables (the
 * CNI plugin's pods with firewallBackend nftables); undefined without nft or without the table.
 */
async function strayNftText(runner: Runner): Promise<string | undefined> {
  const driver = firewallDriverFor({ firewall: 'nftables', name: '' });
  const [argv] = driver.dumpArgvs;
  if (!argv) return undefined;
  const out = await runner.run(argv, { allowFailure: true }).catch((err: unknown) => {
    if (err instanceof MinictrError && err.code === 'E_MISSING_TOOL') return undefined;
    throw err;
  });
  if (out?.exitCode !== 0) return undefined;
  return driver.parseDump(out.stdout).chains.some((c) => c.table === NFT_TABLE_ID) ? out.stdout : undefined;
}

interface Target {
  scope: InspectScope;
  /** How to enter the namespace (empty for the host's). */
  prefix: string[];
}

async function target(ctx: RuntimeContext, ref: string | undefined): Promise<Target> {
  if (ref === undefined) return { scope: { kind: 'host' }, prefix: [] };
  const record = await find(ctx, ref);
  const base = { kind: 'container' as const, name: record.name, id: record.id };
  const mode = record.hostConfig.networkMode;
  if (mode === 'host') return { scope: { ...base, mode: 'host' }, prefix: [] };
  if (record.state.status !== 'running' || record.state.pid === 0) {
    throw new MinictrError('E_NOT_RUNNING', `container ${ref} is not running: it has no network stack to inspect`, { exitCode: 1 });
  }
  if (ctx.rootless) {
    // Its network namespace belongs to its user namespace: nsenter joins that first.
    return { scope: { ...base, mode: mode === 'none' ? 'none' : 'rootless', pid: record.state.pid, network: mode }, prefix: ['nsenter', `--target=${record.state.pid}`, '--user', '--net', '--'] };
  }
  if (mode === 'none') {
    return { scope: { ...base, mode: 'none', pid: record.state.pid }, prefix: ['nsenter', `--target=${record.state.pid}`, '--net', '--'] };
  }
  const netns = record.network?.netns;
  if (!netns) throw new MinictrError('E_NO_NETWORK', `container ${ref} holds no network attachment (is it still starting?)`, { exitCode: 1 });
  return { scope: { ...base, mode: 'bridge', netns }, prefix: ['nsenter', `--net=/run/netns/${netns}`, '--'] };
}

/** Everything `net inspect` shows of the host (no ref) or of a container's namespace. */
export async function gatherNetView(ctx: RuntimeContext, ref: string | undefined, all: boolean): Promise<NetViewInput> {
  const [known, where] = await Promise.all([collectKnown(ctx), target(ctx, ref)]);
  const inContainerNs = where.scope.kind === 'container' && where.scope.mode !== 'host';
  const usesNft = known.networks.some((n) => n.firewall === 'nftables');
  // Rootless minictr has no firewall rules on the host (and may not read them).
  const rootful = !ctx.rootless;
  const [stack, hostRules, nftRules, insideRules] = await Promise.all([
    collectStack(ctx.runner, where.prefix),
    rootful ? dumpText(ctx.runner) : Promise.resolve(''),
    !rootful ? Promise.resolve(undefined) : usesNft ? dumpText(ctx.runner, [], 'nftables') : strayNftText(ctx.runner),
    inContainerNs && rootful ? dumpText(ctx.runner, where.prefix) : Promise.resolve(undefined),
  ]);
  return {
    scope: where.scope, stack, hostRules, known, all,
    ...(nftRules === undefined ? {} : { nftRules }),
    ...(insideRules === undefined ? {} : { insideRules }),
  };
}

/** The records and the host's addresses, for `network diagram`. */
export async function gatherTopology(ctx: RuntimeContext): Promise<{ known: Known; addr: string }> {
  const [known, addr] = await Promise.all([collectKnown(ctx), ctx.runner.run(['ip', '-j', 'addr', 'show'])]);
  return { known, addr: addr.stdout };
}
