// Runs a plan, op by op, and reports each step as it goes (for --explain).
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { CommandFailedError, MinictrError, errorMessage } from '../base/errors.js';
import type { Op, Plan } from '../base/plan.js';
import type { Runner } from './runner.js';
import { waitFor } from '../base/proc.js';

export interface StepReport {
  op: Op;
  ms: number;
}

export interface ApplyOptions {
  /** Called after each op has run, with its duration. */
  onStep?: (report: StepReport) => void | Promise<void>;
}

async function applyOp(op: Op, runner: Runner): Promise<void> {
  if (op.fallback) {
    try {
      await applyOne(op, runner);
    } catch {
      for (const alt of op.fallback) await applyOp(alt, runner);
    }
    return;
  }
  await applyOne(op, runner);
}

/** How often a wait-gone op looks again: the kernel takes a few ms. */
const WAIT_POLL_MS = 1;

async function applyOne(op: Op, runner: Runner): Promise<void> {
  if (op.kind === 'wait-gone') {
    if (!(await waitFor(async () => !existsSync(op.path), op.timeoutMs, WAIT_POLL_MS))) {
      throw new MinictrError('E_STILL_THERE', `${op.path} is still there after ${op.timeoutMs} ms`);
    }
    return;
  }
  if (op.kind === 'write') {
    try {
      await writeFile(op.path, op.content);
    } catch (err) {
      if (op.tolerate?.test(errorMessage(err))) return;
      throw new MinictrError('E_WRITE_FAILED', `could not write ${op.path}: ${errorMessage(err)}`, { cause: err });
    }
    return;
  }
  const result = await runner.run(op.argv, {
    ...(op.stdin === undefined ? {} : { input: op.stdin }),
    allowFailure: true,
  });
  if (result.exitCode === 0) return;
  if (op.tolerate && op.tolerate.test(result.stderr)) return;
  throw new CommandFailedError(op.argv, result.exitCode, result.stderr);
}

/** Apply every op in order; stops at the first failure (the caller tears down from state). */
export async function applyPlan(plan: Plan, runner: Runner, options: ApplyOptions = {}): Promise<void> {
  for (const op of plan.ops) {
    const started = performance.now();
    await applyOp(op, runner);
    await options.onStep?.({ op, ms: performance.now() - started });
  }
}

/**
 * Apply every op even when some fail (teardown: an object already gone counts as removed).
 * Returns the failures that were not tolerated.
 */
export async function applyPlanBestEffort(plan: Plan, runner: Runner, options: ApplyOptions = {}): Promise<Error[]> {
  const failures: Error[] = [];
  for (const op of plan.ops) {
    const started = performance.now();
    try {
      await applyOp(op, runner);
    } catch (err) {
      failures.push(err instanceof Error ? err : new Error(String(err)));
    }
    options.onStep?.({ op, ms: performance.now() - started });
  }
  return failures;
}
