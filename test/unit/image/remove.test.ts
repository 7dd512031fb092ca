import { after, before, describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MinictrError } from '../../../src/base/errors.js';
import { ImageStore } from '../../../src/image/store.js';
import { readImageIndex } from '../../../src/state/images.js';
import { makeTar, tempRoot, type TempRoot } from './fixtures.js';

const unused = async (): Promise<string[]> => [];

describe('rmi', () => {
  let t: TempRoot;
  let images: ImageStore;
  let n = 0;

  before(async () => {
    t = await tempRoot();
    images = new ImageStore(t.store);
  });
  after(() => t.cleanup());

  /** Import a fresh one-file image under `tag`. */
  async function image(tag: string): Promise<string> {
    const path = join(t.dir, `img${++n}.tar`);
    await writeFile(path, makeTar([{ name: `file${n}`, content: String(n) }]));
    return (await images.importTarball(path, tag)).id;
  }

  it('refuses while a container uses the image, and keeps it', async () => {
    const id = await image('busy');
    const users = async (imageId: string): Promise<string[]> => (imageId === id ? ['3f2a1b0c9d8e'] : []);
    await assert.rejects(images.remove('busy', users), (err: unknown) => {
      assert.ok(err instanceof MinictrError);
      assert.equal(err.code, 'E_IMAGE_IN_USE');
      assert.equal(err.exitCode, 1);
      assert.equal(
        err.message,
        'conflict: unable to remove image busy:latest: image is being used by container 3f2a1b0c9d8e; remove it first (minictr rm)',
      );
      return true;
    });
    await assert.rejects(images.remove(id.slice(0, 6), users, { force: true }), { code: 'E_IMAGE_IN_USE' });
    assert.equal((await images.resolve('busy')).id, id);
    assert.ok((await stat(images.rootfsOf(await images.resolve('busy')))).isDirectory());
  });

  it('only untags when the image has another tag', async () => {
    const id = await image('two:a');
    const path = join(t.dir, `img${n}.tar`);
    await images.importTarball(path, 'two:b');
    const users = async (): Promise<string[]> => ['in-use-but-still-tagged'];
    assert.deepEqual(await images.remove('two:a', users), ['Untagged: two:a']);
    const left = await images.resolve('two:b');
    assert.equal(left.id, id);
    assert.deepEqual(left.repoTags, ['two:b']);
    await assert.rejects(images.resolve('two:a'), { code: 'E_NO_SUCH_IMAGE' });
    assert.ok((await stat(images.rootfsOf(left))).isDirectory());
  });

  it('deletes by tag: the record and the directory go', async () => {
    const id = await image('gone');
    assert.deepEqual(await images.remove('gone', unused), ['Untagged: gone:latest', `Deleted: sha256:${id}`]);
    assert.equal((await readImageIndex(t.store.paths)).some((i) => i.id === id), false);
    await assert.rejects(stat(t.store.paths.imageDir(id)), { code: 'ENOENT' });
  });

  it('deletes by id (every tag of one repository) or by sha256:id', async () => {
    const id = await image('byid:1');
    await images.importTarball(join(t.dir, `img${n}.tar`), 'byid:2');
    assert.deepEqual(await images.remove(id.slice(0, 8), unused), ['Untagged: byid:1', 'Untagged: byid:2', `Deleted: sha256:${id}`]);
    const other = await image('sha');
    assert.deepEqual(await images.remove(`sha256:${other}`, unused), ['Untagged: sha:latest', `Deleted: sha256:${other}`]);
  });

  it('needs -f to delete by id an image tagged in several repositories', async () => {
    const id = await image('repo1');
    await images.importTarball(join(t.dir, `img${n}.tar`), 'repo2');
    await assert.rejects(images.remove(id, unused), /conflict: unable to delete [0-9a-f]{12} \(must be forced\) - image is referenced in multiple repositories/);
    assert.deepEqual(await images.remove(id, unused, { force: true }), ['Untagged: repo1:latest', 'Untagged: repo2:latest', `Deleted: sha256:${id}`]);
  });

  it('deletes a dangling image by id', async () => {
    const id = await image('dangle');
    await image('dangle'); // the tag moves on; the first image is left without tags
    assert.deepEqual((await images.resolve(id)).repoTags, []);
    assert.deepEqual(await images.remove(id, unused), [`Deleted: sha256:${id}`]);
  });

  it('says No such image (exit 1) for unknown images, and never builds busybox', async () => {
    await assert.rejects(images.remove('nope', unused), (err: unknown) => {
      assert.ok(err instanceof MinictrError);
      assert.equal(err.message, 'No such image: nope:latest');
      assert.equal(err.exitCode, 1);
      return true;
    });
    await assert.rejects(images.remove('busybox', unused), { code: 'E_NO_SUCH_IMAGE' });
    assert.equal(await images.find('busybox'), undefined);
  });
});
