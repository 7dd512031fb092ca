// `network ls|inspect|rm|prune|reload`: bridge networks and minictr's firewall rules.
import type { Command } from 'commander';
import { MinictrError } from '../base/errors.js';
import { print, runtimeFor } from './context.js';
import { formatTable } from './table.js';
import { inspectNetwork } from '../runtime/inspect.js';
import { defaultNetworkRecord } from '../runtime/network.js';
import { explainStep } from '../explain/render.js';
import { renderTemplate } from './template.js';

export function registerNetworkCommands(program: Command): void {
  const network = program.command('network').description('manage networks');

  network
    .command('create')
    .description('create a bridge network: its own bridge device, subnet and rules')
    .option('-d, --driver <driver>', 'network driver (only bridge)', 'bridge')
    .option('--subnet <cidr>', 'subnet, e.g. 172.30.0.0/16 (default: the first free one)')
    .option('--gateway <ip>', 'gateway address on the bridge (default: the first host address)')
    .option('--explain', 'print each host command as it runs')
    .argument('<name>')
    .action(async function (this: Command, name: string, opts: { driver: string; subnet?: string; gateway?: string; explain?: boolean }) {
      if (opts.driver !== 'bridge') {
        throw new MinictrError('E_BAD_DRIVER', `network driver "${opts.driver}" is not supported; minictr has bridge only`);
      }
      const rt = await runtimeFor(this, opts.explain ? { onStep: explainStep } : {});
      const net = await rt.network.createNetwork({
        name,
        ...(opts.subnet ? { subnet: opts.subnet } : {}),
        ...(opts.gateway ? { gateway: opts.gateway } : {}),
      });
      print(net.id);
    });

  network
    .command('ls')
    .alias('list')
    .description('list networks')
    .option('-q, --quiet', 'only print names')
    .action(async function (this: Command, opts: { quiet?: boolean }) {
      const rt = await runtimeFor(this);
      const recorded = await rt.store.listNetworks();
      const names = new Set(recorded.map((n) => n.name));
      const all = [...recorded, ...(names.has('bridge') ? [] : [defaultNetworkRecord()])];
      const rows = [
        ...all.map((n) => [n.id.slice(0, 12), n.name, n.driver, 'local', n.bridge, n.subnet]),
        ['host', 'host', 'host', 'local', '', ''],
        ['none', 'none', 'null', 'local', '', ''],
      ];
      if (opts.quiet) print(rows.map((r) => r[1]).join('\n'));
      else print(formatTable(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE', 'BRIDGE', 'SUBNET'], rows));
    });

  network
    .command('inspect')
    .description('show a network as JSON')
    .option('-f, --format <template>', 'Go-style template')
    .argument('<network...>')
    .action(async function (this: Command, names: string[], opts: { format?: string }) {
      const rt = await runtimeFor(this);
      const containers = await rt.list(false);
      const docs = [];
      for (const name of names) docs.push(inspectNetwork(await rt.network.resolveNetwork(name), containers));
      if (opts.format !== undefined) for (const d of docs) print(renderTemplate(opts.format, d));
      else print(JSON.stringify(docs, null, 4));
    });

  network
    .command('rm')
    .alias('remove')
    .description('remove networks: their firewall rules and bridge (and minictr\'s chains with the last one)')
    .option('--explain', 'print each host command as it runs')
    .argument('<network...>')
    .action(async function (this: Command, names: string[], opts: { explain?: boolean }) {
      const rt = await runtimeFor(this, opts.explain ? { onStep: explainStep } : {});
      for (const name of names) {
        if (name === 'host' || name === 'none') {
          throw new MinictrError('E_BUILTIN_NETWORK', `${name} is a pre-defined network and cannot be removed`, { exitCode: 1 });
        }
        await rt.network.removeNetwork(name);
        print(name);
      }
    });

  network
    .command('prune')
    .description('remove every network no container uses')
    .option('-f, --force', 'do not ask (minictr never asks)')
    .action(async function (this: Command) {
      const rt = await runtimeFor(this);
      await rt.list(true); // settles containers whose process has ended, releasing their networks
      const removed = await rt.network.pruneUnused();
      if (removed.length > 0) print(`Deleted Networks:\n${removed.join('\n')}\n`);
    });

  network
    .command('reload')
    .description("re-apply every network's and running container's firewall rules (after a firewall reload wiped them)")
    .option('--explain', 'print each host command as it runs')
    .action(async function (this: Command, opts: { explain?: boolean }) {
      const rt = await runtimeFor(this, opts.explain ? { onStep: explainStep } : {});
      await rt.list(true);
      const count = await rt.network.reload();
      print(count === 0 ? 'all minictr rules are in place' : `put back ${count} missing rule${count === 1 ? '' : 's'}`);
    });
}
