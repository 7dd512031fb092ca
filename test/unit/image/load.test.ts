import { after, afterEach, before, describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { MinictrError } from '../../../src/base/errors.js';
import { ImageStore } from '../../../src/image/store.js';
import { blobPath } from '../../../src/image/blobs.js';
import { hostPlatform } from '../../../src/image/formats.js';
import { readImageIndex } from '../../../src/state/images.js';
import { makeTar, tempRoot, type TempRoot } from './fixtures.js';
import {
  checkTree,
  SAMPLE_EXPECT,
  SAMPLE_IMAGE_CONFIG,
  SAMPLE_CONFIG,
  SAMPLE_LAYERS,
  buildImage,
  dockerSaveLegacy,
  dockerSaveV25,
  hex,
  ociLayout,
  tarFiles,
  writeFiles,
  type BuiltImage,
} from './oci-fixtures.js';

const IS_ROOT = process.getuid?.() === 0;

describe('load', () => {
  let t: TempRoot;
  let images: ImageStore;
  let work: string;
  let sample: BuiltImage;

  before(async () => {
    t = await tempRoot();
    images = new ImageStore(t.store);
    work = await mkdtemp(join(tmpdir(), 'minictr-load-work-'));
    sample = buildImage({ layers: SAMPLE_LAYERS, config: SAMPLE_CONFIG });
  });
  after(async () => {
    await t.cleanup();
    await rm(work, { recursive: true, force: true });
  });
  afterEach(async () => {
    assert.deepEqual(await readdir(t.store.paths.imageTmp).catch(() => []), [], 'no scratch left');
  });

  async function file(name: string, bytes: Buffer): Promise<string> {
    const path = join(work, name);
    await writeFile(path, bytes);
    return path;
  }

  async function checkSample(tag: string): Promise<void> {
    const img = await images.resolve(tag);
    assert.equal(img.id, hex(sample.configDigest), 'the id is the config digest, as in Docker');
    assert.deepEqual(img.config, SAMPLE_IMAGE_CONFIG);
    assert.equal(img.created, '2024-05-01T12:00:00.000Z'.replace('.000', ''));
    assert.equal(img.architecture, 'amd64');
    const rootfs = images.rootfsOf(img);
    await checkTree(rootfs, SAMPLE_EXPECT);
    const h1 = await stat(join(rootfs, 'bin/h1'));
    assert.equal((await stat(join(rootfs, 'bin/h2'))).ino, h1.ino, 'hard link kept');
    assert.equal(h1.mode & 0o7777, 0o750);
    if (IS_ROOT) {
      assert.equal((await stat(join(rootfs, 'keep'))).uid, 1000, 'a directory entry in a later layer sets its owner');
      assert.equal((await stat(join(rootfs, 'bin/tool'))).uid, 0, 'the replaced file has the new owner');
    }
    assert.equal((await stat(join(rootfs, 'usr'))).mode & 0o7777, 0o755);
    for (const l of sample.layers) assert.ok((await stat(blobPath(t.store.paths, l.digest))).isFile(), 'layer blob kept');
    assert.ok((await stat(blobPath(t.store.paths, sample.configDigest))).isFile(), 'config blob kept');
  }

  it('loads an OCI layout directory: layers in order, whiteouts, links, modes, config', async () => {
    const dir = join(work, 'layout');
    await writeFiles(dir, ociLayout([{ image: sample, refName: 'sample:1' }]));
    assert.deepEqual(await images.load(dir), ['Loaded image: sample:1']);
    await checkSample('sample:1');
  });

  it('loads an OCI layout tar (plain and gzip); loading the same image again only tags it', async () => {
    const tar = tarFiles(ociLayout([{ image: sample, fullName: 'docker.io/library/sample:2', refName: '2' }]));
    assert.deepEqual(await images.load(await file('layout.tar', tar)), ['Loaded image: sample:2']);
    await checkSample('sample:2');
    const gz = tarFiles(ociLayout([{ image: sample, refName: 'localhost:5000/sample:gz' }]));
    assert.deepEqual(await images.load(await file('layout.tgz', gzipSync(gz))), ['Loaded image: localhost:5000/sample:gz']);
    const all = await readImageIndex(t.store.paths);
    const mine = all.filter((i) => i.id === hex(sample.configDigest));
    assert.equal(mine.length, 1);
    assert.deepEqual(mine[0]?.repoTags.sort(), ['localhost:5000/sample:gz', 'sample:1', 'sample:2']);
  });

  it('loads a classic docker save archive with two images sharing a layer (linked in the archive)', async () => {
    const other = buildImage({ layers: [SAMPLE_LAYERS[0] ?? [], [{ name: 'other', content: 'other' }]], config: { Cmd: ['sh'] }, gzip: false });
    const legacy = buildImage({ layers: SAMPLE_LAYERS, config: SAMPLE_CONFIG, gzip: false });
    const tar = tarFiles(dockerSaveLegacy([{ image: legacy, repoTags: ['sample:legacy'] }, { image: other, repoTags: ['other:1', 'other:2'] }], { linkSharedLayers: true }));
    assert.deepEqual(await images.load(await file('legacy.tar', tar)), ['Loaded image: sample:legacy', 'Loaded image: other:1', 'Loaded image: other:2']);
    const img = await images.resolve('sample:legacy');
    assert.equal(img.id, hex(legacy.configDigest));
    await checkTree(images.rootfsOf(img), SAMPLE_EXPECT);
    const o = await images.resolve('other:2');
    assert.equal(await readFile(join(images.rootfsOf(o), 'other'), 'utf8'), 'other');
    assert.equal(await readFile(join(images.rootfsOf(o), 'etc/group'), 'utf8'), 'root:x:0:\n');
    assert.deepEqual(o.config.Cmd, ['sh']);
  });

  it('loads Docker 25+ docker save (OCI layout plus manifest.json)', async () => {
    const plain = buildImage({ layers: SAMPLE_LAYERS, config: SAMPLE_CONFIG, gzip: false });
    const tar = tarFiles(dockerSaveV25([{ image: plain, repoTags: ['sample:v25'] }]));
    assert.deepEqual(await images.load(await file('v25.tar', tar)), ['Loaded image: sample:v25']);
    await checkTree(images.rootfsOf(await images.resolve('sample:v25')), SAMPLE_EXPECT);
  });

  it('loads from stdin, and an untagged image by id', async () => {
    const tiny = buildImage({ layers: [[{ name: 'hello', content: 'hi' }]] });
    const tar = tarFiles(ociLayout([{ image: tiny }]));
    const fromStdin = new ImageStore(t.store, { stdin: Readable.from([tar.subarray(0, 700), tar.subarray(700)]) });
    assert.deepEqual(await fromStdin.load('-'), [`Loaded image ID: ${tiny.configDigest}`]);
    assert.deepEqual((await images.resolve(tiny.configDigest)).repoTags, []);
  });

  it('picks the host platform from a multi-platform index', async () => {
    const want = hostPlatform();
    const mine = buildImage({ layers: [[{ name: 'arch', content: want.architecture }]], architecture: want.architecture, ...(want.variant ? { variant: want.variant } : {}) });
    const foreign = buildImage({ layers: [[{ name: 'arch', content: 'mips' }]], architecture: 'mips64le' });
    const dir = join(work, 'multi');
    await writeFiles(dir, ociLayout([{ index: [foreign, mine], refName: 'multi:1' }]));
    assert.deepEqual(await images.load(dir), ['Loaded image: multi:1']);
    const img = await images.resolve('multi:1');
    assert.equal(img.id, hex(mine.configDigest));
    assert.equal(await readFile(join(images.rootfsOf(img), 'arch'), 'utf8'), want.architecture);
    const only = join(work, 'only-foreign');
    await writeFiles(only, ociLayout([{ index: [foreign], refName: 'multi:2' }]));
    await assert.rejects(images.load(only), new RegExp(`no matching manifest for linux/${want.architecture}`));
  });

  it('says when a tag moves from another image, as Docker does', async () => {
    const a = buildImage({ layers: [[{ name: 'a', content: 'a' }]] });
    const b = buildImage({ layers: [[{ name: 'b', content: 'b' }]] });
    await images.load(await file('a.tar', tarFiles(dockerSaveLegacy([{ image: a, repoTags: ['moving:1'] }]))));
    assert.deepEqual(await images.load(await file('b.tar', tarFiles(dockerSaveLegacy([{ image: b, repoTags: ['moving:1'] }])))), [
      `The image moving:1 already exists, renaming the old one with ID ${a.configDigest} to empty string`,
      'Loaded image: moving:1',
    ]);
  });

  describe('bad archives: a clear error, no image, nothing outside, no scratch', () => {
    let outside: string;
    let indexBefore: string;

    before(async () => {
      outside = await mkdtemp(join(tmpdir(), 'minictr-outside-'));
    });
    after(() => rm(outside, { recursive: true, force: true }));

    async function refused(source: string, pattern: RegExp, code?: string): Promise<void> {
      indexBefore = JSON.stringify(await readImageIndex(t.store.paths));
      await assert.rejects(images.load(source), (err: unknown) => {
        assert.ok(err instanceof MinictrError, String(err));
        assert.match(err.message, pattern);
        if (code !== undefined) assert.equal(err.code, code);
        return true;
      });
      assert.equal(JSON.stringify(await readImageIndex(t.store.paths)), indexBefore, 'index unchanged');
      assert.deepEqual(await readdir(outside), [], 'nothing written outside');
    }

    it('a truncated archive', async () => {
      const tar = tarFiles(ociLayout([{ image: sample, refName: 'cut:1' }]));
      await refused(await file('cut.tar', tar.subarray(0, Math.floor(tar.length / 2))), /cut\.tar is truncated/);
    });

    it('a rootfs tarball, not an image', async () => {
      await refused(await file('rootfs.tar', makeTar([{ name: 'etc/passwd', content: 'x' }])), /rootfs\.tar is not an image archive: it has neither manifest\.json \(docker save\) nor index\.json.*minictr import/);
    });

    it('a text file', async () => {
      await refused(await file('notes.txt', Buffer.from('hello\n'.repeat(200))), /notes\.txt is not a tar archive/, 'E_BAD_ARCHIVE');
    });

    it('a missing file', async () => {
      await refused(join(work, 'nope.tar'), /open .*nope\.tar: no such file or directory/, 'E_NO_SUCH_FILE');
    });

    it('a layer blob that does not match its digest', async () => {
      const files = ociLayout([{ image: sample, refName: 'corrupt:1' }]);
      const name = `blobs/sha256/${hex(sample.layers[1]?.digest ?? '')}`;
      const blob = files.get(name) as Buffer;
      files.set(name, Buffer.concat([blob.subarray(0, blob.length - 1), Buffer.from([blob[blob.length - 1]! ^ 1])]));
      await refused(await file('corrupt.tar', tarFiles(files)), /layer 2 \(sha256:[0-9a-f]{64}\): content does not match its digest/, 'E_DIGEST_MISMATCH');
    });

    it('a docker save layer that does not match the config diff_ids', async () => {
      const plain = buildImage({ layers: [[{ name: 'diff', content: 'a' }]], gzip: false });
      const files = dockerSaveLegacy([{ image: plain, repoTags: ['diff:1'] }]);
      const layerName = [...files.keys()].find((k) => k.endsWith('layer.tar')) ?? '';
      files.set(layerName, makeTar([{ name: 'diff', content: 'b' }]));
      await refused(await file('diff.tar', tarFiles(files)), /uncompressed content has sha256:[0-9a-f]+, but the image config says/, 'E_DIGEST_MISMATCH');
    });

    it('a manifest.json naming a layer that is not there', async () => {
      const files = dockerSaveLegacy([{ image: sample, repoTags: ['gone:1'] }]);
      for (const k of [...files.keys()]) if (k.endsWith('layer.tar')) files.delete(k);
      await refused(await file('gone.tar', tarFiles(files)), /"[0-9a-f]{64}\/layer\.tar" is not in the archive/);
    });

    it('a layer with a ../ path (security)', async () => {
      const evil = buildImage({ layers: [[{ name: 'ok', content: 'ok' }], [{ name: `../../../../../../../..${outside}/evil`, content: 'x' }]] });
      await refused(await file('evil1.tar', tarFiles(ociLayout([{ image: evil, refName: 'evil:1' }]))), /layer 2 .*was refused: .*'\.\.'/);
    });

    it('a layer writing through its own symlink to the outside (security)', async () => {
      const evil = buildImage({ layers: [[{ name: 'link', type: 'symlink', linkname: outside }, { name: 'link/pwned', content: 'x' }]] });
      await refused(await file('evil2.tar', tarFiles(ociLayout([{ image: evil, refName: 'evil:2' }]))), /was refused/);
    });

    it('a layer writing through a lower layer\'s absolute symlink lands inside the rootfs, never outside (security)', async () => {
      const img = buildImage({ layers: [[{ name: 'link', type: 'symlink', linkname: outside }], [{ name: 'link/pwned', content: 'x' }]] });
      await images.load(await file('abs-link.tar', tarFiles(ociLayout([{ image: img, refName: 'abslink:1' }]))));
      assert.deepEqual(await readdir(outside), [], 'nothing written outside');
      const rootfs = images.rootfsOf(await images.resolve('abslink:1'));
      assert.equal(await readFile(join(rootfs, outside, 'pwned'), 'utf8').catch(() => readFile(join(rootfs, 'link/pwned'), 'utf8')), 'x');
    });

    it('a whiteout of ".." or a whiteout through a lower symlink deletes nothing outside (security)', async () => {
      const victimDir = await mkdtemp(join(tmpdir(), 'minictr-victim-'));
      await writeFile(join(victimDir, 'victim'), 'v');
      try {
        const dotdot = buildImage({ layers: [[{ name: 'a/', type: 'dir' }], [{ name: 'a/.wh...', content: '' }]] });
        await refused(await file('wh-dotdot.tar', tarFiles(ociLayout([{ image: dotdot, refName: 'evil:3' }]))), /whiteout for "\.\."/);
        const through = buildImage({ layers: [[{ name: 'up', type: 'symlink', linkname: victimDir }], [{ name: 'up/.wh.victim', content: '' }]] });
        await images.load(await file('wh-through.tar', tarFiles(ociLayout([{ image: through, refName: 'evil:4' }]))));
        assert.equal(await readFile(join(victimDir, 'victim'), 'utf8'), 'v', 'the host file survives');
      } finally {
        await rm(victimDir, { recursive: true, force: true });
      }
    });
  });
});
