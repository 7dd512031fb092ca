// `minictr serve`: the real docker CLI drives minictr through the Engine API, on a socket in the
// sandbox's state dir; what it makes is minictr's own (minictr ps sees it, and back).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sandbox, HOST_IP, MINICTR_BIN, eventually, isRoot, sh } from './sandbox.js';
import { Terminal } from './terminal.js';

const hasDocker = (await sh(['sh', '-c', 'command -v docker && /usr/bin/python3 -c "import docker"'])).code === 0;
const hasCompose = (await sh(['sh', '-c', 'command -v docker-compose'])).code === 0;

describe('minictr serve: the Engine API for the docker CLI', { skip: (!isRoot && 'needs root') || (!hasDocker && 'needs the docker CLI (docker.io) and python3-docker') }, () => {
  const box = new Sandbox();
  let socket = '';
  let server: ReturnType<Sandbox['background']> | undefined;
  const docker = (...args: string[]) => sh(['env', `DOCKER_HOST=unix://${socket}`, 'docker', ...args], { timeoutMs: 60_000 });
  const ok = async (...args: string[]) => {
    const r = await docker(...args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const mc = (...args: string[]) => box.minictr(args);

  /** A raw request on the socket, for what no client sends (bad bodies, unknown paths). */
  const raw = (method: string, path: string, body?: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ socketPath: socket, method, path, headers: { 'Content-Type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => { text += d.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });

  before(async () => {
    await box.setup();
    socket = join(box.root, 'docker.sock');
    server = box.background('host', [process.execPath, '--', MINICTR_BIN, '--root', box.root, 'serve', '--host', `unix://${socket}`]);
    await eventually(async () => (await docker('version')).code === 0, 20_000, 'the API to answer');
  });
  after(() => box.cleanup());

  it('docker version settles on API 1.41 with minictr as the server', async () => {
    const r = await ok('version', '--format', '{{.Server.APIVersion}} {{.Server.Platform.Name}}');
    assert.equal(r.stdout.trim(), '1.41 minictr');
  });

  it('docker run --rm: output on stdout and stderr, the exit status, nothing left', async () => {
    const r = await docker('run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3');
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal((await mc('ps', '-aq')).stdout, '', 'removed, as --rm asks');
  });

  it('docker run -d -p: published from the outside world, seen by minictr ps, logs, inspect, stop, rm', async () => {
    const id = (await ok('run', '-d', '--name', 'web', '-p', '5005:5000', 'busybox', 'sh', '-c',
      'mkdir /www && echo hello-from-api > /www/index.html && echo serving && httpd -f -p 5000 -h /www')).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.match((await mc('ps', '--format', '{{.Names}} {{.Ports}}')).stdout, /^web 0\.0\.0\.0:5005->5000\/tcp$/m);
    const page = await eventually(async () => {
      const r = await box.wan(['timeout', '3', 'busybox', 'wget', '-qO-', `http://${HOST_IP}:5005/`]);
      return r.code === 0 ? r.stdout : undefined;
    }, 15_000, 'the published port from outside');
    assert.equal(page, 'hello-from-api\n');
    assert.match((await ok('ps', '--format', '{{.Names}} {{.Status}} {{.Ports}}')).stdout, /^web Up .* 0\.0\.0\.0:5005->5000\/tcp$/m);
    assert.equal((await ok('logs', 'web')).stdout, 'serving\n');
    assert.equal((await ok('inspect', '-f', '{{.State.Running}} {{.Name}}', 'web')).stdout, 'true /web\n');
    await ok('stop', '-t', '1', 'web');
    assert.match((await mc('ps', '-a', '--format', '{{.Names}} {{.Status}}')).stdout, /^web Exited \(137\)/m);
    await ok('rm', 'web');
    assert.equal((await mc('ps', '-aq')).stdout, '');
  });

  it('docker exec: output on both streams, its exit status, -i, -w and -e; exec -it and run -it get a pts and the window size', async () => {
    await ok('run', '-d', '--name', 'ex', '--network', 'none', 'busybox', 'sleep', '300');
    const r = await docker('exec', 'ex', 'sh', '-c', 'echo out; echo err >&2; exit 4');
    assert.equal(r.code, 4);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const piped = await sh(['env', `DOCKER_HOST=unix://${socket}`, 'docker', 'exec', '-i', 'ex', 'sh', '-c', 'read l; echo "got $l"'], { input: 'line\n' });
    assert.equal(piped.stdout, 'got line\n');
    assert.equal((await ok('exec', '-w', '/tmp', '-e', 'FOO=bar', 'ex', 'sh', '-c', 'echo "$(pwd) $FOO"')).stdout, '/tmp bar\n');
    const term = new Terminal();
    try {
      await term.open(90, 20, { DOCKER_HOST: `unix://${socket}` });
      await term.type('docker exec -it ex sh');
      await term.waitFor(/^\/ # $/m, 'the exec shell prompt');
      await term.type('echo "api tty=$(tty) size=$(stty size)"');
      await term.waitFor(/api tty=\/dev\/pts\/0 size=20 90/, 'a pts of the container sized as the terminal');
      await term.type('exit 6');
      await term.waitFor(/exit 6\n\$ $/m, 'the host prompt again');
      await term.type('echo "exec rc=$?"');
      await term.waitFor(/^exec rc=6$/m, "the exec's status");
      await term.type('clear; docker run -it --rm --network none busybox sh');
      await term.waitFor(/^\/ # $/m, 'the run shell prompt');
      await term.type('echo "run tty=$(tty) size=$(stty size)"');
      await term.waitFor(/run tty=\/dev\/pts\/0 size=20 90/, "docker run -it: the container's own pts, sized as the terminal");
      await term.type('exit 7');
      await term.waitFor(/exit 7\n\$ $/m, 'the host prompt after the run');
      await term.type('echo "run rc=$?"');
      await term.waitFor(/^run rc=7$/m, "the run's status");
    } finally {
      await term.close();
    }
    await ok('rm', '-f', 'ex');
  });

  it('the Docker SDK for Python (python3-docker): containers.run, logs, remove(force=True), networks.create with labels, found by label', async () => {
    const script = [
      'import docker, sys',
      'c = docker.DockerClient(base_url=sys.argv[1])',
      "print(c.containers.run('busybox', ['sh', '-c', 'echo from-sdk'], network_mode='none', remove=True).decode(), end='')",
      "ct = c.containers.run('busybox', ['sh', '-c', 'echo bg; sleep 300'], network_mode='none', detach=True, name='sdk1', labels={'team': 'a'})",
      'ct.reload()',
      "print(ct.status, ct.labels['team'])",
      'import time',
      'for _ in range(100):',
      "    if ct.logs(): break",
      '    time.sleep(0.05)',
      "print(ct.logs().decode(), end='')",
      "net = c.networks.create('sdknet', labels={'com.example.project': 'demo'})",
      "print(sorted(n.name for n in c.networks.list()))",
      "print([n.name for n in c.networks.list(filters={'label': 'com.example.project=demo'})], net.attrs['Labels'])",
      'ct.remove(force=True)',
      'net.remove()',
      'print(len(c.containers.list(all=True)))',
    ].join('\n');
    const r = await sh(['/usr/bin/python3', '-c', script, `unix://${socket}`], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "from-sdk\nrunning a\nbg\n['bridge', 'sdknet']\n['sdknet'] {'com.example.project': 'demo'}\n0\n");
    assert.doesNotMatch((await mc('network', 'ls')).stdout, /sdknet/);
  });

  it('docker events streams create, attach, start, die and destroy (of the CLI\'s containers too); docker system prune removes the stopped', async () => {
    const listener = spawn('env', [`DOCKER_HOST=unix://${socket}`, 'docker', 'events', '--filter', 'type=container', '--format', '{{.Action}} {{.Actor.Attributes.name}}'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    listener.stdout?.on('data', (d: Buffer) => { seen += d.toString(); });
    try {
      // The listener is in once an event reaches it.
      await eventually(async () => {
        await docker('run', '--rm', '--network', 'none', '--name', 'ping-events', 'busybox', 'true');
        return seen.includes('destroy ping-events');
      }, 20_000, 'the events listener');
      await ok('run', '--network', 'none', '--name', 'evt', 'busybox', 'true');
      assert.equal((await mc('run', '-d', '--name', 'evcli', '--network', 'none', 'busybox', 'sleep', '300')).code, 0);
      await eventually(async () => seen.includes('start evcli'), 10_000, "the CLI's container to be seen starting");
      await mc('rm', '-f', 'evcli');
      await eventually(async () => seen.includes('destroy evcli'), 10_000, "the CLI's container to be seen going");
      assert.match(seen, /^create evt\nattach evt\nstart evt\ndie evt\n/m, "Docker's order: a foreground run attaches before it starts");
      assert.match((await ok('system', 'prune', '-f')).stdout, /Deleted Containers:\n[0-9a-f]{64}/);
      await eventually(async () => seen.includes('destroy evt'), 10_000, 'the prune to be an event');
      assert.equal((await mc('ps', '-aq')).stdout, '');
    } finally {
      listener.kill('SIGKILL');
      await mc('rm', '-f', 'evt', 'evcli');
    }
  });

  it('docker-compose 1.29: up -d of a web server and a client that reaches it by service name; ps, logs, exec; down leaves nothing', { skip: !hasCompose && 'needs docker-compose' }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'minictr-compose-'));
    const compose = (...args: string[]) => sh(['env', `DOCKER_HOST=unix://${socket}`, 'docker-compose', '--project-directory', dir, '-p', 'demo', '-f', join(dir, 'docker-compose.yml'), ...args], { timeoutMs: 120_000 });
    try {
      await writeFile(join(dir, 'docker-compose.yml'), [
        'version: "3"',
        'services:',
        '  web:',
        '    image: busybox',
        '    command: sh -c "mkdir -p /www && echo hello-compose > /www/index.html && httpd -f -p 80 -h /www"',
        '    ports: ["5007:80"]',
        '  client:',
        '    image: busybox',
        '    command: sh -c "until wget -qO- http://web/; do sleep 0.2; done; sleep 300"',
        '',
      ].join('\n'));
      const up = await compose('up', '-d');
      assert.equal(up.code, 0, up.stderr);
      assert.match((await compose('ps')).stdout, /demo_web_1 .* Up .*0\.0\.0\.0:5007->80\/tcp/);
      await eventually(async () => (await compose('logs', 'client')).stdout.includes('hello-compose'), 20_000, 'the client to reach web by its service name');
      const page = await eventually(async () => {
        const r = await box.wan(['timeout', '3', 'busybox', 'wget', '-qO-', `http://${HOST_IP}:5007/`]);
        return r.code === 0 ? r.stdout : undefined;
      }, 15_000, 'the published port from outside');
      assert.equal(page, 'hello-compose\n');
      assert.equal((await compose('exec', '-T', 'web', 'cat', '/www/index.html')).stdout, 'hello-compose\n');
      const down = await compose('down');
      assert.equal(down.code, 0, down.stderr);
      assert.equal((await mc('ps', '-aq')).stdout, '');
      assert.doesNotMatch((await mc('network', 'ls')).stdout, /demo_default/);
      assert.doesNotMatch((await box.host(['iptables-save'])).stdout, /5007/, 'no rule of the published port is left');
    } finally {
      await compose('down');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('sixty concurrent docker run -d through the API: distinct addresses, all answer, all go with concurrent docker rm -f', async () => {
    const n = 60;
    const ids = await Promise.all(Array.from({ length: n }, async (_, i) => {
      const r = await docker('run', '-d', '--name', `many${i}`, 'busybox', 'sh', '-c', `mkdir /w && echo c${i} > /w/index.html && httpd -f -p 80 -h /w`);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    }));
    const ips = await Promise.all(ids.map(async (id) => (await ok('inspect', '-f', '{{.NetworkSettings.IPAddress}}', id)).stdout.trim()));
    assert.equal(new Set(ips).size, n, 'every container has its own address');
    for (const [i, ip] of ips.entries()) {
      const page = await eventually(async () => {
        const r = await box.host(['timeout', '3', 'busybox', 'wget', '-qO-', `http://${ip}/`]);
        return r.code === 0 ? r.stdout : undefined;
      }, 15_000, `container ${i} to answer`);
      assert.equal(page, `c${i}\n`);
    }
    const removed = await Promise.all(ids.map((id) => docker('rm', '-f', id)));
    for (const r of removed) assert.equal(r.code, 0, r.stderr);
    assert.equal((await mc('ps', '-aq')).stdout, '');
    assert.doesNotMatch((await box.host(['ip', '-o', 'link'])).stdout, /veth/, 'no veth is left');
  });

  it('docker network connect/disconnect of a running container: eth1, traffic and names on the other network, then isolated again', async () => {
    await ok('network', 'create', 'apifront');
    await ok('network', 'create', 'apiback');
    try {
      await ok('run', '-d', '--name', 'apiapp', '--network', 'apifront', 'busybox', 'sleep', '600');
      await ok('run', '-d', '--name', 'apidb', '--hostname', 'dbhost', '--network', 'apiback', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc');
      const dbIp = (await ok('inspect', '-f', '{{.NetworkSettings.Networks.apiback.IPAddress}}', 'apidb')).stdout.trim();
      const fetch = (target: string) => docker('exec', 'apiapp', 'timeout', '3', 'wget', '-qO-', `http://${target}/hostname`);
      assert.notEqual((await fetch(dbIp)).code, 0, 'before: the networks are isolated');
      await ok('network', 'connect', '--alias', 'apiweb', 'apiback', 'apiapp');
      assert.match((await ok('exec', 'apiapp', 'ip', '-4', 'addr', 'show', 'eth1')).stdout, /inet 172\./);
      const byName = await fetch('apidb');
      assert.equal(byName.code, 0, byName.stderr);
      assert.equal(byName.stdout.trim(), 'dbhost');
      assert.equal((await ok('exec', 'apidb', 'ping', '-c1', '-W2', 'apiweb')).code, 0, 'apidb finds apiapp by its alias');
      assert.match((await ok('inspect', '-f', '{{json .NetworkSettings.Networks}}', 'apiapp')).stdout, /"apiback"/);
      await ok('network', 'disconnect', 'apiback', 'apiapp');
      assert.notEqual((await docker('exec', 'apiapp', 'ip', 'link', 'show', 'eth1')).code, 0, 'eth1 is gone');
      assert.notEqual((await fetch(dbIp)).code, 0, 'isolated again');
    } finally {
      // Also after a failure: the tests after this one count every container.
      await docker('rm', '-f', 'apiapp', 'apidb');
      await docker('network', 'rm', 'apifront', 'apiback');
    }
  });

  it('docker tag, images, save and load', async () => {
    await ok('tag', 'busybox', 'mybox:1');
    assert.match((await ok('images', '--format', '{{.Repository}}:{{.Tag}}')).stdout, /^mybox:1$/m);
    assert.match((await mc('images')).stdout, /^mybox\s+1\s/m, 'the minictr CLI sees the tag');
    const archive = join(box.root, 'mybox.tar');
    await ok('save', '-o', archive, 'mybox:1');
    const listed = await sh(['tar', '-tf', archive]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^manifest\.json$/m);
    await ok('rmi', 'mybox:1');
    assert.doesNotMatch((await ok('images', '--format', '{{.Repository}}:{{.Tag}}')).stdout, /mybox/);
    const loaded = await ok('load', '-i', archive);
    assert.match(loaded.stdout, /^Loaded image: mybox:1$/m);
    assert.equal((await ok('run', '--rm', '--network', 'none', 'mybox:1', 'echo', 'from the loaded image')).stdout, 'from the loaded image\n');
    await ok('rmi', 'mybox:1');
  });

  it('docker pull from a registry (docker-registry in the sandbox, seeded by skopeo), then run the pulled image', async () => {
    const dir = join(box.root, 'registry');
    const config = join(box.root, 'registry.yml');
    await writeFile(config, ['version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${dir}`, 'http:', '  addr: 127.0.0.1:5078', ''].join('\n'));
    const registry = box.background('host', ['docker-registry', 'serve', config]);
    try {
      await eventually(async () => (await box.host(['busybox', 'wget', '-qO-', 'http://127.0.0.1:5078/v2/'])).code === 0, 15_000, 'docker-registry to answer');
      const archive = join(box.root, 'busybox-push.tar');
      await ok('save', '-o', archive, 'busybox');
      const pushed = await box.host(['skopeo', '--insecure-policy', 'copy', '--dest-tls-verify=false', `docker-archive:${archive}`, 'docker://127.0.0.1:5078/team/box:1']);
      assert.equal(pushed.code, 0, pushed.stderr);
      const pulled = await ok('pull', '127.0.0.1:5078/team/box:1');
      assert.match(pulled.stdout, /^1: Pulling from team\/box$/m);
      assert.match(pulled.stdout, /^Status: Downloaded newer image for 127\.0\.0\.1:5078\/team\/box:1$/m);
      assert.match((await ok('images', '--format', '{{.Repository}}:{{.Tag}}', '127.0.0.1:5078/team/box')).stdout, /^127\.0\.0\.1:5078\/team\/box:1$/m);
      assert.equal((await ok('run', '--rm', '--network', 'none', '127.0.0.1:5078/team/box:1', 'echo', 'pulled')).stdout, 'pulled\n');
      await ok('rmi', '127.0.0.1:5078/team/box:1');
    } finally {
      registry.kill();
    }
  });

  it('a client that hangs up mid attach, logs -f or pull leaves no stuck handler, no open descriptor and no half-pulled image', async () => {
    const pid = server?.pid ?? 0;
    const descriptors = async () => (await readdir(`/proc/${pid}/fd`)).length;
    const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
    /** Start a docker client, wait until it shows `ready`, then kill it with -9: a client gone mid-stream. */
    const hangUp = async (args: string[], ready: (out: string) => boolean | Promise<boolean>) => {
      const client = spawn('docker', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      client.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      client.stderr.on('data', (d: Buffer) => { out += d.toString(); });
      try {
        await eventually(async () => ready(out), 20_000, `docker ${args.join(' ')} to get going`);
      } finally {
        client.kill('SIGKILL');
      }
    };
    await ok('run', '-d', '--name', 'talker', '--network', 'none', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.2; done');
    const baseline = await descriptors();
    await hangUp(['attach', 'talker'], (out) => out.includes('tick'));
    await hangUp(['logs', '-f', 'talker'], (out) => out.includes('tick'));

    const events = join(box.root, 'registry-events');
    const port = 5077;
    const registry = box.background('host', [process.execPath, join(dirname(fileURLToPath(import.meta.url)), 'stalling-registry.js'), String(port), events]);
    const seen = async (event: string) => (await readFile(events, 'utf8').catch(() => '')).split('\n').includes(event);
    try {
      await eventually(() => seen('listening'), 10_000, 'the stalling registry to listen');
      await hangUp(['pull', `127.0.0.1:${port}/stall:1`], () => seen('blob-requested'));
      await eventually(() => seen('blob-closed'), 10_000, 'the server to abandon the layer download');
    } finally {
      registry.kill();
    }
    await eventually(async () => (await descriptors()) <= baseline, 10_000, `the server's descriptors to fall back to ${baseline}`);
    assert.doesNotMatch((await ok('images', '--format', '{{.Repository}}')).stdout, /stall/, 'no half-pulled image');
    assert.deepEqual(await readdir(join(box.root, 'images', 'tmp')).catch(() => []), [], 'no scratch dir of the pull is left');
    assert.match((await mc('ps', '--format', '{{.Names}} {{.Status}}')).stdout, /^talker Up /m, 'the container outlived its clients');
    await ok('rm', '-f', 'talker');
  });

  it('docker run --ip/--ip6 (IPAMConfig of the endpoint): both addresses in the container and in inspect; a bad one is a 400 at create, a taken one a 403 at start', async () => {
    await ok('network', 'create', '--ipv6', '--subnet', '172.30.0.0/24', '--subnet', 'fd30::/64', 'apiaddr');
    const create = (name: string, network: string, ipam: Record<string, string>) =>
      raw('POST', `/v1.41/containers/create?name=${name}`, JSON.stringify({ Image: 'busybox', Cmd: ['sleep', '600'], HostConfig: { NetworkMode: network }, NetworkingConfig: { EndpointsConfig: { [network]: { IPAMConfig: ipam } } } }));
    try {
      await ok('run', '-d', '--name', 'pinned', '--network', 'apiaddr', '--ip', '172.30.0.10', '--ip6', 'fd30::10', 'busybox', 'sleep', '600');
      const inside = (await ok('exec', 'pinned', 'ip', 'addr', 'show', 'eth0')).stdout;
      assert.match(inside, /inet 172\.30\.0\.10\/24 /);
      assert.match(inside, /inet6 fd30::10\/64 /);
      const seen = await ok('inspect', '-f', '{{.NetworkSettings.Networks.apiaddr.IPAddress}} {{.NetworkSettings.Networks.apiaddr.GlobalIPv6Address}}', 'pinned');
      assert.equal(seen.stdout.trim(), '172.30.0.10 fd30::10');

      for (const [ipam, network, message] of [
        [{ IPv4Address: 'not-an-ip' }, 'apiaddr', /invalid IPv4 address \\"not-an-ip\\"/],
        [{ IPv4Address: '10.9.9.9' }, 'apiaddr', /does not belong to the subnet 172\.30\.0\.0\/24/],
        [{ IPv6Address: 'fd31::5' }, 'apiaddr', /fd31::5/],
        [{ IPv4Address: '172.18.0.50' }, 'bridge', /user specified IP address is supported on user defined networks only/],
      ] as const) {
        const r = await create('refused', network, ipam);
        assert.equal(r.status, 400, `${JSON.stringify(ipam)}: ${r.body}`);
        assert.match(r.body, message);
      }
      for (const [name, ipam, address] of [['taken4', { IPv4Address: '172.30.0.10' }, '172.30.0.10'], ['taken6', { IPv6Address: 'fd30::10' }, 'fd30::10']] as const) {
        const made = await create(name, 'apiaddr', ipam);
        assert.equal(made.status, 201, `free or not is known at start, as with Docker: ${made.body}`);
        const started = await raw('POST', `/v1.41/containers/${name}/start`);
        assert.equal(started.status, 403, started.body);
        assert.match(started.body, new RegExp(`address ${address} is already in use on network \\\\"apiaddr\\\\"`));
        await ok('rm', name);
      }
      assert.deepEqual((await ok('ps', '-a', '--format', '{{.Names}}')).stdout.trim().split('\n'), ['pinned'], 'nothing left of the refused ones');
      assert.match((await ok('exec', 'pinned', 'ip', 'addr', 'show', 'eth0')).stdout, /inet6 fd30::10\/64 /, 'the holder keeps its address');
    } finally {
      await docker('rm', '-f', 'pinned', 'refused', 'taken4', 'taken6');
      await docker('network', 'rm', 'apiaddr');
    }
  });

  it('a container made with the minictr CLI is one docker sees and removes', async () => {
    assert.equal((await mc('run', '-d', '--name', 'fromcli', '--network', 'none', 'busybox', 'sleep', '300')).code, 0);
    assert.match((await ok('ps', '--format', '{{.Names}}')).stdout, /^fromcli$/m);
    await ok('rm', '-f', 'fromcli');
    assert.equal((await mc('ps', '-aq')).stdout, '');
  });

  it("errors carry Docker's status codes and one clear message; the server survives them", async () => {
    const missing = await docker('rm', 'nope');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such container: nope/i);
    const badJson = await raw('POST', '/v1.41/containers/create', '{"Image": ');
    assert.equal(badJson.status, 400);
    assert.match(badJson.body, /"message":"invalid JSON/);
    const wrongType = await raw('POST', '/containers/create', '{"Image":"busybox","Cmd":42}');
    assert.equal(wrongType.status, 400);
    assert.match(wrongType.body, /Cmd/);
    const unknownField = await raw('POST', '/containers/create', '{"Image":"busybox","HostConfig":{"PortBinding":{}}}');
    assert.equal(unknownField.status, 400);
    assert.match(unknownField.body, /unknown field \\"PortBinding\\" in HostConfig/);
    const big = await raw('POST', '/containers/create', JSON.stringify({ Image: 'busybox', Env: ['X='.padEnd(2 << 20, 'x')] }));
    assert.equal(big.status, 413);
    const unknown = await raw('GET', '/v1.41/no/such/thing');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body, /\/no\/such\/thing/);
    await ok('run', '-d', '--name', 'dup', '--network', 'none', 'busybox', 'sleep', '300');
    const conflict = await raw('POST', '/containers/create?name=dup', '{"Image":"busybox"}');
    assert.equal(conflict.status, 409);
    await ok('version');
    await ok('rm', '-f', 'dup');
  });

  it('SIGTERM stops the server cleanly; containers keep running', async () => {
    await ok('run', '-d', '--name', 'stays', '--network', 'none', 'busybox', 'sleep', '300');
    const exited = new Promise<number | null>((resolve) => server?.once('exit', resolve));
    server?.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match((await mc('ps', '--format', '{{.Names}} {{.Status}}')).stdout, /^stays Up /m);
    assert.equal((await sh(['test', '-e', socket])).code, 1, 'the socket is gone');
    await mc('rm', '-f', 'stays');
  });
});
