// `volume create|ls|inspect|rm|prune`: Docker's local volumes, kept under the state dir.
import type { Command } from 'commander';
import { MinictrError, EXIT_RUNTIME_FAILURE } from '../base/errors.js';
import type { VolumeRecord } from '../base/records.js';
import type { VolumeFilter } from '../runtime/runtime.js';
import { volumeDocument } from '../runtime/volumes.js';
import { eachArgument, print, runtimeFor } from './context.js';
import { formatRows, humanSize } from './table.js';
import { compileTemplate } from './template.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Docker's CLI exits 1 when the daemon refuses a volume command (125 is for `run`). */
async function asDaemon<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof MinictrError) || err.exitCode !== EXIT_RUNTIME_FAILURE) throw err;
    const again = new MinictrError(err.code, err.message, { exitCode: 1, cause: err.cause });
    again.warnings.push(...err.warnings);
    throw again;
  }
}

/** `k=v` pairs (a bare `k` is an empty value), as Docker's --label. */
export function parseLabels(pairs: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key === '') throw new MinictrError('E_BAD_FLAG', `invalid argument "${pair}" for "--label" flag: invalid label: empty name`, { exitCode: 1 });
    labels[key] = eq < 0 ? '' : pair.slice(eq + 1);
  }
  return labels;
}

/** `--filter dangling=true|false`, `name=…`, `label=k[=v]`. */
export function parseVolumeFilters(filters: string[]): VolumeFilter {
  const out: VolumeFilter = {};
  for (const f of filters) {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? '' : f.slice(eq + 1);
    if (eq < 0) throw new MinictrError('E_BAD_FLAG', `bad format of filter (expected name=value)`, { exitCode: 1 });
    if (key === 'dangling') {
      if (!['true', '1', 'false', '0'].includes(value.toLowerCase())) {
        throw new MinictrError('E_BAD_FLAG', `invalid filter 'dangling=${value}'`, { exitCode: 1 });
      }
      out.dangling = ['true', '1'].includes(value.toLowerCase());
    } else if (key === 'name' || key === 'label') {
      out[key] = [...(out[key] ?? []), value];
    } else {
      throw new MinictrError('E_BAD_FLAG', `invalid filter '${key}'`, { exitCode: 1 });
    }
  }
  return out;
}

/** One `volume ls` row, with the field names Docker's --format knows. */
interface VolumeRow {
  Name: string;
  Driver: string;
  Scope: string;
  Mountpoint: string;
  Labels: string;
}

const HEADERS: VolumeRow = { Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS' };

function volumeRow(v: VolumeRecord): VolumeRow {
  const labels = (volumeDocument(v)['Labels'] ?? {}) as Record<string, string>;
  return {
    Name: v.name,
    Driver: v.driver,
    Scope: 'local',
    Mountpoint: v.mountpoint,
    Labels: Object.entries(labels).map(([k, val]) => `${k}=${val}`).join(','),
  };
}

/** The default table, -q names, or a --format (with an optional `table ` prefix). */
export function formatVolumes(volumes: VolumeRecord[], flags: { quiet?: boolean; format?: string }): string[] {
  const rows = volumes.map(volumeRow);
  if (flags.quiet) return rows.map((r) => r.Name);
  return [formatRows(rows, HEADERS, ['Driver', 'Name'], flags.format)];
}

/** Docker's prune report: the names, a blank line, the space reclaimed. */
export function pruneReport(names: string[], reclaimed: number): string {
  const list = names.length > 0 ? `Deleted Volumes:\n${names.map((n) => `${n}\n`).join('')}\n` : '';
  return `${list}Total reclaimed space: ${humanSize(reclaimed)}`;
}

export function registerVolumeCommands(program: Command): void {
  const volume = program.command('volume').description('manage volumes');

  volume
    .command('create')
    .description('create a volume (a random name when none is given; an existing one is reused)')
    .option('-d, --driver <driver>', 'volume driver (only local)', 'local')
    .option('--label <key=value>', 'set a label (repeatable)', collect, [])
    .argument('[name]')
    .action(async function (this: Command, name: string | undefined, opts: { driver: string; label: string[] }) {
      await asDaemon(async () => {
        if (opts.driver !== 'local') {
          throw new MinictrError('E_BAD_DRIVER', `volume driver "${opts.driver}" is not supported; minictr has local only`);
        }
        const record = await runtimeFor(this).createVolume(name, parseLabels(opts.label));
        print(record.name);
      });
    });

  volume
    .command('ls')
    .alias('list')
    .description('list volumes')
    .option('-q, --quiet', 'only print names')
    .option('-f, --filter <filter>', 'dangling=true|false, name=…, label=key[=value] (repeatable)', collect, [])
    .option('--format <template>', 'Go-style template ({{.Name}}, {{.Driver}}, {{.Mountpoint}}, {{.Labels}}, table …)')
    .action(async function (this: Command, opts: { quiet?: boolean; filter: string[]; format?: string }) {
      await asDaemon(async () => {
        const volumes = await runtimeFor(this).listVolumes(parseVolumeFilters(opts.filter));
        const lines = formatVolumes(volumes, opts);
        if (lines.length > 0) print(lines.join('\n'));
      });
    });

  volume
    .command('inspect')
    .description('show volumes as JSON')
    .option('-f, --format <template>', 'Go-style template, e.g. {{.Mountpoint}}')
    .argument('<volume...>')
    .action(async function (this: Command, names: string[], opts: { format?: string }) {
      const rt = runtimeFor(this);
      const template = opts.format !== undefined ? compileTemplate(opts.format) : undefined;
      const docs: Record<string, unknown>[] = [];
      await eachArgument(names, async (name) => {
        docs.push(volumeDocument(await rt.inspectVolume(name)));
      });
      if (template) for (const d of docs) print(template.execute(d));
      else print(JSON.stringify(docs, null, 4));
    });

  volume
    .command('rm')
    .alias('remove')
    .description('remove volumes (refused while a container uses one)')
    .option('-f, --force', 'do not fail on a volume that does not exist')
    .argument('<volume...>')
    .action(async function (this: Command, names: string[], opts: { force?: boolean }) {
      const rt = runtimeFor(this);
      await eachArgument(names, async (name) => {
        await rt.removeVolume(name, opts.force === true);
        print(name);
      });
    });

  volume
    .command('prune')
    .description('remove anonymous volumes no container uses (every unused volume with --all)')
    .option('-a, --all', 'also named volumes')
    .option('-f, --force', 'do not ask (minictr never asks)')
    .action(async function (this: Command, opts: { all?: boolean }) {
      await asDaemon(async () => {
        const { names, reclaimed } = await runtimeFor(this).pruneVolumes(opts.all === true);
        print(pruneReport(names, reclaimed));
      });
    });
}
