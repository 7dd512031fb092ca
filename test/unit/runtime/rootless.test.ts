import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idInside, idMapLines, singleIdNote, subordinateRange, userNamespaceArgs, type RootlessIds } from '../../../src/runtime/rootless-ids.js';
import { chooseRootlessRootfs, kernelVersion, overlayInUserNamespace, refuseRootlessLimits, validateRootlessNetworking } from '../../../src/runtime/rootless-run.js';
import { userNamespaceBlocker } from '../../../src/runtime/rootless.js';
import { containerFstab } from '../../../src/runtime/init-script.js';
import { execArgv } from '../../../src/runtime/exec-argv.js';
import { defaultRoot, rootlessRuntimeDir } from '../../../src/state/paths.js';
import { claimRoot } from '../../../src/state/owner.js';
import { NO_RESOURCES } from '../../../src/cgroup/limits.js';
import type { HostConfig } from '../../../src/base/records.js';

const ALICE: RootlessIds = { uid: 1001, gid: 1001, user: 'alice', uids: { start: 100000, count: 65536 }, gids: { start: 200000, count: 65536 } };

describe('rootless ids', () => {
  it('finds the user\'s range by name or uid, and skips one that holds the user\'s own id', () => {
    const text = 'bob:100000:65536\nalice:165536:65536\n1002:231072:1000\n';
    assert.deepEqual(subordinateRange(text, 'alice', 1001), { start: 165536, count: 65536 });
    assert.deepEqual(subordinateRange(text, 'carol', 1002), { start: 231072, count: 1000 });
    assert.equal(subordinateRange(text, 'dave', 1003), undefined);
    assert.equal(subordinateRange('alice:1000:100\n', 'alice', 1001), undefined);
    assert.equal(subordinateRange('alice:x:100\nalice:5:0\n', 'alice', 1001), undefined);
  });

  it('maps the user to 0 and the range from 1, as podman does; a single id without a range', () => {
    assert.deepEqual(userNamespaceArgs(ALICE), ['--user', '--map-root-user', '--map-users=100000,1,65536', '--map-groups=200000,1,65536']);
    const single: RootlessIds = { uid: 1001, gid: 1001, user: 'alice' };
    assert.deepEqual(userNamespaceArgs(single), ['--user', '--map-root-user']);
    assert.deepEqual(idMapLines(1001, ALICE.uids), ['0 1001 1', '1 100000 65536']);
    // What save writes: a host id back to the id it has in the image.
    assert.equal(idInside(1001, 1001, ALICE.uids), 0);
    assert.equal(idInside(100999, 1001, ALICE.uids), 1000);
    assert.equal(idInside(5, 1001, ALICE.uids), 65534);
    assert.match(singleIdNote(single), /^no subordinate id range for alice in \/etc\/subuid and \/etc\/subgid: .*usermod --add-subuids/);
    assert.doesNotMatch(singleIdNote(single), /\n/);
  });

  it('names the sysctl that forbids user namespaces', () => {
    const files: Record<string, string> = { '/proc/sys/user/max_user_namespaces': '0\n' };
    assert.match(userNamespaceBlocker((p) => files[p]) ?? '', /^user\.max_user_namespaces is 0/);
    assert.match(userNamespaceBlocker((p) => ({ '/proc/sys/kernel/unprivileged_userns_clone': '0' })[p]) ?? '', /unprivileged_userns_clone/);
    assert.equal(userNamespaceBlocker((p) => ({ '/proc/sys/user/max_user_namespaces': '1000' })[p]), undefined);
  });
});

describe('rootless state and runtime dirs', () => {
  it('keeps root\'s default, and a user\'s under XDG_DATA_HOME or ~/.local/share', () => {
    assert.equal(defaultRoot(0, {}), '/var/lib/minictr');
    assert.equal(defaultRoot(1001, {}, '/home/alice'), '/home/alice/.local/share/minictr');
    assert.equal(defaultRoot(1001, { XDG_DATA_HOME: '/data/a' }, '/home/alice'), '/data/a/minictr');
    assert.equal(defaultRoot(1001, { XDG_DATA_HOME: 'relative' }, '/home/alice'), '/home/alice/.local/share/minictr');
    assert.equal(rootlessRuntimeDir(1001, { XDG_RUNTIME_DIR: '/run/user/1001' }), '/run/user/1001/minictr');
    assert.equal(rootlessRuntimeDir(1001, {}), '/tmp/minictr-run-1001');
  });

  it('never mixes rootful and rootless state, nor two users\'', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'minictr-owner-'));
    try {
      const mine = join(dir, 'mine');
      claimRoot(mine, 1001);
      assert.equal(await readFile(join(mine, 'rootless-owner'), 'utf8'), '1001\n');
      claimRoot(mine, 1001);
      assert.throws(() => claimRoot(mine, 1002), /belongs to rootless minictr of uid 1001/);
      assert.throws(() => claimRoot(mine, 0), /is the state of rootless minictr \(uid 1001\)/);
      const rootful = join(dir, 'rootful');
      claimRoot(rootful, 0);
      await writeFile(join(dir, 'marker'), '');
      assert.throws(() => claimRoot(dir, 1001), /holds rootful minictr's state/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('rootless containers', () => {
  it('mounts overlay with userxattr and binds /sys with the host network', () => {
    const base = { merged: '/m', overlay: { lower: '/l', upper: '/u', work: '/w' }, masked: [], readonly: [] };
    const fstab = containerFstab({ ...base, userns: ['--user'], networkMode: 'host' });
    assert.match(fstab, /^overlay \/m overlay lowerdir=\/l,upperdir=\/u,workdir=\/w,userxattr 0 0$/m);
    assert.match(fstab, /^\/sys \/m\/sys none rbind,ro,X-mount\.mkdir 0 0$/m);
    assert.match(containerFstab({ ...base, userns: ['--user'], networkMode: 'none' }), /^sysfs \/m\/sys sysfs /m);
    assert.doesNotMatch(containerFstab(base), /userxattr/);
  });

  it('exec joins the user namespace first, by a process of its own (a fuse-overlayfs root answers only from inside it)', () => {
    const tools = { setpriv: '/usr/bin/setpriv', loader: '', libraryDirs: [] };
    const argv = execArgv(42, '/', ['true'], tools, '/bin/busybox', undefined, [], false, true);
    assert.deepEqual(argv.slice(0, 7), ['nsenter', '--target=42', '--user', '--', 'nsenter', '--target=42', '--mount']);
  });

  it('the root filesystem as podman tries it: the kernel overlay, fuse-overlayfs, a copy; MINICTR_ROOTLESS_OVERLAY skips ahead', () => {
    assert.deepEqual(chooseRootlessRootfs({ kernelOverlay: true, fuseOverlayfs: true }), { rootfsMode: 'overlay' });
    assert.deepEqual(chooseRootlessRootfs({ kernelOverlay: false, fuseOverlayfs: true }), { rootfsMode: 'overlay', overlayDriver: 'fuse-overlayfs' });
    assert.deepEqual(chooseRootlessRootfs({ kernelOverlay: true, fuseOverlayfs: true, skipTo: 'fuse-overlayfs' }), { rootfsMode: 'overlay', overlayDriver: 'fuse-overlayfs' });
    assert.deepEqual(chooseRootlessRootfs({ kernelOverlay: true, fuseOverlayfs: true, skipTo: 'copy' }), { rootfsMode: 'copy' });
    assert.deepEqual(chooseRootlessRootfs({ kernelOverlay: false, fuseOverlayfs: false }), { rootfsMode: 'copy' });
  });

  it('fuse-overlayfs is mounted by stage 1, not by the fstab', () => {
    const overlay = { lower: '/img', upper: '/c/upper', work: '/c/work', fuse: true };
    const fstab = containerFstab({ merged: '/c/merged', overlay, masked: [], readonly: [], userns: ['--user'] });
    assert.doesNotMatch(fstab, /overlay/);
    assert.match(fstab.split('\n')[0] ?? '', /^proc \/c\/merged\/proc proc /);
  });

  it('overlay in a user namespace from kernel 5.11', () => {
    assert.deepEqual(kernelVersion('6.1.0-18-amd64'), [6, 1]);
    assert.equal(overlayInUserNamespace('5.10.0', 'nodev\toverlay\n'), false);
    assert.equal(overlayInUserNamespace('5.11.2', 'nodev\toverlay\n'), true);
    assert.equal(overlayInUserNamespace('6.1.0', 'nodev\ttmpfs\n'), false);
  });

  it('refuses limits and the rootful network modes, with one line', async () => {
    const store = { loadNetwork: async () => undefined };
    assert.throws(() => refuseRootlessLimits({ ...NO_RESOURCES, memory: 10 << 20 }), /^MinictrError: rootless minictr cannot set resource limits .*no cgroup is delegated/);
    refuseRootlessLimits(NO_RESOURCES);
    const host = (networkMode: string, portSpecs: string[] = []): HostConfig => ({ networkMode, portSpecs } as unknown as HostConfig);
    await validateRootlessNetworking(store, host('none'));
    await validateRootlessNetworking(store, host('pasta', ['8080:80']));
    await assert.rejects(validateRootlessNetworking(store, host('none', ['8080:80'])), /conflicting options/);
    await assert.rejects(validateRootlessNetworking(store, host('bridge')), /rootless minictr has no default bridge: .*network create/);
  });
});

describe('rootless helpers\' command lines', () => {
  it('pasta forwards only the published ports (none by default), by path into the container\'s namespaces', async () => {
    const { pastaArgv, slirpArgv, slirpForward, slirpError, checkUnprivilegedPorts } = await import('../../../src/network/rootless-helpers.js');
    assert.deepEqual(pastaArgv(42, [], '/c/pasta.pid'), [
      'pasta', '--config-net', '--quiet', '--no-map-gw', '-t', 'none', '-u', 'none', '-T', 'none', '-U', 'none',
      '--userns', '/proc/42/ns/user', '--netns', '/proc/42/ns/net', '-P', '/c/pasta.pid',
    ]);
    const ports = [
      { hostIp: '', hostPort: 8080, containerPort: 80, proto: 'tcp' as const },
      { hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, proto: 'udp' as const },
    ];
    const argv = pastaArgv(42, ports, '/p');
    assert.deepEqual(argv.slice(4, 8), ['-t', '8080:80', '-u', '127.0.0.1/5353:53']);
    assert.deepEqual(slirpArgv(42, '/run/s.sock'), ['slirp4netns', '--configure', '--mtu=65520', '--disable-host-loopback', '--api-socket', '/run/s.sock', '--ready-fd', '3', '42', 'tap0']);
    assert.deepEqual(JSON.parse(slirpForward(ports[0] ?? { hostIp: '', hostPort: 0, containerPort: 0, proto: 'tcp' })), {
      execute: 'add_hostfwd', arguments: { proto: 'tcp', host_addr: '0.0.0.0', host_port: 8080, guest_addr: '10.0.2.100', guest_port: 80 },
    });
    assert.equal(slirpError('{"return":{"id":1}}'), undefined);
    assert.equal(slirpError('{"error":{"desc":"bad request"}}'), 'bad request');
    assert.throws(() => checkUnprivilegedPorts(ports, 9000), /^MinictrError: host port 8080 is below net.ipv4.ip_unprivileged_port_start \(9000\)/);
    checkUnprivilegedPorts(ports, 0);
  });
});

describe('doctor for a normal user', () => {
  it('names each missing piece with its fix, and the limits of rootless', async () => {
    const { rootlessFindings } = await import('../../../src/explain/doctor-rootless.js');
    const base = {
      user: 'alice', uid: 1001, newuidmap: true, newgidmap: true, maxUserNamespaces: '1000', pasta: true, slirp4netns: true,
      fuseOverlayfs: false, overlayInUserns: true, kernel: '6.1.0', unprivilegedPortStart: '1024', pingGroupRange: '0 2147483647', tun: true,
      subuid: { start: 100000, count: 65536 }, subgid: { start: 100000, count: 65536 },
    };
    assert.deepEqual(rootlessFindings(base).filter((f) => f.status !== 'ok'), []);
    const oldKernel = (fuseOverlayfs: boolean) => rootlessFindings({ ...base, overlayInUserns: false, fuseOverlayfs }).find((f) => f.check === 'overlay in a user namespace');
    assert.match(oldKernel(true)?.summary ?? '', /fuse-overlayfs is used instead/);
    assert.equal(oldKernel(false)?.status, 'warn');
    assert.match(oldKernel(false)?.fix ?? '', /apt-get install fuse-overlayfs/);
    const { subuid: _u, subgid: _g, ...noRange } = base;
    const bad = rootlessFindings({ ...noRange, maxUserNamespaces: '0', pasta: false, slirp4netns: false, tun: false, pingGroupRange: '1 0' });
    const by = (check: string) => bad.find((f) => f.check === check);
    assert.equal(by('subuid')?.status, 'warn');
    assert.match(by('subuid')?.fix ?? '', /usermod --add-subuids 100000-165535 --add-subgids 100000-165535 alice/);
    assert.equal(by('user namespaces')?.status, 'blocker');
    assert.match(by('user namespaces')?.fix ?? '', /user\.max_user_namespaces/);
    assert.equal(by('network helper')?.status, 'blocker');
    assert.match(by('network helper')?.fix ?? '', /apt-get install passt/);
    assert.equal(by('/dev/net/tun')?.status, 'blocker');
    assert.equal(by('ping_group_range')?.status, 'warn');
    assert.equal(by('newuidmap'), undefined, 'no range: newuidmap is not needed');
  });
});

describe('network diagram, rootless', () => {
  it('draws each helper with what it gives, and the rootless namespace with its bridges and members', async () => {
    const { renderRootlessTopology } = await import('../../../src/explain/rootless.js');
    const text = renderRootlessTopology({
      user: 'alice', uid: 1001,
      containers: [
        { name: 'web', mode: 'pasta', pid: 10, helperPid: 11, ports: [{ hostIp: '', hostPort: 8080, containerPort: 80, proto: 'tcp' }] },
        { name: 'db', mode: 'slirp4netns', pid: 20, helperPid: 21, ports: [] },
        { name: 'api', mode: 'mynet', pid: 30, ip: '10.89.0.2', ports: [] },
      ],
      networks: [{ name: 'mynet', bridge: 'minictr-abc', subnet: '10.89.0.0/24', gateway: '10.89.0.1' }],
      holder: { pid: 40, pastaPid: 41 },
    });
    assert.equal(text, [
      'rootless minictr of alice (uid 1001): nothing on the host\'s network is changed; helpers connect each namespace',
      '├── web  --network pasta  (pasta pid 11: a copy of the host\'s address and routes; 0.0.0.0:8080->80/tcp)',
      '├── db  --network slirp4netns  (slirp4netns pid 21: tap0 10.0.2.100/24 via 10.0.2.2, DNS 10.0.2.3 (no address of its own outside))',
      '└── rootless namespace (holder pid 40, its pasta pid 41: a copy of the host\'s address; NAT for each bridge)',
      '    └── mynet  bridge minictr-abc 10.89.0.1 (10.89.0.0/24)',
      '        └── api  10.89.0.2  eth0 ↔ veth on minictr-abc',
      '',
    ].join('\n'));
  });
});

describe('--dry-run on a rootless network', () => {
  const net = {
    schemaVersion: 1 as const, name: 'mynet', id: 'n1', driver: 'bridge' as const, bridge: 'mc-mynet', subnet: '10.89.1.0/24', gateway: '10.89.1.1',
    created: '', internal: false,
  } as unknown as import('../../../src/base/records.js').NetworkRecord;
  const ports = [{ hostIp: '', hostPort: 8080, containerPort: 80, proto: 'tcp' as const }];

  async function view(running?: { pid: number; pastaPid: number }): Promise<import('../../../src/explain/rootless.js').RootlessRunView> {
    const b = await import('../../../src/runtime/rootless-bridge.js');
    const { relayArgv, relayedPorts, RELAY_WHY } = await import('../../../src/runtime/rootless-net.js');
    const holder = running?.pid ?? '$HOLDER';
    const att = { helper: 'bridge' as const, pid: 0, startTime: 0, ports: [], network: 'mynet', ip: '10.89.1.2', prefixLength: 24, gateway: '10.89.1.1', veth: 'vrabc' };
    const ids: RootlessIds = { user: 'u', uid: 1000, gid: 1000, uids: { start: 100000, count: 65536 }, gids: { start: 100000, count: 65536 } };
    return {
      uid: 1000, gid: 1000, ports, pidFile: '/c/init.pid', netReady: '/c/net-ready', helperPidFile: '/c/pasta.pid', apiSocket: '/r/s.sock',
      bridge: {
        network: 'mynet', holderWhy: b.HOLDER_WHY, ...(running ? { running } : {}),
        holderArgv: b.holderArgv(ids, '/bb'), holderDir: '/r/rootless-netns',
        connect: b.planHolderConnect(holder, '/r/rootless-netns/pasta.pid'),
        bridge: b.planRootlessBridge(holder, net),
        attach: b.planBridgeAttach(holder, '$PID', net, att),
        ip: '10.89.1.2',
        relay: { argv: relayArgv(holder), ports: relayedPorts('10.89.1.2', ports), why: RELAY_WHY },
      },
    };
  }

  it('makes the rootless namespace on first use: the holder, its pasta, forwarding, then the bridge and its NAT, each with a why', async () => {
    const { rootlessNetnsLines } = await import('../../../src/explain/rootless.js');
    const lines = rootlessNetnsLines(await view());
    const text = lines.join('\n');
    assert.match(text, /^unshare --user --map-root-user --map-users=100000,1,65536 --map-groups=100000,1,65536 --net -- \/bb sh -c 'ip link set lo up && echo ready && exec sleep 2147483647' > \/r\/rootless-netns\/holder.out &$/m);
    assert.match(text, /^HOLDER=\$!; until \[ -s \/r\/rootless-netns\/holder.out \]/m);
    assert.match(text, /^pasta .* --userns "\/proc\/\$HOLDER\/ns\/user" --netns "\/proc\/\$HOLDER\/ns\/net" -P \/r\/rootless-netns\/pasta.pid$/m);
    assert.match(text, /^nsenter "--target=\$HOLDER" --user --net -- sh -c 'echo 1 > \/proc\/sys\/net\/ipv4\/ip_forward'$/m);
    assert.match(text, /ip link add mc-mynet type bridge && ip addr add 10.89.1.1\/24 dev mc-mynet .*MASQUERADE/);
    // Every command comes with its why, a comment just above it.
    lines.forEach((l, i) => { if (!l.startsWith('#')) assert.ok(lines.slice(Math.max(0, i - 3), i).some((c) => c.startsWith('# ')), l); });
  });

  it('reuses a running rootless namespace by its pid: no holder, no pasta made', async () => {
    const { rootlessNetnsLines } = await import('../../../src/explain/rootless.js');
    const text = rootlessNetnsLines(await view({ pid: 4242, pastaPid: 4243 })).join('\n');
    assert.match(text, /runs already \(holder pid 4242, its pasta pid 4243\)/);
    assert.match(text, /^HOLDER=4242$/m);
    assert.doesNotMatch(text, /^(unshare|pasta) /m);
    assert.match(text, /^nsenter --target=4242 --user --net -- sh -c .*ip link add mc-mynet type bridge/m);
  });

  it('joins the container to the bridge (veth, address, route) and shows the relay as a comment with its exact command', async () => {
    const { helperLines, userNamespaceLines } = await import('../../../src/explain/rootless.js');
    const v = await view();
    const pre = userNamespaceLines(v).join('\n');
    assert.match(pre, /joins the user namespace of the rootless namespace's holder/);
    assert.match(pre, /^rm -f \/c\/net-ready; mkfifo -m 600 \/c\/net-ready$/m);
    const text = helperLines(v).join('\n');
    assert.match(text, /^nsenter "--target=\$HOLDER" --user --net -- sh -c "ip link add vrabc type veth peer name eth0 netns \$PID && ip link set vrabc master mc-mynet up"$/m);
    assert.match(text, /^nsenter "--target=\$PID" --user --net -- sh -c 'ip addr add 10.89.1.2\/24 dev eth0 .*ip route add default via 10.89.1.1'$/m);
    assert.match(text, /^# publish 0.0.0.0:8080 → 10.89.1.2:80\/tcp: /m);
    assert.match(text, /^#   nsenter "--target=\$HOLDER" --user --net -- \S+ \S+\/dist\/minictr-relay\.cjs$/m);
    assert.match(text, /^echo up > \/c\/net-ready$/m);
  });

  it('is a script sh can parse', async () => {
    const { execFileSync } = await import('node:child_process');
    const { helperLines, rootlessNetnsLines, userNamespaceLines } = await import('../../../src/explain/rootless.js');
    const v = await view();
    execFileSync('sh', ['-n'], { input: [...userNamespaceLines(v), ...rootlessNetnsLines(v), 'true &', ...helperLines(v)].join('\n') });
  });

  it('expands only $PID and $HOLDER, and only where nothing else is special', async () => {
    const { withPid } = await import('../../../src/explain/rootless.js');
    assert.equal(withPid("a '/proc/$PID/ns' 'x $HOLDER y' '$PIDS'"), 'a "/proc/$PID/ns" "x $HOLDER y" \'$PIDS\'');
    assert.equal(withPid("'$PID $x'"), "'$PID $x'");
    assert.equal(withPid(`'$PID "q"'`), `'$PID "q"'`);
    // An escaped quote inside a quoted word does not start one.
    assert.equal(withPid("sh -c 'it'\\''s' x '--target=$HOLDER'"), "sh -c 'it'\\''s' x \"--target=$HOLDER\"");
  });
});
