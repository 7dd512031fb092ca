// `network ls|inspect|rm|prune|reload`: bridge networks and minictr's firewall rules.
import type { Command } from 'commander';
import { MinictrError } from '../base/errors.js';
import { print, runtimeFor, warn } from './context.js';
import { formatTable } from './table.js';
import { compileTemplate } from './template.js';
import { parseLabels } from '../runtime/options.js';

export function registerNetworkCommands(program: Command): void {
  const network = program.command('network').description('manage networks');

  network
    .command('create')
    .description('create a bridge network: its own bridge device, subnet and rules')
    .option('-d, --driver <driver>', 'network driver (only bridge)', 'bridge')
    .option('--subnet <cidr>', 'subnet, e.g. 172.30.0.0/16 (default: the first free one)')
    .option('--gateway <ip>', 'gateway address on the bridge (default: the first host address)')
    .option('--internal', 'no way in or out but the subnet itself: no masquerade, no default route')
    .option('--label <key=value>', 'a label (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('-o, --opt <key=value>', 'a driver option: com.docker.network.bridge.name=NAME (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--explain', 'print each host command as it runs')
    .argument('<name>')
    .action(async function (this: Command, name: string, opts: { driver: string; subnet?: string; gateway?: string; explain?: boolean; internal?: boolean; label: string[]; opt: string[] }) {
      if (opts.driver !== 'bridge') {
        throw new MinictrError('E_BAD_DRIVER', `network driver "${opts.driver}" is not supported; minictr has bridge only`);
      }
      const rt = runtimeFor(this, { explain: opts.explain ?? false });
      const net = await rt.createNetwork({
        name,
        ...(opts.subnet ? { subnet: opts.subnet } : {}),
        ...(opts.gateway ? { gateway: opts.gateway } : {}),
        ...(opts.internal ? { internal: true } : {}),
        labels: parseLabels(opts.label),
        options: parseLabels(opts.opt),
      });
      print(net.id);
    });

  network
    .command('ls')
    .alias('list')
    .description('list networks')
    .option('-q, --quiet', 'only print names')
    .action(async function (this: Command, opts: { quiet?: boolean }) {
      const all = await runtimeFor(this).listNetworks();
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
      const rt = runtimeFor(this);
      const template = opts.format !== undefined ? compileTemplate(opts.format) : undefined;
      const docs = [];
      for (const name of names) docs.push(await rt.inspectNetwork(name));
      if (template) for (const d of docs) print(template.execute(d));
      else print(JSON.stringify(docs, null, 4));
    });

  network
    .command('rm')
    .alias('remove')
    .description('remove networks: their firewall rules and bridge (and minictr\'s chains with the last one)')
    .option('--explain', 'print each host command as it runs')
    .argument('<network...>')
    .action(async function (this: Command, names: string[], opts: { explain?: boolean }) {
      const rt = runtimeFor(this, { explain: opts.explain ?? false });
      for (const name of names) {
        await rt.removeNetwork(name);
        print(name);
      }
    });

  network
    .command('connect')
    .description('connect a running container to one more network (eth1, eth2 …)')
    .option('--alias <name>', 'another name the container answers to on that network (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--ip <address>', "the container's IPv4 address on that network")
    .option('--explain', 'print each host command as it runs')
    .argument('<network>')
    .argument('<container>')
    .action(async function (this: Command, network: string, container: string, opts: { alias: string[]; ip?: string; explain?: boolean }) {
      await runtimeFor(this, { explain: opts.explain ?? false }).connectNetwork(network, container, { aliases: opts.alias, ...(opts.ip ? { ip: opts.ip } : {}) });
    });

  network
    .command('disconnect')
    .description('disconnect a container from a network it joined with connect')
    .option('-f, --force', 'accepted for Docker compatibility')
    .option('--explain', 'print each host command as it runs')
    .argument('<network>')
    .argument('<container>')
    .action(async function (this: Command, network: string, container: string, opts: { explain?: boolean }) {
      warn(await runtimeFor(this, { explain: opts.explain ?? false }).disconnectNetwork(network, container));
    });

  network
    .command('prune')
    .description('remove every network no container uses')
    .option('-f, --force', 'do not ask (minictr never asks)')
    .action(async function (this: Command) {
      const removed = await runtimeFor(this).pruneNetworks();
      if (removed.length > 0) print(`Deleted Networks:\n${removed.join('\n')}\n`);
    });

  network
    .command('reload')
    .description("re-apply every network's and running container's firewall rules (after a firewall reload wiped them)")
    .option('--explain', 'print each host command as it runs')
    .action(async function (this: Command, opts: { explain?: boolean }) {
      const count = await runtimeFor(this, { explain: opts.explain ?? false }).reloadNetworks();
      print(count === 0 ? 'all minictr rules are in place' : `put back ${count} missing rule${count === 1 ? '' : 's'}`);
    });
}
