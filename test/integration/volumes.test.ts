// Data that outlives a container, as Docker users know it: bind mounts (-v, --mount), named and
// anonymous volumes with copy-up, --tmpfs, --read-only and --volumes-from. Every mount is made
// inside the container's mount namespace, so the host's mount table never shows one.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, eventually, hostMountsNaming, isRoot } from './sandbox.js';

describe('volumes and bind mounts', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  const mc = (...args: string[]) => box.minictr(args);
  let work = '';

  before(async () => {
    await box.setup();
    work = await mkdtemp(join(tmpdir(), 'minictr-vol-'));
  });
  after(async () => {
    await box.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  const ok = async (...args: string[]) => {
    const r = await mc(...args);
    assert.equal(r.code, 0, `minictr ${args.join(' ')}: ${r.stderr}`);
    return r;
  };

  it('a file written through -v survives rm and is seen by the next container; the host mount table never shows the bind', async () => {
    const dir = join(work, 'bind');
    await mkdir(dir);
    const id = (await ok('run', '-d', '-v', `${dir}:/data`, 'busybox', 'sh', '-c', 'echo kept > /data/file; sleep 300')).stdout.trim();
    await eventually(async () => (await readFile(join(dir, 'file'), 'utf8').catch(() => '')) === 'kept\n', 10_000, 'the file on the host');
    assert.deepEqual(await hostMountsNaming(id), [], 'no mount of the container reaches the host namespace');
    assert.deepEqual(await hostMountsNaming(dir), [], 'the bind is not in the host namespace');
    await ok('rm', '-f', id);
    assert.equal(await readFile(join(dir, 'file'), 'utf8'), 'kept\n', 'the data outlives the container');
    const next = await ok('run', '--rm', '-v', `${dir}:/other`, 'busybox', 'cat', '/other/file');
    assert.equal(next.stdout, 'kept\n');
  });

  it(':ro refuses writes; -v creates a missing host directory, --mount refuses one with Docker\'s message', async () => {
    const dir = join(work, 'ro');
    await mkdir(dir);
    const ro = await mc('run', '--rm', '-v', `${dir}:/data:ro`, 'busybox', 'sh', '-c', 'echo x > /data/f');
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /Read-only file system/);

    const made = join(work, 'made', 'deep');
    await ok('run', '--rm', '-v', `${made}:/m`, 'busybox', 'true');
    assert.ok((await stat(made)).isDirectory(), '-v made the host directory');

    const missing = join(work, 'missing');
    const before = await mc('ps', '-aq');
    const refused = await mc('run', '--rm', '--mount', `type=bind,source=${missing},target=/m`, 'busybox', 'true');
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, new RegExp(`invalid mount config for type "bind": bind source path does not exist: ${missing}`));
    assert.equal((await mc('ps', '-aq')).stdout, before.stdout, 'nothing was created');
    await assert.rejects(stat(missing), 'the path was not created');
  });

  it('a bind of a file, and --mount readonly', async () => {
    const file = join(work, 'app.conf');
    await writeFile(file, 'setting=1\n');
    const r = await ok('run', '--rm', '--mount', `type=bind,src=${file},dst=/etc/app.conf,readonly`, 'busybox', 'sh', '-c', 'cat /etc/app.conf; echo y >> /etc/app.conf || echo refused');
    assert.equal(r.stdout, 'setting=1\nrefused\n');
  });

  it('a new named volume is filled from the image at its path; it cannot be removed while a container uses it', async () => {
    await ok('run', '--name', 'vc', '-v', 'etcdata:/etc', 'busybox', 'sh', '-c', 'echo added > /etc/added');
    const seen = await ok('run', '--rm', '-v', 'etcdata:/x', 'busybox', 'sh', '-c', 'cat /x/added; grep -c ^root: /x/passwd');
    assert.equal(seen.stdout, 'added\n1\n', 'copied up from the image, and written by the first container');
    const inspect = JSON.parse((await ok('volume', 'inspect', 'etcdata')).stdout) as { Name: string; Mountpoint: string; Driver: string }[];
    assert.equal(inspect[0]?.Name, 'etcdata');
    assert.equal(inspect[0]?.Driver, 'local');
    assert.match(await readFile(join(inspect[0]?.Mountpoint ?? '', 'passwd'), 'utf8'), /^root:/m);

    const busy = await mc('volume', 'rm', 'etcdata');
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /volume is in use/);
    await ok('rm', 'vc');
    assert.equal((await ok('volume', 'rm', 'etcdata')).stdout, 'etcdata\n');
    assert.doesNotMatch((await ok('volume', 'ls', '-q')).stdout, /etcdata/);
  });

  it('anonymous volumes (-v /path) go with rm -v and with --rm; named ones stay', async () => {
    const volumes = async () => (await ok('volume', 'ls', '-q')).stdout.split('\n').filter(Boolean);
    const start = new Set(await volumes());
    await ok('run', '--name', 'anon', '-v', '/scratch', '-v', 'keepme:/keep', 'busybox', 'touch', '/scratch/x');
    const made = (await volumes()).filter((v) => !start.has(v));
    assert.equal(made.length, 2);
    assert.ok(made.some((v) => /^[0-9a-f]{64}$/.test(v)) && made.includes('keepme'));
    await ok('rm', '-v', 'anon');
    assert.deepEqual((await volumes()).filter((v) => !start.has(v)), ['keepme']);

    await ok('run', '--rm', '-v', '/scratch', 'busybox', 'true');
    assert.deepEqual((await volumes()).filter((v) => !start.has(v)), ['keepme'], '--rm removed its anonymous volume');
    await ok('volume', 'rm', 'keepme');
  });

  it('--tmpfs is an empty tmpfs at each start; --read-only refuses writes to / but not to a tmpfs', async () => {
    const script = 'grep " /scratch " /proc/mounts | cut -d" " -f3; ls -A /scratch | wc -l; touch /scratch/x';
    await ok('create', '--name', 'tm', '--tmpfs', '/scratch:size=1m', 'busybox', 'sh', '-c', script);
    for (let i = 0; i < 2; i += 1) {
      await ok('start', 'tm');
      assert.equal((await ok('wait', 'tm')).stdout, '0\n');
    }
    const logs = await ok('logs', 'tm');
    assert.equal(logs.stdout.replace(/\s+/g, ' ').trim(), 'tmpfs 0 tmpfs 0', 'each start sees an empty tmpfs');
    await ok('rm', 'tm');

    const r = await mc('run', '--rm', '--read-only', '--tmpfs', '/tmp', 'busybox', 'sh', '-c', 'touch /tmp/ok && echo tmp-ok; touch /nope');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'tmp-ok\n');
    assert.match(r.stderr, /Read-only file system/);
  });

  it('--workdir is created if missing; --volumes-from mounts the other container\'s volumes', async () => {
    const wd = await ok('run', '--rm', '-w', '/new/dir', 'busybox', 'pwd');
    assert.equal(wd.stdout, '/new/dir\n');
    await ok('run', '--name', 'src', '-v', 'shared:/shared', 'busybox', 'sh', '-c', 'echo from-src > /shared/f');
    const r = await ok('run', '--rm', '--volumes-from', 'src:ro', 'busybox', 'sh', '-c', 'cat /shared/f; touch /shared/g || echo ro');
    assert.equal(r.stdout, 'from-src\nro\n');
    await ok('rm', 'src');
    await ok('volume', 'rm', 'shared');
  });

  it('bad volume input is refused with one line, exit 125, and nothing made', async () => {
    for (const [args, message] of [
      [['-v', 'a/b:/x'], /includes invalid characters for a local volume name/],
      [['-v', '../up:/x'], /includes invalid characters for a local volume name|invalid/],
      [['-v', 'data:relative'], /must be absolute|invalid/],
      [['-v', '/a:/same', '-v', '/b:/same'], /Duplicate mount point: \/same/],
    ] as const) {
      const r = await mc('run', '--rm', ...args, 'busybox', 'true');
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    }
    assert.equal((await ok('ps', '-aq')).stdout, '');
  });

  it('a symlink in the image cannot steer a mount, a mkdir or a copy-up onto the host', async () => {
    // A crafted image: busybox, plus links that point at a host directory holding a secret.
    const hostDir = join(work, 'host-secret');
    await mkdir(hostDir);
    await writeFile(join(hostDir, 'secret'), 'host only\n');
    const imported = await box.importImage(work, 'crafted:1', async (rootfs) => {
      await symlink(hostDir, join(rootfs, 'abs'));
      await symlink(`../../../../../../../..${hostDir}`, join(rootfs, 'rel'));
    });
    assert.equal(imported.code, 0, imported.stderr);

    const r = await ok('run', '--rm', '-v', 'crafted-abs:/abs', '-v', 'crafted-rel:/rel/sub', 'crafted:1', '/bin/sh', '-c', 'ls -A /abs; echo end');
    // Both links lead to the same directory inside the container: /rel/sub is made in the first volume.
    assert.equal(r.stdout, 'sub\nend\n', 'nothing of the host was copied up');
    assert.deepEqual((await readdir(hostDir)).sort(), ['secret'], 'no directory was made on the host');
    for (const [name, holds] of [['crafted-abs', ['sub']], ['crafted-rel', []]] as const) {
      const [vol] = JSON.parse((await ok('volume', 'inspect', name)).stdout) as { Mountpoint: string }[];
      assert.deepEqual(await readdir(vol?.Mountpoint ?? '/nonexistent'), holds, `${name} holds nothing of the host`);
      await ok('volume', 'rm', name);
    }
    await ok('rmi', 'crafted:1');
  });

  it("an image's VOLUME becomes an anonymous volume, filled from the image, unless a mount covers it", async () => {
    const imported = await box.importImage(work, 'withvol:1', async (rootfs) => {
      await mkdir(join(rootfs, 'data'));
      await writeFile(join(rootfs, 'data', 'seed'), 'from the image\n');
    }, { changes: ['VOLUME /data'] });
    assert.equal(imported.code, 0, imported.stderr);
    const before = new Set((await ok('volume', 'ls', '-q')).stdout.split('\n').filter(Boolean));

    await ok('run', '--name', 'iv', 'withvol:1', '/bin/sh', '-c', 'cat /data/seed; echo more > /data/more');
    const [doc] = JSON.parse((await ok('inspect', 'iv')).stdout) as { Mounts: { Type: string; Name: string; Destination: string; Source: string }[] }[];
    const mount = doc?.Mounts.find((m) => m.Destination === '/data');
    assert.equal(mount?.Type, 'volume');
    assert.match(mount?.Name ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual((await readdir(mount?.Source ?? '/nonexistent')).sort(), ['more', 'seed'], 'copied up, then written');
    await ok('rm', '-v', 'iv');
    assert.deepEqual((await ok('volume', 'ls', '-q')).stdout.split('\n').filter((v) => v && !before.has(v)), []);

    const covered = await ok('run', '--rm', '--tmpfs', '/data', 'withvol:1', '/bin/sh', '-c', 'ls -A /data | wc -l');
    assert.equal(covered.stdout.trim(), '0', 'a --tmpfs on the path replaces the image volume');
    await ok('rmi', 'withvol:1');
  });

  it('leaves no mount in the host namespace and no volume of a removed --rm container', async () => {
    assert.deepEqual(await hostMountsNaming(box.root), []);
    const anon = (await ok('volume', 'ls', '-q')).stdout.split('\n').filter((v) => /^[0-9a-f]{64}$/.test(v));
    assert.deepEqual(anon, []);
  });
});
