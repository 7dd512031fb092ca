// `run` and `create`: turn Docker's flags into a container, start it, and (in the
// foreground) stream it, forward signals and return its exit status.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { MinictrError, errorMessage } from '../base/errors.js';
import { ImageStore, type PullPolicy } from '../image/store.js';
import type { CreateRequest, Runtime } from '../runtime/runtime.js';
import type { ContainerRecord } from '../base/records.js';
import { DEFAULT_PATH, mergeEnv, parseEnvFile, parseEnvFlag, resolveCommand } from '../runtime/options.js';
import { print, runtimeFor } from './context.js';
import { explainStep } from '../explain/render.js';
import { dryRun } from './dry-run.js';

export interface RunFlags {
  name?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  hostname?: string;
  entrypoint?: string;
  interactive?: boolean;
  tty?: boolean;
  network?: string;
  net?: string;
  publish: string[];
  rm?: boolean;
  detach?: boolean;
  dryRun?: boolean;
  explain?: boolean;
  compare?: string;
  pull?: string;
  user?: string;
  publishAll?: boolean;
}

const PULL_POLICIES: readonly PullPolicy[] = ['missing', 'always', 'never'];

function pullPolicy(flags: RunFlags): PullPolicy {
  if (flags.dryRun) return 'never';
  const policy = (flags.pull ?? 'missing') as PullPolicy;
  if (!PULL_POLICIES.includes(policy)) {
    throw new MinictrError('E_BAD_FLAG', `invalid --pull "${flags.pull}": use missing, always or never`);
  }
  return policy;
}

async function envFromFlags(flags: RunFlags): Promise<string[]> {
  const fromFiles: string[] = [];
  for (const file of flags.envFile) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new MinictrError('E_BAD_ENV_FILE', `cannot read env file ${file}: ${errorMessage(err)}`);
    }
    fromFiles.push(...parseEnvFile(text, file));
  }
  const fromFlags = flags.env.map((e) => parseEnvFlag(e)).filter((e): e is string => e !== undefined);
  return [...fromFiles, ...fromFlags];
}

/** The container `run`/`create` flags describe (resolves the image; writes nothing else). */
export async function requestFromFlags(runtime: Runtime, imageRef: string, args: string[], flags: RunFlags): Promise<CreateRequest> {
  const userEnv = await envFromFlags(flags);
  const image = await new ImageStore(runtime.store).ensure(imageRef, pullPolicy(flags), { out: process.stderr });
  // -P publishes every port the image exposes on a free host port.
  const exposed = flags.publishAll ? Object.keys(image.config.ExposedPorts ?? {}) : [];
  const { entrypoint, cmd: command } = resolveCommand(image.config, flags.entrypoint, args);
  const hostname = flags.hostname ?? '';
  const env = mergeEnv(
    [DEFAULT_PATH],
    image.config.Env ?? [],
    flags.tty ? ['TERM=xterm'] : [],
    userEnv,
  );
  return {
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    config: {
      image: imageRef,
      imageId: image.id,
      cmd: command,
      entrypoint,
      env,
      workdir: flags.workdir ?? (image.config.WorkingDir || '/'),
      hostname,
      tty: flags.tty ?? false,
      interactive: flags.interactive ?? false,
      ...(flags.user ?? image.config.User ? { user: flags.user ?? image.config.User } : {}),
    },
    hostConfig: { networkMode: flags.network ?? flags.net ?? 'bridge', autoRemove: flags.rm ?? false, portSpecs: [...flags.publish, ...exposed] },
  };
}

export async function createFromFlags(
  cmd: Command,
  imageRef: string,
  args: string[],
  flags: RunFlags,
): Promise<{ runtime: Runtime; record: ContainerRecord }> {
  const runtime = await runtimeFor(cmd, flags.explain ? { onStep: explainStep } : {});
  const record = await runtime.create(await requestFromFlags(runtime, imageRef, args, flags));
  return { runtime, record };
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export async function runContainer(cmd: Command, imageRef: string, args: string[], flags: RunFlags): Promise<number> {
  if (flags.compare !== undefined && !flags.dryRun) {
    throw new MinictrError('E_BAD_FLAG', '--compare works with --dry-run only: minictr run --dry-run --compare docker …');
  }
  if (flags.dryRun) return dryRun(cmd, imageRef, args, flags);
  const { runtime, record } = await createFromFlags(cmd, imageRef, args, flags);
  let started;
  try {
    started = await runtime.start(record.id, { foreground: !flags.detach, stdin: flags.interactive ?? false });
  } catch (err) {
    // A run that failed to start leaves nothing behind: no record, no network objects.
    await runtime.remove(record.id, true).catch(() => undefined);
    throw err;
  }
  if (flags.detach) {
    print(record.id);
    return 0;
  }
  const { monitor } = started;
  if (!monitor) return 0;
  const forward = (signal: NodeJS.Signals): void => {
    void runtime.store.loadContainer(record.id).then((r) => {
      if (r && r.state.pid > 0) {
        try {
          process.kill(r.state.pid, signal);
        } catch {
          // already gone
        }
      }
    });
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  const monitorCode = await new Promise<number>((resolve) => {
    if (monitor.exitCode !== null) resolve(monitor.exitCode);
    else monitor.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? 9 : 0)));
  });
  for (const signal of FORWARDED) process.off(signal, forward);
  const final = await runtime.finalizeExit(record.id);
  return final?.state.exitCode ?? monitorCode;
}
