import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { parseImageRef, parseNamed, parseRemote, registryHost, registryKey, shortName, splitRepoTag } from '../../../src/image/reference.js';
import { MinictrError } from '../../../src/base/errors.js';

const ID = 'a'.repeat(64);

describe('image references', () => {
  it('normalises the ways of naming busybox to busybox:latest', () => {
    for (const ref of [
      'busybox',
      'busybox:latest',
      'library/busybox',
      'library/busybox:latest',
      'docker.io/busybox',
      'docker.io/library/busybox:latest',
      'index.docker.io/library/busybox',
    ]) {
      assert.equal(parseNamed(ref).familiar, 'busybox:latest', ref);
    }
  });

  it('keeps user repositories, registries and tags', () => {
    assert.deepEqual(parseNamed('myuser/app:v1.2'), { repository: 'myuser/app', tag: 'v1.2', familiar: 'myuser/app:v1.2' });
    assert.equal(parseNamed('docker.io/myuser/app').familiar, 'myuser/app:latest');
    assert.equal(parseNamed('localhost:5000/app').familiar, 'localhost:5000/app:latest');
    assert.equal(parseNamed('registry.example.com/a/b:c_d-e').familiar, 'registry.example.com/a/b:c_d-e');
    assert.equal(parseNamed('my-app__x.y').familiar, 'my-app__x.y:latest');
  });

  it('refuses bad references with E_BAD_REFERENCE', () => {
    for (const ref of ['Busybox', 'busy box', '', 'busybox:', 'busybox:-x', ':tag', 'a//b', '-abc', 'abc-', 'a/B', 'busybox@sha256:abc', `x:${'t'.repeat(129)}`, ID]) {
      assert.throws(
        () => parseNamed(ref),
        (err: unknown) => err instanceof MinictrError && err.code === 'E_BAD_REFERENCE' && err.message.startsWith('invalid reference format'),
        JSON.stringify(ref),
      );
    }
    assert.throws(() => parseNamed('Busybox'), /repository name \(library\/Busybox\) must be lowercase/);
  });

  it('reads ids, sha256: ids and short hex (name or id prefix)', () => {
    assert.deepEqual(parseImageRef(ID), { given: ID, idPrefix: ID });
    assert.deepEqual(parseImageRef(`sha256:${ID}`), { given: `sha256:${ID}`, idPrefix: ID });
    assert.deepEqual(parseImageRef('sha256:abc'), { given: 'sha256:abc', idPrefix: 'abc' });
    const short = parseImageRef('3f2a');
    assert.equal(short.idPrefix, '3f2a');
    assert.equal(short.named?.familiar, '3f2a:latest');
    assert.equal(parseImageRef('busybox').idPrefix, undefined);
    assert.throws(() => parseImageRef('sha256:XYZ'), /invalid reference format/);
  });

  it('splits and shortens familiar names', () => {
    assert.deepEqual(splitRepoTag('localhost:5000/app:v1'), ['localhost:5000/app', 'v1']);
    assert.equal(shortName('nope:latest'), 'nope');
    assert.equal(shortName('nope:v1'), 'nope:v1');
  });

  it('reads pull references: Docker Hub naming, registries by host, digests', () => {
    assert.deepEqual(parseRemote('alpine'), {
      domain: 'docker.io',
      path: 'library/alpine',
      repository: 'alpine',
      tag: 'latest',
      familiar: 'alpine:latest',
      canonical: 'docker.io/library/alpine:latest',
    });
    assert.equal(registryHost('docker.io'), 'registry-1.docker.io');
    assert.equal(parseRemote('bitnami/redis:7.2').canonical, 'docker.io/bitnami/redis:7.2');
    assert.equal(parseRemote('bitnami/redis:7.2').path, 'bitnami/redis');
    const local = parseRemote('localhost:5000/app:1');
    assert.deepEqual([local.domain, local.path, local.repository, local.tag, local.familiar], ['localhost:5000', 'app', 'localhost:5000/app', '1', 'localhost:5000/app:1']);
    assert.equal(registryHost(local.domain), 'localhost:5000');
    const ghcr = parseRemote('ghcr.io/owner/tools/cli:v2');
    assert.deepEqual([ghcr.domain, ghcr.path], ['ghcr.io', 'owner/tools/cli']);
    const byDigest = parseRemote(`alpine@sha256:${ID}`);
    assert.deepEqual([byDigest.tag, byDigest.digest, byDigest.familiar, byDigest.canonical], [undefined, `sha256:${ID}`, `alpine@sha256:${ID}`, `docker.io/library/alpine@sha256:${ID}`]);
    const both = parseRemote(`127.0.0.1:5000/app:1@sha256:${ID}`);
    assert.deepEqual([both.tag, both.digest, both.familiar], ['1', `sha256:${ID}`, `127.0.0.1:5000/app@sha256:${ID}`], 'the digest wins');
    for (const bad of ['alpine@sha256:abc', 'alpine@md5:0123', 'Alpine', 'a@']) {
      assert.throws(() => parseRemote(bad), /invalid reference format/, bad);
    }
  });

  it('finds images by repo digest, and keys credentials by registry', () => {
    assert.deepEqual(parseImageRef(`localhost:5000/app@sha256:${ID}`), { given: `localhost:5000/app@sha256:${ID}`, repoDigest: `localhost:5000/app@sha256:${ID}` });
    assert.equal(registryKey(undefined), 'docker.io');
    assert.equal(registryKey('https://index.docker.io/v1/'), 'docker.io');
    assert.equal(registryKey('localhost:5000'), 'localhost:5000');
    assert.equal(registryKey('http://127.0.0.1:5000/'), '127.0.0.1:5000');
  });
});
