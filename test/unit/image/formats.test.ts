import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import {
  hostPlatform,
  layerCompression,
  parseImageConfig,
  parseManifest,
  parseSaveManifest,
  platformScore,
  selectPlatform,
  type Descriptor,
} from '../../../src/image/formats.js';
import { classifyName } from '../../../src/image/layers.js';
import { isInsecureHost, parseChallenge } from '../../../src/image/registry.js';
import { MinictrError } from '../../../src/base/errors.js';

const D = (n: number): string => `sha256:${String(n).repeat(64).slice(0, 64)}`;

function entry(architecture: string, variant?: string, os = 'linux'): Descriptor {
  return {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: D(architecture.length + (variant?.length ?? 0)),
    size: 100,
    platform: variant ? { os, architecture, variant } : { os, architecture },
  };
}

describe('manifest selection by platform', () => {
  const index: Descriptor[] = [
    entry('amd64'),
    entry('arm', 'v6'),
    entry('arm', 'v7'),
    entry('arm64', 'v8'),
    entry('386'),
    entry('ppc64le'),
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D(9), size: 10, platform: { os: 'unknown', architecture: 'unknown' } },
  ];

  it('maps Node\'s process.arch to OCI platforms', () => {
    assert.deepEqual(hostPlatform('x64'), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(hostPlatform('arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
    assert.deepEqual(hostPlatform('arm', '7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
    assert.deepEqual(hostPlatform('ia32'), { os: 'linux', architecture: '386' });
    assert.deepEqual(hostPlatform('ppc64'), { os: 'linux', architecture: 'ppc64le' });
  });

  it('picks the exact match, skipping attestation entries (unknown/unknown)', () => {
    assert.deepEqual(selectPlatform(index, { os: 'linux', architecture: 'amd64' }).platform, { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(selectPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v7' }).platform?.variant, 'v7');
    assert.deepEqual(selectPlatform(index, { os: 'linux', architecture: 'arm64', variant: 'v8' }).platform?.architecture, 'arm64');
  });

  it('takes arm64 without a variant, and an older arm variant when that is all there is', () => {
    const noVariant = [entry('amd64'), entry('arm64')];
    assert.equal(selectPlatform(noVariant, { os: 'linux', architecture: 'arm64', variant: 'v8' }).platform?.architecture, 'arm64');
    const onlyV6 = [entry('arm', 'v6')];
    assert.equal(selectPlatform(onlyV6, { os: 'linux', architecture: 'arm', variant: 'v7' }).platform?.variant, 'v6');
    assert.equal(platformScore({ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm', variant: 'v6' }), -1, 'a v6 host cannot run v7');
    assert.equal(platformScore({ os: 'windows', architecture: 'amd64' }, { os: 'linux', architecture: 'amd64' }), -1);
  });

  it('fails as Docker does when nothing fits', () => {
    assert.throws(
      () => selectPlatform([entry('amd64'), entry('arm64', 'v8')], { os: 'linux', architecture: 's390x' }),
      (err: unknown) => err instanceof MinictrError && err.message === 'no matching manifest for linux/s390x in the manifest list entries',
    );
  });

  it('takes the one entry of an index that names no platform', () => {
    const lone = [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D(1), size: 1 }];
    assert.equal(selectPlatform(lone, { os: 'linux', architecture: 'amd64' }).digest, D(1));
  });
});

describe('manifests, configs, docker save manifest.json (literal documents)', () => {
  it('reads a Docker v2 manifest list and an OCI manifest', () => {
    const list = parseManifest(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
        manifests: [{ mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: D(1), size: 527, platform: { architecture: 'amd64', os: 'linux' } }],
      }),
      'list',
    );
    assert.equal(list.kind, 'index');
    assert.equal(list.kind === 'index' && list.manifests[0]?.platform?.architecture, 'amd64');
    const m = parseManifest(
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D(2), size: 1469 },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D(3), size: 3623807 }],
      }),
      'm',
      'application/vnd.oci.image.manifest.v1+json; charset=utf-8',
    );
    assert.equal(m.kind, 'manifest');
    assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json', 'media type from the Content-Type when the document has none');
    assert.equal(m.kind === 'manifest' && m.layers[0]?.size, 3623807);
  });

  it('refuses schema 1, bad digests and documents that are not manifests', () => {
    assert.throws(() => parseManifest('{"schemaVersion":1,"fsLayers":[]}', 'old'), /schema 1 is deprecated and not supported/);
    assert.throws(() => parseManifest(JSON.stringify({ config: { digest: 'md5:abc', size: 1 }, layers: [] }), 'x'), /unsupported or malformed digest "md5:abc"/);
    assert.throws(() => parseManifest(JSON.stringify({ config: { digest: D(1) }, layers: [] }), 'x'), /has no valid size/);
    assert.throws(() => parseManifest('{"hello":1}', 'x'), /not an image manifest or index/);
    assert.throws(() => parseManifest('not json', 'x'), /x: not valid JSON/);
  });

  it('reads the config fields run uses, and diff_ids', () => {
    const parsed = parseImageConfig(
      JSON.stringify({
        architecture: 'arm64',
        variant: 'v8',
        os: 'linux',
        created: '2024-01-27T00:30:48.743965523Z',
        config: {
          User: '1000:1000',
          ExposedPorts: { '80/tcp': {}, '443/tcp': {} },
          Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'NGINX_VERSION=1.25.3'],
          Entrypoint: ['/docker-entrypoint.sh'],
          Cmd: ['nginx', '-g', 'daemon off;'],
          WorkingDir: '',
          Labels: { maintainer: 'x' },
          StopSignal: 'SIGQUIT',
        },
        rootfs: { type: 'layers', diff_ids: [D(4), D(5)] },
      }),
      'cfg',
    );
    assert.deepEqual(parsed.config, {
      Cmd: ['nginx', '-g', 'daemon off;'],
      Entrypoint: ['/docker-entrypoint.sh'],
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'NGINX_VERSION=1.25.3'],
      WorkingDir: '',
      User: '1000:1000',
      ExposedPorts: { '80/tcp': {}, '443/tcp': {} },
    });
    assert.deepEqual(parsed.diffIds, [D(4), D(5)]);
    assert.equal(parsed.architecture, 'arm64');
    assert.equal(parsed.variant, 'v8');
    const bare = parseImageConfig('{"rootfs":{"type":"layers","diff_ids":[]},"config":{"Cmd":null,"Entrypoint":null}}', 'bare');
    assert.deepEqual(bare.config, { Cmd: [], Entrypoint: [], Env: [], WorkingDir: '', User: '' });
    assert.throws(() => parseImageConfig('{"config":{}}', 'cfg'), /no rootfs\.diff_ids: not an image config/);
  });

  it('reads docker save manifest.json, with RepoTags null for untagged images', () => {
    const entries = parseSaveManifest(
      JSON.stringify([
        {
          Config: 'a0b1c2.json',
          RepoTags: ['busybox:latest', 'localhost:5000/bb:1'],
          Layers: ['1a2b/layer.tar', '3c4d/layer.tar'],
        },
        { Config: 'blobs/sha256/ff', RepoTags: null, Layers: ['blobs/sha256/ee'] },
      ]),
    );
    assert.deepEqual(entries, [
      { config: 'a0b1c2.json', repoTags: ['busybox:latest', 'localhost:5000/bb:1'], layers: ['1a2b/layer.tar', '3c4d/layer.tar'] },
      { config: 'blobs/sha256/ff', repoTags: [], layers: ['blobs/sha256/ee'] },
    ]);
    assert.throws(() => parseSaveManifest('[]'), /not a docker save manifest/);
    assert.throws(() => parseSaveManifest('[{"RepoTags":[]}]'), /entry 0 has no Config/);
    assert.throws(() => parseSaveManifest('[{"Config":"c.json"}]'), /entry 0 has no Layers list/);
  });

  it('knows the layer media types', () => {
    assert.equal(layerCompression('application/vnd.docker.image.rootfs.diff.tar.gzip'), 'gzip');
    assert.equal(layerCompression('application/vnd.oci.image.layer.v1.tar+zstd'), 'zstd');
    assert.equal(layerCompression('application/vnd.oci.image.layer.v1.tar'), '');
    assert.equal(layerCompression('application/vnd.in-toto+json'), undefined);
  });
});

describe('whiteout names', () => {
  it('classifies whiteouts, opaque markers and aufs metadata', () => {
    assert.deepEqual(classifyName('.wh.passwd'), { kind: 'whiteout', name: 'passwd' });
    assert.deepEqual(classifyName('.wh..hidden'), { kind: 'whiteout', name: '.hidden' });
    assert.deepEqual(classifyName('.wh..wh..opq'), { kind: 'opaque' });
    assert.deepEqual(classifyName('.wh..wh.plnk'), { kind: 'meta' });
    assert.deepEqual(classifyName('passwd'), { kind: 'content' });
    assert.deepEqual(classifyName('a.wh.b'), { kind: 'content' });
  });

  it('refuses whiteouts that name no file (., .., empty)', () => {
    for (const name of ['.wh.', '.wh..', '.wh...']) assert.throws(() => classifyName(name), /whiteout for/, name);
  });
});

describe('registry auth challenges and plain-http hosts', () => {
  it('parses WWW-Authenticate as Docker Hub and distribution send it', () => {
    assert.deepEqual(
      parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"'),
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } },
    );
    assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
    assert.deepEqual(
      parseChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull",error="insufficient_scope"')?.params['error'],
      'insufficient_scope',
    );
    assert.deepEqual(parseChallenge('Bearer realm=https://x/token, service=x')?.params, { realm: 'https://x/token', service: 'x' });
    assert.deepEqual(parseChallenge('Bearer realm="a \\"quoted\\" realm"')?.params, { realm: 'a "quoted" realm' });
  });

  it('allows plain http only to loopback and named hosts', () => {
    assert.equal(isInsecureHost('localhost:5000'), true);
    assert.equal(isInsecureHost('127.0.0.1:41234'), true);
    assert.equal(isInsecureHost('127.1.2.3'), true);
    assert.equal(isInsecureHost('[::1]:5000'), true);
    assert.equal(isInsecureHost('registry-1.docker.io'), false);
    assert.equal(isInsecureHost('10.0.0.5:5000'), false);
    assert.equal(isInsecureHost('10.0.0.5:5000', ['10.0.0.5:5000']), true);
    assert.equal(isInsecureHost('myreg.lan:5000', ['myreg.lan']), true);
    assert.equal(isInsecureHost('localhost.evil.com'), false);
  });
});
