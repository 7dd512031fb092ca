// --dry-run changes nothing, and the script it prints, run by hand with sh, builds a
// working container network: the steps shown are the steps that work.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readFile, readdir, rmdir } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sandbox, eventually, isRoot, HOST_IP, sh, minictrCgroups } from './sandbox.js';

const GOLDEN = fileURLToPath(new URL('../../../test/golden/dry-run-bridge.sh', import.meta.url));

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(path, ...(await listTree(path)));
    else out.push(`${path} ${(await lstat(path)).size} ${entry.isFile() ? await readFile(path, 'utf8').catch(() => '') : ''}`);
  }
  return out.sort();
}

describe('--dry-run', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  before(() => box.setup());
  after(() => box.cleanup());

  const snapshot = async () => ({
    rules: (await box.host(['iptables-save'])).stdout.replace(/^#.*\n/gm, '').replace(/\[\d+:\d+\]/g, ''),
    // A bridge's carrier state settles on its own after a port joins; it is not a change minictr made.
    links: (await box.host(['ip', '-o', 'link'])).stdout.replace(/ state \w+/g, ''),
    routes: (await box.host(['ip', 'route'])).stdout,
    // A running container's own files (its overlay upper and work dirs) change under it; they are not minictr's state.
    state: (await listTree(box.root)).filter((p) => !/\/containers\/[0-9a-f]{64}\/(upper|work)\//.test(p)),
  });

  it('changes nothing on a fresh host and prints the whole run', async () => {
    // The image store is not the host: build busybox first so the state comparison is exact.
    assert.equal((await box.minictr(['run', '--rm', '--network', 'none', 'busybox', 'true'])).code, 0);
    const before_ = await snapshot();
    const r = await box.minictr(['run', '--dry-run', '-p', '5005:5000', 'busybox', 'httpd', '-f', '-p', '5000']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await snapshot(), before_);
    for (const step of ['ip link add minictr0 address 02:42:ac:12:00:01 type bridge', 'echo 1 > /proc/sys/net/ipv4/ip_forward', 'ip netns add minictr-',
      'type veth peer name eth0', '-j MASQUERADE', '--dport 5005', '-j DNAT --to-destination 172.18.0.2:5000', 'unshare --pid --fork']) {
      assert.ok(r.stdout.includes(step), `the script shows: ${step}`);
    }
  });

  it('leaves out the bridge steps once the bridge exists, and still changes nothing', async () => {
    assert.equal((await box.minictr(['run', '-d', '--name', 'first', 'busybox', 'sleep', '300'])).code, 0);
    try {
      const before_ = await snapshot();
      const r = await box.minictr(['run', '--dry-run', '-p', '5006:5000', 'busybox', 'true']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /ip link add minictr0 /);
      assert.match(r.stdout, /172\.18\.0\.3/, 'the next free address is planned');
      assert.deepEqual(await snapshot(), before_);
    } finally {
      assert.equal((await box.minictr(['rm', '-f', 'first'])).code, 0);
      assert.equal((await box.minictr(['network', 'rm', 'bridge'])).code, 0);
    }
  });

  it('the printed network script, run by sh, gives a working container network', async () => {
    const ns = `${box.prefix}-ctr`;
    const script = (await readFile(GOLDEN, 'utf8')).replaceAll('minictr-abcdef012345', ns);
    const ran = await sh(['nsenter', `--net=/run/netns/${box.hostNs}`, '--', 'sh', '-e'], { input: script });
    try {
      assert.equal(ran.code, 0, ran.stderr);
      const ping = await sh(['nsenter', `--net=/run/netns/${ns}`, '--', 'busybox', 'ping', '-c1', '-W2', '172.18.0.1']);
      assert.equal(ping.code, 0, 'the container reaches its gateway');
      const server = box.background('host', ['nsenter', `--net=/run/netns/${ns}`, '--', 'busybox', 'httpd', '-f', '-p', '5000', '-h', '/etc']);
      assert.ok(server.pid);
      const answer = await eventually(async () => {
        const r = await box.wan(['timeout', '3', 'busybox', 'wget', '-qO-', `http://${HOST_IP}:5005/hostname`]);
        return r.code === 0 ? r.stdout : undefined;
      }, 10_000, 'the published port to answer from the outside world');
      assert.ok(answer.length > 0);
    } finally {
      await sh(['ip', 'netns', 'del', ns]);
    }
  });

  it('the whole printed script of `run -d -p`, run by hand with sh on a fresh host, serves the published port', async () => {
    const fresh = new Sandbox();
    await fresh.setup();
    let group: number | undefined;
    let script = '';
    try {
      const r = await fresh.minictr(['run', '--dry-run', '-d', '-p', '5005:5000', 'busybox', 'httpd', '-f', '-p', '5000', '-h', '/etc']);
      assert.equal(r.code, 0, r.stderr);
      script = r.stdout;
      for (const file of ['hosts', 'hostname', 'resolv.conf']) assert.match(script, new RegExp(`> \\S+/containers/[0-9a-f]{64}/${file.replace('.', '\\.')}\\n`), `the script writes ${file}`);
      // The script ends in the container's process (in the foreground): a process group of its own, killed whole.
      const child = spawn('nsenter', [`--net=/run/netns/${fresh.hostNs}`, '--', 'sh', '-c', script], { detached: true, stdio: 'ignore' });
      group = child.pid;
      const hostname = await eventually(async () => {
        const got = await fresh.wan(['timeout', '3', 'busybox', 'wget', '-qO-', `http://${HOST_IP}:5005/hostname`]);
        return got.code === 0 ? got.stdout.trim() : undefined;
      }, 20_000, 'the published port to answer from the outside world');
      assert.match(hostname, /^[0-9a-f]{12}$/, 'the container answers with the hostname the script wrote');
      assert.ok(script.includes(`${hostname}\n' > `), 'the same hostname as in the script');
    } finally {
      if (group !== undefined) {
        try { process.kill(-group, 'SIGKILL'); } catch { /* gone */ }
      }
      const ns = /ip netns add (minictr-[0-9a-f]{12})/.exec(script)?.[1];
      if (ns) await sh(['ip', 'netns', 'del', ns]);
      const id = /containers\/([0-9a-f]{64})\//.exec(script)?.[1];
      if (id) {
        for (const path of (await minictrCgroups()).filter((p) => p.endsWith(id))) {
          await eventually(async () => rmdir(path).then(() => true, (e: NodeJS.ErrnoException) => e.code === 'ENOENT'), 5_000, `${path} to empty`).catch(() => undefined);
        }
      }
      await fresh.cleanup();
    }
  });
});
