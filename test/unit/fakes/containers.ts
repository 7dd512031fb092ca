// The harness of the runtime's state tests, without root: a Store over a temp dir, a
// RecordingRunner (no host command runs), and records written the way create, start, the
// monitor and the container's init (or a crash) leave them. A `sleep` stands in for a
// container's process and another for its monitor.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startTimeOf, waitFor } from '../../../src/base/proc.js';
import { NULL_TIME, type ContainerRecord, type NetworkAttachment } from '../../../src/base/records.js';
import { hostVethName, netnsName } from '../../../src/network/names.js';
import type { RuntimeContext } from '../../../src/runtime/context.js';
import { Store } from '../../../src/state/store.js';
import { RecordingRunner, type Effect } from './recording-runner.js';
import { ATT, NET } from '../network/fixtures.js';

export interface World {
  store: Store;
  runner: RecordingRunner;
  ctx: RuntimeContext;
  /** A live process standing in for a container's process or its monitor: its pid and start time. */
  live(): Promise<{ pid: number; startTime: number }>;
  /** The pid of a process that has exited (and been reaped): what a crash leaves in a record. */
  dead(): Promise<number>;
}

const processes = new Set<ChildProcess>();

function gone(pid: number): Promise<boolean> {
  return waitFor(async () => startTimeOf(pid) === 0, 5_000, 5);
}

/** Kill by pid and wait until the kernel says it is gone (Node reaps its children). */
export async function killPid(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  assert.ok(await gone(pid), `process ${pid} is still there after SIGKILL`);
}

async function spawned(argv: [string, ...string[]]): Promise<ChildProcess> {
  const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
  processes.add(child);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  child.once('exit', () => processes.delete(child));
  return child;
}

export async function world(t: TestContext, runner = new RecordingRunner()): Promise<World> {
  const root = await mkdtemp(join(tmpdir(), 'minictr-sm-'));
  const store = new Store(root);
  await store.saveNetwork(NET);
  const mine: number[] = [];
  t.after(async () => {
    for (const pid of mine) await killPid(pid);
    await rm(root, { recursive: true, force: true });
  });
  return {
    store,
    runner,
    ctx: { store, runner },
    async live() {
      const child = await spawned(['sleep', '60']);
      const pid = child.pid ?? 0;
      mine.push(pid);
      const startTime = startTimeOf(pid);
      assert.ok(startTime > 0, `no start time for the process ${pid} just spawned`);
      return { pid, startTime };
    },
    async dead() {
      const child = await spawned(['true']);
      const pid = child.pid ?? 0;
      assert.ok(await gone(pid), `process ${pid} did not exit`);
      return pid;
    },
  };
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

/** The fixture's attachment (172.18.0.2, 5005:5000/tcp and 127.0.0.1:8080:80/udp) under the container's own names. */
export function attachmentOf(id: string, ip = ATT.ip): NetworkAttachment {
  return { ...ATT, netns: netnsName(id), hostVeth: hostVethName(id), ip };
}

export interface Shape {
  status?: ContainerRecord['state']['status'];
  networkMode?: string;
  autoRemove?: boolean;
  pid?: number;
  pidStartTime?: number;
  monitorPid?: number;
  /** The fixture's attachment under the container's own names, as attach records it. */
  attached?: boolean;
  /** Its address (the fixture's 172.18.0.2 by default). */
  ip?: string;
}

/** Write a record as create (and start) would, with its copied root, and return it. */
export async function saved(w: World, name: string, shape: Shape = {}): Promise<ContainerRecord> {
  const id = newId();
  const status = shape.status ?? 'created';
  const record: ContainerRecord = {
    schemaVersion: 1,
    id,
    name,
    created: new Date().toISOString(),
    config: {
      image: 'busybox',
      imageId: 'b'.repeat(64),
      cmd: ['sleep', '60'],
      entrypoint: [],
      env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', `HOSTNAME=${id.slice(0, 12)}`, 'HOME=/root'],
      workdir: '/',
      hostname: id.slice(0, 12),
      tty: false,
      interactive: false,
    },
    hostConfig: { networkMode: shape.networkMode ?? 'bridge', autoRemove: shape.autoRemove ?? false, portSpecs: [] },
    state: {
      status,
      pid: shape.pid ?? 0,
      pidStartTime: shape.pidStartTime ?? 0,
      monitorPid: shape.monitorPid ?? 0,
      exitCode: 0,
      startedAt: status === 'created' ? NULL_TIME : new Date().toISOString(),
      finishedAt: NULL_TIME,
      error: '',
    },
    ...(shape.attached ? { network: attachmentOf(id, shape.ip) } : {}),
    rootfsMode: 'copy',
  };
  await w.store.saveContainer(record);
  await mkdir(join(w.store.paths.containerRootfs(id).merged, 'bin'), { recursive: true });
  return record;
}

/** A running container on the default bridge: its own live process, a live (or dead) monitor, an attachment. */
export async function running(w: World, name: string, options: { monitor: 'alive' | 'dead'; autoRemove?: boolean; ip?: string }) {
  const proc = await w.live();
  const monitorPid = options.monitor === 'alive' ? (await w.live()).pid : await w.dead();
  const record = await saved(w, name, {
    status: 'running',
    pid: proc.pid,
    pidStartTime: proc.startTime,
    monitorPid,
    attached: true,
    ...(options.autoRemove ? { autoRemove: true } : {}),
    ...(options.ip ? { ip: options.ip } : {}),
  });
  await writeFile(w.store.paths.containerPidFile(record.id), `${proc.pid}\n`);
  return { record, pid: proc.pid, monitorPid };
}

/** What the monitor writes when the container's process ends. */
export function writeExit(w: World, id: string, text: string): Promise<void> {
  return writeFile(w.store.paths.containerExitFile(id), text);
}

export function commandLines(effects: readonly Effect[]): string[] {
  return effects.flatMap((e) => (e.kind === 'command' ? [e.argv.join(' ')] : []));
}

process.on('exit', () => {
  // Belt and braces: a test that failed before its after hook ran must not leave a sleep behind.
  for (const child of processes) if (child.pid) child.kill('SIGKILL');
});
