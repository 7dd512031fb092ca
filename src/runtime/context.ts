// What every part of the runtime library works with: the state store, the runner that makes
// every host change, and who wants to hear about each step (--explain, an API's event stream).
import type { Op, StepReport } from '../base/plan.js';
import type { ApplyOptions } from '../exec/apply.js';
import type { Runner } from '../exec/runner.js';
import type { Store } from '../state/store.js';
import type { RootlessIds } from './rootless-ids.js';

export interface RuntimeContext {
  readonly store: Store;
  readonly runner: Runner;
  readonly onStep?: (report: StepReport) => void;
  /** Set when minictr runs as a normal user: containers get a user namespace, no cgroup, rootless networks. */
  readonly rootless?: RootlessIds;
  /** Called before each host change (`run --step`). */
  readonly beforeStep?: (op: Op) => void | Promise<void>;
}

export function stepOptions(ctx: RuntimeContext): ApplyOptions {
  return { ...(ctx.onStep ? { onStep: ctx.onStep } : {}), ...(ctx.beforeStep ? { beforeStep: ctx.beforeStep } : {}) };
}
