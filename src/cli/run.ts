// `run` and `create`: Docker's flags turned into a container spec for the runtime library,
// and (in the foreground) the container's exit status returned as minictr's own.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { MinictrError, errorMessage } from '../base/errors.js';
import type { PullPolicy } from '../image/store.js';
import type { Resources } from '../base/records.js';
import { parseRestartPolicy } from '../base/restart-policy.js';
import { parseBytes, parseCpus, parseCpuShares, parseCpuset, parseMemorySwap, parsePidsLimit } from '../cgroup/limits.js';
import type { ContainerSpec } from '../runtime/runtime.js';
import { parseEnvFile, parseEnvFlag, parseLabels } from '../runtime/options.js';
import { print, runtimeFor, sayRootlessNotes, warn } from './context.js';
import { dryRun } from './dry-run.js';
import { attachMode, attachedStreams, checkTerminal } from './attached.js';
import { parseStepMode, stepper } from './step.js';

export interface RunFlags {
  name?: string;
  label: string[];
  labelFile: string[];
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
  restart?: string;
  detach?: boolean;
  dryRun?: boolean;
  explain?: boolean;
  compare?: string;
  pull?: string;
  user?: string;
  publishAll?: boolean;
  volume: string[];
  mount: string[];
  tmpfs: string[];
  readOnly?: boolean;
  init?: boolean;
  volumesFrom: string[];
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpus?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  pidsLimit?: string;
  detachKeys?: string;
  logDriver?: string;
  logOpt: string[];
  networkAlias: string[];
  netAlias: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOption: string[];
  dnsOpt: string[];
  addHost: string[];
  ip?: string;
  ip6?: string;
  step?: string | boolean;
}

const PULL_POLICIES: readonly PullPolicy[] = ['missing', 'always', 'never'];

function pullPolicy(flags: RunFlags): PullPolicy {
  const policy = (flags.pull ?? 'missing') as PullPolicy;
  if (!PULL_POLICIES.includes(policy)) {
    throw new MinictrError('E_BAD_FLAG', `invalid --pull "${flags.pull}": use missing, always or never`);
  }
  return policy;
}

/** -e and --env-file, read as Docker's CLI reads them (files first, then flags). */
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

/** -l and --label-file as Docker's CLI reads them: files first, then flags; `key` alone is an empty value. */
async function labelsFromFlags(flags: RunFlags): Promise<Record<string, string>> {
  const entries: string[] = [];
  for (const file of flags.labelFile ?? []) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new MinictrError('E_BAD_LABEL_FILE', `cannot read label file ${file}: ${errorMessage(err)}`);
    }
    entries.push(...text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')));
  }
  entries.push(...(flags.label ?? []));
  return parseLabels(entries);
}

/** The limit flags in Docker's units; each bad value is refused with Docker's message. */
function resourcesFromFlags(flags: RunFlags): Partial<Resources> {
  const r: Partial<Resources> = {};
  if (flags.memory !== undefined) r.memory = parseBytes(flags.memory, '-m, --memory');
  if (flags.memorySwap !== undefined) r.memorySwap = parseMemorySwap(flags.memorySwap);
  if (flags.memoryReservation !== undefined) r.memoryReservation = parseBytes(flags.memoryReservation, '--memory-reservation');
  if (flags.cpus !== undefined) r.nanoCpus = parseCpus(flags.cpus);
  if (flags.cpuShares !== undefined) r.cpuShares = parseCpuShares(flags.cpuShares);
  if (flags.cpusetCpus !== undefined) r.cpusetCpus = parseCpuset(flags.cpusetCpus);
  if (flags.pidsLimit !== undefined) r.pidsLimit = parsePidsLimit(flags.pidsLimit);
  return r;
}

/** The container the flags describe. */
export async function specFromFlags(image: string, command: string[], flags: RunFlags): Promise<ContainerSpec> {
  const network = flags.network ?? flags.net;
  const restartPolicy = parseRestartPolicy(flags.restart ?? '');
  if (flags.rm && restartPolicy.name !== 'no') throw new MinictrError('E_BAD_FLAG', 'Conflicting options: --restart and --rm');
  return {
    image,
    command,
    env: await envFromFlags(flags),
    publish: flags.publish,
    pull: flags.dryRun ? 'never' : pullPolicy(flags),
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.entrypoint !== undefined ? { entrypoint: flags.entrypoint } : {}),
    ...(flags.workdir !== undefined ? { workdir: flags.workdir } : {}),
    ...(flags.hostname !== undefined ? { hostname: flags.hostname } : {}),
    ...(flags.user !== undefined ? { user: flags.user } : {}),
    ...(network !== undefined ? { network } : {}),
    tty: flags.tty ?? false,
    interactive: flags.interactive ?? false,
    publishAll: flags.publishAll ?? false,
    autoRemove: flags.rm ?? false,
    restartPolicy,
    volumes: flags.volume,
    mounts: flags.mount,
    tmpfs: flags.tmpfs,
    readOnly: flags.readOnly ?? false,
    ...(flags.init ? { init: true } : {}),
    volumesFrom: flags.volumesFrom,
    resources: resourcesFromFlags(flags),
    labels: await labelsFromFlags(flags),
    ...(flags.logDriver !== undefined ? { logDriver: flags.logDriver } : {}),
    logOpts: flags.logOpt ?? [],
    networkAliases: [...(flags.networkAlias ?? []), ...(flags.netAlias ?? [])],
    dns: flags.dns ?? [],
    dnsSearch: flags.dnsSearch ?? [],
    dnsOptions: [...(flags.dnsOption ?? []), ...(flags.dnsOpt ?? [])],
    extraHosts: flags.addHost ?? [],
    ...(flags.ip !== undefined ? { ip: flags.ip } : {}),
    ...(flags.ip6 !== undefined ? { ip6: flags.ip6 } : {}),
  };
}

export async function createContainer(cmd: Command, image: string, args: string[], flags: RunFlags): Promise<void> {
  const rt = runtimeFor(cmd, { explain: flags.explain ?? false });
  sayRootlessNotes(rt);
  const record = await rt.create(await specFromFlags(image, args, flags));
  print(record.id);
}

export async function runContainer(cmd: Command, image: string, args: string[], flags: RunFlags): Promise<number> {
  if (flags.compare !== undefined && !flags.dryRun) {
    throw new MinictrError('E_BAD_FLAG', '--compare works with --dry-run only: minictr run --dry-run --compare docker …');
  }
  if (flags.dryRun) return dryRun(cmd, image, args, flags);
  const steps = flags.step !== undefined ? stepper(parseStepMode(flags.step)) : undefined;
  const rt = runtimeFor(cmd, { explain: flags.explain ?? false, ...(steps ? { beforeStep: steps } : {}) });
  sayRootlessNotes(rt);
  const mode = attachMode(flags.tty ?? false, flags.interactive ?? false, flags.detachKeys);
  // Refused before anything is created.
  if (!flags.detach) checkTerminal(mode);
  const streams = attachedStreams(mode);
  const result = await rt.run(await specFromFlags(image, args, flags), { detach: flags.detach ?? false, forward: process, streams });
  if (flags.detach) print(result.record.id);
  warn(result.warnings);
  return result.exitCode;
}
