// `net inspect [CONTAINER]`: the network stack of the host or of a container, labelled with what
// minictr made and why (the article's inspect-net-stack.sh, done with `ip -j` and the firewall
// dump). The runtime gathers; src/explain/inspect-net.ts labels and renders.
import type { Command } from 'commander';
import { print, runtimeFor } from './context.js';
import { buildNetView, renderNetView } from '../explain/inspect-net.js';

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
      const all = opts.all ?? false;
      const input = await runtimeFor(this).netView(ref, all);
      const view = buildNetView(input);
      if (opts.json) print(JSON.stringify(view, null, 2));
      else process.stdout.write(renderNetView(view, { all }, input.known));
    });
}
