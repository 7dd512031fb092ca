// Unprivileged users for rootless tests: made by the test (useradd gives each its own
// subordinate range unless told not to), running minictr inside the sandbox's host network
// namespace as themselves (nsenter, then setpriv), and removed afterwards with all they made.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MINICTR_BIN, eventually, sh, type Result, type Sandbox } from './sandbox.js';

export interface UserOptions {
  /** false: no /etc/subuid and /etc/subgid range (the single-id fallback). */
  subids?: boolean;
  /** A mount namespace to run in (TunWorld's). */
  mountNs?: string;
}

/**
 * A mount namespace where /dev/net/tun and /dev/fuse are usable by anyone (0666, as udev makes
 * them on a desktop), for pasta, slirp4netns and fuse-overlayfs run by test users; the machine's
 * own nodes are left as they are. The node lives on a tmpfs mounted only inside that namespace.
 */
export class TunWorld {
  readonly dir: string;
  readonly ns: string;

  constructor(readonly prefix: string) {
    this.dir = `/run/${prefix}-mnt`;
    this.ns = `${this.dir}/ns`;
  }

  async setup(): Promise<void> {
    const steps = [
      ['mkdir', '-p', this.dir],
      ['mount', '--bind', this.dir, this.dir],
      ['mount', '--make-private', this.dir],
      ['touch', this.ns],
      ['unshare', `--mount=${this.ns}`, '--propagation', 'private', '--', '/bin/sh', '-c',
        `mkdir -p ${this.dir}/dev && mount -t tmpfs -o mode=755,size=64k tmpfs ${this.dir}/dev && mknod -m 666 ${this.dir}/dev/tun c 10 200 && mount --bind ${this.dir}/dev/tun /dev/net/tun && mknod -m 666 ${this.dir}/dev/fuse c 10 229 && mount --bind ${this.dir}/dev/fuse /dev/fuse`],
    ];
    for (const step of steps) {
      const r = await sh(step);
      if (r.code !== 0) throw new Error(`tun world: ${step.join(' ')}: ${r.stderr}`);
    }
  }

  async cleanup(): Promise<void> {
    await sh(['umount', this.ns]);
    await sh(['umount', '-l', this.dir]);
    await sh(['rm', '-rf', this.dir]);
  }
}

export class RootlessUser {
  uid = 0;
  gid = 0;
  readonly home: string;
  /** Where the user's rootless minictr keeps its state by default. */
  readonly root: string;
  readonly runtimeDir: string;

  constructor(readonly sandbox: Sandbox, readonly name: string, readonly options: UserOptions = {}) {
    this.home = `/tmp/${name}-home`;
    this.root = join(this.home, '.local', 'share', 'minictr');
    this.runtimeDir = join(this.home, 'run');
  }

  async create(): Promise<void> {
    const counts = this.options.subids === false ? ['-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0'] : [];
    const made = await sh(['useradd', '-m', '-d', this.home, '-s', '/bin/sh', ...counts, this.name]);
    if (made.code !== 0) throw new Error(`useradd ${this.name}: ${made.stderr}`);
    const id = await sh(['id', '-u', this.name]);
    const gid = await sh(['id', '-g', this.name]);
    this.uid = Number(id.stdout.trim());
    this.gid = Number(gid.stdout.trim());
    const run = await this.shell(`mkdir -m 700 ${this.runtimeDir}`);
    if (run.code !== 0) throw new Error(`runtime dir: ${run.stderr}`);
  }

  /** The user's subordinate uid range as /etc/subuid has it. */
  async subuids(): Promise<{ start: number; count: number } | undefined> {
    const line = (await readFile('/etc/subuid', 'utf8')).split('\n').find((l) => l.startsWith(`${this.name}:`));
    if (!line) return undefined;
    const [, start, count] = line.split(':');
    return { start: Number(start), count: Number(count) };
  }

  private asUser(argv: string[], env: Record<string, string> = {}): string[] {
    return [
      'nsenter', `--net=/run/netns/${this.sandbox.hostNs}`, ...(this.options.mountNs ? [`--mount=${this.options.mountNs}`] : []), '--',
      'setpriv', '--reuid', String(this.uid), '--regid', String(this.gid), '--init-groups', '--',
      'env', '-i', `HOME=${this.home}`, `USER=${this.name}`, `LOGNAME=${this.name}`, 'PATH=/usr/local/bin:/usr/bin:/bin',
      `XDG_RUNTIME_DIR=${this.runtimeDir}`, ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv,
    ];
  }

  /** argv that runs `argv` as this user in the sandbox host (and the tun world's mount namespace, if any). */
  argv(argv: string[]): string[] {
    return this.asUser(argv);
  }

  /** minictr as this user, in the sandbox host's network namespace, with its default (rootless) state root. */
  minictr(args: string[], options: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<Result> {
    return sh(this.asUser([process.execPath, '--', MINICTR_BIN, ...args], options.env), options);
  }

  /** A shell command as this user, in the sandbox host. */
  shell(script: string, options: { timeoutMs?: number } = {}): Promise<Result> {
    return sh(this.asUser(['/bin/sh', '-c', script]), options);
  }

  /** Host pids of every process running as this user or as an id of its subordinate range. */
  async processes(): Promise<number[]> {
    const range = await this.subuids();
    const pids: number[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const owner = await stat(`/proc/${entry}`).then((s) => s.uid, () => -1);
      const mine = owner === this.uid || (range !== undefined && owner >= range.start && owner < range.start + range.count);
      if (mine) pids.push(Number(entry));
    }
    return pids;
  }

  /** Everything this user made: containers removed by minictr, then any process left killed by pid, then the user. */
  async remove(): Promise<void> {
    if (this.uid === 0) return;
    const ids = await this.minictr(['ps', '-aq', '--no-trunc']);
    for (const id of ids.stdout.split('\n').filter(Boolean)) await this.minictr(['rm', '-f', id]);
    await this.minictr(['network', 'prune', '-f']);
    for (const pid of await this.processes()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await eventually(async () => (await this.processes()).length === 0, 10_000, `${this.name}'s processes to end`).catch(() => undefined);
    // Mounts a crash left (fuse-overlayfs) would keep the home busy.
    for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(this.home))) {
      const point = line.split(' ')[4];
      if (point) await sh(['umount', '-l', point]);
    }
    await sh(['userdel', '-r', '-f', this.name]);
    await sh(['rm', '-rf', this.home]);
  }
}
