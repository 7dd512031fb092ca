// `net inspect [CONTAINER]`: the network stack of the host or of a container, labelled with what
// minictr made and why (the article's inspect-net-stack.sh, done with `ip -j` and iptables-save).
// This file only gathers: it runs the commands through the Runner and reads the records; the
// parsing, checking and rendering are pure (src/explain/inspect-net.ts).
import type { Command } from 'commander';
import { MinictrError } from '../base/errors.js';
import type { Runner } from '../exec/runner.js';
import type { Runtime } from '../runtime/runtime.js';
import { print, runtimeFor } from './context.js';
import { buildNetView, renderNetView, type InspectScope, type Known, type RawStack } from '../explain/inspect-net.js';

/** minictr's records as the explain renderers need them. */
export async function collectKnown(rt: Runtime): Promise<Known> {
  const [networks, containers] = await Promise.all([rt.store.listNetworks(), rt.list(true)]);
  return {
    networks: networks.map((n) => ({ name: n.name, bridge: n.bridge, subnet: n.subnet, gateway: n.gateway })),
    containers: containers.map((c) => (c.network ? { name: c.name, id: c.id, attachment: c.network } : { name: c.name, id: c.id })),
  };
}

/** `ip -d -j link`, `ip -j addr`, `ip -j route`, `ip -j neigh`, run under `prefix` (an nsenter, or nothing). */
export async function collectStack(runner: Runner, prefix: string[] = []): Promise<RawStack> {
  const out = async (argv: string[]): Promise<string> => (await runner.run([...prefix, ...argv])).stdout;
  const [link, addr, route, neigh] = await Promise.all([
    out(['ip', '-d', '-j', 'link', 'show']),
    out(['ip', '-j', 'addr', 'show']),
    out(['ip', '-j', 'route', 'show']),
    out(['ip', '-j', 'neigh', 'show']),
  ]);
  return { link, addr, route, neigh };
}

export async function iptablesSave(runner: Runner, prefix: string[] = []): Promise<string> {
  return (await runner.run([...prefix, 'iptables-save'])).stdout;
}

interface Target {
  scope: InspectScope;
  /** How to enter the namespace (empty for the host's). */
  prefix: string[];
}

async function target(rt: Runtime, ref: string | undefined): Promise<Target> {
  if (ref === undefined) return { scope: { kind: 'host' }, prefix: [] };
  const record = await rt.find(ref);
  const base = { kind: 'container' as const, name: record.name, id: record.id };
  const mode = record.hostConfig.networkMode;
  if (mode === 'host') return { scope: { ...base, mode: 'host' }, prefix: [] };
  if (record.state.status !== 'running' || record.state.pid === 0) {
    throw new MinictrError('E_NOT_RUNNING', `container ${ref} is not running: it has no network stack to inspect`, { exitCode: 1 });
  }
  if (mode === 'none') {
    return { scope: { ...base, mode: 'none', pid: record.state.pid }, prefix: ['nsenter', `--target=${record.state.pid}`, '--net', '--'] };
  }
  const netns = record.network?.netns;
  if (!netns) throw new MinictrError('E_NO_NETWORK', `container ${ref} holds no network attachment (is it still starting?)`, { exitCode: 1 });
  return { scope: { ...base, mode: 'bridge', netns }, prefix: ['nsenter', `--net=/run/netns/${netns}`, '--'] };
}

export function registerNetInspectCommand(program: Command): void {
  const net = program.command('net').description('look at network stacks: what minictr wired, labelled');
  net
    .command('inspect')
    .description(
      "devices, addresses, routes, neighbours and minictr's firewall rules of the host (no argument) or of a container's network namespace",
    )
    .argument('[container]', 'a container name or id (default: the host)')
    .option('--all', 'every firewall rule, not only minictr\'s, and IPv6 link-local addresses')
    .option('--json', 'one JSON object, for scripts')
    .action(async function (this: Command, ref: string | undefined, opts: { all?: boolean; json?: boolean }) {
      const rt = await runtimeFor(this);
      const all = opts.all ?? false;
      const [known, where] = await Promise.all([collectKnown(rt), target(rt, ref)]);
      const inContainerNs = where.scope.kind === 'container' && where.scope.mode !== 'host';
      const [stack, hostRules, insideRules] = await Promise.all([
        collectStack(rt.runner, where.prefix),
        iptablesSave(rt.runner),
        inContainerNs ? iptablesSave(rt.runner, where.prefix) : Promise.resolve(undefined),
      ]);
      const view = buildNetView({
        scope: where.scope,
        stack,
        hostRules,
        ...(insideRules === undefined ? {} : { insideRules }),
        known,
        all,
      });
      if (opts.json) print(JSON.stringify(view, null, 2));
      else process.stdout.write(renderNetView(view, { all }, known));
    });
}
