// `attach`: a running container's console joined to the caller's streams. Several clients may
// be attached at once; each sees the same output. Detaching leaves the container running.
import { MinictrError } from '../base/errors.js';
import { connectConsole } from './console.js';
import type { RuntimeContext } from './context.js';
import { find, signalContainer, wait } from './lifecycle.js';
import { FORWARDED_SIGNALS, type SignalSource } from './run.js';
import { relay, type RelayStreams } from './relay.js';

export interface AttachResult {
  /** The container's exit status once it ended; undefined when the caller detached. */
  exitCode?: number;
}

export async function attachContainer(ctx: RuntimeContext, ref: string, streams: RelayStreams, forward?: SignalSource): Promise<AttachResult> {
  const record = await find(ctx, ref);
  if (record.state.status !== 'running') throw new MinictrError('E_NOT_RUNNING', 'You cannot attach to a stopped container, start it first', { exitCode: 1 });
  if (record.state.paused) throw new MinictrError('E_PAUSED', 'You cannot attach to a paused container, unpause it first', { exitCode: 1 });
  const conn = await connectConsole(ctx.store.paths.containerConsole(record.id), `container ${record.name || record.id.slice(0, 12)}`);
  // --sig-proxy: signals go on to the container, but not to a terminal's (Ctrl-C is a key there).
  const pass = (signal: NodeJS.Signals): void => void signalContainer(ctx, record.id, signal);
  const signals = record.config.tty || !forward ? [] : FORWARDED_SIGNALS;
  for (const signal of signals) forward?.on(signal, pass);
  const end = await relay(conn, streams, record.config.interactive).finally(() => {
    for (const signal of signals) forward?.off(signal, pass);
  });
  if (end.how === 'detached') return {};
  // The status as Docker reports it (a kill mark or an OOM kill corrects the shim's), once recorded.
  return { exitCode: await wait(ctx, record.id) };
}
