// Rootless minictr (issue #13): an ordinary user made by the test, with a subordinate range,
// runs containers without sudo inside the sandbox's host network namespace. Every user, file
// and process the test makes is removed afterwards, also when it fails.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, chown, copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, eventually, hostMountsNaming, isRoot, sh } from './sandbox.js';
import { RootlessUser, TunWorld } from './rootless-harness.js';

describe('rootless root filesystem: the fuse-overlayfs fallback', { skip: (!isRoot && 'needs root (to make the test users)') || (!existsSync('/usr/bin/fuse-overlayfs') && 'fuse-overlayfs is not installed') }, () => {
  const box = new Sandbox();
  const world = new TunWorld(`${box.prefix}f`);
  const fay = new RootlessUser(box, `${box.prefix}f`, { mountNs: world.ns });
  before(async () => {
    await box.setup();
    await world.setup();
    await fay.create();
  });
  after(async () => {
    await fay.remove();
    await world.cleanup();
    await box.cleanup();
  });

  it('with the kernel overlay skipped, fuse-overlayfs mounts the root: writes stay in the container, the image is untouched, rm leaves nothing', async () => {
    const env = { MINICTR_ROOTLESS_OVERLAY: 'fuse-overlayfs' };
    const run = await fay.minictr(['run', '-d', '--name', 'fz', '--network', 'none', 'busybox', 'sh', '-c', 'echo changed > /etc/motd-new && rm /bin/true && exec sleep 300'], { env });
    assert.equal(run.code, 0, run.stderr);
    await eventually(async () => (await fay.minictr(['exec', 'fz', 'cat', '/etc/motd-new'])).stdout === 'changed\n', 10_000, 'the write');
    const mounts = await fay.minictr(['exec', 'fz', 'sh', '-c', "grep ' / ' /proc/mounts; test -e /bin/true || echo gone"]);
    assert.match(mounts.stdout, /^fuse-overlayfs \/ fuse\.fuse-overlayfs /m);
    assert.match(mounts.stdout, /^gone$/m);
    const other = await fay.minictr(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'test -e /bin/true && ! test -e /etc/motd-new && echo clean'], { env });
    assert.equal(other.stdout, 'clean\n', other.stderr);
    const id = (await fay.minictr(['inspect', '--format', '{{.Id}}', 'fz'])).stdout.trim();
    const upper = await readdir(join(fay.root, 'containers', id, 'upper', 'etc'));
    assert.ok(upper.includes('motd-new'), 'the write is in the container\'s upper layer');
    assert.equal((await fay.minictr(['rm', '-f', 'fz'])).code, 0);
    assert.deepEqual(await readdir(`${fay.root}/containers`), []);
    assert.deepEqual(await eventually(async () => ((await fay.processes()).length === 0 ? [] : undefined), 10_000, 'no process of the user (fuse-overlayfs included)'), []);
  });
});

describe('rootless minictr: a normal user with a subordinate range', { skip: !isRoot && 'needs root (to make the test users)' }, () => {
  const box = new Sandbox();
  const alice = new RootlessUser(box, `${box.prefix}a`);
  const bob = new RootlessUser(box, `${box.prefix}b`);
  const solo = new RootlessUser(box, `${box.prefix}s`, { subids: false });

  before(async () => {
    await box.setup();
    await alice.create();
    await bob.create();
    await solo.create();
  });
  after(async () => {
    for (const u of [alice, bob, solo]) await u.remove();
    await box.cleanup();
  });

  it('runs a container with the whole range mapped, root inside being the user, state in ~/.local/share/minictr', async () => {
    const range = await alice.subuids();
    assert.ok(range, 'useradd gave alice a range');
    const r = await alice.minictr(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'id -u; cat /proc/self/uid_map; echo hi > /tmp/f && cat /tmp/f']);
    assert.equal(r.code, 0, r.stderr);
    const [uid, map0, map1, written] = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.equal(uid, '0');
    assert.equal(map0, `0 ${alice.uid} 1`);
    assert.equal(map1, `1 ${range.start} ${range.count}`);
    assert.equal(written, 'hi');
    assert.equal(r.stderr, '', 'no note: the range is there');
    assert.ok(existsSync(`${alice.root}/rootless-owner`), 'the state root is the user\'s own');
    assert.deepEqual(await readdir(`${alice.root}/containers`), [], '--rm left no container');
  });

  it('detached: ps, exec, logs, the host network; kill -9 of the container then rm -f leaves no process, mount or file', async () => {
    const run = await alice.minictr(['run', '-d', '--name', 'web', '--network', 'none', 'busybox', 'sh', '-c', 'echo started; sleep 300']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const ps = await alice.minictr(['ps', '--format', '{{.Names}} {{.Status}}']);
    assert.match(ps.stdout, /^web Up/m);
    const exec = await alice.minictr(['exec', 'web', 'sh', '-c', 'id -u; cat /proc/1/cmdline | tr "\\0" " "']);
    assert.equal(exec.code, 0, exec.stderr);
    assert.equal(exec.stdout, '0\nsleep 300 ');
    assert.equal((await eventually(async () => {
      const logs = await alice.minictr(['logs', 'web']);
      return logs.stdout || undefined;
    })), 'started\n');
    const host = await alice.minictr(['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'ip -o addr show | grep -c 10.99.0.1']);
    assert.equal(host.code, 0, host.stderr);
    assert.equal(host.stdout.trim(), '1', 'the host network is the sandbox host\'s');

    const inspect = await alice.minictr(['inspect', '--format', '{{.State.Pid}}', 'web']);
    process.kill(Number(inspect.stdout.trim()), 'SIGKILL');
    const rm = await alice.minictr(['rm', '-f', 'web']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(await readdir(`${alice.root}/containers`), []);
    assert.deepEqual(await hostMountsNaming(id), []);
    assert.deepEqual(await eventually(async () => ((await alice.processes()).length === 0 ? [] : undefined), 10_000, 'no process of alice'), []);
  });

  it('an imported image keeps its owners (mapped into the range) and setuid bits, through save and load too; files of other ids go with rm and rmi', async () => {
    const dir = await mkdtemp(join(tmpdir(), `${box.prefix}-img-`));
    try {
      await mkdir(join(dir, 'r', 'bin'), { recursive: true });
      await mkdir(join(dir, 'r', 'home', 'app'), { recursive: true });
      await copyFile('/bin/busybox', join(dir, 'r', 'bin', 'busybox'));
      await writeFile(join(dir, 'r', 'home', 'app', 'data'), 'x\n');
      await chown(join(dir, 'r', 'home', 'app'), 1000, 1000);
      await chown(join(dir, 'r', 'home', 'app', 'data'), 1000, 1000);
      await copyFile('/bin/busybox', join(dir, 'r', 'bin', 'suid'));
      await chown(join(dir, 'r', 'bin', 'suid'), 0, 50);
      await chmod(join(dir, 'r', 'bin', 'suid'), 0o4755);
      assert.equal((await sh(['tar', '-C', join(dir, 'r'), '-cf', join(dir, 'img.tar'), '.'])).code, 0);
      await chmod(dir, 0o755);
      const imported = await alice.minictr(['import', join(dir, 'img.tar'), 'owned']);
      assert.equal(imported.code, 0, imported.stderr);
      const ls = await alice.minictr(['run', '--rm', '--network', 'none', 'owned', '/bin/busybox', 'stat', '-c', '%u:%g %A %n', '/home/app/data', '/bin/suid']);
      assert.equal(ls.stdout, '1000:1000 -rw-r--r-- /home/app/data\n0:50 -rwsr-xr-x /bin/suid\n');
      const write = await alice.minictr(['run', '-d', '--name', 'writer', '--network', 'none', '--user', '1000', 'owned', '/bin/busybox', 'sh', '-c', 'echo y >> /home/app/data && /bin/busybox mkdir /home/app/new && /bin/busybox sleep 300']);
      assert.equal(write.code, 0, write.stderr);
      const range = await alice.subuids();
      assert.ok(range);
      await eventually(async () => (await alice.minictr(['exec', 'writer', '/bin/busybox', 'test', '-d', '/home/app/new'])).code === 0, 10_000, 'the write');
      assert.equal((await alice.minictr(['rm', '-f', 'writer'])).code, 0, 'rm removes files of mapped ids too');
      // save, rmi, load: the loaded layers get their owners mapped the same way.
      const saved = await alice.minictr(['save', '-o', `${alice.home}/owned.tar`, 'owned']);
      assert.equal(saved.code, 0, saved.stderr);
      assert.equal((await alice.minictr(['rmi', 'owned'])).code, 0);
      const loaded = await alice.minictr(['load', '-i', `${alice.home}/owned.tar`]);
      assert.equal(loaded.code, 0, loaded.stderr);
      const again = await alice.minictr(['run', '--rm', '--network', 'none', 'owned', '/bin/busybox', 'stat', '-c', '%u:%g %A %n', '/home/app/data', '/bin/suid']);
      assert.equal(again.stdout, '1000:1000 -rw-r--r-- /home/app/data\n0:50 -rwsr-xr-x /bin/suid\n');
      const rmi = await alice.minictr(['rmi', 'owned']);
      assert.equal(rmi.code, 0, rmi.stderr);
      assert.deepEqual(await readdir(`${alice.root}/containers`), []);
      assert.doesNotMatch((await alice.minictr(['images'])).stdout, /owned/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a volume whose files a container wrote as other ids is removed; device nodes in an image are skipped, said once in one line', async () => {
    const made = await alice.minictr(['run', '--rm', '--network', 'none', '-v', 'owned-vol:/v', 'busybox', 'sh', '-c',
      'mkdir -p /v/d/e && echo x > /v/d/e/f && chown -R 1000:1000 /v/d && chmod -R go-rwx /v/d']);
    assert.equal(made.code, 0, made.stderr);
    const rmv = await alice.minictr(['volume', 'rm', 'owned-vol']);
    assert.equal(rmv.code, 0, rmv.stderr);
    assert.doesNotMatch((await alice.minictr(['volume', 'ls', '-q'])).stdout, /owned-vol/);
    assert.deepEqual(await readdir(`${alice.root}/volumes`).catch(() => []), []);

    const dir = await mkdtemp(join(tmpdir(), `${box.prefix}-dev-`));
    try {
      await mkdir(join(dir, 'r', 'dev'), { recursive: true });
      await writeFile(join(dir, 'r', 'ok'), 'ok\n');
      for (const [name, minor] of [['null', '3'], ['zero', '5']] as const) assert.equal((await sh(['mknod', join(dir, 'r', 'dev', name), 'c', '1', minor])).code, 0);
      assert.equal((await sh(['tar', '-C', join(dir, 'r'), '-cf', join(dir, 'dev.tar'), '.'])).code, 0);
      await chmod(dir, 0o755);
      const imported = await alice.minictr(['import', join(dir, 'dev.tar'), 'withdev']);
      assert.equal(imported.code, 0, imported.stderr);
      assert.equal(imported.stderr.trim().split('\n').length, 1, imported.stderr);
      assert.match(imported.stderr, /^minictr: warning: .*dev\.tar: device node \/dev\/(null|zero) \(and 1 more\) skipped: a normal user cannot make device nodes/);
      assert.equal((await alice.minictr(['rmi', 'withdev'])).code, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses limits in one line (no delegated cgroup), leaving nothing behind', async () => {
    const r = await alice.minictr(['run', '--rm', '--memory', '64m', '--network', 'none', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^minictr: rootless minictr cannot set resource limits .*no cgroup is delegated to your user/m);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.deepEqual(await readdir(`${alice.root}/containers`), []);
  });

  it('without a subordinate range: the single-id map, said once in one line', async () => {
    const r = await solo.minictr(['run', '--rm', '--network', 'none', 'busybox', 'cat', '/proc/self/uid_map']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split(/\s+/).join(' '), `0 ${solo.uid} 1`);
    const notes = r.stderr.trim().split('\n');
    assert.equal(notes.length, 1, r.stderr);
    assert.match(notes[0] ?? '', /^minictr: warning: no subordinate id range for \S+ in \/etc\/subuid and \/etc\/subgid: .*usermod --add-subuids/);
  });

  it('--dry-run on a rootless network: the rootless namespace, its bridge, the veth and the port relay, each with a why; nothing made', async () => {
    assert.equal((await alice.minictr(['network', 'create', 'drynet'])).code, 0);
    const r = await alice.minictr(['run', '--dry-run', '--network', 'drynet', '-p', '18080:80', 'busybox', 'true']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /^# rootless bridge networks: .*none runs, so this run makes it\.$/m);
    assert.match(out, /^#   newuidmap "\$HOLDER" 0 \d+ 1 1 \d+ \d+ /m, 'the maps are the holder\'s');
    assert.match(out, /^unshare --user --map-root-user --map-users=\d+,1,\d+ --map-groups=\d+,1,\d+ --net -- \S+ sh -c 'ip link set lo up && echo ready && exec sleep 2147483647' > \S+\/rootless-netns\/holder\.out &$/m);
    assert.match(out, /^pasta --config-net .* --userns "\/proc\/\$HOLDER\/ns\/user" --netns "\/proc\/\$HOLDER\/ns\/net" -P \S+\/pasta\.pid$/m);
    assert.match(out, /^nsenter "--target=\$HOLDER" --user --net -- sh -c .*ip link add (\S+) type bridge && ip addr add (\d+\.\d+\.\d+)\.1\/\d+ .*MASQUERADE'$/m);
    assert.match(out, /^\s*nsenter "--target=\$HOLDER" --user -- unshare --pid /m, 'the init joins the holder\'s user namespace');
    const veth = /^nsenter "--target=\$HOLDER" --user --net -- sh -c "ip link add (vr\w+) type veth peer name eth0 netns \$PID && ip link set \1 master (\S+) up"$/m.exec(out);
    assert.ok(veth, out);
    const addr = /^nsenter "--target=\$PID" --user --net -- sh -c 'ip addr add (\d+\.\d+\.\d+\.\d+)\/\d+ dev eth0 .* ip route add default via \S+'$/m.exec(out);
    assert.ok(addr, out);
    assert.match(out, new RegExp(`^# publish 0\\.0\\.0\\.0:18080 → ${(addr?.[1] ?? '').replace(/\./g, '\\.')}:80/tcp: `, 'm'));
    assert.match(out, /^#   nsenter "--target=\$HOLDER" --user --net -- \S+ \S+\/dist\/minictr-relay\.cjs$/m, 'the relay\'s exact command, as a comment');
    assert.match(out, /^echo up > \S+\/net-ready$/m);
    assert.doesNotMatch(out, /\/run\/netns\/|ip netns add/, 'nothing of a rootful attach');
    const parsed = await sh(['sh', '-n'], { input: out });
    assert.equal(parsed.code, 0, parsed.stderr);
    // Nothing was made: no rootless namespace, no container, no process of the user.
    assert.ok(!existsSync(`${alice.runtimeDir}/minictr/rootless-netns`), 'no rootless namespace');
    assert.deepEqual(await readdir(`${alice.root}/containers`), []);
    // (What earlier tests ran may take a moment to be gone; a process the dry run made would stay.)
    await eventually(async () => (await alice.processes()).length === 0, 10_000, 'no process of the user');
    assert.equal((await alice.minictr(['network', 'rm', 'drynet'])).code, 0);
  });

  it('two users never see each other\'s state, and rootful and rootless state never mix', async () => {
    const run = await alice.minictr(['run', '-d', '--name', 'mine', '--network', 'none', 'busybox', 'sleep', '300']);
    assert.equal(run.code, 0, run.stderr);
    const theirs = await bob.minictr(['ps', '-a', '-q']);
    assert.equal(theirs.code, 0, theirs.stderr);
    assert.equal(theirs.stdout, '', 'bob sees none of alice\'s containers');
    assert.equal((await alice.minictr(['network', 'create', 'alicenet'])).code, 0);
    assert.doesNotMatch((await bob.minictr(['network', 'ls'])).stdout, /alicenet/, 'nor her networks');
    assert.equal((await bob.minictr(['network', 'create', 'alicenet'])).code, 0, 'the same name is his to use');
    const peek = await bob.minictr(['--root', alice.root, 'ps']);
    assert.equal(peek.code, 125);
    assert.match(peek.stderr, /^minictr: /);
    const rootful = await box.minictr(['--root', alice.root, 'ps']);
    assert.equal(rootful.code, 125);
    assert.match(rootful.stderr, /is the state of rootless minictr \(uid \d+\)/);
    const intoRootful = await alice.minictr(['--root', box.root, 'ps']);
    assert.equal(intoRootful.code, 125);
    assert.equal((await alice.minictr(['rm', '-f', 'mine'])).code, 0);
  });
});
