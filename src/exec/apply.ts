// Runs a plan, op by op, and reports each step as it goes (for --explain).
import { CommandFailedError, MinictrError, errorMessage } from '../base/errors.js';
import type { BatchPlan, MkdirOp, Op, Plan, RmdirOp, SignalOp, StepReport, WriteOp } from '../base/plan.js';
import type { Runner } from './runner.js';

export interface ApplyOptions {
  /** Called after each op has run, with its duration. */
  onStep?: (report: StepReport) => void | Promise<void>;
  /** Called before each op runs (`run --step` pauses here). */
  beforeStep?: (op: Op) => void | Promise<void>;
}

/** What a best-effort apply could not do, and what it found already undone. */
export interface BestEffortReport {
  /** Ops that failed (their fallbacks too): what they remove may be left on the host. */
  failures: { op: Op; error: Error }[];
  /** The `goneNote` of each tolerated op that has one: things someone removed before us. */
  gone: string[];
}

async function applyOp(op: Op, runner: Runner, gone: string[]): Promise<void> {
  if (op.fallback) {
    try {
      await applyOne(op, runner, gone);
    } catch {
      // Every alternative is tried (a teardown removes all it can); the first failure is reported.
      let failure: unknown;
      for (const alt of op.fallback) {
        try {
          await applyOp(alt, runner, gone);
        } catch (err) {
          failure ??= err;
        }
      }
      if (failure !== undefined) throw failure;
    }
    return;
  }
  await applyOne(op, runner, gone);
}

function inProcessEffect(op: WriteOp | MkdirOp | RmdirOp | SignalOp, runner: Runner): Promise<void> {
  if (op.kind === 'signal') return runner.signal(op.pid, op.signal);
  if (op.kind === 'write') return runner.write(op.path, op.content);
  return op.kind === 'mkdir' ? runner.mkdir(op.path) : runner.rmdir(op.path);
}

async function applyOne(op: Op, runner: Runner, gone: string[]): Promise<void> {
  if (op.kind === 'wait-gone') {
    if (!(await runner.waitGone(op.path, op.timeoutMs))) {
      throw new MinictrError('E_STILL_THERE', `${op.path} is still there after ${op.timeoutMs} ms`);
    }
    return;
  }
  if (op.kind === 'write' || op.kind === 'mkdir' || op.kind === 'rmdir' || op.kind === 'signal') {
    try {
      await inProcessEffect(op, runner);
    } catch (err) {
      // Node's fs errors say their errno code ("EEXIST: file already exists, mkdir …").
      if (op.tolerate?.test(errorMessage(err))) {
        if (op.goneNote) gone.push(op.goneNote);
        return;
      }
      if (op.kind === 'signal') throw new MinictrError('E_SIGNAL_FAILED', `could not signal process ${op.pid} (${op.signal}): ${errorMessage(err)}`, { cause: err });
      const code = op.kind === 'write' ? 'E_WRITE_FAILED' : 'E_DIR_FAILED';
      throw new MinictrError(code, `could not ${op.kind === 'write' ? 'write' : op.kind} ${op.path}: ${errorMessage(err)}`, { cause: err });
    }
    return;
  }
  let result;
  try {
    result = await runner.run(op.argv, {
      ...(op.stdin === undefined ? {} : { input: op.stdin }),
      allowFailure: true,
    });
  } catch (err) {
    // An optional tool that is not installed (conntrack), where the op says that is fine.
    if (err instanceof MinictrError && err.code === 'E_MISSING_TOOL' && op.tolerate?.test(err.message)) return;
    throw err;
  }
  if (result.exitCode === 0) return;
  if (op.tolerate && op.tolerate.test(result.stderr)) {
    if (op.goneNote) gone.push(op.goneNote);
    return;
  }
  throw new CommandFailedError(op.argv, result.exitCode, result.stderr);
}

/** Apply every op in order; stops at the first failure (the caller tears down from state). */
export async function applyPlan(plan: Plan, runner: Runner, options: ApplyOptions = {}): Promise<void> {
  for (const op of plan.ops) {
    await options.beforeStep?.(op);
    const started = performance.now();
    await applyOp(op, runner, []);
    await options.onStep?.({ op, ms: performance.now() - started });
  }
}

/**
 * Apply every op even when some fail (teardown: an object already gone counts as removed).
 * Reports the failures that were not tolerated, and what was found already gone.
 */
export async function applyPlanBestEffort(plan: Plan, runner: Runner, options: ApplyOptions = {}): Promise<BestEffortReport> {
  const report: BestEffortReport = { failures: [], gone: [] };
  for (const op of plan.ops) {
    await options.beforeStep?.(op);
    const started = performance.now();
    try {
      await applyOp(op, runner, report.gone);
    } catch (err) {
      report.failures.push({ op, error: err instanceof Error ? err : new Error(String(err)) });
    }
    await options.onStep?.({ op, ms: performance.now() - started });
  }
  return report;
}

/**
 * Apply a batch best-effort: each shared op once; when one fails, every owner's share of it
 * instead. Then the owners' own ops side by side (mostly waits on the kernel). Reports by owner.
 */
export async function applyBatchBestEffort(batch: BatchPlan, runner: Runner, options: ApplyOptions = {}): Promise<Map<string, BestEffortReport>> {
  const reports = new Map<string, BestEffortReport>();
  const add = (owner: string, report: BestEffortReport): void => {
    const into = reports.get(owner) ?? { failures: [], gone: [] };
    into.failures.push(...report.failures);
    into.gone.push(...report.gone);
    reports.set(owner, into);
  };
  for (const { op, shares } of batch.shared) {
    const started = performance.now();
    let failed = false;
    try {
      await applyOp(op, runner, []);
    } catch {
      failed = true;
    }
    await options.onStep?.({ op, ms: performance.now() - started });
    if (!failed) continue;
    for (const share of shares) add(share.owner, await applyPlanBestEffort(share.plan, runner, options));
  }
  const own = await Promise.all(batch.own.map(async ({ owner, plan }) => ({ owner, report: await applyPlanBestEffort(plan, runner, options) })));
  for (const { owner, report } of own) add(owner, report);
  return reports;
}
