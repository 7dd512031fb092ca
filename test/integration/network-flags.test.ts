// Network flags of `run` beyond the default: --ip on a user-defined network, and
// --network container:NAME (another container's network namespace, its files and its names);
// network create --internal, and network connect/disconnect of running containers, once per firewall driver.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { firewallProbe } from './firewall-probe.js';
import { Sandbox, isRoot, WAN_IP, type FirewallName } from './sandbox.js';

describe('run --ip and --network container:NAME', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  const mc = (...args: string[]) => box.minictr(args);

  before(async () => {
    await box.setup();
    assert.equal((await mc('network', 'create', '--subnet', '10.88.0.0/24', 'fixed')).code, 0);
  });
  after(() => box.cleanup());

  it('--ip gives the container that address; a taken one fails the start and leaves nothing', async () => {
    const r = await mc('run', '-d', '--name', 'pinned', '--network', 'fixed', '--ip', '10.88.0.77', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc');
    assert.equal(r.code, 0, r.stderr);
    assert.match((await mc('exec', 'pinned', 'ip', '-4', 'addr', 'show', 'eth0')).stdout, /inet 10\.88\.0\.77\/24/);
    assert.equal((await mc('inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'pinned')).stdout.trim(), '10.88.0.77');
    const peer = await mc('run', '--rm', '--network', 'fixed', 'busybox', 'wget', '-qO-', 'http://10.88.0.77/hostname');
    assert.equal(peer.code, 0, peer.stderr);
    const taken = await mc('run', '--rm', '--network', 'fixed', '--ip', '10.88.0.77', 'busybox', 'true');
    assert.equal(taken.code, 125);
    assert.match(taken.stderr, /^minictr: address 10\.88\.0\.77 is already in use on network "fixed"/);
    assert.deepEqual((await mc('ps', '-aq')).stdout.trim().split('\n'), [(await mc('inspect', '-f', '{{.Id}}', 'pinned')).stdout.trim().slice(0, 12)]);
  });

  it("--network container:NAME shares NAME's namespace, hostname and resolver", async () => {
    const r = await mc('run', '--rm', '--network', 'container:pinned', 'busybox', 'sh', '-c',
      'hostname; ip -4 addr show eth0; wget -qO- http://127.0.0.1/hostname; cat /etc/resolv.conf; nslookup pinned');
    assert.equal(r.code, 0, r.stderr);
    const hostname = (await mc('inspect', '-f', '{{.Config.Hostname}}', 'pinned')).stdout.trim();
    const [first] = r.stdout.split('\n');
    assert.equal(first, hostname, "the other container's hostname");
    assert.match(r.stdout, /inet 10\.88\.0\.77\/24/, 'the same eth0');
    assert.match(r.stdout, new RegExp(`^${hostname}$`, 'm'), "its server on 127.0.0.1 answers: the same loopback");
    assert.match(r.stdout, /^nameserver 127\.0\.0\.11$/m);
    assert.match(r.stdout, /Name:\s+pinned\nAddress:\s+10\.88\.0\.77/);
    const id = (await mc('inspect', '-f', '{{.Id}}', 'pinned')).stdout.trim();
    const created = await mc('create', '--network', 'container:pinned', 'busybox', 'true');
    assert.equal((await mc('inspect', '-f', '{{.HostConfig.NetworkMode}}', created.stdout.trim())).stdout.trim(), `container:${id}`);
    assert.equal((await mc('rm', created.stdout.trim())).code, 0);
  });

  it('refuses to join a container that does not run', async () => {
    assert.equal((await mc('stop', '-t', '0', 'pinned')).code, 0);
    const r = await mc('run', '--rm', '--network', 'container:pinned', 'busybox', 'true');
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^minictr: cannot join network of a non running container: pinned$/m);
    assert.equal((await mc('rm', 'pinned')).code, 0);
    assert.equal((await mc('ps', '-aq')).stdout.trim(), '');
  });

});

for (const firewall of ['iptables', 'nftables'] as FirewallName[]) describe(`network create --internal (${firewall} firewall)`, { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox({ firewall });
  const mc = (...args: string[]) => box.minictr(args);

  before(async () => {
    await box.setup();
    assert.equal((await mc('network', 'create', '--subnet', '10.88.0.0/24', 'fixed')).code, 0);
  });
  after(() => box.cleanup());

  it('network create --internal: containers reach each other, never the outside; --label and the bridge name option', async () => {
    const created = await mc('network', 'create', '--internal', '--label', 'team=blue', '-o', 'com.docker.network.bridge.name=br-inside', 'inside');
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await mc('network', 'inspect', '-f', '{{.Internal}} {{.Labels.team}} {{index .Options "com.docker.network.bridge.name"}}', 'inside')).stdout.trim(), 'true blue br-inside');
    assert.equal((await box.host(['ip', 'link', 'show', 'br-inside'])).code, 0, 'the bridge has the name given');
    assert.equal((await mc('run', '-d', '--name', 'in1', '--network', 'inside', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc')).code, 0);
    assert.equal((await mc('run', '-d', '--name', 'in2', '--network', 'inside', 'busybox', 'sleep', '300')).code, 0);
    assert.doesNotMatch((await mc('exec', 'in2', 'ip', 'route')).stdout, /default/, 'no route out');
    const peer = await mc('exec', 'in2', 'timeout', '5', 'wget', '-qO-', 'http://in1/hostname');
    assert.equal(peer.code, 0, `in2 reaches in1 by name: ${peer.stderr}`);
    assert.notEqual((await mc('exec', 'in2', 'ping', '-c1', '-W1', WAN_IP)).code, 0, 'the outside world is out of reach');
    // Even with a route the container cannot add, the host forwards nothing out of the subnet.
    assert.equal((await mc('run', '-d', '--name', 'out1', '--network', 'fixed', 'busybox', 'sleep', '300')).code, 0);
    const in1 = (await mc('inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'in1')).stdout.trim();
    assert.notEqual((await mc('exec', 'out1', 'timeout', '3', 'wget', '-qO-', `http://${in1}/hostname`)).code, 0, 'another network cannot reach in');
    assert.equal((await mc('rm', '-f', 'in1', 'in2', 'out1')).code, 0);
    assert.equal((await mc('network', 'rm', 'inside')).code, 0);
    assert.notEqual((await box.host(['ip', 'link', 'show', 'br-inside'])).code, 0, 'the bridge goes with the network');
  });
});

for (const firewall of ['iptables', 'nftables'] as FirewallName[]) describe(`network connect and disconnect (${firewall} firewall)`, { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox({ firewall });
  const fw = firewallProbe(box, firewall);
  const mc = (...args: string[]) => box.minictr(args);
  const wget = (from: string, to: string) => mc('exec', from, 'timeout', '3', 'wget', '-qO-', `http://${to}/hostname`);

  before(async () => {
    await box.setup();
    for (const net of ['front', 'back']) assert.equal((await mc('network', 'create', net)).code, 0);
    assert.equal((await mc('run', '-d', '--name', 'app', '--network', 'front', 'busybox', 'sleep', '600')).code, 0);
    assert.equal((await mc('run', '-d', '--name', 'db', '--hostname', 'dbhost', '--network', 'back', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc')).code, 0);
  });
  after(() => box.cleanup());

  it('connect gives a running container eth1 on the other network: traffic and names follow; disconnect takes them away', async () => {
    const dbIp = (await mc('inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'db')).stdout.trim();
    assert.notEqual((await wget('app', dbIp)).code, 0, 'before: the networks are isolated');
    const c = await mc('network', 'connect', '--alias', 'api', '--ip', '172.20.0.50', 'back', 'app');
    assert.equal(c.code, 0, c.stderr);
    assert.match((await mc('exec', 'app', 'ip', '-4', 'addr', 'show', 'eth1')).stdout, /inet 172\.20\.0\.50\/16/);
    assert.match((await mc('exec', 'app', 'ip', 'route')).stdout, /^default via 172\.19\.0\.1 dev eth0/m, 'the default route stays on the first network');
    const byName = await wget('app', 'db');
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(byName.stdout.trim(), 'dbhost');
    assert.equal((await mc('exec', 'db', 'ping', '-c1', '-W2', 'api')).code, 0, 'db finds app by its alias on back');
    assert.equal((await mc('inspect', '-f', '{{(index .NetworkSettings.Networks "back").IPAddress}}', 'app')).stdout.trim(), '172.20.0.50');
    assert.match((await mc('network', 'inspect', '-f', '{{json .Containers}}', 'back')).stdout, /"Name":"app"/);
    const busy = await mc('network', 'rm', 'back');
    assert.notEqual(busy.code, 0, 'a network with a connected container is in use');
    const d = await mc('network', 'disconnect', 'back', 'app');
    assert.equal(d.code, 0, d.stderr);
    assert.notEqual((await mc('exec', 'app', 'ip', 'link', 'show', 'eth1')).code, 0, 'eth1 is gone');
    assert.notEqual((await wget('app', dbIp)).code, 0, 'isolated again');
    assert.notEqual((await mc('exec', 'db', 'ping', '-c1', '-W1', 'api')).code, 0, 'the alias is forgotten');
  });

  it("a connected container's rules go with it; connect/disconnect refuse what Docker refuses", async () => {
    assert.equal((await mc('network', 'connect', 'back', 'app')).code, 0);
    const id12 = (await mc('inspect', '-f', '{{.Id}}', 'app')).stdout.trim().slice(0, 12);
    const onBack = (await mc('inspect', '-f', '{{(index .NetworkSettings.Networks "back").IPAddress}}', 'app')).stdout.trim();
    assert.match(await fw.save(), new RegExp(onBack.replace(/\./g, '\\.')), "app's rules on back are in place");
    const twice = await mc('network', 'connect', 'back', 'app');
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /endpoint with name app already exists in network back/);
    const clash = await mc('network', 'connect', '--alias', 'app', 'front', 'db');
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /^minictr: alias "app" is already a name of container app on network front/);
    assert.doesNotMatch((await mc('exec', 'db', 'ip', 'link')).stdout, /eth1/, 'a refused connect makes nothing');
    const notOn = await mc('network', 'disconnect', 'front', 'db');
    assert.equal(notOn.code, 1);
    assert.match(notOn.stderr, /^minictr: container db is not connected to network front/);
    const unknown = await mc('network', 'connect', 'nonet', 'db');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /network nonet not found/);
    assert.equal((await mc('rm', '-f', 'app')).code, 0);
    const left = await fw.save();
    assert.doesNotMatch(left, new RegExp(id12), 'no rule of app is left');
    assert.doesNotMatch(left, new RegExp(`${onBack.replace(/\./g, '\\.')}\\b`), 'no rule or element of its address on back is left');
    assert.doesNotMatch((await box.host(['ip', '-o', 'link'])).stdout, new RegExp(`veth${id12.slice(0, 7)}`));
  });
});
