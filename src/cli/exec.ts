// `exec`: run a command inside a running container by joining its namespaces with nsenter.
import { MinictrError } from '../base/errors.js';
import { spawnProcess } from '../exec/runner.js';
import type { Runtime } from '../runtime/runtime.js';
import { mergeEnv, parseEnvFlag } from '../runtime/options.js';
import { execArgv } from '../runtime/exec-argv.js';
import { hostTools } from '../runtime/host-tools.js';
import { openSync, closeSync } from 'node:fs';

export interface ExecFlags {
  interactive?: boolean;
  detach?: boolean;
  env: string[];
  workdir?: string;
}

export async function execInContainer(runtime: Runtime, ref: string, command: string[], flags: ExecFlags): Promise<number> {
  const record = await runtime.find(ref);
  if (record.state.status !== 'running' || record.state.pid === 0) {
    throw new MinictrError('E_NOT_RUNNING', `container ${record.id.slice(0, 12)} is not running`);
  }
  const env = mergeEnv(record.config.env, flags.env.map((e) => parseEnvFlag(e)).filter((e): e is string => e !== undefined));
  const tools = hostTools();
  const argv = execArgv(record.state.pid, flags.workdir ?? record.config.workdir, command, tools.privileges, tools.busybox, await runtime.processUser(record));
  const envObject = Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const hostRoot = openSync('/', 'r');
  const child = spawnProcess(argv, {
    stdio: flags.detach
      ? ['ignore', 'ignore', 'ignore', hostRoot]
      : [flags.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit', hostRoot],
    detached: flags.detach ?? false,
    env: envObject,
  });
  closeSync(hostRoot);
  if (flags.detach) {
    child.unref();
    return 0;
  }
  return new Promise<number>((resolve, reject) => {
    child.once('error', (err) => reject(new MinictrError('E_EXEC', `cannot run nsenter: ${err.message}`)));
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)));
  });
}
