// Real images as a user meets them: pulled from a real registry (Debian's docker-registry on
// 127.0.0.1, seeded by skopeo from OCI layouts this test writes), run with their config, saved
// and loaded again, and every way this can go wrong. Containers run inside the sandbox namespaces;
// pulls run beside the registry on the loopback interface only.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findStaticBusybox } from '../../src/image/busybox.js';
import { Sandbox, isRoot, sh, MINICTR_BIN, type Result } from './sandbox.js';
import { AuthProxy, RealRegistry } from './images-registry.js';
import { buildImage, hex, ociLayout, writeFiles, type BuiltImage } from '../unit/image/oci-fixtures.js';
import type { TarEntry } from '../unit/image/fixtures.js';
import { hostPlatform } from '../../src/image/formats.js';

const GREET = '#!/bin/sh\necho "$GREETING from $(pwd) args=$*"\ncat index.html\nls /srv\nls /data\n';

describe('images from registries and archives', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  const registry = new RealRegistry();
  const proxies: AuthProxy[] = [];
  let work = '';
  let base: TarEntry[] = [];
  let app: BuiltImage;
  let appDigest = '';

  /** minictr on the real host's loopback (where the registry is), with the sandbox's state root. */
  const mc = (args: string[], input?: string): Promise<Result> =>
    sh([process.execPath, '--', MINICTR_BIN, '--root', box.root, ...args], input === undefined ? {} : { input });
  /** minictr inside the sandbox: for running containers. */
  const inBox = (...args: string[]): Promise<Result> => box.minictr(args);
  const skopeo = (...args: string[]): Promise<Result> => sh(['skopeo', '--insecure-policy', ...args], { timeoutMs: 120_000 });

  async function push(image: BuiltImage | BuiltImage[], dest: string): Promise<string> {
    const dir = await mkdtemp(join(work, 'layout-'));
    const multi = Array.isArray(image);
    await writeFiles(dir, ociLayout([multi ? { index: image, refName: 'x' } : { image, refName: 'x' }]));
    const r = await skopeo('copy', ...(multi ? ['--all'] : []), '--dest-tls-verify=false', `oci:${dir}:x`, `docker://${registry.host}/${dest}`);
    assert.equal(r.code, 0, r.stderr);
    const inspect = await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/${dest}`);
    assert.equal(inspect.code, 0, inspect.stderr);
    return `sha256:${(await import('node:crypto')).createHash('sha256').update(inspect.stdout).digest('hex')}`;
  }

  async function proxy(options: ConstructorParameters<typeof AuthProxy>[1]): Promise<AuthProxy> {
    const p = new AuthProxy(registry.host, options);
    await p.start();
    proxies.push(p);
    return p;
  }

  before(async () => {
    await box.setup();
    await registry.start();
    work = await mkdtemp(join(tmpdir(), 'minictr-images-it-'));
    const busybox = await findStaticBusybox();
    base = [
      { name: 'bin/', type: 'dir' },
      { name: 'bin/busybox', data: busybox.binary, mode: 0o755 },
      ...['sh', 'cat', 'ls', 'pwd', 'echo', 'id'].map((a): TarEntry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' })),
      { name: 'etc/', type: 'dir' },
      { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
    ];
    app = buildImage({
      layers: [
        base,
        [
          { name: 'srv/', type: 'dir' },
          { name: 'srv/index.html', content: '<h1>hello</h1>\n' },
          { name: 'srv/old.txt', content: 'old' },
          { name: 'data/', type: 'dir' },
          { name: 'data/a', content: 'a' },
        ],
        [
          { name: 'srv/.wh.old.txt', content: '' },
          { name: 'data/', type: 'dir' },
          { name: 'data/.wh..wh..opq', content: '' },
          { name: 'data/b', content: 'b' },
          { name: 'bin/greet', content: GREET, mode: 0o755 },
        ],
      ],
      config: { Entrypoint: ['/bin/greet'], Cmd: ['default-arg'], Env: ['PATH=/bin', 'GREETING=hello world'], WorkingDir: '/srv' },
    });
    appDigest = await push(app, 'team/app:1');
  });

  after(async () => {
    for (const p of proxies) await p.stop();
    await registry.stop();
    await box.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('pulls a multi-layer image and runs it with its Entrypoint, Cmd, Env and WorkingDir', async () => {
    const ref = `${registry.host}/team/app:1`;
    const r = await mc(['pull', ref]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], '1: Pulling from team/app');
    for (const l of app.layers) assert.ok(lines.includes(`${hex(l.digest).slice(0, 12)}: Pull complete`), r.stdout);
    assert.deepEqual(lines.slice(-3), [`Digest: ${appDigest}`, `Status: Downloaded newer image for ${ref}`, ref]);
    const listed = await mc(['images', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}} {{.ID}}']);
    assert.ok(listed.stdout.split('\n').includes(`${registry.host}/team/app 1 ${appDigest} ${hex(app.configDigest).slice(0, 12)}`), listed.stdout);

    const run = await inBox('run', '--rm', '--network', 'none', ref);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'hello world from /srv args=default-arg\n<h1>hello</h1>\nindex.html\nb\n');
    const args = await inBox('run', '--rm', '--network', 'none', ref, 'x', 'y');
    assert.equal(args.stdout.split('\n')[0], 'hello world from /srv args=x y', 'a given command replaces Cmd, not Entrypoint');
  });

  it('runs as the image\'s User (or --user) and publishes its ExposedPorts with -P', async () => {
    const svc = buildImage({
      layers: [[
        ...base.filter((e) => e.name !== 'etc/passwd'),
        { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' },
        { name: 'etc/group', content: 'root:x:0:\napp:x:1000:\n' },
        { name: 'bin/sleep', type: 'symlink', linkname: 'busybox' },
      ]],
      config: { Cmd: ['id'], Env: ['PATH=/bin'], User: 'app', ExposedPorts: { '8080/tcp': {} } },
    });
    await push(svc, 'team/svc:1');
    assert.equal((await mc(['pull', `${registry.host}/team/svc:1`])).code, 0);
    const asImageUser = await inBox('run', '--rm', '--network', 'none', `${registry.host}/team/svc:1`);
    assert.equal(asImageUser.stdout.trim(), 'uid=1000(app) gid=1000(app) groups=1000(app)');
    const asRoot = await inBox('run', '--rm', '--network', 'none', '-u', 'root', `${registry.host}/team/svc:1`);
    assert.match(asRoot.stdout, /^uid=0\(root\) gid=0\(root\)/);
    const published = await inBox('run', '-d', '--name', 'svc', '-P', `${registry.host}/team/svc:1`, 'sleep', '60');
    assert.equal(published.code, 0, published.stderr);
    try {
      assert.match((await inBox('port', 'svc')).stdout, /^8080\/tcp -> 0\.0\.0\.0:\d+$/m);
    } finally {
      await inBox('rm', '-f', 'svc');
    }
  });

  it('shares layers between images ("Already exists") and pulls by digest', async () => {
    const other = buildImage({ layers: [base, [{ name: 'other', content: 'other' }]], config: { Cmd: ['cat', '/other'] } });
    const digest = await push(other, 'team/other:1');
    const r = await mc(['pull', `${registry.host}/team/other@${digest}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`${hex(other.layers[0]?.digest ?? '').slice(0, 12)}: Already exists\n`), r.stdout);
    assert.ok(r.stdout.includes(`${hex(other.layers[1]?.digest ?? '').slice(0, 12)}: Pull complete\n`), r.stdout);
    assert.ok(r.stdout.endsWith(`Status: Downloaded newer image for ${registry.host}/team/other@${digest}\n${registry.host}/team/other@${digest}\n`), r.stdout);
    const run = await inBox('run', '--rm', '--network', 'none', `${registry.host}/team/other@${digest}`);
    assert.equal(run.stdout, 'other');
    const blobs = await readdir(join(box.root, 'images', 'blobs', 'sha256'));
    assert.equal(blobs.filter((b) => b === hex(base.length > 0 ? (app.layers[0]?.digest ?? '') : '')).length, 1, 'the shared layer is stored once');
  });

  it('picks the host platform from a multi-platform image pushed with skopeo --all', async () => {
    const want = hostPlatform();
    const mine = buildImage({ layers: [base, [{ name: 'arch', content: want.architecture }]], architecture: want.architecture, ...(want.variant ? { variant: want.variant } : {}), config: { Cmd: ['cat', '/arch'] } });
    const foreign = buildImage({ layers: [[{ name: 'arch', content: 'foreign' }]], architecture: want.architecture === 'arm64' ? 'amd64' : 'arm64', config: { Cmd: ['cat', '/arch'] } });
    await push([foreign, mine], 'team/multi:1');
    const r = await mc(['pull', `${registry.host}/team/multi:1`]);
    assert.equal(r.code, 0, r.stderr);
    const run = await inBox('run', '--rm', '--network', 'none', `${registry.host}/team/multi:1`);
    assert.equal(run.stdout, want.architecture);
  });

  it('pulls through bearer-token auth (an anonymous token for the repository scope)', async () => {
    const p = await proxy({ auth: 'bearer' });
    const r = await mc(['pull', `${p.host}/team/app:1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`Status: Image is up to date for ${p.host}/team/app:1`) || r.stdout.includes('Status: Downloaded newer image'), r.stdout);
    const token = p.requests.find((q) => q.url.startsWith('/token'));
    assert.equal(token?.url, `/token?service=minictr-test&scope=${encodeURIComponent('repository:team/app:pull')}`);
  });

  it('needs login for a registry with basic auth; keeps the credentials 0600', async () => {
    const p = await proxy({ auth: 'basic', users: { alice: 'correct horse' } });
    const denied = await mc(['pull', `${p.host}/team/app:1`]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /access denied: authentication required; .*minictr login 127\.0\.0\.1:\d+/);
    const wrong = await mc(['login', '-u', 'alice', '--password-stdin', p.host], 'battery staple\n');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /incorrect username or password/);
    const ok = await mc(['login', '-u', 'alice', '--password-stdin', p.host], 'correct horse\n');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'Login Succeeded\n');
    assert.equal((await stat(join(box.root, 'auth.json'))).mode & 0o777, 0o600);
    const pulled = await mc(['pull', `${p.host}/team/app:1`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    const out = await mc(['logout', p.host]);
    assert.equal(out.stdout, `Removing login credentials for ${p.host}\n`);
  });

  it('refuses a corrupted blob: exit 1, no image, no blob, no scratch', async () => {
    const fresh = buildImage({ layers: [base, [{ name: 'fresh', content: 'never seen before' }]] });
    await push(fresh, 'team/fresh:1');
    const bad = fresh.layers[1]?.digest ?? '';
    const p = await proxy({ corrupt: new Set([bad]) });
    const r = await mc(['pull', `${p.host}/team/fresh:1`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`filesystem layer verification failed for digest ${bad}`));
    const listed = await mc(['images', '--format', '{{.Repository}}']);
    assert.ok(!listed.stdout.includes('team/fresh'), listed.stdout);
    assert.ok(!(await readdir(join(box.root, 'images', 'blobs', 'sha256'))).includes(hex(bad)));
    assert.deepEqual(await readdir(join(box.root, 'images', 'tmp')), []);
  });

  it('says clearly when the registry is down or the tag unknown (exit 1)', async () => {
    const p = await proxy({});
    await p.stop();
    const r = await mc(['pull', `${p.host}/team/app:1`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /connect ECONNREFUSED .*cannot reach the registry 127\.0\.0\.1:\d+/);
    const unknown = await mc(['pull', `${registry.host}/team/app:nope`]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, new RegExp(`manifest for ${registry.host}/team/app:nope not found: manifest unknown`));
  });

  it('saves an archive that skopeo reads as docker-archive, and loads it back (file and stdin)', async () => {
    const ref = `${registry.host}/team/app:1`;
    const file = join(work, 'app.tar');
    const saved = await mc(['save', '-o', file, ref]);
    assert.equal(saved.code, 0, saved.stderr);
    const inspect = await skopeo('inspect', `docker-archive:${file}`);
    assert.equal(inspect.code, 0, inspect.stderr);
    const info = JSON.parse(inspect.stdout) as { Layers: string[]; Env: string[] };
    assert.equal(info.Layers.length, 3);
    assert.ok(info.Env.includes('GREETING=hello world'));
    const copied = await skopeo('copy', `docker-archive:${file}`, `oci:${join(work, 'from-save')}:x`);
    assert.equal(copied.code, 0, copied.stderr);

    assert.equal((await mc(['tag', ref, 'app:saved'])).code, 0);
    const busy = await mc(['save', '-o', join(work, 'two.tar'), 'app:saved', 'busybox']);
    assert.equal(busy.code, 0, busy.stderr);
    assert.equal((await mc(['rmi', 'app:saved'])).code, 0);
    const loaded = await mc(['load', '-i', join(work, 'two.tar')]);
    assert.equal(loaded.code, 0, loaded.stderr);
    // busybox:latest moves from the image minictr built to the loaded copy, and Docker says so.
    assert.match(loaded.stdout, /^Loaded image: app:saved\nThe image busybox:latest already exists, renaming the old one with ID sha256:[0-9a-f]{64} to empty string\nLoaded image: busybox:latest\n$/);
    const run = await inBox('run', '--rm', '--network', 'none', 'app:saved');
    assert.equal(run.stdout.split('\n')[0], 'hello world from /srv args=default-arg');

    // skopeo's docker-archive (the classic docker save layout), through stdin.
    const legacy = join(work, 'legacy.tar');
    const made = await skopeo('copy', '--src-tls-verify=false', `docker://${ref}`, `docker-archive:${legacy}:legacy/app:2`);
    assert.equal(made.code, 0, made.stderr);
    const viaStdin = await sh(['sh', '-c', `"${process.execPath}" "${MINICTR_BIN}" --root "${box.root}" load < "${legacy}"`]);
    assert.equal(viaStdin.code, 0, viaStdin.stderr);
    assert.equal(viaStdin.stdout, 'Loaded image: legacy/app:2\n');
    const run2 = await inBox('run', '--rm', '--network', 'none', 'legacy/app:2', 'z');
    assert.equal(run2.stdout.split('\n')[0], 'hello world from /srv args=z');
  });

  it('refuses a truncated archive and a rootfs tarball with exit 1, leaving no image', async () => {
    const file = join(work, 'app.tar');
    const cut = join(work, 'cut.tar');
    await sh(['sh', '-c', `head -c 100000 "${file}" > "${cut}"`]);
    const before = (await mc(['images', '-q', '--no-trunc'])).stdout;
    const r = await mc(['load', '-i', cut]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cut\.tar is truncated/);
    const notImage = await mc(['load', '-i', '/etc/hostname']);
    assert.equal(notImage.code, 1);
    assert.match(notImage.stderr, /is not a tar archive/);
    assert.equal((await mc(['images', '-q', '--no-trunc'])).stdout, before);
    assert.deepEqual(await readdir(join(box.root, 'images', 'tmp')), []);
  });
});
