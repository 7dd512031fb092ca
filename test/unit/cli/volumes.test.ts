// `volume` output as Docker prints it: the ls table and --format, filters, labels, the prune report.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatVolumes, parseLabels, parseVolumeFilters, pruneReport } from '../../../src/cli/volumes.js';
import type { VolumeRecord } from '../../../src/base/records.js';

const vol = (name: string, anonymous = false): VolumeRecord => ({
  schemaVersion: 1, name, driver: 'local', mountpoint: `/var/lib/minictr/volumes/${name}/_data`,
  created: '2026-12-01T00:00:00.000Z', labels: { a: 'b' }, anonymous,
});

describe('volume CLI', () => {
  it('lists as Docker: DRIVER and VOLUME NAME, -q, --format', () => {
    assert.deepEqual(formatVolumes([vol('data'), vol('x')], {}), ['DRIVER    VOLUME NAME\nlocal     data\nlocal     x']);
    assert.deepEqual(formatVolumes([], {}), ['DRIVER    VOLUME NAME']);
    assert.deepEqual(formatVolumes([vol('data')], { quiet: true }), ['data']);
    assert.deepEqual(formatVolumes([vol('data')], { format: '{{.Name}} {{.Mountpoint}} {{.Labels}}' }), ['data /var/lib/minictr/volumes/data/_data a=b']);
    assert.deepEqual(formatVolumes([vol('an', true)], { format: '{{.Labels}}' }), ['a=b,com.docker.volume.anonymous=']);
    assert.deepEqual(formatVolumes([vol('data')], { format: 'table {{.Name}}\t{{.Scope}}' }), ['VOLUME NAME   SCOPE\ndata          local']);
  });

  it('reads filters and labels, refusing unknown ones', () => {
    assert.deepEqual(parseVolumeFilters(['dangling=true', 'name=a', 'name=b', 'label=k=v']), { dangling: true, name: ['a', 'b'], label: ['k=v'] });
    assert.deepEqual(parseVolumeFilters(['dangling=0']), { dangling: false });
    assert.throws(() => parseVolumeFilters(['dangling=maybe']), /invalid filter 'dangling=maybe'/);
    assert.throws(() => parseVolumeFilters(['driver=local']), /invalid filter 'driver'/);
    assert.deepEqual(parseLabels(['a=1', 'b', 'c=x=y']), { a: '1', b: '', c: 'x=y' });
    assert.throws(() => parseLabels(['=v']), /invalid label: empty name/);
  });

  it("reports a prune as Docker's CLI", () => {
    assert.equal(pruneReport([], 0), 'Total reclaimed space: 0B');
    assert.equal(pruneReport(['a', 'b'], 1500), 'Deleted Volumes:\na\nb\n\nTotal reclaimed space: 1.5kB');
  });
});
