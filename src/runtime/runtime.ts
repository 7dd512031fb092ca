// The runtime library: what a container engine does, as typed async methods over one state
// root. It never prints, reads argv or exits: the faces do that (src/cli today; an Engine API
// server and a CNI plugin next). One Runtime can serve many calls in a long-lived process.
// Each method is a thin door into the module that does the work.
import { switchFirewall, type FirewallSwitch } from './firewall-switch.js';
import type { Op, StepReport } from '../base/plan.js';
import type { ContainerRecord, NetworkRecord, VolumeRecord } from '../base/records.js';
import { HostRunner, type Runner } from '../exec/runner.js';
import { ImageStore } from '../image/store.js';
import type { DoctorFacts } from '../explain/doctor.js';
import type { Known, NetViewInput } from '../explain/inspect-net.js';
import { resolveRoot } from '../state/paths.js';
import { Store } from '../state/store.js';
import { claimRoot } from '../state/owner.js';
import type { RootlessIds } from './rootless-ids.js';
import { imageStoreOptions } from './rootless-run.js';
import { rootlessDoctorFacts } from './rootless.js';
import { rootlessTopology } from './rootless-bridge.js';
import type { RootlessTopology } from '../explain/rootless.js';
import { copy, copyWithRoot } from './cp.js';
import { create, resolveSpec, type ContainerSpec, type CreateOptions, type CreateRequest } from './containers.js';
import type { RuntimeContext } from './context.js';
import { collectDoctorFacts } from './doctor-facts.js';
import { planRun, type RunPlan } from './dry-run.js';
import { trace, type TraceRequest, type TraceResult } from './trace.js';
import { execInContainer, type ExecOptions } from './exec.js';
import { inspectContainer, inspectNetwork } from './inspect.js';
import { sampleStats, statsTargets } from './stats.js';
import type { StatsSample } from '../cgroup/stats.js';
import { finalizeExit, find, kill, list, remove, start, stop, wait, type RemoveOptions, type Removed, type StartOptions, type Started } from './lifecycle.js';
import { streamLogs, type LogOptions, type LogTargets } from './logs.js';
import { attachContainer, type AttachResult } from './attach-console.js';
import { connectNetwork, disconnectNetwork, type ConnectOptions } from './network-connect.js';
import type { RelayStreams } from './relay.js';
import { gatherNetView, gatherTopology } from './net-stack.js';
import {
  createNetwork,
  listNetworks,
  networkProblems,
  pruneNetworks,
  reloadNetworks,
  removeNetwork,
  resolveNetwork,
  type CreateNetworkRequest,
  type ReloadCount,
} from './networks.js';
import { pause, unpause } from './pause.js';
import { rename } from './rename.js';
import { top, type TopResult } from './top.js';
import { filterContainers, filtersImplyAll, parsePsFilters } from './ps-filter.js';
import { systemPrune, type Pruned } from './prune.js';
import { afterExit, boot, restartNow } from './restart.js';
import { removeMany, type RemovedMany } from './remove-many.js';
import { run, startAttached, type RunOptions, type RunResult, type SignalSource } from './run.js';
import { createVolume, inspectVolume, listVolumes, pruneVolumes, removeVolume, type PrunedVolumes, type VolumeFilter } from './volumes.js';

export type { TopResult } from './top.js';
export type { ContainerSpec, CreateRequest, Removed, RemovedMany, RunOptions, RunResult, Started, StartOptions, Pruned, RunPlan, ExecOptions, LogTargets, PrunedVolumes, VolumeFilter };

export interface RuntimeOptions {
  /** The state root (default: $MINICTR_ROOT, or /var/lib/minictr). */
  root?: string;
  /** Runs every host change; a recording fake in tests. */
  runner?: Runner;
  /** Hears each host change as it is made (--explain). */
  onStep?: (report: StepReport) => void;
  /** Rootless: the user's ids and subordinate ranges (runtime/rootless.ts `currentRootlessIds`). */
  rootless?: RootlessIds;
  /** Called before each host change, and waited for (`run --step`). */
  beforeStep?: (op: Op) => void | Promise<void>;
}

export class Runtime implements RuntimeContext {
  readonly store: Store;
  readonly runner: Runner;
  readonly onStep?: (report: StepReport) => void;
  readonly rootless?: RootlessIds;
  readonly beforeStep?: (op: Op) => void | Promise<void>;
  private imageStore: ImageStore | undefined;

  constructor(options: RuntimeOptions = {}) {
    this.store = new Store(resolveRoot(options.root, options.rootless?.uid ?? 0));
    this.runner = options.runner ?? new HostRunner();
    if (options.onStep) this.onStep = options.onStep;
    if (options.beforeStep) this.beforeStep = options.beforeStep;
    if (options.rootless) this.rootless = options.rootless;
  }

  /** Refuse a state root of the other kind (rootful/rootless) or of another user; mark a new rootless one. */
  claimStateRoot(): void {
    claimRoot(this.store.paths.root, this.rootless?.uid ?? 0);
  }

  /** The image store: list, pull, load, save, tag, import, remove. */
  get images(): ImageStore {
    this.imageStore ??= new ImageStore(this.store, imageStoreOptions(this));
    return this.imageStore;
  }

  // ---- containers

  async create(spec: ContainerSpec, options?: CreateOptions): Promise<ContainerRecord> {
    return create(this, await resolveSpec(this, spec, options));
  }
  start(id: string, io: StartOptions = { foreground: false }): Promise<Started> {
    return start(this, id, io);
  }
  run(spec: ContainerSpec, options: RunOptions): Promise<RunResult> {
    return run(this, spec, options);
  }
  /** Everything a run would do, planned, with nothing changed (`run --dry-run`). */
  planRun(spec: ContainerSpec): Promise<RunPlan> {
    return planRun(this, spec);
  }
  /** `cp SRC DEST`: exactly one side `container:path`; `-` is a tar stream on stdin/stdout. */
  copy(src: string, dest: string, io: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream }): Promise<number> {
    return copy(this, src, dest, io);
  }
  /** The helper of `cp` on a stopped overlay container: `root` is mounted in its own mount namespace. */
  copyWithRoot(
    root: string, ref: string, direction: 'out' | 'in', containerPath: string, hostPath: string,
    io: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream },
  ): Promise<void> {
    return copyWithRoot(root, ref, direction, containerPath, hostPath, io);
  }
  exec(ref: string, command: string[], options: ExecOptions): Promise<number> {
    return execInContainer(this, ref, command, options);
  }
  stop(ref: string, timeoutSeconds: number, signal?: NodeJS.Signals): Promise<Removed> {
    return stop(this, ref, timeoutSeconds, signal);
  }
  kill(ref: string, signal: NodeJS.Signals): Promise<Removed> {
    return kill(this, ref, signal);
  }
  remove(ref: string, options: RemoveOptions): Promise<Removed> {
    return remove(this, ref, options);
  }
  /** `rm a b c`: one pass for all (one firewall transaction); each container fails or warns on its own. */
  removeMany(refs: string[], options: RemoveOptions): Promise<RemovedMany> {
    return removeMany(this, refs, options);
  }
  /** Freeze every process of a running container (its cgroup's freezer), as `docker pause`. */
  pause(ref: string): Promise<ContainerRecord> {
    return pause(this, ref);
  }
  /** Thaw a paused container, as `docker unpause`. */
  unpause(ref: string): Promise<ContainerRecord> {
    return unpause(this, ref);
  }
  /** `docker rename`: a free, valid name; peers on its network find it by the new one. */
  rename(ref: string, newName: string): Promise<ContainerRecord> {
    return rename(this, ref, newName);
  }
  /** `docker top`: the container's processes as the host's `ps` prints them (default `-ef`). */
  top(ref: string, psArgs = ''): Promise<TopResult> {
    return top(this, ref, psArgs);
  }
  wait(ref: string): Promise<number> {
    return wait(this, ref);
  }
  logs(ref: string, options: LogOptions, to: LogTargets): Promise<void> {
    return streamLogs(this, ref, options, to);
  }
  attach(ref: string, streams: RelayStreams, forward?: SignalSource): Promise<AttachResult> {
    return attachContainer(this, ref, streams, forward);
  }
  startAttached(id: string, options: Omit<RunOptions, 'detach'>): Promise<RunResult> {
    return startAttached(this, id, options);
  }
  find(ref: string): Promise<ContainerRecord> {
    return find(this, ref);
  }
  list(all: boolean): Promise<ContainerRecord[]> {
    return list(this, all);
  }
  /**
   * `ps [-a] --filter k=v …`: Docker's keys and errors (runtime/ps-filter.ts). A status, before
   * or since filter shows stopped containers too, as in Docker.
   */
  async listFiltered(all: boolean, filterFlags: readonly string[]): Promise<ContainerRecord[]> {
    const filters = parsePsFilters(filterFlags);
    if (filters.size === 0) return list(this, all);
    const every = await list(this, true);
    const imageIds = new Map<string, string>();
    for (const ref of filters.get('ancestor') ?? []) {
      const image = await this.images.find(ref).catch(() => undefined);
      if (image) imageIds.set(ref, image.id);
    }
    const networkIds = new Map<string, string>();
    if (filters.has('network')) for (const n of await listNetworks(this.store)) networkIds.set(n.name, n.id);
    const shown = all || filtersImplyAll(filters) ? every : every.filter((r) => r.state.status === 'running');
    return filterContainers(shown, filters, { all: every, imageIds, networkIds });
  }
  async inspect(ref: string): Promise<ReturnType<typeof inspectContainer>> {
    const record = await find(this, ref);
    return inspectContainer(record, this.store.paths.containerLog(record.id));
  }
  /** Record a container's exit and release what it held (the monitor calls this). */
  finalizeExit(id: string): Promise<Removed | undefined> {
    return finalizeExit(this, id);
  }
  /** The monitor's exit handling: the exit recorded and released, then the restart policy asked. */
  async handleExit(id: string): Promise<Removed | undefined> {
    const removed = await finalizeExit(this, id);
    await afterExit(this, id);
    return removed;
  }
  /** The end of a restart policy's back-off (the waiter shell calls this). */
  restartNow(id: string): Promise<void> {
    return restartNow(this, id);
  }
  /** `system boot`: after a reboot, start what the restart policies say, as Docker's daemon does when it starts. */
  async boot(): Promise<{ started: string[]; failed: { id: string; error: unknown }[] }> {
    return boot(this, await list(this, true));
  }
  prune(): Promise<Pruned> {
    return systemPrune(this);
  }

  /** `rmi`: refused while a container uses the image, unless forced. Returns Docker's lines. */
  removeImage(ref: string, force: boolean): Promise<string[]> {
    const using = async (imageId: string): Promise<string[]> =>
      (await this.store.listContainers()).filter((c) => c.config.imageId === imageId).map((c) => c.id.slice(0, 12));
    return this.images.remove(ref, using, { force });
  }

  // ---- networks

  createNetwork(request: CreateNetworkRequest): Promise<NetworkRecord> {
    return createNetwork(this, request);
  }
  removeNetwork(name: string): Promise<void> {
    return removeNetwork(this, name);
  }
  /** `trace`: one flow followed through the host's rules. */
  trace(request: TraceRequest): Promise<TraceResult> {
    return trace(this, request);
  }
  /** `network connect`: one more network for a running container (eth1, eth2 …); for a stopped one, its network at the next start. */
  connectNetwork(network: string, ref: string, options: ConnectOptions): Promise<ContainerRecord> {
    return connectNetwork(this, ref, network, options);
  }
  /** `network disconnect`: a network joined with connect, taken away (a stopped container's recorded one); returns warnings. */
  disconnectNetwork(network: string, ref: string): Promise<string[]> {
    return disconnectNetwork(this, ref, network);
  }
  listNetworks(): Promise<NetworkRecord[]> {
    return listNetworks(this.store);
  }
  async inspectNetwork(name: string): Promise<ReturnType<typeof inspectNetwork>> {
    return inspectNetwork(await resolveNetwork(this.store, name), await list(this, false));
  }
  /** Networks no container uses, removed (after settling containers whose process ended). */
  async pruneNetworks(): Promise<string[]> {
    await list(this, true);
    return pruneNetworks(this);
  }
  /** `network update -o firewall=…`: the network's and its containers' rules moved to that driver. */
  switchFirewall(name: string, firewall: string): Promise<FirewallSwitch> {
    return switchFirewall(this, name, firewall);
  }
  /** Put back what a firewall reload wiped, and replace rules of an older shape; returns how many rules. */
  async reloadNetworks(): Promise<ReloadCount> {
    await list(this, true);
    return reloadNetworks(this);
  }
  /** What running containers lost on the host, one line each (reads only); their rules only with `rules`. */
  networkProblems(records: ContainerRecord[], options: { rules: boolean } = { rules: true }): Promise<string[]> {
    return networkProblems(this, records, options);
  }

  // ---- stats ----

  /** The containers `stats` shows: those named, else the running ones (every one with `all`). */
  statsTargets(refs: string[], all: boolean): Promise<ContainerRecord[]> {
    return statsTargets(this, refs, all);
  }

  /** One sample of a container's cgroup and network counters. */
  sampleStats(record: ContainerRecord): Promise<StatsSample> {
    return sampleStats(record);
  }

  // ---- volumes ----

  /** No name: a random 64-hex one; an existing name is returned as it is (Docker's behaviour). */
  createVolume(name?: string, labels: Record<string, string> = {}): Promise<VolumeRecord> {
    return createVolume(this, name, labels);
  }
  inspectVolume(name: string): Promise<VolumeRecord> {
    return inspectVolume(this, name);
  }
  listVolumes(filter: VolumeFilter = {}): Promise<VolumeRecord[]> {
    return listVolumes(this, filter);
  }
  /** Refused while a container mounts it; `force` only forgives a missing volume. */
  removeVolume(name: string, force: boolean): Promise<void> {
    return removeVolume(this, name, force);
  }
  /** Unused anonymous volumes, or every unused one with `all`. */
  pruneVolumes(all: boolean): Promise<PrunedVolumes> {
    return pruneVolumes(this, all);
  }

  // ---- looking at the host

  async doctorFacts(): Promise<DoctorFacts> {
    const facts = await collectDoctorFacts(this.runner, this.store);
    return this.rootless ? { ...facts, rootless: rootlessDoctorFacts(this.rootless) } : facts;
  }
  netView(ref: string | undefined, all: boolean): Promise<NetViewInput> {
    return gatherNetView(this, ref, all);
  }
  /** Rootless: the user's containers, their helpers, networks and rootless namespace (`network diagram`). */
  async rootlessTopology(): Promise<RootlessTopology> {
    return rootlessTopology(this, await list(this, false));
  }
  topology(): Promise<{ known: Known; addr: string }> {
    return gatherTopology(this);
  }
}
