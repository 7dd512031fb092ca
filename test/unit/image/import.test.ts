import { after, afterEach, before, describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { MinictrError } from '../../../src/base/errors.js';
import { ImageStore } from '../../../src/image/store.js';
import { isTarHeader, spoolToFile } from '../../../src/image/archive.js';
import { readImageIndex } from '../../../src/state/images.js';
import { onSkippedDevices } from '../../../src/image/unpack-notes.js';
import { makeTar, makeTarGz, tempRoot, type TarEntry, type TempRoot } from './fixtures.js';

const IS_ROOT = process.getuid?.() === 0;

const ROOTFS_ENTRIES: TarEntry[] = [
  { name: 'bin/', type: 'dir' },
  { name: 'bin/tool', content: '#!/bin/sh\necho tool\n', mode: 0o4755, uid: 1000, gid: 1000 },
  { name: 'bin/tool-link', type: 'hardlink', linkname: 'bin/tool' },
  { name: 'bin/sh', type: 'symlink', linkname: 'tool' },
  { name: 'bin/abs', type: 'symlink', linkname: '/bin/tool', uid: 1000, gid: 1000 },
  { name: 'bin/up', type: 'symlink', linkname: '../../../../etc/passwd' },
  { name: 'etc/', type: 'dir' },
  { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
  { name: 'tmp/', type: 'dir', mode: 0o1777 },
  { name: 'secret/', type: 'dir', mode: 0o500 },
  { name: 'secret/key', content: 'k', mode: 0o400 },
];

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('import', () => {
  let t: TempRoot;
  let images: ImageStore;
  let work: string;
  let outside: string;

  before(async () => {
    t = await tempRoot();
    images = new ImageStore(t.store);
    work = await mkdtemp(join(tmpdir(), 'minictr-import-work-'));
  });
  after(async () => {
    await t.cleanup();
    await rm(work, { recursive: true, force: true });
  });
  afterEach(async () => {
    // Whatever happened, no half-made image may be left in scratch.
    assert.deepEqual(await readdir(t.store.paths.imageTmp).catch(() => []), []);
  });

  async function archive(name: string, bytes: Buffer): Promise<string> {
    const path = join(work, name);
    await writeFile(path, bytes);
    return path;
  }

  async function checkRootfs(img: Awaited<ReturnType<ImageStore['importTarball']>>): Promise<void> {
    const rootfs = images.rootfsOf(img);
    const tool = await stat(join(rootfs, 'bin/tool'));
    assert.equal(tool.mode & 0o7777, 0o4755, 'setuid mode survives the chown');
    if (IS_ROOT) assert.equal(tool.uid, 1000, 'owner kept');
    const link = await stat(join(rootfs, 'bin/tool-link'));
    assert.equal(link.ino, tool.ino, 'hard link kept');
    assert.equal(await readlink(join(rootfs, 'bin/sh')), 'tool', 'symlink kept');
    assert.equal(await readlink(join(rootfs, 'bin/abs')), '/bin/tool', 'absolute symlink target kept as written');
    assert.equal(await readlink(join(rootfs, 'bin/up')), '../../../../etc/passwd', 'climbing target kept (it means / inside)');
    if (IS_ROOT) assert.equal((await lstat(join(rootfs, 'bin/abs'))).uid, 1000, 'symlink owner kept');
    assert.deepEqual((await readdir(rootfs, { recursive: true })).filter((p) => p.includes('pending')), []);
    assert.equal((await stat(join(rootfs, 'tmp'))).mode & 0o7777, 0o1777);
    assert.equal((await stat(join(rootfs, 'secret'))).mode & 0o7777, 0o500);
    assert.equal((await stat(join(rootfs, 'secret/key'))).mode & 0o7777, 0o400);
    assert.equal(await readFile(join(rootfs, 'etc/passwd'), 'utf8'), 'root:x:0:0:root:/root:/bin/sh\n');
    assert.equal(img.size, '#!/bin/sh\necho tool\n'.length + 'root:x:0:0:root:/root:/bin/sh\n'.length + 1 + 'tool'.length + '/bin/tool'.length + '../../../../etc/passwd'.length);
  }

  it('imports a plain tarball: id = sha256 of the bytes, modes, owners and links kept', async () => {
    const bytes = makeTar(ROOTFS_ENTRIES);
    const img = await images.importTarball(await archive('plain.tar', bytes), 'mybase:1.0');
    assert.equal(img.id, sha256(bytes));
    assert.deepEqual(img.repoTags, ['mybase:1.0']);
    assert.deepEqual(img.config, { Cmd: [], Entrypoint: [], Env: [], WorkingDir: '', User: '' });
    await checkRootfs(img);
    assert.equal((await images.resolve('mybase:1.0')).id, img.id);
  });

  it('imports a gzip tarball the same way', async () => {
    const bytes = makeTarGz(ROOTFS_ENTRIES);
    const img = await images.importTarball(await archive('rootfs.tgz', bytes), 'docker.io/library/gzbase');
    assert.equal(img.id, sha256(bytes));
    assert.deepEqual(img.repoTags, ['gzbase:latest']);
    await checkRootfs(img);
  });

  it('imports the same bytes twice as one image, and moves a tag to a new image', async () => {
    const first = await images.importTarball(await archive('a.tar', makeTar([{ name: 'a', content: 'a' }])), 'moving');
    const again = await images.importTarball(join(work, 'a.tar'), 'moving:other');
    assert.equal(again.id, first.id);
    assert.deepEqual((await images.resolve('moving:other')).repoTags, ['moving:latest', 'moving:other']);
    const second = await images.importTarball(await archive('b.tar', makeTar([{ name: 'b', content: 'b' }])), 'moving');
    assert.notEqual(second.id, first.id);
    assert.equal((await images.resolve('moving')).id, second.id);
    assert.deepEqual((await images.resolve(first.id)).repoTags, ['moving:other']);
    const all = await readImageIndex(t.store.paths);
    assert.equal(all.filter((i) => i.id === first.id).length, 1);
  });

  it('imports from stdin (-), spooling it to scratch first', async () => {
    const bytes = makeTarGz(ROOTFS_ENTRIES.slice(0, 3));
    const fromStdin = new ImageStore(t.store, { stdin: Readable.from([bytes.subarray(0, 10), bytes.subarray(10)]) });
    const img = await fromStdin.importTarball('-', 'fromstdin');
    assert.equal(img.id, sha256(bytes));
    assert.equal((await stat(join(images.rootfsOf(img), 'bin/tool'))).mode & 0o7777, 0o4755);
    const bad = new ImageStore(t.store, { stdin: Readable.from([Buffer.from('not a tar')]) });
    await assert.rejects(bad.importTarball('-', 'fromstdin'), /stdin is not a tar archive/);
    assert.equal((await images.resolve('fromstdin')).id, img.id);
  });

  it('applies --change instructions to the config (and they change the id)', async () => {
    const path = await archive('c.tar', makeTar([{ name: 'c', content: 'c' }]));
    const img = await images.importTarball(path, 'withcmd', ['CMD ["/bin/sh", "-c", "echo hi"]', 'ENV A=1 B=2', 'WORKDIR /srv', 'EXPOSE 80']);
    assert.deepEqual(img.config, {
      Cmd: ['/bin/sh', '-c', 'echo hi'],
      Entrypoint: [],
      Env: ['A=1', 'B=2'],
      WorkingDir: '/srv',
      User: '',
      ExposedPorts: { '80/tcp': {} },
    });
    assert.notEqual(img.id, sha256(await readFile(path)));
    await assert.rejects(images.importTarball(path, 'x', ['RUN rm -rf /']), { code: 'E_BAD_CHANGE' });
  });

  it('takes an absolute path entry as relative to the rootfs', async () => {
    outside = await mkdtemp(join(tmpdir(), 'minictr-outside-'));
    try {
      const img = await images.importTarball(
        await archive('abs.tar', makeTar([{ name: `${outside}/abs.txt`, content: 'x' }])),
        'abs',
      );
      await assert.rejects(lstat(join(outside, 'abs.txt')), { code: 'ENOENT' });
      assert.equal(await readFile(join(images.rootfsOf(img), outside, 'abs.txt'), 'utf8'), 'x');
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  describe('hostile archives are refused, nothing is written outside, no image is recorded', () => {
    let indexBefore: string;

    before(async () => {
      outside = await mkdtemp(join(tmpdir(), 'minictr-outside-'));
      await mkdir(join(work, 'sub'), { recursive: true });
    });
    after(() => rm(outside, { recursive: true, force: true }));

    async function refused(name: string, entries: TarEntry[], pattern: RegExp): Promise<void> {
      indexBefore = JSON.stringify(await readImageIndex(t.store.paths));
      const path = await archive(name, makeTar(entries));
      await assert.rejects(images.importTarball(path, 'evil'), (err: unknown) => {
        assert.ok(err instanceof MinictrError, String(err));
        assert.equal(err.code, 'E_BAD_ARCHIVE');
        assert.match(err.message, pattern);
        return true;
      });
      assert.equal(JSON.stringify(await readImageIndex(t.store.paths)), indexBefore);
      assert.deepEqual(await readdir(outside), [], 'nothing written outside');
      await assert.rejects(images.resolve('evil'), { code: 'E_NO_SUCH_IMAGE' });
    }

    it('a ../ entry', async () => {
      await refused('dotdot.tar', [{ name: 'ok', content: 'ok' }, { name: `../../../../../../..${outside}/evil`, content: 'x' }], /path contains '\.\.'/);
      await assert.rejects(lstat(join(work, '..', 'evil')), { code: 'ENOENT' });
    });

    it('a symlink to outside, then a file written through it', async () => {
      await refused(
        'through-symlink.tar',
        [
          { name: 'link', type: 'symlink', linkname: outside },
          { name: 'link/pwned', content: 'x' },
        ],
        /pwned/,
      );
    });

    it('a relative symlink climbing out, then a file written through it', async () => {
      await refused(
        'climb.tar',
        [
          { name: 'up', type: 'symlink', linkname: `../../../../../../../../..${outside}` },
          { name: 'up/pwned', content: 'x' },
        ],
        /escapes|symbolic link|pwned/,
      );
    });

    it('a hard link to a file outside', async () => {
      await writeFile(join(work, 'victim'), 'victim');
      await refused('hardlink.tar', [{ name: 'h', type: 'hardlink', linkname: '../../../../../../../../../etc/passwd' }], /'\.\.'/);
    });
  });

  it('refuses a file that is not a tar archive, leaving no index entry and no scratch', async () => {
    const before = JSON.stringify(await readImageIndex(t.store.paths));
    const path = await archive('notes.txt', Buffer.from('just some text, not a tarball\n'.repeat(40)));
    await assert.rejects(images.importTarball(path, 'notes'), (err: unknown) => {
      assert.ok(err instanceof MinictrError);
      assert.equal(err.code, 'E_BAD_ARCHIVE');
      assert.equal(err.message, `${path} is not a tar archive (plain or gzip-compressed)`);
      return true;
    });
    await assert.rejects(images.importTarball(await archive('tiny', Buffer.from('x')), 'notes'), { code: 'E_BAD_ARCHIVE' });
    await assert.rejects(images.importTarball(await archive('empty', Buffer.alloc(0)), 'notes'), { code: 'E_BAD_ARCHIVE' });
    await assert.rejects(
      images.importTarball(await archive('x.tar.xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2])), 'notes'),
      /is xz-compressed, which minictr cannot read; decompress it first \(xz -d\)/,
    );
    await assert.rejects(
      images.importTarball(await archive('text.gz', makeTarGz([]).subarray(0, 0)), 'notes'),
      { code: 'E_BAD_ARCHIVE' },
    );
    await assert.rejects(images.importTarball(await archive('e.tar', makeTar([])), 'notes'), /is an empty tar archive; an image needs at least one file/);
    await assert.rejects(images.importTarball(await archive('e.tgz', makeTarGz([])), 'notes'), /is an empty tar archive \(gzip-compressed\)/);
    await assert.rejects(
      images.importTarball(await archive('cut.tar', makeTar([{ name: 'a', content: 'a'.repeat(2000) }]).subarray(0, 1000)), 'notes'),
      /could not be unpacked: TAR_BAD_ARCHIVE: Truncated input/,
    );
    await assert.rejects(images.importTarball(join(work, 'missing.tar'), 'notes'), {
      code: 'E_NO_SUCH_FILE',
      message: `open ${join(work, 'missing.tar')}: no such file or directory`,
    });
    await assert.rejects(images.importTarball(await archive('ok.tar', makeTar([])), 'Bad Name'), { code: 'E_BAD_REFERENCE' });
    assert.equal(JSON.stringify(await readImageIndex(t.store.paths)), before);
  });

  it('skips device nodes, and tells whoever listens (rootless minictr says so once)', async () => {
    const heard: [string, string[]][] = [];
    onSkippedDevices((label, paths) => heard.push([label, paths]));
    try {
      const tar = await archive('devices.tar', makeTar([{ name: 'dev/', type: 'dir' }, { name: 'dev/null', type: 'chardev', mode: 0o666 }, { name: 'ok', content: 'ok' }]));
      const img = await images.importTarball(tar, 'devices:latest');
      const rootfs = t.store.paths.imageRootfs(img.id);
      assert.equal(await readFile(join(rootfs, 'ok'), 'utf8'), 'ok');
      await assert.rejects(lstat(join(rootfs, 'dev/null')), { code: 'ENOENT' });
      assert.deepEqual(heard, [[tar, ['/dev/null']]]);
    } finally {
      onSkippedDevices(undefined);
    }
  });

  it('recognises tar headers and spools a stream while hashing it', async () => {
    const tar = makeTar([{ name: 'x', content: 'x' }]);
    assert.equal(isTarHeader(tar), true);
    assert.equal(isTarHeader(Buffer.alloc(512)), false);
    assert.equal(isTarHeader(Buffer.alloc(512, 0x41)), false);
    const dest = join(work, 'spooled');
    assert.equal(await spoolToFile(Readable.from([tar.subarray(0, 100), tar.subarray(100)]), dest), sha256(tar));
    assert.deepEqual(await readFile(dest), tar);
  });
});
