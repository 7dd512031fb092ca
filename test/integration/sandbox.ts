// A throwaway world for integration tests: a network namespace that plays the host
// (minictr runs there, with its own --root) and one that plays the outside world,
// joined by a veth pair. Nothing touches the real host's network.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const HOST_IP = '10.99.0.1';
export const WAN_IP = '10.99.0.2';
/** The same link's IPv6 addresses (a ULA /64), so every path can be checked over IPv6 too. */
export const HOST_IP6 = 'fd99::1';
export const WAN_IP6 = 'fd99::2';
const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const MINICTR_BIN = join(REPO, 'bin', 'minictr');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function sh(argv: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolveResult) => {
    const [file, ...args] = argv;
    const child = execFile(
      file ?? 'false',
      args,
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, env: options.env ?? process.env },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolveResult({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    // A child that ends before it reads its input (socat refused at once) breaks the pipe: its
    // exit status says what happened, not an EPIPE thrown at the test.
    child.stdin?.on('error', () => undefined);
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** The minictr-* network namespaces listed in /run/netns (shared by every network namespace). */
export async function minictrNamespaces(): Promise<string[]> {
  return (await readdir('/run/netns').catch(() => [] as string[])).filter((n) => /^minictr-[0-9a-f]{12}$/.test(n));
}

/** Where minictr makes containers' cgroups: under each v1 controller, or the unified tree. */
const CGROUP_PARENTS = ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'freezer', 'blkio', 'devices']
  .map((c) => `/sys/fs/cgroup/${c}/minictr`)
  .concat(['/sys/fs/cgroup/minictr']);

/** Every container cgroup minictr has on this machine, as paths. */
export async function minictrCgroups(): Promise<string[]> {
  const out: string[] = [];
  for (const parent of CGROUP_PARENTS) {
    for (const entry of await readdir(parent, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory() && /^[0-9a-f]{64}$/.test(entry.name)) out.push(join(parent, entry.name));
    }
  }
  return out;
}

/** True where the cgroup controllers are v1 hierarchies (a hybrid layout counts), false on a v2-only host. */
export async function cgroupV1(): Promise<boolean> {
  return readFile('/sys/fs/cgroup/memory/memory.limit_in_bytes', 'utf8').then(() => true, () => false);
}

/** A file of a container's own cgroup, as the kernel has it (`controller` is ignored on v2). */
export function cgroupFile(v1: boolean, id: string, controller: string, file: string): string {
  return v1 ? `/sys/fs/cgroup/${controller}/minictr/${id}/${file}` : `/sys/fs/cgroup/minictr/${id}/${file}`;
}

/** The host's mount table lines that name `text` (a container's root or volume path). */
export async function hostMountsNaming(text: string): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(text));
}

/**
 * The container ids recorded in any sandbox's state dir on this machine (this one's and those of
 * tests running beside it): a namespace or cgroup one of them holds is not a leak.
 */
async function recordedByAnySandbox(): Promise<Set<string>> {
  const roots = (await readdir(tmpdir()).catch(() => [] as string[])).filter((n) => /^mt[0-9a-f]{6}-root-/.test(n));
  const ids = await Promise.all(roots.map((r) => readdir(join(tmpdir(), r, 'containers')).catch(() => [] as string[])));
  return new Set(ids.flat());
}

/** The firewall drivers minictr has; a sandbox can make one its default (its root's config.json). */
export type FirewallName = 'iptables' | 'nftables';

export class Sandbox {
  /**
   * `firewall`: written as the state dir's config.json, so every network made here gets it;
   * `config`: more keys of that file (Docker's daemon.json words: "ipv6", "fixed-cidr-v6").
   */
  constructor(readonly options: { firewall?: FirewallName; config?: Record<string, unknown> } = {}) {}

  readonly prefix = `mt${randomBytes(3).toString('hex')}`;
  readonly hostNs = `${this.prefix}-host`;
  readonly wanNs = `${this.prefix}-wan`;
  root = '';
  private readonly started: ChildProcess[] = [];
  /** The minictr-* namespaces that existed before this sandbox (another run's, not ours to judge). */
  private netnsBefore = new Set<string>();
  private cgroupsBefore = new Set<string>();
  /** Leaked cgroups found (and removed) so far, by a check or by cleanup. */
  private readonly cgroupLeaks: string[] = [];

  async setup(): Promise<void> {
    this.netnsBefore = new Set(await minictrNamespaces());
    this.cgroupsBefore = new Set(await minictrCgroups());
    this.root = await mkdtemp(join(tmpdir(), `${this.prefix}-root-`));
    const config = { ...(this.options.firewall ? { firewall: this.options.firewall } : {}), ...this.options.config };
    if (Object.keys(config).length > 0) await writeFile(join(this.root, 'config.json'), JSON.stringify(config));
    const hv = `${this.prefix}h`;
    const wv = `${this.prefix}w`;
    const steps: string[][] = [
      ['ip', 'netns', 'add', this.hostNs],
      ['ip', 'netns', 'add', this.wanNs],
      ['ip', '-n', this.hostNs, 'link', 'add', hv, 'type', 'veth', 'peer', 'name', wv, 'netns', this.wanNs],
      ['ip', '-n', this.hostNs, 'link', 'set', 'lo', 'up'],
      ['ip', '-n', this.wanNs, 'link', 'set', 'lo', 'up'],
      ['ip', '-n', this.hostNs, 'addr', 'add', `${HOST_IP}/24`, 'dev', hv],
      ['ip', '-n', this.wanNs, 'addr', 'add', `${WAN_IP}/24`, 'dev', wv],
      ['ip', '-n', this.hostNs, 'link', 'set', hv, 'up'],
      ['ip', '-n', this.wanNs, 'link', 'set', wv, 'up'],
      ['ip', '-n', this.wanNs, 'route', 'add', 'default', 'via', HOST_IP],
      // nodad: both ends are ours, and duplicate detection would hold the addresses back for a second.
      ['ip', '-n', this.hostNs, 'addr', 'add', `${HOST_IP6}/64`, 'dev', hv, 'nodad'],
      ['ip', '-n', this.wanNs, 'addr', 'add', `${WAN_IP6}/64`, 'dev', wv, 'nodad'],
      ['ip', '-n', this.wanNs, 'route', 'add', 'default', 'via', HOST_IP6],
    ];
    for (const step of steps) {
      const r = await sh(step);
      if (r.code !== 0) throw new Error(`sandbox setup failed: ${step.join(' ')}: ${r.stderr}`);
    }
  }

  /**
   * minictr-* namespaces that appeared since setup and that no container record holds: leaks (a
   * namespace left with no record leading back to it). Records of every sandbox on the machine
   * count, so tests running side by side do not see each other's containers as leaks.
   */
  async leakedNamespaces(): Promise<string[]> {
    const recorded = new Set([...await recordedByAnySandbox()].map((id) => `minictr-${id.slice(0, 12)}`));
    return (await minictrNamespaces()).filter((ns) => !this.netnsBefore.has(ns) && !recorded.has(ns));
  }

  /**
   * Container cgroups that appeared since setup and whose container no sandbox records any more:
   * leaks. They are removed once listed, so one failing test does not fail the next.
   */
  async leakedCgroups(): Promise<string[]> {
    const recorded = await recordedByAnySandbox();
    const leaked = (await minictrCgroups()).filter((p) => !this.cgroupsBefore.has(p) && !recorded.has(p.slice(-64)));
    for (const path of leaked) await rmdir(path).catch(() => undefined);
    this.cgroupLeaks.push(...leaked);
    return [...this.cgroupLeaks];
  }

  /**
   * An image made by hand, for tests that need a crafted root: the host's static busybox as
   * /bin/busybox with `applets` (sh by default) linked to it, plus whatever `fill` adds to the
   * root, tarred and given to `minictr import` as `name` (with `changes`, Dockerfile style).
   */
  async importImage(workDir: string, name: string, fill: (rootfs: string) => Promise<void>, options: { applets?: string[]; changes?: string[] } = {}): Promise<Result> {
    const rootfs = await mkdtemp(join(workDir, 'rootfs-'));
    await mkdir(join(rootfs, 'bin'));
    await copyFile('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    await chmod(join(rootfs, 'bin', 'busybox'), 0o755);
    for (const applet of options.applets ?? ['sh']) await symlink('busybox', join(rootfs, 'bin', applet));
    await fill(rootfs);
    const tarball = `${rootfs}.tar`;
    const tar = await sh(['tar', '-C', rootfs, '-cf', tarball, '.']);
    if (tar.code !== 0) return tar;
    return this.minictr(['import', ...(options.changes ?? []).flatMap((c) => ['--change', c]), tarball, name]);
  }

  /**
   * A reboot, for one container: its monitor killed first (so nobody handles the exit), then
   * its process, then the kernel objects its record names (veth, namespace); the files stay.
   */
  async simulateReboot(id: string): Promise<void> {
    const rec = JSON.parse(await readFile(join(this.root, 'containers', id, 'config.json'), 'utf8')) as {
      state: { pid: number; monitorPid: number }; network?: { netns: string; hostVeth: string };
    };
    process.kill(rec.state.monitorPid, 'SIGKILL');
    process.kill(rec.state.pid, 'SIGKILL');
    if (rec.network) {
      await this.host(['ip', 'link', 'del', rec.network.hostVeth]);
      await this.host(['ip', 'netns', 'del', rec.network.netns]);
    }
  }

  /** Run minictr as the sandbox host would. */
  minictr(args: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
    return sh(['nsenter', `--net=/run/netns/${this.hostNs}`, '--', process.execPath, '--', MINICTR_BIN, '--root', this.root, ...args], options);
  }

  /** A command on the sandbox host. */
  host(argv: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<Result> {
    return sh(['nsenter', `--net=/run/netns/${this.hostNs}`, '--', ...argv], options);
  }

  /** A command in the outside world. */
  wan(argv: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<Result> {
    return sh(['nsenter', `--net=/run/netns/${this.wanNs}`, '--', ...argv], options);
  }

  /** Start a long-running helper (a server) in a namespace; it is killed by pid at cleanup. */
  background(ns: 'host' | 'wan', argv: string[]): ChildProcess {
    const child = spawn('nsenter', [`--net=/run/netns/${ns === 'host' ? this.hostNs : this.wanNs}`, '--', ...argv], {
      stdio: 'ignore',
    });
    this.started.push(child);
    return child;
  }

  async cleanup(): Promise<void> {
    killStarted(this.started);
    if (this.root) {
      // Remove every container minictr made here, so its netns, veth and processes go too.
      const ids = await this.minictr(['ps', '-aq', '--no-trunc']);
      for (const id of ids.stdout.split('\n').filter(Boolean)) await this.minictr(['rm', '-f', id]);
      await this.minictr(['network', 'prune', '-f']);
      await this.killRecordedProcesses();
      // Nothing stays on the machine; a later leakedCgroups() still reports what was found here.
      await this.leakedCgroups();
    }
    await sh(['ip', 'netns', 'del', this.hostNs]);
    await sh(['ip', 'netns', 'del', this.wanNs]);
    if (this.root) await rm(this.root, { recursive: true, force: true });
  }

  /** Belt and braces: monitors and containers recorded under this root, killed by pid, and its DNS resolver. */
  private async killRecordedProcesses(): Promise<void> {
    const resolver = Number((await readFile(join(this.root, 'dns', 'resolver.pid'), 'utf8').catch(() => '')).trim());
    if (resolver > 0 && (await readFile(`/proc/${resolver}/cmdline`, 'utf8').catch(() => '')).includes('minictr-dns')) {
      try {
        process.kill(resolver, 'SIGKILL');
      } catch {
        // gone
      }
    }
    const dir = join(this.root, 'containers');
    const ids = await readdir(dir).catch(() => [] as string[]);
    for (const id of ids) {
      const r = await sh(['cat', join(dir, id, 'config.json')]);
      try {
        const rec = JSON.parse(r.stdout) as { state: { pid: number; monitorPid: number }; network?: { netns: string; relay?: { pid: number } } };
        for (const pid of [rec.state.pid, rec.state.monitorPid, rec.network?.relay?.pid ?? 0]) {
          if (pid > 0) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // gone
            }
          }
        }
        if (rec.network) await sh(['ip', 'netns', 'del', rec.network.netns]);
        // Its cgroups too (empty once its processes are killed); the leak checks see any other.
        for (const path of (await minictrCgroups()).filter((p) => p.endsWith(id))) {
          await eventually(async () => rmdir(path).then(() => true, (e: NodeJS.ErrnoException) => e.code === 'ENOENT'), 5_000, `${path} to empty`).catch(() => undefined);
        }
      } catch {
        // no record
      }
    }
  }
}

/** SIGKILL, by pid, each of these children that still runs. */
export function killStarted(children: Iterable<ChildProcess>, signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const child of children) {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
    try {
      process.kill(child.pid, signal);
    } catch {
      // gone
    }
  }
}

/** Poll until check() is true (a condition, not a fixed sleep); throws after timeoutMs. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
