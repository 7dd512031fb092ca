import { after, before, describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeLayer, resolveInRoot } from '../../../src/image/layers.js';

/** Lay out a tree from literal data: path → content, { dir: mode } or { link: target }. */
async function lay(root: string, tree: Record<string, string | { dir: number } | { link: string }>): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const [path, what] of Object.entries(tree)) {
    const abs = join(root, path);
    await mkdir(join(abs, '..'), { recursive: true });
    if (typeof what === 'string') await writeFile(abs, what);
    else if ('dir' in what) {
      await mkdir(abs, { recursive: true });
      await chmod(abs, what.dir);
    } else await symlink(what.link, abs);
  }
}

async function list(root: string): Promise<string[]> {
  return ((await readdir(root, { recursive: true })) as string[]).sort();
}

describe('applying a layer onto a rootfs (whiteouts, opaque directories, replacement)', () => {
  let work: string;
  let n = 0;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'minictr-layers-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  async function apply(
    lower: Record<string, string | { dir: number } | { link: string }>,
    layer: Record<string, string | { dir: number } | { link: string }>,
    explicit: string[] = [],
  ): Promise<string> {
    const root = join(work, `root${++n}`);
    const upper = join(work, `layer${n}`);
    await lay(root, lower);
    await lay(upper, layer);
    await mergeLayer(upper, root, new Set(explicit));
    return root;
  }

  it('a .wh. file deletes the lower file or whole tree, and is not kept', async () => {
    const root = await apply({ 'etc/passwd': 'p', 'etc/group': 'g', 'var/cache/a/b': 'x' }, { 'etc/.wh.group': '', 'var/.wh.cache': '' });
    assert.deepEqual(await list(root), ['etc', 'etc/passwd', 'var']);
  });

  it('an opaque marker hides what lower layers had in the directory, keeping the layer\'s own', async () => {
    const root = await apply({ 'app/old1': '1', 'app/sub/old2': '2', keep: 'k' }, { 'app/.wh..wh..opq': '', 'app/new': 'n' });
    assert.deepEqual(await list(root), ['app', 'app/new', 'keep']);
  });

  it('replaces a file by a directory and a directory by a file; merges directories', async () => {
    const root = await apply(
      { 'a/file-becomes-dir': 'f', 'a/dir-becomes-file/x': 'x', 'a/merged/lower': 'l' },
      { 'a/file-becomes-dir/inside': 'i', 'a/dir-becomes-file': 'now a file', 'a/merged/upper': 'u' },
    );
    assert.deepEqual(await list(root), ['a', 'a/dir-becomes-file', 'a/file-becomes-dir', 'a/file-becomes-dir/inside', 'a/merged', 'a/merged/lower', 'a/merged/upper']);
    assert.equal(await readFile(join(root, 'a/dir-becomes-file'), 'utf8'), 'now a file');
  });

  it('gives a merged directory the layer\'s mode only when the layer has an entry for it', async () => {
    const root = await apply({ 'd1/x': 'x', 'd2/y': 'y' }, { d1: { dir: 0o700 }, 'd1/x2': 'x2', d2: { dir: 0o700 }, 'd2/y2': 'y2' }, ['d1']);
    assert.equal((await stat(join(root, 'd1'))).mode & 0o7777, 0o700);
    assert.equal((await stat(join(root, 'd2'))).mode & 0o7777, 0o755, 'an implied parent leaves the lower mode alone');
  });

  it('writes under a lower symlinked directory where the link leads inside the rootfs (lib -> usr/lib)', async () => {
    const root = await apply({ 'usr/lib/libc.so': 'c', lib: { link: 'usr/lib' } }, { 'lib/libnew.so': 'n' });
    assert.equal(await readlink(join(root, 'lib')), 'usr/lib');
    assert.equal(await readFile(join(root, 'usr/lib/libnew.so'), 'utf8'), 'n');
  });

  it('never follows a lower symlink out of the rootfs, for files or whiteouts', async () => {
    const victim = await mkdtemp(join(tmpdir(), 'minictr-victim-'));
    try {
      await writeFile(join(victim, 'precious'), 'p');
      const root = await apply({ out: { link: victim }, abs: { link: '/' } }, { 'out/.wh.precious': '', 'abs/escaped': 'e' });
      assert.equal(await readFile(join(victim, 'precious'), 'utf8'), 'p');
      await assert.rejects(lstat(join(victim, 'escaped')), { code: 'ENOENT' });
      await assert.rejects(lstat('/escaped'), { code: 'ENOENT' });
      assert.equal(await readFile(join(root, 'escaped'), 'utf8'), 'e', '/ means the rootfs');
    } finally {
      await rm(victim, { recursive: true, force: true });
    }
  });

  it('resolves paths inside the rootfs as the container would', async () => {
    const root = join(work, 'resolve');
    await lay(root, { 'usr/lib/x': 'x', lib: { link: 'usr/lib' }, up: { link: '../../../usr' }, abs: { link: '/usr/lib' }, loop: { link: 'loop' } });
    assert.equal(await resolveInRoot(root, 'lib/x'), 'usr/lib/x');
    assert.equal(await resolveInRoot(root, 'up/lib'), 'usr/lib', '.. stops at the root');
    assert.equal(await resolveInRoot(root, 'abs'), 'usr/lib');
    assert.equal(await resolveInRoot(root, 'loop/x'), undefined);
    assert.equal(await resolveInRoot(root, 'nope/x'), undefined);
  });
});
