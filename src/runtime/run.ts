// `run`: create, start, and (attached) wait for the container while forwarding signals, then
// return its exit status. A run that fails to start leaves nothing behind.
import { withWarnings } from '../base/errors.js';
import { exitStatus } from '../base/proc.js';
import type { ContainerRecord } from '../base/records.js';
import { create, resolveSpec, type ContainerSpec, type CreateOptions } from './containers.js';
import type { RuntimeContext } from './context.js';
import { finalizeExit, remove, signalContainer, start } from './lifecycle.js';
import { afterExit } from './restart.js';

export interface RunOptions extends CreateOptions {
  /** Return once the container runs, leaving it to its monitor. */
  detach: boolean;
  /** Signals to pass on to the container while attached (the CLI forwards its own). */
  forward?: { on(signal: NodeJS.Signals, fn: (signal: NodeJS.Signals) => void): unknown; off(signal: NodeJS.Signals, fn: (signal: NodeJS.Signals) => void): unknown };
}

export interface RunResult {
  record: ContainerRecord;
  /** The container's exit status (0 for a detached run). */
  exitCode: number;
  /** What its exit handling could not clean up. */
  warnings: string[];
}

/** The signals a foreground run passes on, as Docker's CLI does with --sig-proxy. */
export const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export async function run(ctx: RuntimeContext, spec: ContainerSpec, options: RunOptions): Promise<RunResult> {
  const record = await create(ctx, await resolveSpec(ctx, spec, options));
  let started;
  try {
    started = await start(ctx, record.id, { foreground: !options.detach, stdin: (spec.interactive ?? false) && !options.detach });
  } catch (err) {
    // A run that failed to start leaves nothing behind: no record, no network objects.
    const cleanup = await remove(ctx, record.id, { force: true, volumes: true }).then((r) => r.warnings, () => []);
    throw withWarnings(err, cleanup);
  }
  const { monitor } = started;
  if (options.detach || !monitor) return { record: started.record, exitCode: 0, warnings: [] };
  const forward = (signal: NodeJS.Signals): void => void signalContainer(ctx, record.id, signal);
  for (const signal of FORWARDED_SIGNALS) options.forward?.on(signal, forward);
  const monitorCode = await new Promise<number>((resolve) => {
    if (monitor.exitCode !== null) resolve(monitor.exitCode);
    else monitor.once('exit', (code, signal) => resolve(exitStatus(code, signal)));
  });
  for (const signal of FORWARDED_SIGNALS) options.forward?.off(signal, forward);
  const final = await finalizeExit(ctx, record.id);
  // As Docker's CLI: the first exit's status is returned, the policy restarts the container behind.
  await afterExit(ctx, record.id);
  return { record: final?.record ?? started.record, exitCode: final?.record.state.exitCode ?? monitorCode, warnings: final?.warnings ?? [] };
}
