// User-defined networks: their own bridge and subnet, isolated from each other and from the
// default network, with the same way out (MASQUERADE) and the same teardown; once per firewall driver.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { firewallProbe } from './firewall-probe.js';
import { Sandbox, eventually, isRoot, HOST_IP, WAN_IP, type FirewallName } from './sandbox.js';

for (const firewall of ['iptables', 'nftables'] as FirewallName[]) describe(`user-defined networks (${firewall} firewall)`, { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox({ firewall });
  const fw = firewallProbe(box, firewall);
  let before_ = '';
  // Rules, and whatever names minictr (an untouched namespace prints no tables at all, a used one empty ones).
  const rules = async () => (await fw.save()).split('\n').filter((l) => /^-A |minictr/i.test(l)).join('\n');
  /** netb is made with the other driver: networks of both kinds side by side. */
  const other: FirewallName = firewall === 'iptables' ? 'nftables' : 'iptables';
  const mc = (...args: string[]) => box.minictr(args);
  const ipOf = async (name: string) => (await mc('inspect', '-f', '{{.NetworkSettings.IPAddress}}', name)).stdout.trim();

  before(async () => {
    await box.setup();
    before_ = await rules();
  });
  after(() => box.cleanup());

  it('network create picks a free subnet, or takes --subnet/--gateway, and refuses overlaps', async () => {
    assert.match((await mc('network', 'create', 'neta')).stdout, /^[0-9a-f]{64}\n$/);
    assert.equal((await mc('network', 'create', '--subnet', '10.77.0.0/24', '--gateway', '10.77.0.254', '-o', `firewall=${other}`, 'netb')).code, 0);
    assert.equal((await mc('network', 'inspect', '-f', '{{.Minictr.Firewall}} {{.Options.firewall}}', 'neta', 'netb')).stdout, `${firewall} <no value>\n${other} ${other}\n`);
    const ls = (await mc('network', 'ls')).stdout;
    assert.match(ls, /neta\s+bridge\s+local\s+minictr-[0-9a-f]{7}\s+172\.19\.0\.0\/16/);
    assert.match(ls, /netb\s+bridge\s+local\s+minictr-[0-9a-f]{7}\s+10\.77\.0\.0\/24/);
    const overlap = await mc('network', 'create', '--subnet', '172.19.3.0/24', 'netc');
    assert.equal(overlap.code, 125);
    assert.match(overlap.stderr, /overlaps network "neta"/);
    const route = await mc('network', 'create', '--subnet', '10.99.0.0/16', 'netd');
    assert.equal(route.code, 125);
    assert.match(route.stderr, /overlaps the host route 10\.99\.0\.0\/24/);
    assert.equal((await mc('network', 'create', 'neta')).code, 125);
  });

  it('containers on one network reach each other and the outside, not other networks', async () => {
    assert.equal((await mc('run', '-d', '--name', 'a1', '--network', 'neta', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc')).code, 0);
    assert.equal((await mc('run', '-d', '--name', 'a2', '--network', 'neta', 'busybox', 'sleep', '300')).code, 0);
    assert.equal((await mc('run', '-d', '--name', 'b1', '--network', 'netb', 'busybox', 'sleep', '300')).code, 0);
    assert.equal((await mc('run', '-d', '--name', 'c1', 'busybox', 'sleep', '300')).code, 0);
    const a1 = await ipOf('a1');
    assert.match(a1, /^172\.19\.0\.\d+$/);
    assert.match(await ipOf('b1'), /^10\.77\.0\.\d+$/);
    assert.match((await mc('exec', 'b1', 'ip', 'route')).stdout, /default via 10\.77\.0\.254/);
    const same = await mc('exec', 'a2', 'timeout', '5', 'wget', '-qO-', `http://${a1}/hostname`);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.stdout.trim(), (await mc('inspect', '-f', '{{.Config.Hostname}}', 'a1')).stdout.trim());
    assert.notEqual((await mc('exec', 'b1', 'timeout', '3', 'wget', '-qO-', `http://${a1}/hostname`)).code, 0, 'netb cannot reach neta');
    assert.notEqual((await mc('exec', 'c1', 'timeout', '3', 'wget', '-qO-', `http://${a1}/hostname`)).code, 0, 'bridge cannot reach neta');
    assert.notEqual((await mc('exec', 'b1', 'ping', '-c1', '-W1', a1)).code, 0);
    const b1 = await ipOf('b1');
    assert.notEqual((await mc('exec', 'a2', 'ping', '-c1', '-W1', b1)).code, 0, `neta (${firewall}) cannot reach netb (${other})`);
    assert.equal((await mc('exec', 'a2', 'ping', '-c1', '-W2', WAN_IP)).code, 0, 'the outside world is reachable from neta');
    assert.equal((await mc('exec', 'b1', 'ping', '-c1', '-W2', WAN_IP)).code, 0, 'the outside world is reachable');
  });

  it('a published port is reached from every network through the host\'s address, while direct traffic stays isolated', async () => {
    assert.equal((await mc('run', '-d', '--name', 'pub', '--network', 'neta', '-p', '5005:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc')).code, 0);
    try {
      const hostname = (await mc('inspect', '-f', '{{.Config.Hostname}}', 'pub')).stdout.trim();
      for (const from of ['b1', 'c1', 'a2']) {
        const r = await mc('exec', from, 'timeout', '5', 'wget', '-qO-', `http://${HOST_IP}:5005/hostname`);
        assert.equal(r.code, 0, `${from} -> ${HOST_IP}:5005: ${r.stderr}`);
        assert.equal(r.stdout.trim(), hostname);
      }
      const direct = await mc('exec', 'b1', 'timeout', '3', 'wget', '-qO-', `http://${await ipOf('pub')}:80/hostname`);
      assert.notEqual(direct.code, 0, 'netb still cannot reach the published container directly');
    } finally {
      assert.equal((await mc('rm', '-f', 'pub')).code, 0);
    }
  });

  it('network update moves a running network to the other firewall driver, leaving none of the old rules', async () => {
    const bridge = (await mc('network', 'inspect', '-f', '{{.Minictr.Bridge}}', 'netb')).stdout.trim();
    assert.match(bridge, /^minictr-[0-9a-f]{7}$/);
    const moved = await mc('network', 'update', '-o', `firewall=${firewall}`, 'netb');
    assert.equal(moved.code, 0, moved.stderr);
    assert.equal(moved.stdout, `netb: ${other} → ${firewall}\n`);
    assert.equal((await mc('network', 'inspect', '-f', '{{.Minictr.Firewall}}', 'netb')).stdout, `${firewall}\n`);
    const dumps = { iptables: (await box.host(['iptables-save'])).stdout, nftables: (await box.host(['nft', 'list', 'ruleset', 'inet'])).stdout };
    assert.doesNotMatch(dumps[other], new RegExp(bridge), `${other} still holds rules of netb`);
    assert.match(dumps[firewall], new RegExp(bridge), `${firewall} holds no rules of netb`);
    const b1 = await ipOf('b1');
    assert.equal((await mc('exec', 'b1', 'ping', '-c1', '-W2', WAN_IP)).code, 0, 'netb still reaches the outside world');
    assert.notEqual((await mc('exec', 'a2', 'ping', '-c1', '-W1', b1)).code, 0, 'neta still cannot reach netb');
    const inspect = (await mc('net', 'inspect')).stdout;
    assert.match(inspect, /, 0 missing/, 'every planned rule is in place');
    assert.doesNotMatch(inspect, /not in any plan/, 'no rule is left that no record plans');
    assert.equal((await mc('network', 'update', '-o', `firewall=${firewall}`, 'netb')).stdout, `netb: already on ${firewall}\n`);
  });

  it('on a user-defined network containers find each other by name; on the default bridge they do not', async () => {
    const byName = await mc('exec', 'a2', 'timeout', '5', 'wget', '-qO-', 'http://a1/hostname');
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(byName.stdout.trim(), (await mc('inspect', '-f', '{{.Config.Hostname}}', 'a1')).stdout.trim());
    assert.equal((await mc('exec', 'a1', 'ping', '-c1', '-W2', 'a2')).code, 0);
    assert.notEqual((await mc('exec', 'c1', 'ping', '-c1', '-W1', 'a1')).code, 0, 'the default bridge has no name resolution');
    assert.notEqual((await mc('exec', 'b1', 'ping', '-c1', '-W1', 'a1')).code, 0, 'another network cannot resolve a1');
    // A container that leaves is forgotten by the others (names come from the network's DNS, tests/dns.test.ts).
    assert.equal((await mc('run', '-d', '--name', 'a3', '--network', 'neta', 'busybox', 'sleep', '300')).code, 0);
    await eventually(async () => (await mc('exec', 'a2', 'ping', '-c1', '-W2', 'a3')).code === 0, 30_000, 'a2 to reach a3 by name');
    assert.equal((await mc('rm', '-f', 'a3')).code, 0);
    assert.notEqual((await mc('exec', 'a2', 'ping', '-c1', '-W1', 'a3')).code, 0);
  });

  it('a network in use cannot be removed; afterwards the host is as before', async () => {
    const busy = await mc('network', 'rm', 'neta');
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /active endpoints/);
    assert.equal((await mc('rm', '-f', 'a1', 'a2', 'b1', 'c1')).code, 0);
    assert.equal((await mc('network', 'rm', 'neta', 'netb', 'bridge')).code, 0);
    assert.doesNotMatch((await box.host(['ip', '-o', 'link'])).stdout, /minictr/);
    assert.equal(await rules(), before_);
  });
});
