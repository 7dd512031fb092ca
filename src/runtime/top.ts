// `top CONTAINER [ps OPTIONS]`: the container's processes (its cgroup's cgroup.procs, host pids)
// as the host's procps `ps` prints them, as Docker's daemon does: `ps <options> -q <pids>`
// (default `-ef`), then, when the options refuse -q, `ps <options>` alone, filtered to the pids.
import { MinictrError } from '../base/errors.js';
import type { ContainerRecord } from '../base/records.js';
import { cgroupFacts, readCgroupPids } from './cgroups.js';
import type { RuntimeContext } from './context.js';
import { find } from './lifecycle.js';

/** Docker's ContainerTopOKBody: the header's titles and one row of cells per process. */
export interface TopResult {
  titles: string[];
  processes: string[][];
}

/** Docker's check: a `k=PID…` column rename other than `pid=` would hide the PID column it reads. */
export function validatePsArgs(psArgs: string): void {
  for (const m of psArgs.matchAll(/\s+(\S*)=\s*(PID\S*)/g)) {
    if (m[1] !== 'pid') throw new MinictrError('E_BAD_PS_ARGS', `specifying "${m[1] ?? ''}=${m[2] ?? ''}" is not allowed`, { exitCode: 1 });
  }
}

/** ps's output split as Docker splits it: titles by blanks, each row into as many cells (the last takes the rest), kept when its PID is one of `pids`. */
export function parsePsOutput(text: string, pids: readonly number[]): TopResult {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const titles = (lines[0] ?? '').trim().split(/\s+/).filter(Boolean);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex === -1) throw new MinictrError('E_BAD_PS_ARGS', "Couldn't find PID field in ps output", { exitCode: 1 });
  const wanted = new Set(pids);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    const cells = fields.slice(0, titles.length - 1);
    // The last column (CMD, COMMAND, ARGS) keeps its own blanks.
    let rest = line.trim();
    for (const f of cells) rest = rest.slice(rest.indexOf(f) + f.length).replace(/^\s+/, '');
    cells.push(rest);
    const pid = Number(cells[pidIndex]);
    if (wanted.has(pid)) processes.push(cells);
  }
  return { titles, processes };
}

export async function top(ctx: RuntimeContext, ref: string, psArgs: string): Promise<TopResult> {
  const args = psArgs.trim() === '' ? '-ef' : psArgs;
  validatePsArgs(args);
  const record: ContainerRecord = await find(ctx, ref);
  if (record.state.status !== 'running' || record.state.pid === 0) {
    throw new MinictrError('E_NOT_RUNNING', `Container ${record.id} is not running`, { exitCode: 1 });
  }
  const pids = record.cgroup ? readCgroupPids(await cgroupFacts(), record.cgroup) : [];
  if (pids.length === 0) pids.push(record.state.pid);
  const argv = ['ps', ...args.split(' ').filter((a) => a !== '')];
  const quick = await ctx.runner.run([...argv, '-q', pids.join(',')], { allowFailure: true });
  // Some options (f) cannot be combined with -q: then every process, filtered here.
  const result = quick.exitCode === 0 ? quick : await ctx.runner.run(argv, { allowFailure: true });
  if (result.exitCode !== 0) {
    throw new MinictrError('E_PS_FAILED', `ps: ${result.stderr.trim() || `exit status ${result.exitCode}`}`, { exitCode: 1 });
  }
  return parsePsOutput(result.stdout, pids);
}
