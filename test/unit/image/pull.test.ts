import { after, afterEach, before, describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { MinictrError } from '../../../src/base/errors.js';
import { ImageStore } from '../../../src/image/store.js';
import { blobDir, blobPath } from '../../../src/image/blobs.js';
import { authFile } from '../../../src/image/auth.js';
import { hostPlatform } from '../../../src/image/formats.js';
import { readImageIndex } from '../../../src/state/images.js';
import { tempRoot, type TempRoot } from './fixtures.js';
import { FakeRegistry } from './fake-registry.js';
import { SAMPLE_CONFIG, SAMPLE_EXPECT, SAMPLE_IMAGE_CONFIG, SAMPLE_LAYERS, buildImage, checkTree, hex, type BuiltImage } from './oci-fixtures.js';

/** Collects what pull prints. */
class Out extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  get lines(): string[] {
    return this.text.split('\n').filter(Boolean);
  }
}

function short(digest: string): string {
  return hex(digest).slice(0, 12);
}

describe('pull from a registry (an in-process fake on 127.0.0.1)', () => {
  let t: TempRoot;
  let images: ImageStore;
  let sample: BuiltImage;
  const registries: FakeRegistry[] = [];

  async function registry(options: ConstructorParameters<typeof FakeRegistry>[0] = {}): Promise<FakeRegistry> {
    const r = new FakeRegistry(options);
    await r.start();
    registries.push(r);
    return r;
  }

  before(async () => {
    t = await tempRoot();
    images = new ImageStore(t.store);
    sample = buildImage({ layers: SAMPLE_LAYERS, config: SAMPLE_CONFIG });
  });
  after(async () => {
    for (const r of registries) await r.stop();
    await t.cleanup();
  });
  afterEach(async () => {
    assert.deepEqual(await readdir(t.store.paths.imageTmp).catch(() => []), [], 'no scratch left');
  });

  it('pulls a multi-layer image by tag: Docker\'s lines, the rootfs, the config, the blobs', async () => {
    const r = await registry();
    r.addImage('team/sample', '1', sample);
    const out = new Out();
    const img = await images.pull(`${r.host}/team/sample:1`, { out });
    const ids = sample.layers.map((l) => short(l.digest));
    assert.equal(out.lines[0], '1: Pulling from team/sample');
    for (const id of ids) {
      const mine = out.lines.filter((l) => l.startsWith(`${id}: `));
      assert.deepEqual(mine, [`${id}: Pulling fs layer`, `${id}: Verifying Checksum`, `${id}: Download complete`, `${id}: Pull complete`]);
    }
    assert.deepEqual(out.lines.slice(-3), [
      `Digest: ${sample.manifestDigest}`,
      `Status: Downloaded newer image for ${r.host}/team/sample:1`,
      `${r.host}/team/sample:1`,
    ]);
    assert.equal(img.id, hex(sample.configDigest));
    assert.deepEqual(img.repoTags, [`${r.host}/team/sample:1`]);
    assert.deepEqual(img.repoDigests, [`${r.host}/team/sample@${sample.manifestDigest}`]);
    assert.deepEqual(img.config, SAMPLE_IMAGE_CONFIG);
    await checkTree(images.rootfsOf(img), SAMPLE_EXPECT);
    for (const l of sample.layers) assert.equal((await readFile(blobPath(t.store.paths, l.digest))).length, l.blob.length);
    // By digest, it is the same image, found locally.
    assert.equal((await images.resolve(`${r.host}/team/sample@${sample.manifestDigest}`)).id, img.id);
    // Again: nothing downloaded.
    const again = new Out();
    await images.pull(`${r.host}/team/sample:1`, { out: again });
    assert.deepEqual(again.lines, [
      '1: Pulling from team/sample',
      `Digest: ${sample.manifestDigest}`,
      `Status: Image is up to date for ${r.host}/team/sample:1`,
      `${r.host}/team/sample:1`,
    ]);
  });

  it('stores a layer shared by two images once, and says "Already exists"', async () => {
    const r = await registry();
    const base = [...(SAMPLE_LAYERS[0] ?? []), { name: 'shared-base', content: 'only these two images have this layer' }];
    const a = buildImage({ layers: [base, [{ name: 'a', content: 'a' }]] });
    const b = buildImage({ layers: [base, [{ name: 'b', content: 'b' }]] });
    r.addImage('shared', 'a', a);
    r.addImage('shared', 'b', b);
    await images.pull(`${r.host}/shared:a`, { out: new Out() });
    const before = r.requests.length;
    const out = new Out();
    await images.pull(`${r.host}/shared:b`, { out });
    assert.ok(out.lines.includes(`${short(b.layers[0]?.digest ?? '')}: Already exists`), out.text);
    const fetched = r.requests.slice(before).filter((q) => q.url.includes('/blobs/')).map((q) => q.url.split('/').pop());
    assert.deepEqual(fetched.sort(), [b.configDigest, b.layers[1]?.digest].sort(), 'the shared layer is not downloaded again');
    const blobs = await readdir(blobDir(t.store.paths));
    assert.equal(blobs.filter((n) => n === hex(a.layers[0]?.digest ?? '')).length, 1);
    // Removing one image keeps the shared blob; removing both removes it.
    const none = async (): Promise<string[]> => [];
    await images.remove(`${r.host}/shared:a`, none);
    assert.ok((await stat(blobPath(t.store.paths, a.layers[0]?.digest ?? ''))).isFile());
    await assert.rejects(stat(blobPath(t.store.paths, a.layers[1]?.digest ?? '')), { code: 'ENOENT' });
    await images.remove(`${r.host}/shared:b`, none);
    await assert.rejects(stat(blobPath(t.store.paths, a.layers[0]?.digest ?? '')), { code: 'ENOENT' });
  });

  it('resolves a multi-platform index to the host platform, and pulls by digest', async () => {
    const r = await registry();
    const want = hostPlatform();
    const mine = buildImage({ layers: [[{ name: 'arch', content: want.architecture }]], architecture: want.architecture, ...(want.variant ? { variant: want.variant } : {}) });
    const other = buildImage({ layers: [[{ name: 'arch', content: 's390x' }]], architecture: want.architecture === 's390x' ? 'ppc64le' : 's390x' });
    const digest = r.addIndex('multi', 'latest', [other, mine]);
    const out = new Out();
    const img = await images.pull(`${r.host}/multi@${digest}`, { out });
    assert.equal(out.lines[0], `${digest}: Pulling from multi`);
    assert.equal(out.lines.at(-2), `Status: Downloaded newer image for ${r.host}/multi@${digest}`);
    assert.equal(img.id, hex(mine.configDigest));
    assert.deepEqual(img.repoTags, [], 'a pull by digest makes no tag');
    assert.deepEqual(img.repoDigests, [`${r.host}/multi@${digest}`], 'the repo digest is the index digest, as in Docker');
    assert.equal(await readFile(join(images.rootfsOf(img), 'arch'), 'utf8'), want.architecture);
    const fetchedOther = r.requests.some((q) => q.url.endsWith(other.configDigest));
    assert.equal(fetchedOther, false, 'the other platform is not downloaded');
    await assert.rejects(images.pull(`${r.host}/multi:latest`, { out: new Out(), platform: { os: 'linux', architecture: 'riscv64' } }), /no matching manifest for linux\/riscv64 in the manifest list entries/);
  });

  it('gets an anonymous bearer token for the repository scope (the Docker Hub flow)', async () => {
    const r = await registry({ auth: 'bearer' });
    r.addImage('library/tokened', 'latest', buildImage({ layers: [[{ name: 't', content: 't' }]] }));
    await images.pull(`${r.host}/library/tokened`, { out: new Out() });
    const tokenRequests = r.requests.filter((q) => q.url.startsWith('/token'));
    assert.ok(tokenRequests.length >= 1);
    assert.equal(tokenRequests[0]?.url, `/token?service=fake-registry&scope=${encodeURIComponent('repository:library/tokened:pull')}`);
    assert.equal(tokenRequests[0]?.authorization, undefined, 'anonymous');
    const blobGets = r.requests.filter((q) => q.url.includes('/blobs/'));
    assert.ok(blobGets.every((q) => q.authorization?.startsWith('Bearer ')), 'blobs fetched with the token');
  });

  it('logs in with basic auth (stored 0600) and pulls with it; wrong or missing credentials fail clearly', async () => {
    const r = await registry({ auth: 'basic', users: { alice: 's3cret' } });
    r.addImage('private', '1', buildImage({ layers: [[{ name: 'p', content: 'p' }]] }));
    await assert.rejects(images.pull(`${r.host}/private:1`, { out: new Out() }), /access denied: authentication required; .*minictr login 127\.0\.0\.1:\d+/);
    await assert.rejects(images.login(r.host, { username: 'alice', password: 'wrong' }), /incorrect username or password/);
    await assert.rejects(stat(authFile(t.store.paths)), { code: 'ENOENT' }, 'nothing stored after a failed login');
    await images.login(r.host, { username: 'alice', password: 's3cret' });
    const st = await stat(authFile(t.store.paths));
    assert.equal(st.mode & 0o777, 0o600);
    const img = await images.pull(`${r.host}/private:1`, { out: new Out() });
    assert.deepEqual(img.repoTags, [`${r.host}/private:1`]);
    assert.deepEqual(await images.logout(r.host), { key: r.host, removed: true });
    assert.deepEqual(await images.logout(r.host), { key: r.host, removed: false });
  });

  it('uses login credentials for the token service too', async () => {
    const r = await registry({ auth: 'bearer', users: { bob: 'pw' } });
    r.addImage('tok', '1', buildImage({ layers: [[{ name: 'q', content: 'q' }]] }));
    await assert.rejects(images.pull(`${r.host}/tok:1`, { out: new Out() }), /token service refused an anonymous token/);
    await images.login(r.host, { username: 'bob', password: 'pw' });
    await images.pull(`${r.host}/tok:1`, { out: new Out() });
    const tokenRequest = r.requests.filter((q) => q.url.startsWith('/token')).at(-1);
    assert.equal(tokenRequest?.authorization, `Basic ${Buffer.from('bob:pw').toString('base64')}`);
  });

  describe('failures leave nothing behind', () => {
    let indexBefore: string;
    let blobsBefore: string[];

    async function failsCleanly(ref: string, pattern: RegExp, code?: string): Promise<void> {
      indexBefore = JSON.stringify(await readImageIndex(t.store.paths));
      blobsBefore = await readdir(blobDir(t.store.paths)).catch(() => []);
      await assert.rejects(images.pull(ref, { out: new Out() }), (err: unknown) => {
        assert.ok(err instanceof MinictrError, String(err));
        assert.match(err.message, pattern);
        if (code) assert.equal(err.code, code);
        return true;
      });
      assert.equal(JSON.stringify(await readImageIndex(t.store.paths)), indexBefore, 'no image recorded');
      assert.deepEqual(await readdir(blobDir(t.store.paths)).catch(() => []), blobsBefore, 'no blob kept');
    }

    it('a corrupted layer blob', async () => {
      const img = buildImage({ layers: [[{ name: 'ok', content: 'ok' }], [{ name: 'bad', content: 'this layer will be corrupted' }]] });
      const r = await registry({ corrupt: new Set([img.layers[1]?.digest ?? '']) });
      r.addImage('corrupt', '1', img);
      await failsCleanly(`${r.host}/corrupt:1`, new RegExp(`filesystem layer verification failed for digest ${img.layers[1]?.digest}`), 'E_DIGEST_MISMATCH');
    });

    it('a corrupted config blob', async () => {
      const img = buildImage({ layers: [[{ name: 'c', content: 'config will be corrupted' }]] });
      const r = await registry({ corrupt: new Set([img.configDigest]) });
      r.addImage('corrupt', '2', img);
      await failsCleanly(`${r.host}/corrupt:2`, /image config: verification failed for digest/, 'E_DIGEST_MISMATCH');
    });

    it('a manifest that does not match the digest asked for', async () => {
      const img = buildImage({ layers: [[{ name: 'm', content: 'm' }]] });
      const r = await registry();
      r.addImage('swap', '1', img);
      const wrong = `sha256:${'0'.repeat(64)}`;
      r.manifests.get('swap')?.set(wrong, [img.manifestBytes, 'application/vnd.oci.image.manifest.v1+json']);
      await failsCleanly(`${r.host}/swap@${wrong}`, /manifest verification failed for digest sha256:0{64}/, 'E_DIGEST_MISMATCH');
    });

    it('an unknown tag', async () => {
      const r = await registry();
      await failsCleanly(`${r.host}/nothing:here`, new RegExp(`manifest for ${r.host}/nothing:here not found: manifest unknown`), 'E_NOT_FOUND');
    });

    it('a registry that is down', async () => {
      const r = await registry();
      const host = r.host;
      await r.stop();
      await failsCleanly(`${host}/app:1`, new RegExp(`Get "http://${host}/v2/app/manifests/1": connect ECONNREFUSED .*cannot reach the registry ${host}`), 'E_REGISTRY_UNREACHABLE');
    });
  });

  it('names Docker Hub images as Docker does, over https with an anonymous token (a recording fetch: no network)', async () => {
    const seen: string[] = [];
    const fakeFetch = (async (input: string | URL | Request) => {
      const url = String(input);
      seen.push(url);
      if (url.startsWith('https://registry-1.docker.io/v2/library/alpine/manifests/latest')) {
        if (seen.filter((u) => u === url).length === 1) {
          return new Response('{}', {
            status: 401,
            headers: { 'WWW-Authenticate': 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"' },
          });
        }
        return new Response('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}', { status: 404 });
      }
      if (url.startsWith('https://auth.docker.io/token')) return new Response('{"token":"t0k"}', { status: 200 });
      return new Response('', { status: 500 });
    }) as typeof fetch;
    await assert.rejects(images.pull('alpine', { out: new Out(), fetch: fakeFetch }), /manifest for alpine:latest not found/);
    assert.deepEqual(seen, [
      'https://registry-1.docker.io/v2/library/alpine/manifests/latest',
      'https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Falpine%3Apull',
      'https://registry-1.docker.io/v2/library/alpine/manifests/latest',
    ]);
    seen.length = 0;
    await assert.rejects(images.pull('registry.example.com:5000/team/app:2', { out: new Out(), fetch: fakeFetch }));
    assert.equal(seen[0], 'https://registry.example.com:5000/v2/team/app/manifests/2', 'https for a non-loopback host');
    seen.length = 0;
    await assert.rejects(images.pull('registry.example.com:5000/team/app:2', { out: new Out(), fetch: fakeFetch, insecureRegistries: ['registry.example.com:5000'] }));
    assert.equal(seen[0], 'http://registry.example.com:5000/v2/team/app/manifests/2', 'http when named insecure');
  });

  it('ensure(): missing pulls only what is not here; never does not pull; busybox is built, not pulled', async () => {
    const r = await registry();
    const img = buildImage({ layers: [[{ name: 'e', content: 'ensure' }]] });
    r.addImage('ens', '1', img);
    const ref = `${r.host}/ens:1`;
    await assert.rejects(images.ensure(ref, 'never'), { code: 'E_NO_SUCH_IMAGE' });
    const out = new Out();
    const got = await images.ensure(ref, 'missing', { out });
    assert.equal(out.lines[0], `Unable to find image '${ref}' locally`);
    assert.equal(got.id, hex(img.configDigest));
    const count = r.requests.length;
    assert.equal((await images.ensure(ref, 'missing', { out: new Out() })).id, got.id);
    assert.equal(r.requests.length, count, 'found locally: no request');
    const always = new Out();
    await images.ensure(ref, 'always', { out: always });
    assert.ok(always.lines.includes(`Status: Image is up to date for ${ref}`));
    assert.ok(r.requests.length > count);
    assert.equal((await images.ensure('busybox', 'missing', { out: new Out() })).repoTags.includes('busybox:latest'), true);
  });
});
