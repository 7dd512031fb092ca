// Rootless networks (issue #13): pasta and slirp4netns started by a normal user's minictr,
// only ever inside the sandbox's host network namespace (they open their outside connections
// from where they start). The outside world's server and clients live in the sandbox's wan.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { HOST_IP, MINICTR_BIN, Sandbox, WAN_IP, eventually, isRoot } from './sandbox.js';
import { RootlessUser, TunWorld } from './rootless-harness.js';

/** A container command: busybox httpd on port 80 with a CGI that answers the client's address as the container sees it. */
const PEER_SERVER = [
  'sh', '-c',
  'mkdir -p /www/cgi-bin && printf "#!/bin/sh\\necho\\necho \\$REMOTE_ADDR\\n" > /www/cgi-bin/peer && chmod +x /www/cgi-bin/peer && exec httpd -f -p 80 -h /www',
];

/** busybox httpd answers in IPv6's mapped form on its dual-stack socket. */
function ipv4(text: string): string {
  return text.trim().replace(/^\[?(::ffff:)?/, '').replace(/\]$/, '');
}

/** Per mode: what the container has, and which source address each client's connection shows. */
const EXPECT = {
  // pasta: a copy of the host's address; outside connections come from the host's address;
  // published ports keep the outside client's address, loopback stays loopback.
  pasta: { addr: `${HOST_IP}/24`, route: `default via ${WAN_IP}`, outsideSees: HOST_IP, fromWan: WAN_IP, fromLoopback: '127.0.0.1', fromHostAddr: WAN_IP, port: '18080' },
  // slirp4netns: the article's 10.0.2.100 behind the user-mode stack; the host's loopback
  // arrives from the gateway 10.0.2.2.
  slirp4netns: { addr: '10.0.2.100/24', route: 'default via 10.0.2.2', outsideSees: HOST_IP, fromWan: WAN_IP, fromLoopback: '10.0.2.2', fromHostAddr: HOST_IP, port: '18081' },
} as const;

/** minictr as `user` with `args`, paused at the checkpoint `step` (MINICTR_PAUSE_AT) and killed there with -9 (or ended before it). */
async function killedAt(user: RootlessUser, step: string, args: string[]): Promise<void> {
  const marker = join(user.root, `paused-at-${step}`);
  const [file = 'nsenter', ...rest] = user.argv(['env', `MINICTR_PAUSE_AT=${step}`, process.execPath, '--', MINICTR_BIN, ...args]);
  const child = spawn(file, rest, { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => { exited = true; });
  await eventually(async () => exited || (await access(marker).then(() => true, () => false)), 20_000, `step ${step}`);
  if (!exited && child.pid) process.kill(child.pid, 'SIGKILL');
  await eventually(async () => exited, 5_000, 'minictr to die');
}

/**
 * A sandbox, its tun world and a user, made in that order (and removed in reverse by `teardown`);
 * with `outside`, the sandbox host's default route leads to the outside world (pasta copies it and
 * takes its interface as the template), where a server answers each client with its address.
 */
function rootlessWorld(suffix: string, options: { outside: boolean }): { box: Sandbox; world: TunWorld; user: RootlessUser; setup: () => Promise<void>; teardown: () => Promise<void> } {
  const box = new Sandbox();
  const world = new TunWorld(box.prefix);
  const user = new RootlessUser(box, `${box.prefix}${suffix}`, { mountNs: world.ns });
  const setup = async (): Promise<void> => {
    await box.setup();
    await world.setup();
    await user.create();
    const route = await box.host(['ip', 'route', 'add', 'default', 'via', WAN_IP]);
    assert.equal(route.code, 0, route.stderr);
    if (!options.outside) return;
    box.background('wan', [process.execPath, '-e', "require('node:http').createServer((q, s) => s.end(q.socket.remoteAddress + '\\n')).listen(7001)"]);
    await eventually(async () => (await box.wan(['sh', '-c', 'grep -q ":1B59 " /proc/net/tcp6 /proc/net/tcp && echo up'])).stdout.includes('up'), 10_000, 'the outside server');
  };
  const teardown = async (): Promise<void> => {
    await user.remove();
    await world.cleanup();
    await box.cleanup();
  };
  return { box, world, user, setup, teardown };
}

describe('rootless networks: pasta and slirp4netns', { skip: !isRoot && 'needs root (to make the test users)' }, () => {
  const { box, user: alice, setup, teardown } = rootlessWorld('a', { outside: true });

  const noProcessesLeft = async (): Promise<void> => {
    assert.deepEqual(await eventually(async () => ((await alice.processes()).length === 0 ? [] : undefined), 10_000, 'no process of the user'), []);
  };

  before(setup);
  after(teardown);

  for (const mode of ['pasta', 'slirp4netns'] as const) {
    const want = EXPECT[mode];
    it(`${mode}: the container reaches an outside server; its published port answers the outside world and the host, each source address as expected`, async () => {
      const out = await alice.minictr(['run', '--rm', '--network', mode, 'busybox', 'sh', '-c', `ip -4 -o addr show scope global; ip route; wget -qO- http://${WAN_IP}:7001/; true`]);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, new RegExp(`inet ${want.addr.replace(/\./g, '\\.')} `));
      assert.match(out.stdout, new RegExp(`^${want.route} `, 'm'));
      assert.equal(ipv4(out.stdout.trim().split('\n').pop() ?? ''), want.outsideSees, 'the address the outside server saw');

      const run = await alice.minictr(['run', '-d', '--name', `web-${mode}`, '--network', mode, '-p', `${want.port}:80`, 'busybox', ...PEER_SERVER]);
      assert.equal(run.code, 0, run.stderr);
      const fromWan = await eventually(async () => {
        const r = await box.wan(['timeout', '5', 'busybox', 'wget', '-qO-', `http://${HOST_IP}:${want.port}/cgi-bin/peer`]);
        return r.code === 0 ? r.stdout : undefined;
      }, 10_000, 'the published port from the outside');
      assert.equal(ipv4(fromWan), want.fromWan, 'an outside client');
      const loop = await alice.shell(`timeout 5 busybox wget -qO- http://127.0.0.1:${want.port}/cgi-bin/peer`);
      assert.equal(ipv4(loop.stdout), want.fromLoopback, 'the host, through loopback');
      const hostAddr = await alice.shell(`timeout 5 busybox wget -qO- http://${HOST_IP}:${want.port}/cgi-bin/peer`);
      assert.equal(ipv4(hostAddr.stdout), want.fromHostAddr, 'the host, through its own address');
      const ps = await alice.minictr(['ps', '--format', '{{.Names}} {{.Ports}}']);
      assert.equal(ps.stdout, `web-${mode} 0.0.0.0:${want.port}->80/tcp\n`);
      assert.equal((await alice.minictr(['port', `web-${mode}`])).stdout, `80/tcp -> 0.0.0.0:${want.port}\n`);

      // kill -9 of the container: its monitor tears the helper down; rm then leaves nothing.
      const pid = Number((await alice.minictr(['inspect', '--format', '{{.State.Pid}}', `web-${mode}`])).stdout.trim());
      process.kill(pid, 'SIGKILL');
      await eventually(async () => (await alice.minictr(['inspect', '--format', '{{.State.Status}}', `web-${mode}`])).stdout.trim() === 'exited', 10_000, 'exited');
      assert.equal((await alice.minictr(['rm', `web-${mode}`])).code, 0);
      assert.deepEqual(await readdir(`${alice.root}/containers`), []);
      await noProcessesLeft();
    });
  }

  it('a port already bound is refused like rootful, and one below ip_unprivileged_port_start names the sysctl; nothing is left', async () => {
    const holder = box.background('host', [process.execPath, '-e', "require('node:net').createServer().listen(18090)"]);
    await eventually(async () => (await box.host(['sh', '-c', 'grep -q ":46AA " /proc/net/tcp6 /proc/net/tcp && echo up'])).stdout.includes('up'), 10_000, 'the holder');
    const taken = await alice.minictr(['run', '-d', '--network', 'pasta', '-p', '18090:80', 'busybox', 'sleep', '60']);
    assert.equal(taken.code, 125);
    assert.match(taken.stderr, /Bind for 0\.0\.0\.0:18090 failed: port is already allocated/);
    process.kill(holder.pid ?? 0, 'SIGKILL');
    const low = await alice.minictr(['run', '-d', '--network', 'slirp4netns', '-p', '80:80', 'busybox', 'sleep', '60']);
    assert.equal(low.code, 125);
    assert.match(low.stderr, /^minictr: host port 80 is below net\.ipv4\.ip_unprivileged_port_start \(1024\)/m);
    assert.equal((await alice.minictr(['ps', '-aq'])).stdout, '');
    await noProcessesLeft();
  });

  for (const step of ['spawned', 'helper-started', 'started']) {
    it(`pasta, minictr killed with -9 at "${step}": rm -f leaves no process, no helper and no file`, async () => {
      await killedAt(alice, step, ['run', '-d', '--name', `crash-${step}`, '--network', 'pasta', '-p', '18095:80', 'busybox', 'httpd', '-f', '-p', '80']);
      const rm = await alice.minictr(['rm', '-f', `crash-${step}`]);
      assert.equal(rm.code, 0, rm.stderr);
      assert.equal((await alice.minictr(['ps', '-aq'])).stdout, '');
      assert.deepEqual(await readdir(`${alice.root}/containers`), []);
      await noProcessesLeft();
    });
  }
});

describe('rootless bridge network: the user\'s rootless namespace', { skip: !isRoot && 'needs root (to make the test users)' }, () => {
  const { user: bob, setup, teardown } = rootlessWorld('b', { outside: true });
  before(setup);
  after(teardown);

  it('two containers on a rootless network talk by name and by address, reach the outside, and the namespace goes with the last of them', async () => {
    const made = await bob.minictr(['network', 'create', 'mynet']);
    assert.equal(made.code, 0, made.stderr);
    const ls = await bob.minictr(['network', 'ls']);
    assert.match(ls.stdout, /\smynet\s/);
    const web = await bob.minictr(['run', '-d', '--name', 'web', '--network', 'mynet', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
    assert.equal(web.code, 0, web.stderr);
    const webIp = (await bob.minictr(['exec', 'web', 'sh', '-c', 'ip -4 -o addr show eth0 | awk \'{print $4}\' | cut -d/ -f1'])).stdout.trim();
    assert.match(webIp, /^\d+\.\d+\.\d+\.2$/);
    const client = await bob.minictr(['run', '--rm', '--name', 'client', '--network', 'mynet', 'busybox', 'sh', '-c',
      `wget -qO- http://web/hostname; wget -qO- http://${webIp}/hostname; wget -qO- http://${WAN_IP}:7001/`]);
    assert.equal(client.code, 0, client.stderr);
    const [byName, byAddr, outside] = client.stdout.trim().split('\n');
    const webHost = (await bob.minictr(['inspect', '--format', '{{.Config.Hostname}}', 'web'])).stdout.trim();
    assert.equal(byName, webHost, 'by name');
    assert.equal(byAddr, webHost, 'by address');
    assert.equal(outside?.replace(/^::ffff:/, ''), HOST_IP, 'the outside sees pasta\'s (the host\'s) address');
    const diagram = await bob.minictr(['network', 'diagram']);
    assert.equal(diagram.code, 0, diagram.stderr);
    const holderPid = /rootless namespace \(holder pid (\d+), its pasta pid \d+/.exec(diagram.stdout)?.[1];
    assert.ok(holderPid, diagram.stdout);
    // --dry-run reuses the running namespace, as a start would: its holder's pid, no new holder or pasta.
    const dry = await bob.minictr(['run', '--dry-run', '--network', 'mynet', 'busybox', 'true']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`^HOLDER=${holderPid}$`, 'm'));
    assert.doesNotMatch(dry.stdout, /^(unshare|pasta) /m);
    assert.match(dry.stdout, new RegExp(`^nsenter --target=${holderPid} --user --net -- sh -c "ip link add vr\\w+ type veth peer name eth0 netns \\$PID `, 'm'));
    assert.match(diagram.stdout, new RegExp(`── web  ${webIp.replace(/\./g, '\\.')}  eth0 ↔ veth on minictr-`));
    const inspect = await bob.minictr(['net', 'inspect', 'web']);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.match(inspect.stdout, /rootless, its own namespace connected by a veth to the bridge of mynet/);
    assert.match(inspect.stdout, new RegExp(webIp.replace(/\./g, '\\.')));
    const holder = `${bob.runtimeDir}/minictr/rootless-netns/state.json`;
    assert.ok(await access(holder).then(() => true, () => false), 'the rootless namespace exists while a container uses it');
    assert.equal((await bob.minictr(['rm', '-f', 'web'])).code, 0);
    assert.ok(!(await access(holder).then(() => true, () => false)), 'the rootless namespace went with its last container');
    assert.deepEqual(await eventually(async () => ((await bob.processes()).length === 0 ? [] : undefined), 10_000, 'no process of the user'), []);
    assert.equal((await bob.minictr(['network', 'rm', 'mynet'])).code, 0);
  });
});

describe('rootless bridge network: published ports', { skip: !isRoot && 'needs root (to make the test users)' }, () => {
  const { box, user: dave, setup, teardown } = rootlessWorld('d', { outside: false });
  before(async () => {
    await setup();
    assert.equal((await dave.minictr(['network', 'create', 'pubnet'])).code, 0);
  });
  after(teardown);
  const noProcessesLeft = async (): Promise<void> => {
    const left = await eventually(async () => ((await dave.processes()).length === 0 ? [] : undefined), 10_000, 'no process of the user').catch(async (err: unknown) => {
      const { readFileSync } = await import('node:fs');
      throw new Error(`${String(err)}: ${(await dave.processes()).map((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { return String(p); } }).join(' | ')}`);
    });
    assert.deepEqual(left, []);
  };

  it('-p on a rootless network: the relay in the rootless namespace answers the outside world and the host, [::1] too; the container sees the network\'s gateway; kill -9 of the container takes the relay', async () => {
    const run = await dave.minictr(['run', '-d', '--name', 'pub', '--network', 'pubnet', '-p', '18300:80', '-p', '[::1]:18301:80', 'busybox', ...PEER_SERVER]);
    assert.equal(run.code, 0, run.stderr);
    const gateway = (await dave.minictr(['network', 'inspect', '--format', '{{(index .IPAM.Config 0).Gateway}}', 'pubnet'])).stdout.trim();
    assert.match(gateway, /^\d+\.\d+\.\d+\.1$/);
    const fromWan = await eventually(async () => {
      const r = await box.wan(['timeout', '5', 'busybox', 'wget', '-qO-', `http://${HOST_IP}:18300/cgi-bin/peer`]);
      return r.code === 0 ? r.stdout : undefined;
    }, 10_000, 'the published port from the outside');
    assert.equal(ipv4(fromWan), gateway, 'an outside client: the relay connects from the rootless namespace');
    assert.equal(ipv4((await dave.shell('timeout 5 busybox wget -qO- http://127.0.0.1:18300/cgi-bin/peer')).stdout), gateway, 'the host, through loopback');
    assert.equal(ipv4((await dave.shell(`timeout 5 busybox wget -qO- http://${HOST_IP}:18300/cgi-bin/peer`)).stdout), gateway, 'the host, through its own address');
    // An IPv6 loopback port: minictr binds [::1] on the host and hands it to the same relay.
    assert.equal(ipv4((await dave.shell('timeout 5 busybox wget -qO- http://[::1]:18301/cgi-bin/peer')).stdout), gateway, 'the host, through [::1]');
    const v4only = await dave.shell('timeout 5 busybox wget -qO- http://127.0.0.1:18301/ ; echo "code $?"');
    assert.doesNotMatch(v4only.stdout, /code 0/, '-p [::1]:… publishes on [::1] alone, not on 127.0.0.1');
    assert.equal((await dave.minictr(['port', 'pub'])).stdout, '80/tcp -> 0.0.0.0:18300\n80/tcp -> [::1]:18301\n');
    // In the foreground too: its relay ends with it, and so does the run, with the command's status.
    const fg = await dave.minictr(['run', '--rm', '--network', 'pubnet', '-p', '18310:80', '-p', '18311:53/udp', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal(fg.code, 3, fg.stderr);
    assert.equal(fg.stderr, '');

    // The port is held: another container asking for it is refused, and leaves nothing.
    const again = await dave.minictr(['run', '-d', '--network', 'pubnet', '-p', '18300:80', 'busybox', 'sleep', '60']);
    assert.equal(again.code, 125);
    assert.match(again.stderr, /Bind for 0\.0\.0\.0:18300 failed: port is already allocated/);
    assert.equal((await dave.minictr(['ps', '-aq'])).stdout.trim().split('\n').length, 1);

    const pid = Number((await dave.minictr(['inspect', '--format', '{{.State.Pid}}', 'pub'])).stdout.trim());
    process.kill(pid, 'SIGKILL');
    await eventually(async () => (await dave.minictr(['inspect', '--format', '{{.State.Status}}', 'pub'])).stdout.trim() === 'exited', 10_000, 'exited');
    assert.equal((await dave.minictr(['rm', 'pub'])).code, 0);
    await noProcessesLeft();
    const free = await dave.shell('timeout 5 busybox wget -qO- http://127.0.0.1:18300/ ; echo "code $?"');
    assert.doesNotMatch(free.stdout, /code 0/, 'nothing listens on the port any more');
  });

  for (const step of ['spawned', 'relay-started']) {
    it(`-p on a rootless network, minictr killed with -9 at "${step}": rm -f leaves no process and no file`, async () => {
      await killedAt(dave, step, ['run', '-d', '--name', `crash-${step}`, '--network', 'pubnet', '-p', '18305:80', 'busybox', 'httpd', '-f', '-p', '80']);
      const rm = await dave.minictr(['rm', '-f', `crash-${step}`]);
      assert.equal(rm.code, 0, rm.stderr);
      assert.equal((await dave.minictr(['ps', '-aq'])).stdout, '');
      await noProcessesLeft();
    });
  }
});

describe('rootless soak', { skip: !isRoot && 'needs root (to make the test users)' }, () => {
  const { user: carol, setup, teardown } = rootlessWorld('c', { outside: false });
  before(async () => {
    await setup();
    assert.equal((await carol.minictr(['network', 'create', 'soak'])).code, 0);
  });
  after(teardown);

  it('40 cycles of run --rm through every rootless mode (the default is pasta) leave no process, file or namespace', async () => {
    const modes = [[], ['--network', 'slirp4netns', '-p', '18200:80'], ['--network', 'soak', '-p', '18202:80'], ['--network', 'none'], ['-p', '18201:80']];
    for (let i = 0; i < 40; i++) {
      const mode = modes[i % modes.length] ?? [];
      const r = await carol.minictr(['run', '--rm', ...mode, 'busybox', 'sh', '-c', 'ip -4 -o addr show scope global | wc -l']);
      assert.equal(r.code, 0, `cycle ${i} (${mode.join(' ') || 'default'}): ${r.stderr}`);
      assert.equal(r.stdout.trim(), mode.includes('none') ? '0' : '1', `cycle ${i}: one address outside loopback`);
    }
    assert.deepEqual(await readdir(`${carol.root}/containers`), []);
    assert.deepEqual(await readdir(`${carol.runtimeDir}/minictr`), [], 'no helper socket and no rootless namespace left');
    assert.deepEqual(await eventually(async () => ((await carol.processes()).length === 0 ? [] : undefined), 10_000, 'no process of the user'), []);
  });
});
