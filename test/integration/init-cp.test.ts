// --init (tini as PID 1, as Docker's docker-init) and `cp` in both directions, on running and
// stopped containers, with no way out of the container's root through its symlinks.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, isRoot } from './sandbox.js';

describe('--init and cp', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  const mc = (...args: string[]) => box.minictr(args);
  let work = '';

  before(async () => {
    await box.setup();
    work = await mkdtemp(join(tmpdir(), 'minictr-initcp-'));
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

  it('--init: PID 1 is docker-init (tini, read-only), the command its child; inspect says HostConfig.Init', async () => {
    const r = await ok('run', '--rm', '--init', '--network', 'none', 'busybox', 'sh', '-c',
      'cat /proc/1/comm; cat /proc/$$/status | grep ^PPid; echo x > /sbin/docker-init || echo refused');
    assert.match(r.stdout, /^docker-init\nPPid:\t1\nrefused\n$/);
    await ok('create', '--name', 'withinit', '--init', 'busybox', 'true');
    await ok('create', '--name', 'noinit', 'busybox', 'true');
    assert.equal((await ok('inspect', '-f', '{{json .HostConfig.Init}}', 'withinit')).stdout, 'true\n');
    assert.equal((await ok('inspect', '-f', '{{json .HostConfig.Init}}', 'noinit')).stdout, 'null\n', 'absent, as Docker omits it');
    await ok('rm', 'withinit', 'noinit');
  });

  it('stop: with --init SIGTERM reaches the command at once (143); without, PID 1 ignores it and -t 1 ends in SIGKILL (137)', async () => {
    await ok('run', '-d', '--name', 'term-init', '--init', '--network', 'none', 'busybox', 'sh', '-c', 'sleep 300');
    await ok('run', '-d', '--name', 'term-bare', '--network', 'none', 'busybox', 'sh', '-c', 'sleep 300');
    let t = Date.now();
    await ok('stop', '-t', '5', 'term-init');
    const withInit = Date.now() - t;
    t = Date.now();
    await ok('stop', '-t', '1', 'term-bare');
    const bare = Date.now() - t;
    assert.equal((await ok('inspect', '-f', '{{.State.ExitCode}}', 'term-init')).stdout, '143\n');
    assert.equal((await ok('inspect', '-f', '{{.State.ExitCode}}', 'term-bare')).stdout, '137\n');
    assert.ok(withInit < 2_000, `tini forwarded SIGTERM at once (${withInit} ms)`);
    assert.ok(bare >= 1_000, `the bare container waited out its grace period (${bare} ms)`);
    await ok('rm', 'term-init', 'term-bare');
  });

  it('zombies: an orphan is reaped under --init; under a PID 1 that never waits it stays a zombie', async () => {
    // The orphaned sleep is re-parented to PID 1: here `sleep 30` itself (exec), or tini.
    const script = '(sleep 0.1 &); exec sleep 30';
    await ok('run', '-d', '--name', 'z-init', '--init', '--network', 'none', 'busybox', 'sh', '-c', script);
    await ok('run', '-d', '--name', 'z-bare', '--network', 'none', 'busybox', 'sh', '-c', script);
    await new Promise((r) => setTimeout(r, 800));
    const zombies = async (name: string): Promise<number> =>
      Number((await ok('exec', name, 'sh', '-c', 'ps -o stat | grep -c "^Z" || true')).stdout.trim());
    assert.equal(await zombies('z-init'), 0, 'tini reaped the orphan');
    assert.equal(await zombies('z-bare'), 1, 'without an init the orphan stays a zombie');
    await ok('rm', '-f', 'z-init', 'z-bare');
  });

  it('cp out of a running and a stopped container, to a directory, a new name and a tar stream: owners, modes and links kept', async () => {
    await ok('run', '-d', '--name', 'cpsrc', '--network', 'none', 'busybox', 'sh', '-c',
      'mkdir -p /d/sub && echo hi > /d/sub/f && chown 1234:56 /d/sub/f && chmod 4750 /d/sub/f && ln -s /etc/passwd /d/link && touch /ready; sleep 300');
    for (let i = 0; i < 100 && (await mc('exec', 'cpsrc', 'test', '-e', '/ready')).code !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    for (const state of ['running', 'stopped']) {
      if (state === 'stopped') await ok('stop', '-t', '0', 'cpsrc');
      const into = join(work, `out-${state}`);
      await mkdir(into);
      await ok('cp', 'cpsrc:/d', into);
      const f = await stat(join(into, 'd', 'sub', 'f'));
      assert.equal(f.uid, 1234, `${state}: owner kept`);
      assert.equal(f.gid, 56);
      assert.equal(f.mode & 0o7777, 0o4750, `${state}: mode kept, setuid included`);
      assert.equal(await readlink(join(into, 'd', 'link')), '/etc/passwd', `${state}: a symlink stays a symlink`);
      await ok('cp', 'cpsrc:/d/sub/f', join(into, 'renamed'));
      assert.equal(await readFile(join(into, 'renamed'), 'utf8'), 'hi\n');
      const listing = await mc('cp', 'cpsrc:/d/sub', '-');
      assert.equal(listing.code, 0, listing.stderr);
      assert.match(listing.stdout, /sub\/f\0/, `${state}: a tar stream on stdout`);
      const missing = await mc('cp', 'cpsrc:/nope', into);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /Could not find the file \/nope in container cpsrc/);
    }
    await ok('rm', 'cpsrc');
  });

  it('cp into a running and a stopped container, from a file, a directory and a tar stream on stdin', async () => {
    const src = join(work, 'in-src');
    await mkdir(join(src, 'tree'), { recursive: true });
    await writeFile(join(src, 'tree', 'a'), 'A\n');
    await chmod(join(src, 'tree', 'a'), 0o640);
    execFileSync('chown', ['4321:65', join(src, 'tree', 'a')]);
    await writeFile(join(src, 'file'), 'F\n');
    execFileSync('tar', ['-C', src, '-cf', join(src, 'stream.tar'), 'file']);
    await ok('create', '--name', 'cpdst', '--network', 'none', 'busybox', 'sleep', '300');
    await ok('cp', join(src, 'tree'), 'cpdst:/');
    await ok('cp', join(src, 'file'), 'cpdst:/renamed');
    await ok('start', 'cpdst');
    await ok('cp', join(src, 'file'), 'cpdst:/tree/');
    const fromStdin = await box.minictr(['cp', '-', 'cpdst:/tmp'], { input: (await readFile(join(src, 'stream.tar'))).toString('latin1') });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    const seen = await ok('exec', 'cpdst', 'sh', '-c', 'stat -c "%u:%g %a %n" /tree/a; cat /renamed /tree/file /tmp/file');
    assert.equal(seen.stdout, '4321:65 640 /tree/a\nF\nF\nF\n');
    await ok('rm', '-f', 'cpdst');
  });

  it('cp never leaves the container root through its symlinks, absolute or relative, out or in', async () => {
    const hostDir = join(work, 'host-secret');
    await mkdir(hostDir);
    await writeFile(join(hostDir, 'secret'), 'host only\n');
    const imported = await box.importImage(work, 'crafted:1', async (rootfs) => {
      await symlink(hostDir, join(rootfs, 'abs'));
      await symlink(`../../../../../../../..${hostDir}`, join(rootfs, 'rel'));
      await symlink(join(hostDir, 'secret'), join(rootfs, 'secretlink'));
    }, { applets: ['sh', 'sleep'] });
    assert.equal(imported.code, 0, imported.stderr);
    const evil = join(work, 'evil');
    await writeFile(evil, 'written\n');
    const stream = join(work, 'evil.tar');
    execFileSync('tar', ['-C', work, '-cf', stream, '--transform', 's,^evil$,abs/evil,', 'evil']);
    await ok('create', '--name', 'crafted', '--network', 'none', 'crafted:1', '/bin/sleep', '300');
    for (const state of ['stopped', 'running']) {
      if (state === 'running') await ok('start', 'crafted');
      for (const path of ['/abs/secret', '/rel/secret', `${hostDir}/secret`, '/../../..' + hostDir + '/secret']) {
        const out = await mc('cp', `crafted:${path}`, '-');
        assert.equal(out.code, 1, `${state}: ${path} is not read`);
        assert.doesNotMatch(out.stdout, /host only/);
      }
      // A link copied out is the link, not the host file it names.
      const link = await mc('cp', 'crafted:/secretlink', '-');
      assert.doesNotMatch(link.stdout, /host only/);
      for (const dest of ['/abs/', '/abs/evil', '/rel/evil', '/abs']) {
        await mc('cp', evil, `crafted:${dest}`);
      }
      await box.minictr(['cp', '-', 'crafted:/'], { input: (await readFile(stream)).toString('latin1') });
      assert.deepEqual(await readdir(hostDir), ['secret'], `${state}: nothing was written on the host`);
    }
    await ok('rm', '-f', 'crafted');
    await ok('rmi', 'crafted:1');
  });
});
