// Real CNI clients drive minictr-cni: containerd 1.6's `ctr run --cni`, started by the test in
// the sandbox host namespace with its own root, state and socket. ctr reads its CNI config
// from /etc/cni/net.d and its plugins from /opt/cni/bin, fixed paths: containerd and ctr run in
// a CniWorld, where those two are the test's directories and /run is a throwaway copy.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, eventually, isRoot, killStarted, sh, HOST_IP, WAN_IP, type Result } from './sandbox.js';
import { CniHarness, CniWorld, CNI_BIN } from './cni-harness.js';

const hasContainerd = (await sh(['sh', '-c', 'command -v containerd && command -v ctr && command -v runc'])).code === 0;

describe('minictr-cni driven by containerd 1.6 (ctr run --cni)', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  const cni = new CniHarness(box);
  let dir = '';
  let sock = '';
  const started: ChildProcess[] = [];
  const ns = (): string => `${box.prefix}-ctr`;
  let world: CniWorld | undefined;
  const ctr = (args: string[], timeoutMs = 60_000): Promise<Result> =>
    world ? world.run(['ctr', '-a', sock, '-n', ns(), ...args], { timeoutMs }) : Promise.resolve({ code: 1, stdout: '', stderr: 'no world' });
  /** Ended, by an exit or a signal. */
  const gone = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;
  const exited = (child: ChildProcess): Promise<number | null> =>
    gone(child) ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));

  before(async () => {
    await box.setup();
    await cni.setup();
    dir = await mkdtemp(join(tmpdir(), `${box.prefix}-containerd-`));
    sock = join(dir, 'containerd.sock');
    for (const d of ['bin', 'net.d']) await mkdir(join(dir, d));
    await symlink(CNI_BIN, join(dir, 'bin', 'minictr'));
    await writeFile(join(dir, 'config.toml'), [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      // No CRI: nothing of containerd looks at the machine's /etc/cni or /opt/cni.
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${sock}"`,
      '[ttrpc]',
      `  address = "${sock}.ttrpc"`,
      '',
    ].join('\n'));
  });

  after(async () => {
    const daemon = started.find((c) => c.spawnargs.includes('--config'));
    killStarted(started.filter((c) => c !== daemon));
    if (daemon && !gone(daemon)) {
      // Tasks first (their shims hold mounts under the containerd root), then the daemon.
      for (const id of (await ctr(['task', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) await ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      for (const id of (await ctr(['task', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) await ctr(['task', 'delete', '-f', id]);
      for (const id of (await ctr(['container', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) await ctr(['container', 'rm', id]);
      killStarted([daemon], 'SIGTERM');
      await Promise.race([exited(daemon), new Promise((resolve) => setTimeout(resolve, 10_000))]);
      killStarted([daemon]);
    }
    // containerd's and podman's mounts were made in the world's namespace only.
    if (world) await world.stop();
    else if (dir) await rm(dir, { recursive: true, force: true });
    await cni.cleanup();
    await box.cleanup();
  });

  it('a busybox container gets its address, reaches the outside world and is reached through its portMapping; kill + rm leaves nothing', { skip: !hasContainerd && 'containerd, ctr or runc is not installed' }, async () => {
    world = new CniWorld(box, dir, join(dir, 'bin'), join(dir, 'net.d'));
    await world.start();
    const daemon = world.spawn(['containerd', '--config', join(dir, 'config.toml')]);
    started.push(daemon);
    await eventually(async () => (await ctr(['version'])).code === 0, 20_000, 'containerd to answer on its socket');

    const tarball = await world.busyboxTarball();
    const imported = await ctr(['image', 'import', tarball]);
    assert.equal(imported.code, 0, imported.stderr);

    const conf = cni.config({ bridge: `${box.prefix}c`, runtimeConfig: { portMappings: [{ hostPort: 8089, containerPort: 80, protocol: 'tcp' }] } });
    const { cniVersion, name, ...plugin } = conf;
    await writeFile(join(dir, 'net.d', '10-minictr.conflist'), JSON.stringify({ cniVersion, name, plugins: [plugin] }, null, 2));

    const id = 'web';
    const run = world.spawn(['ctr', '-a', sock, '-n', ns(), 'run', '--cni', 'docker.io/library/busybox:latest', id,
      'sh', '-c', 'mkdir -p /www && echo hello-from-containerd > /www/index.html && exec httpd -f -p 80 -h /www']);
    let output = '';
    started.push(run);
    run.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    run.stderr?.on('data', (d: Buffer) => (output += d.toString()));

    const state = await eventually(async () => {
      if (run.exitCode !== null) throw new Error(`ctr run exited ${run.exitCode}: ${output}`);
      const s = await cni.state();
      return s.attachments.length === 1 && Object.keys(s.leases).length === 1 && s;
    }, 30_000, 'the ADD of ctr run --cni');
    const [ip, lease] = Object.entries(state.leases)[0] ?? [];
    assert.equal(ip, '10.77.0.2');
    assert.equal(lease?.containerId, `${ns()}-${id}`, 'ctr names the attachment <namespace>-<id>');

    const inside = await ctr(['task', 'exec', '--exec-id', 'addr', id, 'ip', '-4', 'addr', 'show', 'eth0']);
    assert.match(inside.stdout, /inet 10\.77\.0\.2\/24/, inside.stderr);
    const ping = await ctr(['task', 'exec', '--exec-id', 'ping', id, 'busybox', 'ping', '-c1', '-W2', WAN_IP]);
    assert.equal(ping.code, 0, `the container reaches the outside world: ${ping.stdout}${ping.stderr}`);
    const page = await eventually(async () => {
      const r = await box.wan(['timeout', '5', 'busybox', 'wget', '-qO-', `http://${HOST_IP}:8089/`]);
      return r.code === 0 && r.stdout;
    }, 10_000, 'the portMapping to answer from the outside world');
    assert.equal(page.trim(), 'hello-from-containerd');

    assert.equal((await ctr(['task', 'kill', '-s', 'SIGKILL', id])).code, 0);
    const code = await exited(run);
    assert.notEqual(code, null, output);
    assert.equal((await ctr(['container', 'rm', id])).code, 0);
    assert.deepEqual(await cni.state(), { attachments: [], leases: {} }, `ctr's DEL freed the address and the record: ${output}`);
    assert.deepEqual(await cni.attachmentRules(), []);
    assert.deepEqual(await cni.attachmentLinks(), []);
    assert.equal((await ctr(['container', 'ls', '-q'])).stdout.trim(), '');
  });
});
