// `network diagram [NETWORK] [--svg FILE]`: the live topology from minictr's records and the
// host's `ip -j addr`, as a box-drawing tree (and an SVG picture). Rendering is pure
// (src/explain/diagram.ts); this file gathers and writes.
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { MinictrError, errorMessage } from '../base/errors.js';
import { print, runtimeFor } from './context.js';
import { buildTopology, renderTopologySvg, renderTopologyText } from '../explain/diagram.js';
import { renderRootlessTopology } from '../explain/rootless.js';

/** Adds `diagram` to the existing `network` command group. */
export function registerDiagramCommand(program: Command): void {
  const network = program.commands.find((c) => c.name() === 'network') ?? program.command('network').description('manage networks');
  network
    .command('diagram')
    .description('draw the live topology: host interfaces, bridges, veth pairs, containers and published ports')
    .argument('[network]', 'only this network')
    .option('--svg <file>', 'also write the picture as an SVG file')
    .action(async function (this: Command, name: string | undefined, opts: { svg?: string }) {
      const rt = runtimeFor(this);
      if (rt.rootless) {
        // Rootless: the user's own namespaces and helpers; the host's network holds nothing of minictr's.
        const t = await rt.rootlessTopology();
        if (name !== undefined && !t.networks.some((n) => n.name === name)) {
          throw new MinictrError('E_NO_SUCH_NETWORK', `network ${name} not found; list networks with "minictr network ls"`, { exitCode: 1 });
        }
        process.stdout.write(renderRootlessTopology(t, name));
        return;
      }
      const { known, addr } = await rt.topology();
      if (name !== undefined && !known.networks.some((n) => n.name === name)) {
        throw new MinictrError('E_NO_SUCH_NETWORK', `network ${name} not found (or not created yet); list networks with "minictr network ls"`, { exitCode: 1 });
      }
      const topo = buildTopology(known, addr, name);
      process.stdout.write(renderTopologyText(topo));
      if (opts.svg) {
        try {
          await writeFile(opts.svg, renderTopologySvg(topo));
        } catch (err) {
          throw new MinictrError('E_WRITE_FAILED', `could not write ${opts.svg}: ${errorMessage(err)}`, { exitCode: 1 });
        }
        print(`wrote ${opts.svg}`);
      }
    });
}
