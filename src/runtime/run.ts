// `run`: create, start, and (attached) wait for the container while forwarding signals, then
// return its exit status. A run that fails to start leaves nothing behind.
import { withWarnings } from '../base/errors.js';
import { exitStatus } from '../base/proc.js';
import type { ContainerRecord } from '../base/records.js';
import { create, resolveSpec, type ContainerSpec, type CreateOptions } from './containers.js';
import type { RuntimeContext } from './context.js';
import { finalizeExit, remove, signalContainer, start, type Started } from './lifecycle.js';
import { afterExit } from './restart.js';
import { relay, type RelayStreams } from './relay.js';

/** Where signals for the container come from (the CLI's own process). */
export interface SignalSource {
  on(signal: NodeJS.Signals, fn: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, fn: (signal: NodeJS.Signals) => void): unknown;
}

export interface RunOptions extends CreateOptions {
  /** Return once the container runs, leaving it to its monitor. */
  detach: boolean;
  /** Attached: the caller's streams (stdin only with -i), its terminal size and the detach keys. */
  streams?: RelayStreams;
  /** Signals to pass on to the container while attached (the CLI forwards its own). */
  forward?: SignalSource;
}

export interface RunResult {
  record: ContainerRecord;
  /** The container's exit status (0 for a detached run). */
  exitCode: number;
  /** What its exit handling could not clean up. */
  warnings: string[];
  /** The caller detached with the detach keys: the container runs on. */
  detached?: boolean;
}

/** The signals a foreground run passes on, as Docker's CLI does with --sig-proxy. */
export const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export async function run(ctx: RuntimeContext, spec: ContainerSpec, options: RunOptions): Promise<RunResult> {
  const record = await create(ctx, await resolveSpec(ctx, spec, options));
  let started;
  try {
    started = await start(ctx, record.id, { foreground: !options.detach });
  } catch (err) {
    // A run that failed to start leaves nothing behind: no record, no network objects.
    const cleanup = await remove(ctx, record.id, { force: true, volumes: true }).then((r) => r.warnings, () => []);
    throw withWarnings(err, cleanup);
  }
  if (options.detach) return { record: started.record, exitCode: 0, warnings: [] };
  return attached(ctx, started, options);
}

/** `start -a [-i]`: start a created or stopped container with its console attached, as `run` does. */
export async function startAttached(ctx: RuntimeContext, id: string, options: Omit<RunOptions, 'detach'>): Promise<RunResult> {
  return attached(ctx, await start(ctx, id, { foreground: true }), options);
}

/** Relay the started container's console until it exits (its exit handled here) or the caller detaches. */
async function attached(ctx: RuntimeContext, started: Started, options: Omit<RunOptions, 'detach'>): Promise<RunResult> {
  const { monitor, console: conn, record } = started;
  if (!monitor || !conn) return { record, exitCode: record.state.exitCode, warnings: [] };
  // As Docker's --sig-proxy: signals go on to the container, but not with a terminal, where
  // Ctrl-C is a key the container's terminal turns into its own SIGINT.
  const forward = (signal: NodeJS.Signals): void => void signalContainer(ctx, record.id, signal);
  const signals = record.config.tty ? [] : FORWARDED_SIGNALS;
  for (const signal of signals) options.forward?.on(signal, forward);
  const streams: RelayStreams = options.streams ?? { stdout: process.stdout, stderr: process.stderr, detachKeys: Buffer.alloc(0) };
  const end = await relay(conn, streams, record.config.interactive);
  for (const signal of signals) options.forward?.off(signal, forward);
  if (end.how === 'detached') {
    // The monitor handles the exit when it comes; this process no longer waits for it.
    monitor.unref();
    return { record, exitCode: 0, warnings: [], detached: true };
  }
  const monitorCode = await new Promise<number>((resolve) => {
    if (monitor.exitCode !== null) resolve(monitor.exitCode);
    else monitor.once('exit', (code, signal) => resolve(exitStatus(code, signal)));
  });
  const final = await finalizeExit(ctx, record.id);
  // As Docker's CLI: the first exit's status is returned, the policy restarts the container behind.
  await afterExit(ctx, record.id);
  return { record: final?.record ?? record, exitCode: final?.record.state.exitCode ?? monitorCode, warnings: final?.warnings ?? [] };
}

