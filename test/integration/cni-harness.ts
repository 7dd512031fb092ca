// Running bin/minictr-cni as a CNI runtime would, inside a Sandbox's host namespace: pods are
// network namespaces the test makes (a runtime's job), the plugin's state a temp dir.
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { access, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sandbox, eventually, killStarted, sh, HOST_IP, WAN_IP, type Result } from './sandbox.js';

const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const CNI_BIN = join(REPO, 'bin', 'minictr-cni');
/** Where Debian's containernetworking-plugins are (host-local, bridge, portmap…). */
export const REFERENCE_PLUGINS = '/usr/lib/cni';

export interface CniOutcome extends Result {
  /** stdout as JSON, when it is. */
  json?: Record<string, unknown>;
}

export interface Pod {
  containerId: string;
  ifname: string;
  /** A namespace path; absent for a DEL whose namespace is gone. */
  netns?: string;
}

export class CniHarness {
  dataDir = '';
  /** Pods' namespaces made here, removed at cleanup. */
  private readonly pods = new Set<string>();

  constructor(readonly box: Sandbox) {}

  async setup(): Promise<void> {
    this.dataDir = await mkdtemp(join(tmpdir(), `${this.box.prefix}-cni-`));
  }

  /** The config, with this run's bridge name and dataDir. */
  config(patch: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      cniVersion: '1.0.0', name: 'mynet', type: 'minictr', bridge: `${this.box.prefix}b`, isGateway: true, ipMasq: true, hairpinMode: true,
      ipam: { type: 'minictr', subnet: '10.77.0.0/24', dataDir: join(this.dataDir, 'ipam') },
      dataDir: this.dataDir,
      ...patch,
    };
  }

  /** A pod's network namespace, as a runtime would make it (not in the sandbox host: a sibling, entered by path). */
  async newPod(n: number | string, ifname = 'eth0'): Promise<Pod> {
    const name = `${this.box.prefix}-pod${n}`;
    const r = await sh(['ip', 'netns', 'add', name]);
    if (r.code !== 0) throw new Error(`could not make ${name}: ${r.stderr}`);
    this.pods.add(name);
    return { containerId: `ctr-${this.box.prefix}-${n}`, ifname, netns: `/run/netns/${name}` };
  }

  async removePodNetns(pod: Pod): Promise<void> {
    if (!pod.netns) return;
    const name = pod.netns.split('/').pop() ?? '';
    await sh(['ip', 'netns', 'del', name]);
    this.pods.delete(name);
  }

  private readonly started: ChildProcess[] = [];

  /** A server inside a pod, killed by pid at cleanup. */
  background(pod: Pod, argv: string[]): ChildProcess {
    const child = spawn('nsenter', [`--net=${pod.netns ?? ''}`, '--', ...argv], { stdio: 'ignore' });
    this.started.push(child);
    return child;
  }

  /** Run a command inside a pod. */
  inPod(pod: Pod, argv: string[], options: { timeoutMs?: number } = {}): Promise<Result> {
    return sh(['nsenter', `--net=${pod.netns ?? ''}`, '--', ...argv], options);
  }

  /** The plugin's command line in the sandbox host, with the CNI_* environment of `pod` and nothing else. */
  private argv(command: string, pod: Pod | undefined, extraEnv: Record<string, string>): string[] {
    const env: Record<string, string> = {
      CNI_COMMAND: command,
      CNI_PATH: REFERENCE_PLUGINS,
      ...(pod ? { CNI_CONTAINERID: pod.containerId, CNI_IFNAME: pod.ifname, ...(pod.netns ? { CNI_NETNS: pod.netns } : {}) } : {}),
      ...extraEnv,
    };
    return ['nsenter', `--net=/run/netns/${this.box.hostNs}`, '--', 'env', '-i', `PATH=${process.env['PATH'] ?? ''}`, ...Object.entries(env).map(([k, v]) => `${k}=${v}`), CNI_BIN];
  }

  /**
   * A crash: the plugin run with MINICTR_PAUSE_AT=`step` (the crash tests' seam), killed by its
   * pid (nsenter, env and node exec one another) once it says it is paused there.
   */
  async crashAt(step: string, command: string, config: Record<string, unknown>, pod: Pod): Promise<void> {
    const [file = 'nsenter', ...args] = this.argv(command, pod, { MINICTR_PAUSE_AT: step });
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    child.stdin?.end(JSON.stringify(config));
    let said = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      said += chunk.toString();
    });
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    const marker = join(this.dataDir, `paused-at-${step}`);
    try {
      await eventually(async () => exited || (await access(marker).then(() => true, () => false)), 20_000, `the plugin to pause at ${step}`);
      if (exited) throw new Error(`the plugin ended before pausing at ${step}: ${said}`);
    } finally {
      killStarted([child]);
      await eventually(async () => exited, 5_000, 'the plugin to die');
      await rm(marker, { force: true });
    }
  }

  /** The plugin, run in the sandbox host with the CNI_* environment of `pod`. */
  async run(command: string, config: Record<string, unknown> | string, pod?: Pod, extraEnv: Record<string, string> = {}): Promise<CniOutcome> {
    const input = typeof config === 'string' ? config : JSON.stringify(config);
    const r = await sh(this.argv(command, pod, extraEnv), { input });
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(r.stdout) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    return { ...r, ...(json ? { json } : {}) };
  }

  /** The plugin's records and built-in leases of network `name`. */
  async state(name = 'mynet'): Promise<{ attachments: string[]; leases: Record<string, { containerId: string }> }> {
    const attachments = await readdir(join(this.dataDir, 'networks', name, 'attachments')).catch(() => [] as string[]);
    const leases = JSON.parse(await readFile(join(this.dataDir, 'ipam', name, 'leases.json'), 'utf8').catch(() => '{}')) as Record<string, { containerId: string }>;
    return { attachments, leases };
  }

  /** Rules (iptables) or set and map elements (nftables) the plugin made for attachments (comments minictr:cni-<hash>), in the sandbox host. */
  async attachmentRules(firewall: 'iptables' | 'nftables' = 'iptables'): Promise<string[]> {
    const dump = firewall === 'iptables' ? ['iptables-save'] : ['nft', 'list', 'ruleset', 'inet'];
    // nft lists a set's elements between commas, several on a line: one entry per element.
    const lines = (await this.box.host(dump)).stdout.split(firewall === 'iptables' ? '\n' : /,|\n/);
    return lines.map((l) => l.trim()).filter((l) => /minictr:cni-[0-9a-f]{12}/.test(l));
  }

  /**
   * The address the outside world sees a connection from `pod` come from: a server in the WAN
   * namespace answers with its peer's address, with `routed` routed back through the sandbox
   * host meanwhile (as a network that does not NAT needs).
   */
  async seenFromOutside(pod: Pod, routed: string, port: number): Promise<string> {
    const route = await this.box.wan(['ip', 'route', 'add', routed, 'via', HOST_IP]);
    if (route.code !== 0) throw new Error(`ip route add ${routed}: ${route.stderr}`);
    const server = this.box.background('wan', ['socat', `TCP-LISTEN:${port},fork,reuseaddr`, 'SYSTEM:echo peer=$SOCAT_PEERADDR']);
    try {
      return await eventually(async () => {
        const r = await this.inPod(pod, ['timeout', '3', 'socat', '-T2', '-', `TCP:${WAN_IP}:${port}`], { timeoutMs: 10_000 });
        return /peer=(\S+)/.exec(r.stdout)?.[1];
      }, 10_000, 'the outside world to answer the pod');
    } finally {
      killStarted([server]);
      await this.box.wan(['ip', 'route', 'del', routed]);
    }
  }

  /** Fails unless no rule (or element), host veth, record or lease of an attachment is left. */
  async assertNothingLeft(firewall: 'iptables' | 'nftables' = 'iptables'): Promise<void> {
    assert.deepEqual(await this.attachmentRules(firewall), [], `no ${firewall === 'iptables' ? 'rule' : 'element'} of an attachment is left`);
    assert.deepEqual(await this.attachmentLinks(), [], 'no host veth is left');
    assert.deepEqual(await this.state(), { attachments: [], leases: {} }, 'no record or lease is left');
  }

  /** The plugin's state of an attachment lost (its record and lease gone: a wiped dataDir, an ADD cut short) while the kernel keeps what was made. */
  async forgetState(name = 'mynet'): Promise<void> {
    await rm(join(this.dataDir, 'networks', name), { recursive: true, force: true });
    await rm(join(this.dataDir, 'ipam', name), { recursive: true, force: true });
  }

  /** Host veths the plugin made (vcni…), in the sandbox host. */
  async attachmentLinks(): Promise<string[]> {
    return (await this.box.host(['ip', '-o', 'link', 'show'])).stdout.split('\n').filter((l) => /\bvcni[0-9a-f]{11}\b/.test(l));
  }

  async cleanup(): Promise<void> {
    killStarted(this.started);
    for (const name of this.pods) await sh(['ip', 'netns', 'del', name]);
    this.pods.clear();
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** A Sandbox and a CniHarness in it, set up before the suite's tests and cleaned up after them (also when one fails). */
export function cniSuite(): { box: Sandbox; cni: CniHarness } {
  const box = new Sandbox();
  const cni = new CniHarness(box);
  before(async () => {
    await box.setup();
    await cni.setup();
  });
  after(async () => {
    await cni.cleanup();
    await box.cleanup();
  });
  return { box, cni };
}

/**
 * A world for real CNI clients (containerd, podman): a long-lived process in the sandbox host's
 * network namespace and in a private mount namespace, chrooted into an overlay of the machine's
 * /. /proc, /sys, /dev and /tmp are the live ones; /etc/cni/net.d and /opt/cni/bin are the test's
 * directories; every other write (/run, /var/lib/cni, /etc) lands in a tmpfs that goes with the
 * world. Commands join it with nsenter (its mount and network namespaces and its root).
 */
export class CniWorld {
  private holder: ChildProcess | undefined;

  constructor(
    readonly box: Sandbox,
    /** A scratch directory of the test's (holds the overlay's mount points). */
    readonly dir: string,
    readonly binDir: string,
    readonly confDir: string,
  ) {}

  async start(): Promise<void> {
    const root = join(this.dir, 'world-root');
    const ovl = join(this.dir, 'world-ovl');
    const script = [
      'set -e',
      `mkdir -p ${root} ${ovl}`,
      `mount -t tmpfs tmpfs ${ovl}`,
      `mkdir ${ovl}/upper ${ovl}/work`,
      `mount -t overlay overlay -o lowerdir=/,upperdir=${ovl}/upper,workdir=${ovl}/work ${root}`,
      ...['/proc', '/sys', '/dev', '/tmp'].map((m) => `mount --rbind ${m} ${root}${m}`),
      `mkdir -p ${root}/opt/cni/bin ${root}/etc/cni/net.d`,
      `mount --bind ${this.binDir} ${root}/opt/cni/bin`,
      `mount --bind ${this.confDir} ${root}/etc/cni/net.d`,
      `touch ${ovl}/ready`,
      // The world lives as long as this process: it waits for its stdin to close.
      `exec chroot ${root} /bin/sh -c 'read -r _'`,
    ].join('\n');
    this.holder = spawn('nsenter', [`--net=/run/netns/${this.box.hostNs}`, '--', 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', script], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const holder = this.holder;
    // ready is written inside the private namespace: look for it through the holder's root.
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (holder.exitCode !== null) throw new Error('the CNI world could not be set up');
      const r = await sh(['nsenter', '-t', String(holder.pid), '-m', '--', 'test', '-e', `${ovl}/ready`]);
      if (r.code === 0) break;
      if (Date.now() > deadline) throw new Error('timed out setting up the CNI world');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private enter(): string[] {
    if (this.holder?.pid === undefined) throw new Error('the CNI world is not started');
    return ['nsenter', '-t', String(this.holder.pid), '-m', '-n', '-r', '-w', '--'];
  }

  run(argv: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
    return sh([...this.enter(), ...argv], options);
  }

  /** A long-running command in the world; the caller stops it. */
  spawn(argv: string[]): ChildProcess {
    const [file = 'nsenter', ...args] = [...this.enter(), ...argv];
    return spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** `minictr save busybox` into the scratch dir: the image a client imports. */
  async busyboxTarball(): Promise<string> {
    const tarball = join(this.dir, 'busybox.tar');
    const save = await this.box.minictr(['save', '-o', tarball, 'busybox']);
    if (save.code !== 0) throw new Error(`minictr save busybox: ${save.stderr}`);
    return tarball;
  }

  /**
   * Ends the world (its mounts and tmpfs go with its mount namespace once no process is left in
   * it), then removes the scratch dir, unless something is still mounted there in ours.
   */
  async stop(): Promise<void> {
    const holder = this.holder;
    if (holder) {
      holder.stdin?.end();
      killStarted([holder]);
    }
    const mounts = (await sh(['cat', '/proc/self/mountinfo'])).stdout;
    if (!mounts.includes(this.dir)) await rm(this.dir, { recursive: true, force: true });
  }
}
