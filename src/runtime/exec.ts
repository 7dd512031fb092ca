// `exec`: run a command inside a running container by joining its namespaces with nsenter,
// with the same capabilities and user as the container's own process.
import { closeSync, openSync } from 'node:fs';
import { MinictrError } from '../base/errors.js';
import { spawnProcess } from '../exec/runner.js';
import { processUser } from './containers.js';
import type { RuntimeContext } from './context.js';
import { execArgv } from './exec-argv.js';
import { hostTools } from './host-tools.js';
import { find } from './lifecycle.js';
import { cgroupJoinOf } from './cgroup-life.js';
import { envObject, mergeEnv } from './options.js';
import { exitStatus } from '../base/proc.js';

export interface ExecOptions {
  /** `K=V` entries added to the container's environment. */
  env: string[];
  workdir?: string;
  /** Hand the caller's stdin to the command. */
  interactive?: boolean;
  /** Start it in the background and return at once. */
  detach?: boolean;
}

/** The command's exit status (0 at once for a detached exec). */
export async function execInContainer(ctx: RuntimeContext, ref: string, command: string[], options: ExecOptions): Promise<number> {
  const record = await find(ctx, ref);
  if (record.state.status !== 'running' || record.state.pid === 0) {
    throw new MinictrError('E_NOT_RUNNING', `container ${record.id.slice(0, 12)} is not running`);
  }
  if (record.state.paused) throw new MinictrError('E_PAUSED', `Container ${record.id} is paused, unpause the container before exec`);
  const env = mergeEnv(record.config.env, options.env);
  const tools = hostTools();
  const argv = execArgv(
    record.state.pid, options.workdir ?? record.config.workdir, command, tools.privileges, tools.busybox,
    await processUser(ctx, record), await cgroupJoinOf(record),
  );
  const hostRoot = openSync('/', 'r');
  const child = spawnProcess(argv, {
    stdio: options.detach
      ? ['ignore', 'ignore', 'ignore', hostRoot]
      : [options.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit', hostRoot],
    detached: options.detach ?? false,
    env: envObject(env),
  });
  closeSync(hostRoot);
  if (options.detach) {
    child.unref();
    return 0;
  }
  return new Promise<number>((resolve, reject) => {
    child.once('error', (err) => reject(new MinictrError('E_EXEC', `cannot run nsenter: ${err.message}`)));
    child.once('exit', (code, signal) => resolve(exitStatus(code, signal)));
  });
}
