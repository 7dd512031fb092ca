// Network flags of `run` beyond the default: --ip on a user-defined network, and
// --network container:NAME (another container's network namespace, its files and its names).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, isRoot, WAN_IP } from './sandbox.js';

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
