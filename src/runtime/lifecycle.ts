// Container lifecycle after create: start, exit, refresh, kill/stop/wait, remove. Status comes
// from the kernel (is the pid alive?), not only from the record, so crashes and reboots are
// seen for what they are. Teardown is planned from the record, and what it could not undo is
// returned as warnings.
import { accessSync, constants, readFileSync } from 'node:fs';
import { open, rm, writeFile } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import { CLI_PATH, SHIM_PATH } from '../base/install-paths.js';
import { connectConsole, shimListening, type ConsoleConnection } from './console.js';
import { logLimits } from './log-config.js';
import { pathExists } from '../base/path-exists.js';
import { MinictrError, EXIT_RUNTIME_FAILURE, withWarnings } from '../base/errors.js';
import { isAlive, processStartTime, sleep, waitFor, signalNumber } from '../base/proc.js';
import { NULL_TIME, attachmentsOf, type ContainerRecord, type RootlessNetAttachment } from '../base/records.js';
import { spawnProcess } from '../exec/runner.js';
import { HOST_TOOL_PATH, initCommand, monitorCommand } from './init-script.js';
import { stopRelay } from './port-relay.js';
import { attach, containerLock, detach, detachLocked, recordLock } from './attach.js';
import { checkpoint } from './checkpoint.js';
import { initSpec, syncNames } from './containers.js';
import { planEtcOf } from './container-etc.js';
import { ensureDevTemplate } from './dev-template.js';
import { isFrozen, makeCgroup, releaseCgroup } from './cgroup-life.js';
import { cgroupFacts } from './cgroups.js';
import { planThaw } from '../cgroup/plan.js';
import { applyPlan, applyPlanBestEffort } from '../exec/apply.js';
import { stepOptions, type RuntimeContext } from './context.js';
import { releaseVolumes } from './volumes.js';
import { removeContainerFiles } from './rootless-run.js';
import { helperOf, netReadyFifo, planNetReadyFifo, recordedHelper, releaseInit, reportIdMaps, rootlessNetworkOf, rootlessPorts, startHelper, startRootlessRelay, stopHelper } from './rootless-net.js';
import { joinRootlessNetwork, leaveRootlessNetwork, planBridgeAttach, syncRootlessHosts } from './rootless-bridge.js';
import { slirpResolvConf } from '../network/rootless-helpers.js';

export interface StartOptions {
  /**
   * Attached: the command starts once the returned console is connected, and the caller waits
   * on the returned monitor and handles the exit itself.
   */
  foreground: boolean;
  /** Started again by the restart policy (not by hand): RestartCount and a manual stop are kept. */
  restart?: boolean;
}

export interface Started {
  record: ContainerRecord;
  /** The monitor process; none when the container was already running. Detached monitors are unref'd. */
  monitor?: ChildProcess;
  /** Foreground: the container's console, connected before its command started. */
  console?: ConsoleConnection;
}

/** What a removal or exit could not clean up, said as warnings (the container is gone all the same). */
export interface Removed {
  record: ContainerRecord;
  warnings: string[];
}

export async function mustLoad(ctx: RuntimeContext, id: string): Promise<ContainerRecord> {
  const record = await ctx.store.loadContainer(id);
  if (!record) throw new MinictrError('E_NO_SUCH_CONTAINER', `no such container: ${id}`, { exitCode: 1 });
  return record;
}

/** Read-modify-write of one record under the lock; undefined if it no longer exists. */
export async function update(ctx: RuntimeContext, id: string, change: (record: ContainerRecord) => void): Promise<ContainerRecord | undefined> {
  const { store } = ctx;
  return store.lock(recordLock(id), async () => {
    const record = await store.loadContainer(id);
    if (!record) return undefined;
    change(record);
    await store.saveContainer(record);
    return record;
  });
}

/** Wire the network, then start the monitor (which starts the container). */
export async function start(ctx: RuntimeContext, id: string, io: StartOptions): Promise<Started> {
  let record = await refresh(ctx, await mustLoad(ctx, id));
  if (record.state.paused) throw new MinictrError('E_PAUSED', 'cannot start a paused container, try unpause instead', { exitCode: 1 });
  if (record.state.status === 'running') return { record };
  // Started by hand while a policy's back-off runs: the waiting restart is not needed.
  if (!io.restart && record.state.restartWaiterPid) signalPid(-record.state.restartWaiterPid, 'SIGKILL');
  const paths = ctx.store.paths;
  await Promise.all([paths.containerExitFile(id), paths.containerPidFile(id), paths.containerExecMark(id), paths.containerKillMark(id)].map((f) => rm(f, { force: true })));
  // Rootless pasta, slirp4netns or a rootless network: the host ports are chosen (and refused) before anything is made.
  const helper = helperOf(record);
  const rootlessMode = rootlessNetworkOf(ctx, record);
  const helperPorts = rootlessMode ? await rootlessPorts(ctx, record) : [];
  let helperNet: RootlessNetAttachment | undefined;
  // A rootless bridge network: the user's rootless namespace (made on first use), an address
  // reserved in the record before anything else exists.
  const bridged = rootlessMode === 'bridge' ? await joinRootlessNetwork(ctx, record) : undefined;
  if (bridged) helperNet = bridged.attachment;
  const attachment = bridged ? undefined : await attach(ctx, record);
  let monitor: ChildProcess | undefined;
  let conn: ConsoleConnection | undefined;
  let cgroupJoin: string[] = [];
  try {
    // Inside the try: a record removed meanwhile (rm -f) must not leave the network just made.
    record = await mustLoad(ctx, id);
    // Rootless: no bridge of the host's; the rootless network's address, slirp4netns's own resolver.
    const rootlessEtc = {
      ...(bridged ? { ip: bridged.attachment.ip } : {}),
      ...(helper === 'slirp4netns' ? { resolvConf: slirpResolvConf() } : {}),
    };
    await applyPlan(await planEtcOf(ctx, record, attachment, rootlessEtc), ctx.runner, stepOptions(ctx));
    if (helper || bridged) {
      await rm(netReadyFifo(ctx, id), { force: true });
      await applyPlan(planNetReadyFifo(netReadyFifo(ctx, id)), ctx.runner, stepOptions(ctx));
    }
    if (attachment) await syncNames(ctx, attachment.network);
    cgroupJoin = await makeCgroup(ctx, record);
    const spec = await initSpec(ctx, record, attachment?.netns, cgroupJoin, bridged?.holder);
    await ensureDevTemplate(ctx.runner, spec.busybox, spec.devTemplate, stepOptions(ctx), !ctx.rootless);
    requireHostTools(spec.netns || spec.netnsPath ? ['nsenter', 'unshare'] : ['unshare']);
    requireShim();
    const log = record.hostConfig.logConfig ?? { type: 'json-file', config: {} };
    const mon = monitorCommand(initCommand(spec), {
      console: {
        shim: SHIM_PATH,
        socket: paths.containerConsole(id),
        ...(log.type === 'json-file' ? { log: { path: paths.containerLog(id), ...logLimits(log) } } : {}),
        tty: record.config.tty,
        stdin: record.config.interactive,
        waitAttach: io.foreground,
      },
      exitFile: paths.containerExitFile(id),
      killMark: paths.containerKillMark(id),
      ...(io.foreground ? { waiterPid: process.pid } : {}),
      node: process.execPath,
      cli: CLI_PATH,
      root: paths.root,
      id,
      runDir: process.env['XDG_RUNTIME_DIR'] ?? '',
    });
    // In its own session either way: the monitor (and the shim holding the console) must outlive
    // a closed terminal or a killed minictr. What they say themselves goes to monitor.log.
    const said = await open(paths.containerMonitorLog(id), 'a');
    try {
      monitor = spawnProcess(mon.argv, { stdio: ['ignore', 'ignore', said.fd, ...(io.foreground ? ['pipe' as const] : [])], detached: true, env: mon.env });
    } finally {
      await said.close();
    }
    if (io.foreground) {
      await shimListening(monitor, 3);
      conn = await connectConsole(paths.containerConsole(id), `container ${record.name || id.slice(0, 12)}`);
    }
    const child = monitor;
    // Listen at once: a monitor that dies immediately must not be waited for.
    let exited = false;
    child.once('exit', () => { exited = true; });
    const monitorPid = child.pid ?? 0;
    let stoppedMeanwhile = false;
    const started = await update(ctx, id, (r) => {
      // A restart the policy began, and a `stop` that came in since: the stop wins.
      if (io.restart && r.state.manuallyStopped) {
        stoppedMeanwhile = true;
        return;
      }
      r.state = {
        ...r.state, status: 'running', pid: 0, pidStartTime: 0, monitorPid, exitCode: 0,
        startedAt: new Date().toISOString(), finishedAt: NULL_TIME, error: '',
      };
      delete r.state.restarting;
      delete r.state.restartWaiterPid;
      if (!io.restart) {
        // A start by hand, as Docker's: the count and the back-off begin again, a manual stop is forgotten.
        delete r.state.manuallyStopped;
        delete r.state.restartDelayMs;
        if (r.restartCount !== undefined) r.restartCount = 0;
      }
    });
    if (!started) throw new MinictrError('E_GONE', `container ${id.slice(0, 12)} was removed while starting`);
    if (stoppedMeanwhile) {
      // Its own process group: the monitor and the container it started.
      if (monitorPid > 0) signalPid(-monitorPid, 'SIGKILL');
      throw new MinictrError('E_STOPPED', `container ${id.slice(0, 12)} was stopped while restarting`, { exitCode: 1 });
    }
    await checkpoint(paths.root, 'spawned');
    record = started;
    // The container's init writes its host pid before it becomes the command.
    await waitFor(async () => exited || writtenNumber(paths.containerPidFile(id)) !== undefined, 10_000, 2);
    const pid = writtenNumber(paths.containerPidFile(id)) ?? 0;
    const startTime = await processStartTime(pid);
    record = (await update(ctx, id, (r) => {
      if (r.state.status === 'running' && r.state.monitorPid === monitorPid) {
        r.state.pid = pid;
        r.state.pidStartTime = startTime;
      }
    })) ?? record;
    if (ctx.rootless && pid > 0) reportIdMaps(ctx, pid);
    if (helper) {
      // The init waits on the FIFO: connected, it goes on; failed, it exits 125.
      if (pid === 0) throw new MinictrError('E_START', `container ${id.slice(0, 12)} ended before its network was made`);
      try {
        helperNet = await startHelper(ctx, record, pid, helperPorts);
        await checkpoint(paths.root, 'helper-started');
        const net = helperNet;
        record = (await update(ctx, id, (r) => { r.rootlessNet = net; })) ?? record;
      } catch (err) {
        await releaseInit(netReadyFifo(ctx, id), false);
        throw err;
      }
      await releaseInit(netReadyFifo(ctx, id), true);
    }
    if (bridged) {
      if (pid === 0) throw new MinictrError('E_START', `container ${id.slice(0, 12)} ended before its network was made`);
      try {
        await applyPlan(planBridgeAttach(bridged.holder, pid, bridged.net, bridged.attachment), ctx.runner, stepOptions(ctx));
        if (helperPorts.length > 0) {
          // Recorded before the relay is told to stay: whoever finalizes the container kills it.
          await startRootlessRelay(ctx, id, bridged.holder, bridged.attachment.ip ?? '', helperPorts, async (relay) => {
            const net: RootlessNetAttachment = { ...bridged.attachment, ...relay, ports: helperPorts };
            helperNet = net;
            record = (await update(ctx, id, (r) => { r.rootlessNet = net; })) ?? record;
          });
          await checkpoint(paths.root, 'relay-started');
        }
      } catch (err) {
        await releaseInit(netReadyFifo(ctx, id), false);
        throw err;
      }
      await syncRootlessHosts(ctx, bridged.net.name);
      await releaseInit(netReadyFifo(ctx, id), true);
    }
    // As Docker's: started means the command runs in its own root, so an exec or top right
    // after a start sees the container, not its init halfway through its mounts (a rootless
    // init goes on to its mounts only once its network is connected, above).
    await waitFor(async () => exited || isWritten(paths.containerExecMark(id)), 10_000, 2);
    if (!io.foreground) child.unref();
    await checkpoint(paths.root, 'started');
  } catch (err) {
    // Torn down from the attachment made here, whatever the record says by now.
    conn?.close();
    await stopRelay(attachment?.relay);
    const warnings = attachment ? await detach(ctx, { ...record, network: attachment }) : [];
    if (helperNet) await stopHelper(helperNet);
    if (bridged) await leaveRootlessNetwork(ctx, { ...record, rootlessNet: bridged.attachment });
    if (monitor?.pid) await waitFor(async () => !(await isAlive(monitor?.pid ?? 0)), 2_000, 5);
    if (cgroupJoin.length > 0) warnings.push(...(await releaseCgroup(ctx, record)).warnings);
    // Stopped while the policy restarted it: it stays as the stop left it, with its last exit.
    const stopped = err instanceof MinictrError && err.code === 'E_STOPPED';
    const still = await update(ctx, id, (r) => {
      r.state.status = r.state.status === 'running' ? 'exited' : r.state.status;
      if (!stopped) {
        r.state.exitCode = EXIT_RUNTIME_FAILURE;
        r.state.error = err instanceof Error ? err.message : String(err);
      }
      delete r.network;
      delete r.rootlessNet;
    });
    // Removed while starting: nobody will ever stop what the monitor started.
    if (!still && monitor?.pid) signalPid(-monitor.pid, 'SIGKILL');
    throw withWarnings(err, warnings);
  }
  return { record, ...(monitor ? { monitor } : {}), ...(conn ? { console: conn } : {}) };
}

export function requireShim(): void {
  try {
    accessSync(SHIM_PATH, constants.X_OK);
  } catch {
    throw new MinictrError('E_MISSING_TOOL', `${SHIM_PATH} is missing: build it with "make build" (it needs a C compiler: sudo make deps installs one)`);
  }
}

/**
 * Record that the container's process has ended and release what it held (network objects;
 * everything for --rm). Safe to call more than once, from anywhere.
 */
export async function finalizeExit(ctx: RuntimeContext, id: string): Promise<Removed | undefined> {
  const before = await ctx.store.loadContainer(id);
  if (!before) return undefined;
  const { exited, cgroup } = await judgeExit(ctx, before);
  if (before.hostConfig.autoRemove) {
    // Not saved as exited first: removeRecord tears the network down from the record, then
    // forgets both. A crash in between leaves a "running" record with a dead process, which
    // the next look at it finalizes (and removes) again.
    const record: ContainerRecord = { ...before, state: { ...before.state } };
    exited(record);
    const warnings = [...cgroup.warnings, ...(await removeRecord(ctx, record, { volumes: true }))];
    const { network: _gone, ...rest } = record;
    return { record: rest, warnings };
  }
  const record = await update(ctx, id, exited);
  if (!record?.network) return record ? { record, warnings: cgroup.warnings } : undefined;
  // Re-read under the network lock: a start of the same container may have attached it anew
  // meanwhile, and that attachment is not ours to remove or forget.
  const networks = attachmentsOf(record).map((a) => a.network);
  const warnings = await ctx.store.lock(containerLock(id), () => ctx.store.lock('network', async () => {
    const current = await ctx.store.loadContainer(id);
    if (!current?.network || current.state.status === 'running') return [];
    const left = await detachLocked(ctx, current);
    await update(ctx, id, (r) => { delete r.network; delete r.extraNetworks; });
    return left;
  }));
  for (const network of networks) await syncNames(ctx, network);
  return { record: (await ctx.store.loadContainer(id)) ?? record, warnings: [...cgroup.warnings, ...warnings] };
}

/**
 * How the container's process ended (its status, a kill mark, an OOM kill), with the cgroup
 * released: `exited` writes it into a record, whichever copy the caller saves or drops.
 */
export async function judgeExit(ctx: RuntimeContext, before: ContainerRecord): Promise<{ exited: (r: ContainerRecord) => void; cgroup: { oomKilled: boolean; warnings: string[] } }> {
  const paths = ctx.store.paths;
  const id = before.id;
  if (before.state.status === 'running') {
    // Give the monitor a moment to write the exit status if it is still alive.
    if (await isAlive(before.state.monitorPid)) {
      await waitFor(async () => writtenNumber(paths.containerExitFile(id)) !== undefined, 5_000, 5);
    }
  }
  let code = writtenNumber(paths.containerExitFile(id)) ?? NaN;
  if (code === 1 && (await pathExists(paths.containerKillMark(id)))) code = 128 + signalNumber('SIGKILL');
  // A relay of [::1] ports, and a rootless network helper, go with the process they served.
  await stopRelay(before.network?.relay);
  const helperNet = recordedHelper(ctx, before);
  if (helperNet) await stopHelper(helperNet);
  if (helperNet?.helper === 'bridge') await leaveRootlessNetwork(ctx, before);
  // The cgroup goes with the process; first it tells whether the OOM killer ended it.
  const cgroup = before.state.status === 'running' || before.hostConfig.autoRemove ? await releaseCgroup(ctx, before) : { oomKilled: false, warnings: [] };
  // The OOM killer's SIGKILL of the first process reads as unshare's 1, as a kill mark's does.
  // A child killed by it while the process lives on leaves the process's own status (OOMKilled
  // is still true, as in Docker).
  if (cgroup.oomKilled && code === 1) code = 128 + signalNumber('SIGKILL');
  const exited = (r: ContainerRecord): void => {
    // A concurrent finalize may have found the cgroup gone and recorded the exit first.
    if (cgroup.oomKilled) {
      r.state.oomKilled = true;
      if (Number.isFinite(code)) r.state.exitCode = code;
    }
    delete r.rootlessNet;
    if (r.state.status !== 'running') return;
    r.state.status = 'exited';
    r.state.exitCode = Number.isFinite(code) ? code : 128 + signalNumber('SIGKILL');
    r.state.finishedAt = new Date().toISOString();
    r.state.pid = 0;
    r.state.pidStartTime = 0;
    if (!cgroup.oomKilled) delete r.state.oomKilled;
  };
  return { exited, cgroup };
}

/** Bring a record in line with the kernel: a "running" container whose process is gone has exited. */
export async function refresh(ctx: RuntimeContext, record: ContainerRecord): Promise<ContainerRecord> {
  if (record.state.status !== 'running') return withRestartWaiter(record);
  if (record.state.pid === 0) {
    // Still starting (pid not yet recorded) while the monitor lives.
    if (await isAlive(record.state.monitorPid)) return record;
  } else if (await isAlive(record.state.pid, record.state.pidStartTime)) {
    return withFreezer(record);
  }
  if (await isAlive(record.state.monitorPid)) {
    // The monitor will record the exit itself; show the container as exited meanwhile, once its
    // status is written (before that, an exit code of 0 would be a guess `wait` could return).
    const code = writtenNumber(ctx.store.paths.containerExitFile(record.id));
    if (code === undefined) return record;
    return { ...record, state: { ...record.state, status: 'exited', exitCode: code, finishedAt: new Date().toISOString() } };
  }
  return (await finalizeExit(ctx, record.id))?.record ?? { ...record, state: { ...record.state, status: 'exited' } };
}

/** A running record with `paused` as the kernel's freezer has it (never stored: derived at each look). */
async function withFreezer(record: ContainerRecord): Promise<ContainerRecord> {
  const frozen = await isFrozen(record);
  if (frozen === (record.state.paused === true)) return record;
  const state = { ...record.state };
  if (frozen) state.paused = true;
  else delete state.paused;
  return { ...record, state };
}

export async function list(ctx: RuntimeContext, all: boolean): Promise<ContainerRecord[]> {
  const records = await Promise.all((await ctx.store.listContainers()).map((r) => refresh(ctx, r)));
  const present = [];
  for (const r of records) {
    if (r.hostConfig.autoRemove && r.state.status === 'exited' && !(await ctx.store.loadContainer(r.id))) continue;
    present.push(r);
  }
  return all ? present : present.filter((r) => r.state.status === 'running');
}

export async function find(ctx: RuntimeContext, ref: string): Promise<ContainerRecord> {
  return refresh(ctx, await ctx.store.findContainer(ref));
}

export async function kill(ctx: RuntimeContext, ref: string, signal: NodeJS.Signals): Promise<Removed> {
  const record = await find(ctx, ref);
  // Killed by hand: its restart policy no longer applies; a pending restart is cancelled instead.
  if (await markStopped(ctx, record)) return { record, warnings: [] };
  if (record.state.status !== 'running' || record.state.pid === 0) {
    throw new MinictrError('E_NOT_RUNNING', `cannot kill container ${ref}: container ${record.id.slice(0, 12)} is not running`, { exitCode: 1 });
  }
  await sendSignal(ctx, record, signal);
  if (signal === 'SIGKILL') {
    await waitForExit(record, 10_000);
    return (await finalizeExit(ctx, record.id)) ?? { record, warnings: [] };
  }
  return { record, warnings: [] };
}

/** SIGTERM, then SIGKILL after `timeoutSeconds`, as `docker stop`. */
export async function stop(ctx: RuntimeContext, ref: string, timeoutSeconds: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<Removed> {
  let record = await find(ctx, ref);
  // Marked before the signal: the exit handling it causes must not restart it.
  await markStopped(ctx, record);
  if (record.state.status !== 'running') return { record, warnings: [] };
  if (record.state.pid === 0) {
    // Still starting: its init writes its host pid in a moment; without it there is nothing to signal.
    const pidFile = ctx.store.paths.containerPidFile(record.id);
    await waitFor(async () => writtenNumber(pidFile) !== undefined || !(await isAlive(record.state.monitorPid)), 5_000, 5);
    const pid = writtenNumber(pidFile) ?? 0;
    if (pid > 0) record = { ...record, state: { ...record.state, pid, pidStartTime: await processStartTime(pid) } };
  }
  if (record.state.pid !== 0) {
    await sendSignal(ctx, record, signal, true);
    if (!(await waitForExit(record, timeoutSeconds * 1000))) {
      await sendSignal(ctx, record, 'SIGKILL');
      await waitForExit(record, 10_000);
    }
  }
  return (await finalizeExit(ctx, record.id)) ?? { record, warnings: [] };
}

/**
 * Signal the container's process. A paused one is thawed after a SIGKILL or SIGTERM (or when
 * `thaw` says so: stop's own signal), as Docker does: a frozen process acts on no signal, and
 * under cgroup v1 cannot even die of SIGKILL. Other signals wait, pending, for `unpause`.
 */
export async function sendSignal(ctx: RuntimeContext, record: ContainerRecord, signal: NodeJS.Signals, thaw = signal === 'SIGKILL' || signal === 'SIGTERM'): Promise<void> {
  if (signal === 'SIGKILL') await writeFile(ctx.store.paths.containerKillMark(record.id), '9\n').catch(() => undefined);
  signalPid(record.state.pid, signal);
  if (thaw && record.state.paused && record.cgroup) {
    await applyPlanBestEffort(planThaw(await cgroupFacts(), record.cgroup), ctx.runner, stepOptions(ctx));
  }
}

export async function waitForExit(record: ContainerRecord, timeoutMs: number): Promise<boolean> {
  return waitFor(async () => !(await isAlive(record.state.pid, record.state.pidStartTime)), timeoutMs, 10);
}

/** Send a signal to the container's process (what a foreground run forwards). */
export async function signalContainer(ctx: RuntimeContext, id: string, signal: NodeJS.Signals): Promise<void> {
  const record = await ctx.store.loadContainer(id);
  if (record && record.state.pid > 0) signalPid(record.state.pid, signal);
}

/** Block until the container is no longer running; returns its exit code (`docker wait`). */
export async function wait(ctx: RuntimeContext, ref: string): Promise<number> {
  const first = await find(ctx, ref);
  for (;;) {
    let current = await ctx.store.loadContainer(first.id);
    if (!current) return first.state.exitCode;
    current = await refresh(ctx, current);
    if (current.state.status !== 'running') return current.state.exitCode;
    await sleep(25);
  }
}

export interface RemoveOptions {
  /** Kill a running container first (rm -f). */
  force: boolean;
  /** Remove its anonymous volumes too (rm -v). */
  volumes?: boolean;
}

export async function remove(ctx: RuntimeContext, ref: string, options: RemoveOptions): Promise<Removed> {
  const { force } = options;
  let record = await find(ctx, ref);
  const warnings: string[] = [];
  if (record.state.restarting && !force) throw restartingRemoval(record);
  if (force) await markStopped(ctx, record);
  if (record.state.status === 'running') {
    if (!force) {
      if (record.state.paused) throw pausedRemoval(record);
      throw new MinictrError('E_RUNNING', `cannot remove container "${record.name}": container is running; stop it first or use rm -f`, { exitCode: 1 });
    }
    if (record.state.pid === 0) {
      // minictr died between starting the monitor and recording the pid: the init wrote it.
      const pid = writtenNumber(ctx.store.paths.containerPidFile(record.id)) ?? 0;
      if (pid > 0) record = { ...record, state: { ...record.state, pid, pidStartTime: await processStartTime(pid) } };
    }
    if (record.state.pid !== 0) await sendSignal(ctx, record, 'SIGKILL');
    else if (record.state.monitorPid !== 0) signalPid(record.state.monitorPid, 'SIGKILL');
    await waitForExit(record, 10_000);
    const exited = await finalizeExit(ctx, record.id);
    if (exited) {
      record = exited.record;
      warnings.push(...exited.warnings);
    }
  }
  warnings.push(...(await removeRecord(ctx, record, { volumes: options.volumes ?? false })));
  return { record, warnings };
}

/** Docker's refusal to remove a container waiting out its restart back-off without -f. */
export function restartingRemoval(record: ContainerRecord): MinictrError {
  return new MinictrError('E_RESTARTING', `cannot remove container "${record.name}": container is restarting: stop the container before removing or force remove`, { exitCode: 1 });
}

/** Docker's refusal to remove a paused container without -f. */
export function pausedRemoval(record: ContainerRecord): MinictrError {
  return new MinictrError('E_PAUSED', `cannot remove container "${record.name}": container is paused and must be unpaused first`, { exitCode: 1 });
}

/**
 * Teardown from state: whatever network objects the record names are removed, whether or not
 * they still exist. The files go while the network is torn down (mostly a wait on the kernel);
 * the record goes last, so a crash in between still leaves it to tear down from.
 */
async function removeRecord(ctx: RuntimeContext, record: ContainerRecord, options: { volumes: boolean }): Promise<string[]> {
  const { store } = ctx;
  // A crash between exit and finalize leaves the cgroup: it goes with the record.
  const cgroup = await releaseCgroup(ctx, record);
  const rootfs = removeContainerFiles(ctx, record.id, 'rootfs');
  rootfs.catch(() => undefined);
  // Read, torn down and forgotten under the container's lock and the network lock, in attach's
  // lock order (the container, network, then containers): an attach of this container either
  // finished first, and its attachment is in the record read here, or comes after, finds no
  // record and creates nothing.
  const { warnings, networks } = await store.lock(containerLock(record.id), () => store.lock('network', async () => {
    const current = (await store.loadContainer(record.id)) ?? record;
    const left = await detachLocked(ctx, current);
    await store.lock('containers', () => store.lock(recordLock(record.id), async () => store.forgetContainer(record.id)));
    return { warnings: left, networks: attachmentsOf(current).map((a) => a.network) };
  }));
  // The files go after the record: nobody looks for a container without one.
  await rootfs;
  await removeContainerFiles(ctx, record.id, 'all');
  for (const network of networks) await syncNames(ctx, network);
  // Anonymous volumes go with their container (rm -v, --rm), unless another still uses one (--volumes-from).
  if (options.volumes) await releaseVolumes(ctx, record);
  return [...cgroup.warnings, ...warnings];
}

/** `stop`, `kill`, `rm`: no policy restarts this container until it is started by hand; a pending restart is cancelled. */
export async function markStopped(ctx: RuntimeContext, record: ContainerRecord): Promise<boolean> {
  if (!record.hostConfig.restartPolicy) return false;
  let waiter = 0;
  let wasRestarting = false;
  await update(ctx, record.id, (r) => {
    r.state.manuallyStopped = true;
    wasRestarting = r.state.restarting === true;
    waiter = r.state.restartWaiterPid ?? 0;
    delete r.state.restarting;
    delete r.state.restartWaiterPid;
  });
  if (waiter > 0) signalPid(-waiter, 'SIGKILL');
  return wasRestarting;
}

/** A record as it is now: restarting only while its waiter lives (a reboot ends the wait). */
export async function withRestartWaiter(record: ContainerRecord): Promise<ContainerRecord> {
  if (!record.state.restarting) return record;
  if (record.state.restartWaiterPid && (await isAlive(record.state.restartWaiterPid))) return record;
  const state = { ...record.state };
  delete state.restarting;
  delete state.restartWaiterPid;
  return { ...record, state };
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
function isWritten(path: string): boolean {
  try {
    return readFileSync(path, 'utf8').endsWith('\n');
  } catch {
    return false;
  }
}

export function writtenNumber(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  return /^\d+\n$/.test(text) ? Number(text) : undefined;
}

export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
