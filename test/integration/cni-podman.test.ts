// podman 4.3 with its CNI backend runs a container on a network served by minictr-cni: its
// network config dir and plugin dirs are the test's, its storage a temp dir, and it runs in a
// CniWorld (so what it writes to /run and /var/lib/cni stays out of the machine).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, eventually, isRoot, sh, HOST_IP, WAN_IP, type Result } from './sandbox.js';
import { CniHarness, CniWorld, CNI_BIN, REFERENCE_PLUGINS } from './cni-harness.js';

const hasPodman = (await sh(['sh', '-c', 'command -v podman && command -v conmon'])).code === 0;

describe('minictr-cni driven by podman 4.3 (--network-backend cni)', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  const cni = new CniHarness(box);
  let dir = '';
  let world: CniWorld | undefined;
  const podman = (args: string[], timeoutMs = 60_000): Promise<Result> => {
    if (!world) return Promise.resolve({ code: 1, stdout: '', stderr: 'no world' });
    return world.run([
      'podman', '--network-backend', 'cni', '--network-config-dir', join(dir, 'net.d'),
      '--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'),
      '--storage-driver', 'overlay', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', ...args,
    ], { timeoutMs, env: { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') } });
  };

  before(async () => {
    await box.setup();
    await cni.setup();
    dir = await mkdtemp(join(tmpdir(), `${box.prefix}-podman-`));
    for (const d of ['bin', 'net.d', 'tmp']) await mkdir(join(dir, d));
    await symlink(CNI_BIN, join(dir, 'bin', 'minictr'));
    await writeFile(join(dir, 'containers.conf'), [
      '[network]',
      'network_backend = "cni"',
      `cni_plugin_dirs = ["${join(dir, 'bin')}", "${REFERENCE_PLUGINS}"]`,
      `network_config_dir = "${join(dir, 'net.d')}"`,
      '',
    ].join('\n'));
  });

  after(async () => {
    if (world) await podman(['rm', '-af', '-t', '0']);
    // containerd's and podman's mounts were made in the world's namespace only.
    if (world) await world.stop();
    else if (dir) await rm(dir, { recursive: true, force: true });
    await cni.cleanup();
    await box.cleanup();
  });

  it('podman run -p on a minictr-cni network is reached from the outside world; podman rm -f cleans up', { skip: !hasPodman && 'podman or conmon is not installed' }, async () => {
    world = new CniWorld(box, dir, join(dir, 'bin'), join(dir, 'net.d'));
    await world.start();
    const tarball = await world.busyboxTarball();
    const load = await podman(['load', '-i', tarball]);
    assert.equal(load.code, 0, load.stderr);

    // podman 4.3 writes and reads conflists in cniVersion 0.4.0; portMappings is a capability the runtime fills in.
    const { cniVersion: _v, name, runtimeConfig: _rc, ...plugin } = cni.config({ bridge: `${box.prefix}p` });
    await writeFile(join(dir, 'net.d', `${String(name)}.conflist`), JSON.stringify({
      cniVersion: '0.4.0', name, plugins: [{ ...plugin, capabilities: { portMappings: true } }],
    }, null, 2));
    assert.match((await podman(['network', 'ls'])).stdout, /mynet\s+minictr/);

    // podman's default limits (nofile 1048576, nproc) are above what this machine lets a container raise to: ask for modest ones.
    const run = await podman(['run', '-d', '--name', 'web', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--network', 'mynet', '-p', '8089:80',
      'docker.io/library/busybox:latest', 'sh', '-c', 'mkdir -p /www && echo hello-from-podman > /www/index.html && exec httpd -f -p 80 -h /www']);
    assert.equal(run.code, 0, run.stderr);
    const state = await cni.state();
    assert.equal(state.attachments.length, 1);
    assert.deepEqual(Object.keys(state.leases), ['10.77.0.2']);
    assert.match((await podman(['inspect', '-f', '{{.NetworkSettings.Networks.mynet.IPAddress}}', 'web'])).stdout, /^10\.77\.0\.2$/m,
      "podman read the plugin's 0.4.0 result");

    const page = await eventually(async () => {
      const r = await box.wan(['timeout', '5', 'busybox', 'wget', '-qO-', `http://${HOST_IP}:8089/`]);
      return r.code === 0 && r.stdout;
    }, 10_000, 'podman -p 8089:80 to answer from the outside world');
    assert.equal(page.trim(), 'hello-from-podman');
    const ping = await podman(['exec', 'web', 'busybox', 'ping', '-c1', '-W2', WAN_IP]);
    assert.equal(ping.code, 0, `the container reaches the outside world: ${ping.stdout}${ping.stderr}`);

    const removed = await podman(['rm', '-f', '-t', '0', 'web']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(await cni.state(), { attachments: [], leases: {} }, 'podman rm -f ran DEL');
    assert.deepEqual(await cni.attachmentRules(), []);
    assert.deepEqual(await cni.attachmentLinks(), []);
  });
});
