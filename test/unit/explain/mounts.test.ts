import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MountPoint } from '../../../src/base/records.js';
import { describeMounts } from '../../../src/explain/mounts.js';
import { plannedMounts, NEW_ANONYMOUS_VOLUME } from '../../../src/runtime/dry-run.js';
import { parseMountRequests } from '../../../src/runtime/mount-specs.js';
import { Paths } from '../../../src/state/paths.js';

describe('what --dry-run says of mounts', () => {
  const paths = new Paths('/var/lib/minictr');

  it('plans binds as given, volumes where the store keeps them, image VOLUMEs as anonymous ones', () => {
    const requests = parseMountRequests({ volumes: ['/srv/data:/data:ro', 'cache:/cache'], tmpfs: ['/run:size=1m'] }, '/');
    const mounts = plannedMounts(paths, requests, ['/var/lib/app', '/cache']);
    assert.deepEqual(mounts.map((m) => [m.type, m.source, m.destination, m.readOnly]), [
      ['bind', '/srv/data', '/data', true],
      ['volume', '/var/lib/minictr/volumes/cache/_data', '/cache', false],
      ['tmpfs', '', '/run', false],
      ['volume', `/var/lib/minictr/volumes/${NEW_ANONYMOUS_VOLUME}/_data`, '/var/lib/app', false],
    ]);
    assert.equal(mounts[3]?.anonymous, true, 'the image volume not covered by a mount is anonymous');
  });

  it('one line per mount with its why, and what --read-only adds', () => {
    const mounts: MountPoint[] = [
      { type: 'bind', source: '/srv/data', destination: '/data', readOnly: true, propagation: 'rprivate', options: '' },
      { type: 'volume', name: 'cache', source: '/r/volumes/cache/_data', destination: '/cache', readOnly: false, propagation: '', options: '', copyUp: true },
      { type: 'tmpfs', source: '', destination: '/run', readOnly: false, propagation: '', options: 'rw,noexec,nosuid,nodev,size=1m' },
    ];
    const lines = describeMounts(mounts, true);
    assert.ok(lines.every((l) => l.startsWith('#')), 'comments in a shell script');
    assert.match(lines.join('\n'), /bind \/srv\/data at \/data, read-only: the host's \/srv\/data itself/);
    assert.match(lines.join('\n'), /volume cache at \/cache: \/r\/volumes\/cache\/_data, kept under the state dir .* if it is empty, the image's \/cache is copied in first/);
    assert.match(lines.join('\n'), /tmpfs at \/run \(rw,noexec,nosuid,nodev,size=1m\): an empty in-memory filesystem, new at each start/);
    assert.match(lines.at(-1) ?? '', /--read-only: .*remount,bind,ro/);
    assert.deepEqual(describeMounts([], false), [], 'nothing to say without mounts');
  });
});
