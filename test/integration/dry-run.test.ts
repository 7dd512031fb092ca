// --dry-run changes nothing, and the script it prints, run by hand with sh, builds a
// working container network: the steps shown are the steps that work.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sandbox, eventually, isRoot, HOST_IP, sh } from './sandbox.js';

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
    for (const step of ['ip link add minictr0 type bridge', 'echo 1 > /proc/sys/net/ipv4/ip_forward', 'ip netns add minictr-',
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
      assert.doesNotMatch(r.stdout, /ip link add minictr0 type bridge/);
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
});
