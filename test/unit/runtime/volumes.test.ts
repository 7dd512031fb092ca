// Volumes in a temp state root: create/remove/prune as Docker's local driver, and the
// resolution of mount requests (binds through symlinks, missing sources, image VOLUMEs,
// duplicates, --volumes-from). No root needed: nothing is mounted here.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NULL_TIME, type ContainerRecord, type MountPoint } from '../../../src/base/records.js';
import { MinictrError } from '../../../src/base/errors.js';
import { Store } from '../../../src/state/store.js';
import type { RuntimeContext } from '../../../src/runtime/context.js';
import { parseMountRequests } from '../../../src/runtime/mount-specs.js';
import {
  createVolume,
  directorySize,
  inspectVolume,
  listVolumes,
  pruneVolumes,
  releaseVolumes,
  removeVolume,
  removeVolumes,
  resolveMounts,
  volumeDocument,
} from '../../../src/runtime/volumes.js';
import { RecordingRunner } from '../fakes/recording-runner.js';

let dir: string;
let ctx: RuntimeContext;

beforeEach(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'minictr-volumes-')));
  ctx = { store: new Store(join(dir, 'state')), runner: new RecordingRunner() };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function container(id: string, mounts: MountPoint[]): ContainerRecord {
  return {
    schemaVersion: 1, id: id.repeat(64 / id.length), name: `c${id}`, created: '2026-12-01T00:00:00.000Z',
    config: { image: 'busybox', imageId: 'f'.repeat(64), cmd: ['sh'], entrypoint: [], env: [], workdir: '/', hostname: 'h', tty: false, interactive: false },
    hostConfig: { networkMode: 'none', autoRemove: false, portSpecs: [] },
    state: { status: 'exited', pid: 0, pidStartTime: 0, monitorPid: 0, exitCode: 0, startedAt: NULL_TIME, finishedAt: NULL_TIME, error: '' },
    rootfsMode: 'copy', mounts,
  };
}

function volumeMount(name: string, destination: string): MountPoint {
  return { type: 'volume', name, source: `/x/${name}`, destination, readOnly: false, propagation: '', options: '' };
}

function failsWith(code: string, message: string, exitCode = 1): (err: unknown) => boolean {
  return (err) => err instanceof MinictrError && err.code === code && err.message === message && err.exitCode === exitCode;
}

describe('volumes', () => {
  it('creates named and random volumes; an existing name is returned unchanged', async () => {
    const named = await createVolume(ctx, 'data', { team: 'a' });
    assert.equal(named.mountpoint, join(dir, 'state', 'volumes', 'data', '_data'));
    assert.deepEqual(await createVolume(ctx, 'data', { other: 'b' }), named);
    const random = await createVolume(ctx);
    assert.match(random.name, /^[0-9a-f]{64}$/);
    assert.deepEqual((await listVolumes(ctx)).map((v) => v.name).sort(), ['data', random.name].sort());
    assert.deepEqual(await inspectVolume(ctx, 'data'), named);
    await assert.rejects(inspectVolume(ctx, 'nope'), failsWith('E_NO_SUCH_VOLUME', 'no such volume: nope'));
    await assert.rejects(createVolume(ctx, 'a/b'), /includes invalid characters for a local volume name/);
    const doc = volumeDocument(named);
    assert.deepEqual(Object.keys(doc), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    assert.match(String(doc['CreatedAt']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(doc['Scope'], 'local');
  });

  it('refuses to remove a volume a container uses, as Docker (409, exit 1)', async () => {
    await createVolume(ctx, 'data');
    const user = container('a', [volumeMount('data', '/d')]);
    await ctx.store.saveContainer(user);
    await assert.rejects(removeVolume(ctx, 'data', false), failsWith('E_VOLUME_IN_USE', `remove data: volume is in use - [${user.id}]`));
    await assert.rejects(removeVolume(ctx, 'data', true), /volume is in use/);
    await assert.rejects(removeVolume(ctx, 'nope', false), failsWith('E_NO_SUCH_VOLUME', 'get nope: no such volume'));
    await removeVolume(ctx, 'nope', true);
    await ctx.store.forgetContainer(user.id);
    await removeVolume(ctx, 'data', false);
    assert.deepEqual(await listVolumes(ctx), []);
  });

  it('lists with filters: dangling, name, label', async () => {
    await createVolume(ctx, 'used-one', { tier: 'db' });
    await createVolume(ctx, 'free-one');
    const anon = await createVolume(ctx, undefined, {}, true);
    await ctx.store.saveContainer(container('b', [volumeMount('used-one', '/d')]));
    const names = async (f: Parameters<typeof listVolumes>[1]): Promise<string[]> => (await listVolumes(ctx, f)).map((v) => v.name);
    assert.deepEqual(await names({ dangling: false }), ['used-one']);
    assert.deepEqual((await names({ dangling: true })).sort(), [anon.name, 'free-one'].sort());
    assert.deepEqual(await names({ name: ['free'] }), ['free-one']);
    assert.deepEqual(await names({ label: ['tier=db'] }), ['used-one']);
    assert.deepEqual(await names({ label: ['com.docker.volume.anonymous'] }), [anon.name]);
  });

  it('prunes unused anonymous volumes, and every unused one with --all, counting their bytes', async () => {
    const anon = await createVolume(ctx, undefined, {}, true);
    const usedAnon = await createVolume(ctx, undefined, {}, true);
    await createVolume(ctx, 'named');
    await ctx.store.saveContainer(container('c', [volumeMount(usedAnon.name, '/u')]));
    await writeFile(join(anon.mountpoint, 'f'), 'x'.repeat(1000));
    await mkdir(join(anon.mountpoint, 'sub'));
    await writeFile(join(anon.mountpoint, 'sub', 'g'), 'y'.repeat(24));
    assert.equal(await directorySize(anon.mountpoint), 1024);
    assert.deepEqual(await pruneVolumes(ctx, false), { names: [anon.name], reclaimed: 1024 });
    assert.deepEqual(await pruneVolumes(ctx, true), { names: ['named'], reclaimed: 0 });
    assert.deepEqual((await listVolumes(ctx)).map((v) => v.name), [usedAnon.name]);
  });
});

describe('releaseVolumes', () => {
  it("removes a container's anonymous volumes that no other container mounts", async () => {
    const { mounts } = await resolveMounts(ctx, parseMountRequests({ volumes: ['/a', '/b', 'named:/n'] }), [], []);
    const gone = container('e', mounts);
    const [a, b] = mounts.map((m) => m.name ?? '');
    // Another container mounts /b's volume by name: it stays.
    await ctx.store.saveContainer(container('f', [volumeMount(b ?? '', '/x')]));
    assert.deepEqual(await releaseVolumes(ctx, gone), [a]);
    assert.deepEqual((await listVolumes(ctx)).map((v) => v.name).sort(), [b, 'named'].sort());
  });
});

describe('resolveMounts', () => {
  it('resolves a bind through a host symlink, and orders parents before children', async () => {
    const real = join(dir, 'real');
    await mkdir(real);
    await symlink(real, join(dir, 'link'));
    const requests = parseMountRequests({ volumes: [`${dir}/link:/srv/app/sub:ro`, `${dir}/real:/srv`], tmpfs: ['/srv/app/sub/tmp'] });
    const { mounts, created } = await resolveMounts(ctx, requests, [], []);
    assert.deepEqual(created, []);
    assert.deepEqual(mounts, [
      { type: 'bind', source: real, destination: '/srv', readOnly: false, propagation: 'rprivate', options: '' },
      { type: 'bind', source: real, destination: '/srv/app/sub', readOnly: true, propagation: 'rprivate', options: '' },
      { type: 'tmpfs', source: '', destination: '/srv/app/sub/tmp', readOnly: false, propagation: '', options: 'rw,noexec,nosuid,nodev' },
    ]);
  });

  it('makes a missing host path for -v and refuses it for --mount', async () => {
    const missing = join(dir, 'missing', 'deep');
    await assert.rejects(
      resolveMounts(ctx, parseMountRequests({ mounts: [`type=bind,src=${missing},dst=/m`] }), [], []),
      failsWith('E_BAD_FLAG', `invalid mount config for type "bind": bind source path does not exist: ${missing}`, 125),
    );
    await assert.rejects(stat(missing));
    const { mounts } = await resolveMounts(ctx, parseMountRequests({ volumes: [`${missing}:/m`] }), [], []);
    assert.equal(mounts[0]?.source, missing);
    assert.ok((await stat(missing)).isDirectory());
  });

  it('makes named and anonymous volumes, copying up into new or empty ones only', async () => {
    const full = await createVolume(ctx, 'full');
    await writeFile(join(full.mountpoint, 'keep'), 'x');
    await createVolume(ctx, 'empty');
    const requests = parseMountRequests({
      volumes: ['fresh:/a', 'full:/b', 'empty:/c', '/anon'],
      mounts: ['type=volume,src=nc,dst=/e,volume-nocopy'],
    });
    const { mounts, created } = await resolveMounts(ctx, requests, ['/img', '/anon', '/a/'], []);
    const by = new Map(mounts.map((m) => [m.destination, m]));
    assert.equal(by.get('/a')?.copyUp, true);
    assert.equal(by.get('/b')?.copyUp, false);
    assert.equal(by.get('/c')?.copyUp, true);
    assert.equal(by.get('/e')?.copyUp, false);
    assert.equal(by.get('/anon')?.anonymous, true);
    assert.equal(by.get('/a')?.anonymous, undefined);
    // The image's VOLUME paths already mounted by the user are left to the user's mount.
    const img = by.get('/img');
    assert.equal(img?.anonymous, true);
    assert.equal(img?.copyUp, true);
    assert.equal(mounts.length, 6);
    assert.equal(by.get('/a')?.source, ctx.store.paths.volumeData('fresh'));
    assert.deepEqual([...created].sort(), ['fresh', 'nc', by.get('/anon')?.name, img?.name].sort());
    const anon = await inspectVolume(ctx, img?.name ?? '');
    assert.equal(anon.anonymous, true);
    await removeVolumes(ctx, created);
    assert.deepEqual((await listVolumes(ctx)).map((v) => v.name), ['empty', 'full']);
  });

  it('refuses duplicates before making anything', async () => {
    const requests = [...parseMountRequests({ volumes: ['v1:/d'] }), ...parseMountRequests({ volumes: ['v2:/d/'] })];
    await assert.rejects(resolveMounts(ctx, requests, [], []), failsWith('E_BAD_FLAG', 'Duplicate mount point: /d', 125));
    assert.deepEqual(await listVolumes(ctx), []);
  });

  it('removes the volumes it made when a later mount fails', async () => {
    const requests = parseMountRequests({ volumes: ['made:/a'], mounts: [`type=bind,src=${dir}/nothing,dst=/b`] });
    // Binds are checked before any volume is made.
    await assert.rejects(resolveMounts(ctx, requests, [], []), /bind source path does not exist/);
    assert.deepEqual(await listVolumes(ctx), []);
    // A request that skipped the parser fails after 'made' exists: it is removed again.
    const [made] = parseMountRequests({ volumes: ['made:/a'] });
    assert.ok(made);
    await assert.rejects(resolveMounts(ctx, [made, { ...made, source: 'x/y', destination: '/b' }], [], []), /includes invalid characters/);
    assert.deepEqual(await listVolumes(ctx), []);
  });

  it("copies --volumes-from mounts, read-only on request, a user's mount winning", async () => {
    const shared = await createVolume(ctx, 'shared');
    const from = container('d', [
      { ...volumeMount('shared', '/data'), source: shared.mountpoint, anonymous: true, copyUp: true },
      { type: 'bind', source: dir, destination: '/conf', readOnly: false, propagation: 'rprivate', options: '' },
      { type: 'bind', source: dir, destination: '/logs', readOnly: true, propagation: 'rprivate', options: '' },
      { type: 'tmpfs', source: '', destination: '/tmp', readOnly: false, propagation: '', options: 'rw' },
    ]);
    const { mounts, created } = await resolveMounts(ctx, parseMountRequests({ volumes: ['own:/conf'] }), ['/data'], [{ record: from }]);
    assert.deepEqual(mounts, [
      { type: 'volume', name: 'shared', source: shared.mountpoint, destination: '/data', readOnly: false, propagation: '', options: '' },
      { type: 'bind', source: dir, destination: '/logs', readOnly: true, propagation: 'rprivate', options: '' },
      { type: 'volume', name: 'own', source: ctx.store.paths.volumeData('own'), destination: '/conf', readOnly: false, propagation: '', options: '', copyUp: true },
    ]);
    assert.deepEqual(created, ['own']);
    const ro = await resolveMounts(ctx, [], [], [{ record: from, readOnly: true }]);
    assert.ok(ro.mounts.every((m) => m.readOnly));
    assert.deepEqual(await readdir(join(dir, 'state', 'volumes')), ['own', 'shared']);
  });
});
