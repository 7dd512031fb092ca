// `stats`: Docker's live table of each container's CPU, memory, network and block I/O and PIDs,
// from two samples a second apart (CPU % is a rate), refreshed every second unless --no-stream.
import type { Command } from 'commander';
import { sleep } from '../base/proc.js';
import type { ContainerRecord } from '../base/records.js';
import { formatStatsRow, STATS_DEFAULT_COLUMNS, STATS_HEADERS, type StatsSample } from '../cgroup/stats.js';
import type { Runtime } from '../runtime/runtime.js';
import { print, runtimeFor } from './context.js';
import { formatRows } from './table.js';
import { compileTemplate } from './template.js';

interface StatsFlags {
  all?: boolean;
  stream?: boolean;
  trunc?: boolean;
  format?: string;
}

const INTERVAL_MS = 1000;
/** What a terminal needs to redraw the table in place, as Docker's CLI does. */
const CLEAR_SCREEN = '\x1b[2J\x1b[H';

async function samples(rt: Runtime, records: ContainerRecord[]): Promise<Map<string, StatsSample>> {
  return new Map(await Promise.all(records.map(async (r) => [r.id, await rt.sampleStats(r)] as const)));
}

function table(records: ContainerRecord[], prev: Map<string, StatsSample>, cur: Map<string, StatsSample>, flags: StatsFlags): string {
  const rows = records.flatMap((r) => {
    const now = cur.get(r.id);
    if (!now) return [];
    const row = formatStatsRow({ id: r.id, name: r.name }, prev.get(r.id), now);
    return [flags.trunc === false ? { ...row, ID: r.id, Container: r.id } : row];
  });
  return formatRows(rows, STATS_HEADERS, STATS_DEFAULT_COLUMNS, flags.format);
}

export function registerStatsCommand(program: Command): void {
  program
    .command('stats')
    .description("display a live stream of containers' resource use (CPU, memory, network and block I/O, PIDs)")
    .option('-a, --all', 'show all containers (default: only running)')
    .option('--no-stream', 'print one sample and exit')
    .option('--no-trunc', 'do not truncate output')
    .option('--format <template>', 'Go-style template, e.g. "table {{.Name}}\\t{{.CPUPerc}}" or {{json .}}')
    .argument('[container...]')
    .action(async function (this: Command, refs: string[], flags: StatsFlags) {
      // A template that does not parse fails before any sampling.
      if (flags.format !== undefined) compileTemplate(flags.format.replace(/^table\s+/, ''));
      const rt = runtimeFor(this);
      let records = await rt.statsTargets(refs, flags.all ?? false);
      let prev = await samples(rt, records);
      for (;;) {
        await sleep(INTERVAL_MS);
        const cur = await samples(rt, records);
        const out = table(records, prev, cur, flags);
        if (flags.stream === false) {
          print(out);
          return;
        }
        process.stdout.write(`${process.stdout.isTTY ? CLEAR_SCREEN : ''}${out}\n`);
        prev = cur;
        // Without names, containers that start or stop meanwhile come and go, as in Docker.
        if (refs.length === 0) records = await rt.statsTargets(refs, flags.all ?? false);
      }
    });
}
