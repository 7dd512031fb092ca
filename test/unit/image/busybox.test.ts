import { after, before, describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { lstat, readFile, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HostRunner, type Runner, type RunOptions, type RunResult } from '../../../src/exec/runner.js';
import type { Argv } from '../../../src/base/plan.js';
import { MinictrError } from '../../../src/base/errors.js';
import { ImageStore } from '../../../src/image/store.js';
import { findStaticBusybox } from '../../../src/image/busybox.js';
import { parseElf, readElf } from '../../../src/image/elf.js';
import { readImageIndex } from '../../../src/state/images.js';
import { tempRoot, type TempRoot } from './fixtures.js';

/** The real runner, counting `busybox --list` calls (one per build). */
class CountingRunner extends HostRunner implements Runner {
  lists = 0;
  override run(argv: Argv, options?: RunOptions): Promise<RunResult> {
    if (argv[1] === '--list') this.lists++;
    return super.run(argv, options);
  }
}

describe('ELF check', () => {
  it('sees the host busybox as static and ls as dynamic', async () => {
    const host = await findStaticBusybox();
    assert.equal(parseElf(host.binary).interpreter, undefined);
    const ls = readElf('/bin/ls');
    assert.match(ls.interpreter ?? '', /ld-linux|ld\.so|ld-musl/);
  });

  it('refuses non-ELF bytes', () => {
    assert.throws(() => parseElf(Buffer.from('#!/bin/sh\necho hi\n'.padEnd(64))), /not an ELF executable/);
  });
});

describe('the default busybox image', () => {
  let t: TempRoot;
  let runner: CountingRunner;
  let images: ImageStore;

  before(async () => {
    t = await tempRoot();
    runner = new CountingRunner();
    images = new ImageStore(t.store, { runner });
  });
  after(() => t.cleanup());

  it('is built on first resolve, with applets, /etc and exact modes', async () => {
    const img = await images.resolve('busybox');
    assert.match(img.id, /^[0-9a-f]{64}$/);
    assert.deepEqual(img.repoTags, ['busybox:latest']);
    assert.deepEqual(img.config.Cmd, ['sh']);
    assert.deepEqual(img.config.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    assert.equal(img.config.WorkingDir, '/');
    const rootfs = images.rootfsOf(img);
    assert.equal(rootfs, t.store.paths.imageRootfs(img.id));
    for (const applet of ['sh', 'ls', 'ps', 'ip', 'ping', 'wget', 'nc', 'httpd', 'hostname', 'cat', 'sleep']) {
      assert.equal(await readlink(join(rootfs, 'bin', applet)), 'busybox', applet);
    }
    const bin = join(rootfs, 'bin', 'busybox');
    assert.equal((await stat(bin)).mode & 0o7777, 0o755);
    assert.equal(readElf(bin).interpreter, undefined, 'the copied busybox is static');
    assert.match(await readFile(join(rootfs, 'etc/passwd'), 'utf8'), /^root:x:0:0:/m);
    assert.match(await readFile(join(rootfs, 'etc/hosts'), 'utf8'), /^127\.0\.0\.1\s+localhost$/m);
    assert.doesNotMatch(await readFile(join(rootfs, 'etc/resolv.conf'), 'utf8'), /^\s*nameserver/m);
    assert.equal((await stat(join(rootfs, 'tmp'))).mode & 0o7777, 0o1777);
    assert.equal((await stat(join(rootfs, 'root'))).mode & 0o7777, 0o700);
    for (const dir of ['dev', 'proc', 'sys', 'etc', 'home', 'var/www', 'usr/bin', 'usr/sbin', 'sbin', 'var/tmp', 'run']) {
      assert.ok((await lstat(join(rootfs, dir))).isDirectory(), dir);
    }
    assert.ok(img.size > 500_000 && img.size < 10_000_000, `size ${img.size}`);
    assert.equal(runner.lists, 1);
    assert.deepEqual(await readdir(t.store.paths.imageTmp), [], 'no scratch left');
  });

  it('is reused, not rebuilt, under every name for it', async () => {
    const first = await images.resolve('busybox:latest');
    for (const ref of ['busybox', 'library/busybox', 'docker.io/library/busybox:latest', `sha256:${first.id}`, first.id, first.id.slice(0, 12)]) {
      assert.equal((await images.resolve(ref)).id, first.id, ref);
    }
    assert.equal(runner.lists, 1);
    assert.equal((await images.list()).length, 1);
  });

  it('is rebuilt into the same id after rmi', async () => {
    const before = await images.resolve('busybox');
    assert.deepEqual(await images.remove('busybox', async () => []), ['Untagged: busybox:latest', `Deleted: sha256:${before.id}`]);
    await assert.rejects(stat(t.store.paths.imageDir(before.id)), { code: 'ENOENT' });
    const again = await images.resolve('busybox');
    assert.equal(again.id, before.id);
    assert.equal(runner.lists, 2);
  });

  it('unknown images fail with one line and exit 125', async () => {
    await assert.rejects(images.resolve('nope'), (err: unknown) => {
      assert.ok(err instanceof MinictrError);
      assert.equal(err.code, 'E_NO_SUCH_IMAGE');
      assert.equal(err.exitCode, 125);
      assert.equal(
        err.message,
        "Unable to find image 'nope:latest' locally; pull it (minictr pull nope), load it (minictr load -i FILE) or import a rootfs (minictr import FILE nope)",
      );
      return true;
    });
    await assert.rejects(images.resolve('busybox:1.36'), /Unable to find image 'busybox:1\.36' locally/);
    await assert.rejects(images.resolve('Nope'), { code: 'E_BAD_REFERENCE' });
  });
});

describe('building busybox concurrently', () => {
  it('builds once when many resolve at the same time', async () => {
    const t = await tempRoot();
    try {
      const runner = new CountingRunner();
      const stores = Array.from({ length: 4 }, () => new ImageStore(t.store, { runner }));
      const ids = await Promise.all(stores.map((s) => s.resolve('busybox')));
      assert.equal(new Set(ids.map((i) => i.id)).size, 1);
      assert.equal(runner.lists, 1);
      assert.equal((await readImageIndex(t.store.paths)).length, 1);
      assert.equal((await readdir(join(t.store.paths.images, 'store'))).length, 1);
    } finally {
      await t.cleanup();
    }
  });
});

describe('a busybox that cannot be used', () => {
  it('refuses a dynamically linked one, naming the package to install', async () => {
    const t = await tempRoot();
    try {
      const images = new ImageStore(t.store, { busyboxCandidates: ['/nonexistent/busybox', '/bin/ls'] });
      await assert.rejects(images.resolve('busybox'), (err: unknown) => {
        assert.ok(err instanceof MinictrError);
        assert.equal(err.code, 'E_BUSYBOX_DYNAMIC');
        assert.match(err.message, /\/bin\/ls is dynamically linked .*apt-get install busybox-static$/);
        return true;
      });
      assert.deepEqual(await readImageIndex(t.store.paths), []);
    } finally {
      await t.cleanup();
    }
  });

  it('prefers a static one later in the list, and says so when there is none', async () => {
    assert.equal((await findStaticBusybox(['/bin/ls', '/bin/busybox'])).path, '/bin/busybox');
    await assert.rejects(findStaticBusybox(['/nonexistent/busybox']), { code: 'E_NO_BUSYBOX' });
  });
});
