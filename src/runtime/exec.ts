// `exec`: run a command inside a running container by joining its namespaces with nsenter,
// with the same capabilities and user as the container's own process.
import { closeSync, openSync } from 'node:fs';
import { MinictrError } from '../base/errors.js';
import { spawnProcess } from '../exec/runner.js';
import { processUser } from './containers.js';
import type { RuntimeContext } from './context.js';
import { execArgv } from './exec-argv.js';
import { hostTools } from './host-tools.js';
import { cgroupJoinOf } from './cgroup-life.js';
import { envObject, mergeEnv } from './options.js';
import { exitStatus } from '../base/proc.js';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SHIM_PATH } from '../base/install-paths.js';
import { connectConsole, shimListening } from './console.js';
import { find, requireShim } from './lifecycle.js';
import { relay, type RelayStreams } from './relay.js';

export interface ExecOptions {
  /** `K=V` entries added to the container's environment. */
  env: string[];
  workdir?: string;
  /** Hand the caller's stdin to the command. */
  interactive?: boolean;
  /** Start it in the background and return at once. */
  detach?: boolean;
  /** -t: a terminal of the container's own devpts, joined to these streams. */
  terminal?: RelayStreams;
  /** Without a terminal: the command's streams piped here instead of the caller's own (the Engine API). */
  pipes?: { stdin?: NodeJS.ReadableStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
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
  const terminal = options.detach ? undefined : options.terminal;
  const argv = execArgv(
    record.state.pid, options.workdir ?? record.config.workdir, command, tools.privileges, tools.busybox,
    await processUser(ctx, record), await cgroupJoinOf(record), terminal !== undefined, ctx.rootless !== undefined,
  );
  if (terminal) return execOnTerminal(ctx, record.id, record.state.pid, argv, env, options.interactive === true, terminal);
  const hostRoot = openSync('/', 'r');
  const pipes = options.detach ? undefined : options.pipes;
  const child = spawnProcess(argv, {
    stdio: options.detach
      ? ['ignore', 'ignore', 'ignore', hostRoot]
      : pipes
        ? [pipes.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', hostRoot]
        : [options.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit', hostRoot],
    detached: options.detach ?? false,
    env: envObject(env),
  });
  closeSync(hostRoot);
  if (pipes) {
    child.stdout?.pipe(pipes.stdout, { end: false });
    child.stderr?.pipe(pipes.stderr, { end: false });
    if (pipes.stdin && child.stdin) {
      child.stdin.on('error', () => undefined);
      pipes.stdin.pipe(child.stdin);
    }
  }
  if (options.detach) {
    child.unref();
    return 0;
  }
  return new Promise<number>((resolve, reject) => {
    child.once('error', (err) => reject(new MinictrError('E_EXEC', `cannot run nsenter: ${err.message}`)));
    // 'close': the output pipes are drained by then.
    child.once('close', (code, signal) => resolve(exitStatus(code, signal)));
  });
}

/**
 * exec -t: the shim makes a terminal in the container's devpts (/dev/pts/N there), gives it to
 * the command and serves it on a socket of its own, joined to the caller's streams.
 */
async function execOnTerminal(ctx: RuntimeContext, id: string, pid: number, argv: readonly string[], env: string[], interactive: boolean, streams: RelayStreams): Promise<number> {
  requireShim();
  const socket = join(ctx.store.paths.container(id), `exec-${randomBytes(6).toString('hex')}.sock`);
  const shim = [SHIM_PATH, '--socket', socket, '--pty-of', String(pid), '--wait-attach', '--ready-fd', '4', ...(interactive ? ['--stdin'] : []), '--', ...argv];
  const hostRoot = openSync('/', 'r');
  const child = spawnProcess(shim, { stdio: ['ignore', 'ignore', 'inherit', hostRoot, 'pipe'], env: envObject(env) });
  closeSync(hostRoot);
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(exitStatus(code, signal))));
  await shimListening(child, 4);
  const conn = await connectConsole(socket, `container ${id.slice(0, 12)}`);
  const end = await relay(conn, streams, interactive);
  if (end.how === 'detached') {
    child.unref();
    return 0;
  }
  return end.how === 'exited' ? end.status : exited;
}
