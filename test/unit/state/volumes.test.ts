// Volume records on disk: a round trip, the data dir's mode, removal of both, names kept inside the root.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../../src/state/store.js';
import type { VolumeRecord } from '../../../src/base/records.js';

function volume(store: Store, name: string): VolumeRecord {
  return {
    schemaVersion: 1, name, driver: 'local', mountpoint: store.paths.volumeData(name),
    created: '2026-12-01T00:00:00.000Z', labels: { a: 'b' }, anonymous: false,
  };
}

describe('volume store', () => {
  it('saves, lists, loads and removes a volume with its data', async () => {
    const root = await mkdtemp(join(tmpdir(), 'minictr-vol-'));
    try {
      const store = new Store(root);
      assert.deepEqual(await store.listVolumes(), []);
      await store.saveVolume(volume(store, 'zeta'));
      await store.saveVolume(volume(store, 'alpha'));
      assert.deepEqual((await store.listVolumes()).map((v) => v.name), ['alpha', 'zeta']);
      assert.deepEqual(await store.loadVolume('alpha'), volume(store, 'alpha'));
      const data = join(root, 'volumes', 'alpha', '_data');
      assert.equal(store.paths.volumeData('alpha'), data);
      assert.equal((await stat(data)).mode & 0o777, 0o755);
      await writeFile(join(data, 'file'), 'x');
      await store.removeVolume('alpha');
      assert.equal(await store.loadVolume('alpha'), undefined);
      assert.deepEqual(await readdir(join(root, 'volumes')), ['zeta']);
      // No temp files are left beside the record.
      assert.deepEqual(await readdir(join(root, 'volumes', 'zeta')), ['_data', 'volume.json']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('never reads or writes outside the root for a bad name', async () => {
    const root = await mkdtemp(join(tmpdir(), 'minictr-vol-'));
    try {
      const store = new Store(root);
      assert.equal(await store.loadVolume('../containers'), undefined);
      await assert.rejects(store.saveVolume(volume(store, '../x')), /bad volume name/);
      await assert.rejects(store.removeVolume('a/b'), /bad volume name/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
