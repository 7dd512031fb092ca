// Docker and Podman for the many-at-once comparison (issue #20), each inside the bench's sandbox:
// dockerd is started in the sandbox host's network namespace with its own data-root, exec-root
// and socket (and the containerd it manages under them); podman runs there with its own --root
// and --runroot. Nothing of the machine's own engines (/var/lib/docker, /var/run/docker.sock,
// /var/lib/containers) is used. Each is stopped, by the pid it was started with, at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep, timed } from './lib.js';

/** The hierarchies (v1, and the hybrid layout's cgroup2 at unified) an engine may leave a parent cgroup under. */
const CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'net_cls', 'perf_event', 'hugetlb', 'systemd', 'unified'];

export interface Engine {
  name: string;
  /** The argv of `<engine> ARGS…` as the sandbox host would run it. */
  argv(args: string[]): string[];
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Every mount below `dir` (the engine's layers, its shm and netns binds), deepest first. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8').catch(() => '')).split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await timed(['umount', '-l', m]);
}

async function which(tool: string): Promise<string | undefined> {
  const r = await timed(['sh', '-c', `command -v ${tool}`]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** dockerd in the sandbox host namespace; undefined (and why) when it is not installed or does not come up. */
export async function sandboxedDocker(
  inHost: (argv: string[]) => string[],
  workDir: string,
  env: NodeJS.ProcessEnv,
): Promise<Engine | string> {
  const dockerd = await which('dockerd');
  const docker = await which('docker');
  if (!dockerd || !docker) return 'docker: dockerd not installed (apt-get install docker.io)';
  // A unix socket path must stay short: the exec-root is under /tmp itself.
  const data = join(workDir, 'docker-data');
  const exec = join('/tmp', `${workDir.split('/').pop() ?? 'bench'}-dx`);
  await mkdir(data, { recursive: true });
  await mkdir(exec, { recursive: true });
  const sock = `unix://${exec}/d.sock`;
  const [file = 'false', ...args] = inHost([dockerd, '--data-root', data, '--exec-root', exec, '-H', sock, '--pidfile', join(exec, 'd.pid')]);
  const daemon: ChildProcess = spawn(file, args, { stdio: 'ignore' });
  const engine: Engine = {
    name: 'docker',
    argv: (args) => [docker, '-H', sock, ...args],
    env,
    stop: async () => {
      const pid = Number((await readFile(join(exec, 'd.pid'), 'utf8').catch(() => '')).trim()) || daemon.pid;
      if (pid) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone
        }
      }
      for (let i = 0; i < 100 && daemon.exitCode === null && daemon.signalCode === null; i++) await sleep(100);
      if (daemon.exitCode === null && daemon.signalCode === null && daemon.pid) daemon.kill('SIGKILL');
      await unmountUnder(exec);
      await rm(exec, { recursive: true, force: true }).catch(() => undefined);
      await unmountUnder(data);
      await rm(data, { recursive: true, force: true }).catch(() => undefined);
      // dockerd makes a "docker" parent under each cgroup controller; empty, it goes.
      for (const c of CONTROLLERS) {
        await rmdir(`/sys/fs/cgroup/${c}/docker`).catch(() => undefined);
      }
    },
  };
  for (let i = 0; i < 100; i++) {
    if ((await timed(engine.argv(['info']), { env, timeoutMs: 10_000 })).code === 0) return engine;
    if (daemon.exitCode !== null) break;
    await sleep(200);
  }
  await engine.stop();
  return 'docker: dockerd did not come up in the sandbox: not measured';
}

/** podman in the sandbox host namespace with its own storage; undefined when not installed. */
export async function sandboxedPodman(
  inHost: (argv: string[]) => string[],
  workDir: string,
  env: NodeJS.ProcessEnv,
  workaround: string[],
): Promise<Engine | string> {
  const podman = await which('podman');
  if (!podman) return 'podman: not installed (apt-get install podman)';
  const root = join(workDir, 'podman-root');
  // podman refuses a runroot longer than 50 characters.
  const runroot = join('/tmp', `${workDir.split('/').pop() ?? 'bench'}-pr`);
  const engine: Engine = {
    name: 'podman',
    argv: (args) => inHost([podman, '--root', root, '--runroot', runroot, ...workaround, ...args]),
    env,
    stop: async () => {
      await timed(engine.argv(['rm', '-af']), { env, timeoutMs: 120_000 });
      await timed(engine.argv(['rmi', '-af']), { env, timeoutMs: 60_000 });
      await unmountUnder(root);
      await unmountUnder(runroot);
      await rm(root, { recursive: true, force: true }).catch(() => undefined);
      await rm(runroot, { recursive: true, force: true }).catch(() => undefined);
      // podman (cgroupfs) leaves libpod_parent/conmon under each controller; empty, they go.
      for (const c of CONTROLLERS) {
        await rmdir(`/sys/fs/cgroup/${c}/libpod_parent/conmon`).catch(() => undefined);
        await rmdir(`/sys/fs/cgroup/${c}/libpod_parent`).catch(() => undefined);
      }
    },
  };
  const info = await timed(engine.argv(['info']), { env, timeoutMs: 30_000 });
  if (info.code !== 0) {
    await engine.stop();
    const why = info.stderr.split('\n').find((l) => l.trim() !== '') ?? `exit ${info.code}`;
    return `podman: podman info failed in the sandbox (${why.slice(0, 160)}): not measured`;
  }
  return engine;
}
