// `network ls|inspect|rm|prune|reload`: bridge networks and minictr's firewall rules.
import type { Command } from 'commander';
import { MinictrError } from '../base/errors.js';
import { ipamRequest } from '../network/subnets.js';
import { parseLabels } from '../runtime/options.js';
import { print, requireRoot, runtimeFor, warn } from './context.js';
import { formatTable } from './table.js';
import { compileTemplate } from './template.js';

function collectOption(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `-o KEY=VALUE` pairs, as Docker's `network create --opt`. */
function parseOptions(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new MinictrError('E_BAD_OPTION', `invalid network option "${pair}": use KEY=VALUE, e.g. -o firewall=nftables`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export function registerNetworkCommands(program: Command): void {
  const network = program.command('network').description('manage networks');

  network
    .command('create')
    .description('create a bridge network: its own bridge device, subnet and rules')
    .option('-d, --driver <driver>', 'network driver (only bridge)', 'bridge')
    .option('--subnet <cidr>', 'subnet, e.g. 172.30.0.0/16 (default: the first free one); with --ipv6 also one IPv6 subnet, e.g. fd00:1::/64 (default: a free ULA /64)', collectOption, [])
    .option('--gateway <ip>', 'gateway address on the bridge, per family (default: the subnet\'s first host address)', collectOption, [])
    .option('--ipv6', 'give the network IPv6 too: containers get an IPv6 address, -p publishes on [::] as well')
    .option('--internal', 'no way in or out but the subnet itself: no masquerade, no default route')
    .option('-o, --opt <key=value>', 'driver option: firewall=iptables|nftables (default: $MINICTR_FIREWALL, the state dir\'s config.json, else iptables), com.docker.network.bridge.name=NAME', collectOption, [])
    .option('--label <key=value>', 'set a label on the network (repeatable)', collectOption, [])
    .option('--explain', 'print each host command as it runs')
    .argument('<name>')
    .action(async function (this: Command, name: string, opts: { driver: string; subnet: string[]; gateway: string[]; ipv6?: boolean; opt: string[]; label: string[]; explain?: boolean; internal?: boolean }) {
      if (opts.driver !== 'bridge') {
        throw new MinictrError('E_BAD_DRIVER', `network driver "${opts.driver}" is not supported; minictr has bridge only`);
      }
      const rt = runtimeFor(this, { explain: opts.explain ?? false });
      const net = await rt.createNetwork({
        name,
        ...ipamRequest(opts.subnet, opts.gateway, opts.ipv6 ?? false),
        ...(opts.opt.length > 0 ? { options: parseOptions(opts.opt) } : {}),
        ...(opts.label.length > 0 ? { labels: parseLabels(opts.label) } : {}),
        ...(opts.internal ? { internal: true } : {}),
      });
      print(net.id);
    });

  network
    .command('update')
    .description("move a network's firewall rules, and its containers', to another firewall driver, while they run")
    .option('-o, --opt <key=value>', 'firewall=iptables|nftables', collectOption, [])
    .option('--explain', 'print each host command as it runs')
    .argument('<name>')
    .action(async function (this: Command, name: string, opts: { opt: string[]; explain?: boolean }) {
      const options = parseOptions(opts.opt);
      const firewall = options['firewall'];
      const unknown = Object.keys(options).filter((k) => k !== 'firewall');
      if (firewall === undefined || unknown.length > 0) {
        throw new MinictrError('E_BAD_OPTION', `network update changes only the firewall: use -o firewall=iptables|nftables${unknown.length > 0 ? ` (not ${unknown.join(', ')})` : ''}`);
      }
      requireRoot('network update');
      const result = await runtimeFor(this, { explain: opts.explain ?? false }).switchFirewall(name, firewall);
      warn(result.warnings);
      print(result.from === '' ? `${name}: already on ${firewall}` : `${name}: ${result.from} → ${firewall}`);
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
    .option('--ip6 <address>', "the container's IPv6 address on that network (one with IPv6)")
    .option('--explain', 'print each host command as it runs')
    .argument('<network>')
    .argument('<container>')
    .action(async function (this: Command, network: string, container: string, opts: { alias: string[]; ip?: string; ip6?: string; explain?: boolean }) {
      await runtimeFor(this, { explain: opts.explain ?? false }).connectNetwork(network, container, { aliases: opts.alias, ...(opts.ip ? { ip: opts.ip } : {}), ...(opts.ip6 ? { ip6: opts.ip6 } : {}) });
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
      const { restored, replaced } = await runtimeFor(this, { explain: opts.explain ?? false }).reloadNetworks();
      const done = [
        ...(restored > 0 ? [`put back ${restored} missing rule${restored === 1 ? '' : 's'}`] : []),
        ...(replaced > 0 ? [`removed ${replaced} rule${replaced === 1 ? '' : 's'} of an older minictr that the current ones replace`] : []),
      ];
      print(done.length === 0 ? 'all minictr rules are in place' : done.join('; '));
    });
}
