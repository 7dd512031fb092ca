// Container lifecycle: create, start, wait, stop, kill, remove — over the state store,
// the runner and the network. Status comes from the kernel (is the pid alive?), not
// only from the record, so crashes and reboots are seen for what they are.
import { accessSync, constants, readFileSync } from 'node:fs';
import { cp, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { CLI_PATH } from '../base/install-paths.js';
import { pathExists } from '../base/path-exists.js';
import type { ChildProcess } from 'node:child_process';
import { MinictrError, EXIT_RUNTIME_FAILURE } from '../base/errors.js';
import { HostRunner, spawnProcess, type Runner } from '../exec/runner.js';
import type { StepReport } from '../exec/apply.js';
import type { Store } from '../state/store.js';
import { NULL_TIME, type ContainerRecord, type ContainerConfig, type HostConfig } from '../base/records.js';
import { HOST_TOOL_PATH, initCommand, monitorCommand, type InitSpec } from './init-script.js';
import type { ProcessUser } from './privileges.js';
import { hostTools } from './host-tools.js';
import { resolveUser } from '../image/user.js';
import { checkCommand } from './lookup.js';
import { envValue, generateName, mergeEnv, newContainerId, validateHostname, validateName, validateWorkdir } from './options.js';
import { isAlive, processStartTime, sleep, waitFor, signalNumber } from '../base/proc.js';
import { hostsFile, rewriteHosts, writeContainerEtc } from './files.js';
import { DEFAULT_NETWORK } from '../network/names.js';
import { ContainerNetworking } from './network.js';
import { checkpoint } from './checkpoint.js';

export interface CreateRequest {
  name?: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
}

export interface RuntimeOptions {
  runner?: Runner;
  /** Reports each host change as it is made (--explain). */
  onStep?: (report: StepReport) => void;
}

function overlaySupported(): Promise<boolean> {
  return readFile('/proc/filesystems', 'utf8').then(
    (text) => /\toverlay$/m.test(text),
    () => false,
  );
}

export class Runtime {
  readonly store: Store;
  readonly runner: Runner;
  readonly network: ContainerNetworking;
  private readonly onStep: ((report: StepReport) => void) | undefined;

  constructor(store: Store, options: RuntimeOptions = {}) {
    this.store = store;
    this.runner = options.runner ?? new HostRunner();
    this.onStep = options.onStep;
    this.network = new ContainerNetworking(store, this.runner, options.onStep);
  }

  // ---------------------------------------------------------------- create

  /** Check a request and build its record, without writing anything (also used by --dry-run). */
  async prepare(request: CreateRequest): Promise<ContainerRecord> {
    if (request.name !== undefined) validateName(request.name);
    validateWorkdir(request.config.workdir);
    if (request.config.hostname) validateHostname(request.config.hostname);
    await this.network.validate(request.hostConfig);
    const command = [...request.config.entrypoint, ...request.config.cmd];
    if (command.length === 0) {
      throw new MinictrError('E_NO_COMMAND', 'no command specified: give one after the image name');
    }
    const imageRoot = this.store.paths.imageRootfs(request.config.imageId);
    checkCommand([imageRoot], command[0] ?? '', envValue(request.config.env, 'PATH') ?? '');
    // An unknown user fails here, before anything exists; HOME follows the user, as Docker's.
    const user = request.config.user ? await resolveUser(imageRoot, request.config.user) : undefined;
    const id = newContainerId();
    const hostname = request.config.hostname || id.slice(0, 12);
    return {
      schemaVersion: 1,
      id,
      name: request.name?.replace(/^\//, '') ?? '',
      created: new Date().toISOString(),
      config: {
        ...request.config,
        hostname,
        env: mergeEnv(
          [`HOSTNAME=${hostname}`],
          request.config.env,
          envValue(request.config.env, 'HOME') === undefined ? [`HOME=${user ? user.home : '/root'}`] : [],
        ),
      },
      hostConfig: request.hostConfig,
      state: {
        status: 'created', pid: 0, pidStartTime: 0, monitorPid: 0, exitCode: 0,
        startedAt: NULL_TIME, finishedAt: NULL_TIME, error: '',
      },
      rootfsMode: (await overlaySupported()) ? 'overlay' : 'copy',
    };
  }

  async create(request: CreateRequest): Promise<ContainerRecord> {
    const record = await this.prepare(request);
    const { id, rootfsMode: mode } = record;
    const imageRoot = this.store.paths.imageRootfs(record.config.imageId);
    await this.store.lock('containers', async () => {
      const all = await this.store.listContainers();
      const holder = record.name ? all.find((c) => c.name === record.name) : undefined;
      if (holder) {
        throw new MinictrError(
          'E_NAME_IN_USE',
          `the container name "/${record.name}" is already in use by container "${holder.id}"; remove it or choose another name`,
        );
      }
      record.name ||= generateName(new Set(all.map((c) => c.name)));
      await this.store.saveContainer(record);
    });
    await checkpoint(this.store.paths.root, 'created');
    try {
      const fs = this.store.paths.containerRootfs(id);
      if (mode === 'overlay') {
        await Promise.all([mkdir(fs.upper, { recursive: true }), mkdir(fs.work, { recursive: true }), mkdir(fs.merged, { recursive: true })]);
      } else {
        await cp(imageRoot, fs.merged, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      }
    } catch (err) {
      await this.store.lock('containers', () => this.store.removeContainer(id));
      throw err;
    }
    return record;
  }

  // ---------------------------------------------------------------- start

  /**
   * Wire the network, then start the monitor (which starts the container).
   * Returns the monitor (none when the container was already running); a detached
   * monitor is already unref'd.
   */
  async start(id: string, io: { foreground: boolean; stdin: boolean }): Promise<{ record: ContainerRecord; monitor?: ChildProcess }> {
    let record = await this.mustLoad(id);
    record = await this.refresh(record);
    if (record.state.status === 'running') return { record };
    const paths = this.store.paths;
    await Promise.all([paths.containerExitFile(id), paths.containerPidFile(id), paths.containerKillMark(id)].map((f) => rm(f, { force: true })));
    const attachment = await this.network.attach(record);
    record = await this.mustLoad(id);
    let monitor: ChildProcess | undefined;
    try {
      const dir = paths.container(id);
      const mode = record.hostConfig.networkMode;
      await writeContainerEtc(dir, record.config.hostname, attachment?.ip, mode === 'host');
      if (attachment) await this.syncHosts(attachment.network);
      const spec = await this.initSpec(record, attachment?.netns);
      requireHostTools(spec.netns ? ['nsenter', 'unshare'] : ['unshare']);
      const init = initCommand(spec);
      const mon = monitorCommand(init, {
        exitFile: paths.containerExitFile(id),
        killMark: paths.containerKillMark(id),
        ...(io.foreground ? { waiterPid: process.pid } : {}),
        node: process.execPath,
        cli: CLI_PATH,
        root: paths.root,
        id,
      });
      // In its own session either way: the monitor must outlive a closed terminal or a killed minictr.
      if (io.foreground) {
        monitor = spawnProcess(mon.argv, { stdio: [io.stdin ? 'inherit' : 'ignore', 'inherit', 'inherit'], detached: true, env: mon.env });
      } else {
        const out = await open(paths.containerLog(id, 'stdout'), 'a');
        const err = await open(paths.containerLog(id, 'stderr'), 'a');
        try {
          monitor = spawnProcess(mon.argv, { stdio: ['ignore', out.fd, err.fd], detached: true, env: mon.env });
        } finally {
          await out.close();
          await err.close();
        }
      }
      const child = monitor;
      // Listen at once: a monitor that dies immediately must not be waited for.
      let exited = false;
      child.once('exit', () => { exited = true; });
      const monitorPid = child.pid ?? 0;
      const started = await this.update(id, (r) => {
        r.state = {
          ...r.state, status: 'running', pid: 0, pidStartTime: 0, monitorPid, exitCode: 0,
          startedAt: new Date().toISOString(), finishedAt: NULL_TIME, error: '',
        };
      });
      if (!started) throw new MinictrError('E_GONE', `container ${id.slice(0, 12)} was removed while starting`);
      await checkpoint(paths.root, 'spawned');
      record = started;
      // The container's init writes its host pid before it becomes the command.
      await waitFor(async () => exited || writtenNumber(paths.containerPidFile(id)) !== undefined, 10_000, 2);
      const pid = writtenNumber(paths.containerPidFile(id)) ?? 0;
      const startTime = await processStartTime(pid);
      record = (await this.update(id, (r) => {
        if (r.state.status === 'running' && r.state.monitorPid === monitorPid) {
          r.state.pid = pid;
          r.state.pidStartTime = startTime;
        }
      })) ?? record;
      if (!io.foreground) child.unref();
      await checkpoint(paths.root, 'started');
    } catch (err) {
      await this.network.detach(record).catch(() => undefined);
      await this.update(id, (r) => {
        r.state.status = r.state.status === 'running' ? 'exited' : r.state.status;
        r.state.exitCode = EXIT_RUNTIME_FAILURE;
        r.state.error = err instanceof Error ? err.message : String(err);
        delete r.network;
      });
      throw err;
    }
    return { record, ...(monitor ? { monitor } : {}) };
  }

  /**
   * On a user-defined network every container finds the others by name, as with Docker's
   * embedded DNS; here through /etc/hosts lines (the default bridge has none, as in Docker).
   */
  async syncHosts(network: string): Promise<void> {
    if (network === DEFAULT_NETWORK.name) return;
    const members = (await this.store.listContainers()).filter((r) => r.network?.network === network);
    await Promise.all(
      members.map((r) => {
        const peers = members
          .filter((o) => o.id !== r.id && o.network)
          .map((o) => ({ ip: o.network?.ip ?? '', names: [...new Set([o.name, o.config.hostname])] }));
        return rewriteHosts(this.store.paths.container(r.id), hostsFile(r.config.hostname, r.network?.ip, peers)).catch(() => undefined);
      }),
    );
  }

  /** Everything the container's init needs to know, from its record (also used by --dry-run). */
  async initSpec(record: ContainerRecord, netns: string | undefined): Promise<InitSpec> {
    const paths = this.store.paths;
    const fs = paths.containerRootfs(record.id);
    const mode = record.hostConfig.networkMode;
    return {
      dir: paths.container(record.id),
      pidFile: paths.containerPidFile(record.id),
      merged: fs.merged,
      ...(record.rootfsMode === 'overlay'
        ? { overlay: { lower: paths.imageRootfs(record.config.imageId), upper: fs.upper, work: fs.work } }
        : {}),
      ...(netns ? { netns } : {}),
      networkMode: mode === 'host' ? 'host' : mode === 'none' ? 'none' : 'netns',
      hostname: record.config.hostname,
      workdir: record.config.workdir,
      env: record.config.env,
      command: [...record.config.entrypoint, ...record.config.cmd],
      ...hostTools(),
      ...(record.config.user ? { user: await this.processUser(record) } : {}),
    };
  }

  /** The container's --user (or image User), resolved against its own /etc/passwd and /etc/group. */
  async processUser(record: ContainerRecord): Promise<ProcessUser | undefined> {
    if (!record.config.user) return undefined;
    return resolveUser(this.store.paths.imageRootfs(record.config.imageId), record.config.user);
  }

  // ---------------------------------------------------------------- exit

  /**
   * Record that the container's process has ended and release what it held
   * (network objects; everything for --rm). Safe to call more than once, from anywhere.
   */
  async finalizeExit(id: string): Promise<ContainerRecord | undefined> {
    const paths = this.store.paths;
    const before = await this.store.loadContainer(id);
    if (!before) return undefined;
    if (before.state.status === 'running') {
      // Give the monitor a moment to write the exit status if it is still alive.
      if (await isAlive(before.state.monitorPid)) {
        await waitFor(async () => writtenNumber(paths.containerExitFile(id)) !== undefined, 5_000, 5);
      }
    }
    let code = writtenNumber(paths.containerExitFile(id)) ?? NaN;
    if (code === 1 && (await pathExists(paths.containerKillMark(id)))) code = 128 + signalNumber('SIGKILL');
    const exited = (r: ContainerRecord): void => {
      if (r.state.status !== 'running') return;
      r.state.status = 'exited';
      r.state.exitCode = Number.isFinite(code) ? code : 128 + signalNumber('SIGKILL');
      r.state.finishedAt = new Date().toISOString();
      r.state.pid = 0;
      r.state.pidStartTime = 0;
    };
    if (before.hostConfig.autoRemove) {
      // Not saved as exited first: removeRecord tears the network down from the record, then
      // forgets both. A crash in between leaves a "running" record with a dead process, which
      // the next look at it finalizes (and removes) again.
      const record: ContainerRecord = { ...before, state: { ...before.state } };
      exited(record);
      await this.removeRecord(record);
      return { ...record, network: undefined } as ContainerRecord;
    }
    const record = await this.update(id, exited);
    if (!record) return undefined;
    if (record.network) {
      await this.network.detach(record);
      await this.update(id, (r) => { delete r.network; });
      await this.syncHosts(record.network.network);
    }
    return (await this.store.loadContainer(id)) ?? record;
  }

  /** Bring a record in line with the kernel: a "running" container whose process is gone has exited. */
  async refresh(record: ContainerRecord): Promise<ContainerRecord> {
    if (record.state.status !== 'running') return record;
    if (record.state.pid === 0) {
      // Still starting (pid not yet recorded) while the monitor lives.
      if (await isAlive(record.state.monitorPid)) return record;
    } else if (await isAlive(record.state.pid, record.state.pidStartTime)) {
      return record;
    }
    if (await isAlive(record.state.monitorPid)) {
      // The monitor will record the exit itself; show the container as exited meanwhile.
      const code = writtenNumber(this.store.paths.containerExitFile(record.id)) ?? NaN;
      return { ...record, state: { ...record.state, status: 'exited', exitCode: Number.isFinite(code) ? code : 0, finishedAt: new Date().toISOString() } };
    }
    return (await this.finalizeExit(record.id)) ?? { ...record, state: { ...record.state, status: 'exited' } };
  }

  async list(all: boolean): Promise<ContainerRecord[]> {
    const records = await Promise.all((await this.store.listContainers()).map((r) => this.refresh(r)));
    const present = [];
    for (const r of records) {
      if (r.hostConfig.autoRemove && r.state.status === 'exited' && !(await this.store.loadContainer(r.id))) continue;
      present.push(r);
    }
    return all ? present : present.filter((r) => r.state.status === 'running');
  }

  async find(ref: string): Promise<ContainerRecord> {
    return this.refresh(await this.store.findContainer(ref));
  }

  // ---------------------------------------------------------------- signals

  async kill(ref: string, signal: NodeJS.Signals): Promise<ContainerRecord> {
    const record = await this.find(ref);
    if (record.state.status !== 'running' || record.state.pid === 0) {
      throw new MinictrError('E_NOT_RUNNING', `cannot kill container ${ref}: container ${record.id.slice(0, 12)} is not running`, { exitCode: 1 });
    }
    await this.signal(record, signal);
    if (signal === 'SIGKILL') {
      await this.waitForExit(record, 10_000);
      return (await this.finalizeExit(record.id)) ?? record;
    }
    return record;
  }

  /** SIGTERM, then SIGKILL after `timeoutSeconds`, as `docker stop`. */
  async stop(ref: string, timeoutSeconds: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<ContainerRecord> {
    const record = await this.find(ref);
    if (record.state.status !== 'running') return record;
    if (record.state.pid !== 0) {
      await this.signal(record, signal);
      if (!(await this.waitForExit(record, timeoutSeconds * 1000))) {
        await this.signal(record, 'SIGKILL');
        await this.waitForExit(record, 10_000);
      }
    }
    return (await this.finalizeExit(record.id)) ?? record;
  }

  private async signal(record: ContainerRecord, signal: NodeJS.Signals): Promise<void> {
    if (signal === 'SIGKILL') await writeFile(this.store.paths.containerKillMark(record.id), '9\n').catch(() => undefined);
    signalPid(record.state.pid, signal);
  }

  private async waitForExit(record: ContainerRecord, timeoutMs: number): Promise<boolean> {
    return waitFor(async () => !(await isAlive(record.state.pid, record.state.pidStartTime)), timeoutMs, 10);
  }

  /** Block until the container is no longer running; returns its exit code (`docker wait`). */
  async wait(ref: string): Promise<number> {
    const first = await this.find(ref);
    let current: ContainerRecord | undefined = first;
    for (;;) {
      current = await this.store.loadContainer(first.id);
      if (!current) return first.state.exitCode;
      current = await this.refresh(current);
      if (current.state.status !== 'running') return current.state.exitCode;
      await sleep(25);
    }
  }

  // ---------------------------------------------------------------- remove

  async remove(ref: string, force: boolean): Promise<ContainerRecord> {
    let record = await this.find(ref);
    if (record.state.status === 'running') {
      if (!force) {
        throw new MinictrError(
          'E_RUNNING',
          `cannot remove container "${record.name}": container is running; stop it first or use rm -f`,
          { exitCode: 1 },
        );
      }
      if (record.state.pid === 0) {
        // minictr died between starting the monitor and recording the pid: the init wrote it.
        const pid = writtenNumber(this.store.paths.containerPidFile(record.id)) ?? 0;
        if (pid > 0) record = { ...record, state: { ...record.state, pid, pidStartTime: await processStartTime(pid) } };
      }
      if (record.state.pid !== 0) await this.signal(record, 'SIGKILL');
      else if (record.state.monitorPid !== 0) signalPid(record.state.monitorPid, 'SIGKILL');
      await this.waitForExit(record, 10_000);
      record = (await this.finalizeExit(record.id)) ?? record;
    }
    await this.removeRecord(record);
    return record;
  }

  private async removeRecord(record: ContainerRecord): Promise<void> {
    // Teardown from state: whatever network objects the record names are removed,
    // whether or not they still exist.
    const current = (await this.store.loadContainer(record.id)) ?? record;
    // The files go while the network is torn down (mostly a wait on the kernel); the record
    // goes last, so a crash in between still leaves it to tear down from.
    await Promise.all([
      current.network ? this.network.detach(current) : undefined,
      this.store.removeContainerRootfs(record.id),
    ]);
    await this.store.lock('containers', () => this.store.removeContainer(record.id));
    if (current.network) await this.syncHosts(current.network.network);
  }

  // ---------------------------------------------------------------- helpers

  async mustLoad(id: string): Promise<ContainerRecord> {
    const record = await this.store.loadContainer(id);
    if (!record) throw new MinictrError('E_NO_SUCH_CONTAINER', `no such container: ${id}`, { exitCode: 1 });
    return record;
  }

  /** Read-modify-write of one record under the lock; undefined if it no longer exists. */
  async update(id: string, change: (record: ContainerRecord) => void): Promise<ContainerRecord | undefined> {
    return this.store.lock('containers', async () => {
      const record = await this.store.loadContainer(id);
      if (!record) return undefined;
      change(record);
      await this.store.saveContainer(record);
      return record;
    });
  }
}

/** The monitor runs host tools from a fixed PATH; a missing one is minictr's failure (125), said before anything starts. */
function requireHostTools(names: string[]): void {
  const executable = (path: string): boolean => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  for (const name of names) {
    if (!HOST_TOOL_PATH.split(':').some((d) => executable(`${d}/${name}`))) {
      throw new MinictrError('E_MISSING_TOOL', `${name} not found in ${HOST_TOOL_PATH}; install util-linux (sudo make install does)`);
    }
  }
}

/**
 * The number the init (pid file) or the monitor (exit status) wrote, once the whole line is
 * there; undefined before. They write with plain shell redirection, one small write(2), so a
 * reader can find the file created but still empty, never half a number.
 */
function writtenNumber(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  return /^\d+\n$/.test(text) ? Number(text) : undefined;
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
