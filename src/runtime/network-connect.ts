// `network connect`/`disconnect` of a container that is not running: which network it will
// join at its next start, and the aliases its peers will find it by. (docker-compose 1.x
// disconnects and reconnects each new container to set its aliases.) A minictr container is on
// one network; connecting a running one is not done yet.
import { MinictrError } from '../base/errors.js';
import type { ContainerRecord } from '../base/records.js';
import type { RuntimeContext } from './context.js';
import { find, update } from './lifecycle.js';
import { resolveNetwork } from './networks.js';

function notWhileRunning(record: ContainerRecord, verb: string): void {
  if (record.state.status === 'running') {
    throw new MinictrError('E_RUNNING', `network ${verb} of a running container is not supported yet: stop ${record.name} first`);
  }
}

export async function connectStopped(ctx: RuntimeContext, ref: string, network: string, aliases: readonly string[]): Promise<ContainerRecord> {
  const record = await find(ctx, ref);
  notWhileRunning(record, 'connect');
  const net = await resolveNetwork(ctx.store, network);
  const current = record.hostConfig.networkMode;
  if (current !== 'none' && current !== net.name) {
    throw new MinictrError('E_RUNNING', `container ${record.name} is already on network ${current}: a minictr container is on one network; disconnect it first`);
  }
  const saved = await update(ctx, record.id, (r) => {
    r.hostConfig.networkMode = net.name;
    const names = [...new Set([...(r.config.networkAliases ?? []), ...aliases])];
    if (names.length > 0) r.config.networkAliases = names;
  });
  if (!saved) throw new MinictrError('E_NO_SUCH_CONTAINER', `no such container: ${ref}`, { exitCode: 1 });
  return saved;
}

export async function disconnectStopped(ctx: RuntimeContext, ref: string, network: string): Promise<ContainerRecord> {
  const record = await find(ctx, ref);
  notWhileRunning(record, 'disconnect');
  const net = await resolveNetwork(ctx.store, network);
  if (record.hostConfig.networkMode !== net.name) {
    throw new MinictrError('E_NOT_CONNECTED', `container ${record.name} is not connected to network ${net.name}`);
  }
  const saved = await update(ctx, record.id, (r) => {
    r.hostConfig.networkMode = 'none';
    delete r.config.networkAliases;
  });
  if (!saved) throw new MinictrError('E_NO_SUCH_CONTAINER', `no such container: ${ref}`, { exitCode: 1 });
  return saved;
}
