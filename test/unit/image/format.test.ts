import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { goFormatG, humanDuration, humanSize, timeAgo } from '../../../src/base/human.js';
import { formatTable } from '../../../src/cli/table.js';
import { formatImages, imageRows } from '../../../src/cli/images.js';
import type { ImageRecord } from '../../../src/state/images.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('humanSize (go-units, 3 significant digits)', () => {
  it('matches Docker', () => {
    assert.equal(humanSize(0), '0B');
    assert.equal(humanSize(999), '999B');
    assert.equal(humanSize(1000), '1kB');
    assert.equal(humanSize(4100), '4.1kB');
    assert.equal(humanSize(1_984_513), '1.98MB');
    assert.equal(humanSize(4_261_000), '4.26MB');
    assert.equal(humanSize(77_800_000), '77.8MB');
    assert.equal(humanSize(1_230_000_000), '1.23GB');
    assert.equal(humanSize(123_456), '123kB');
  });

  it('formats like Go %g, exponent and all', () => {
    assert.equal(goFormatG(4.1, 3), '4.1');
    assert.equal(goFormatG(100, 3), '100');
    assert.equal(goFormatG(999.9, 3), '1e+03');
    assert.equal(goFormatG(0.0001234, 3), '0.000123');
  });
});

describe('humanDuration (go-units wording)', () => {
  it('matches Docker', () => {
    assert.equal(humanDuration(-5 * SECOND), 'Less than a second');
    assert.equal(humanDuration(500), 'Less than a second');
    assert.equal(humanDuration(SECOND), '1 second');
    assert.equal(humanDuration(59 * SECOND), '59 seconds');
    assert.equal(humanDuration(60 * SECOND), 'About a minute');
    assert.equal(humanDuration(119 * SECOND), 'About a minute');
    assert.equal(humanDuration(2 * MINUTE), '2 minutes');
    assert.equal(humanDuration(59 * MINUTE), '59 minutes');
    assert.equal(humanDuration(60 * MINUTE), 'About an hour');
    assert.equal(humanDuration(89 * MINUTE), 'About an hour');
    assert.equal(humanDuration(90 * MINUTE), '2 hours');
    assert.equal(humanDuration(47 * HOUR), '47 hours');
    assert.equal(humanDuration(48 * HOUR), '2 days');
    assert.equal(humanDuration(13 * DAY), '13 days');
    assert.equal(humanDuration(14 * DAY), '2 weeks');
    assert.equal(humanDuration(60 * DAY), '2 months');
    assert.equal(humanDuration(730 * DAY), '2 years');
  });

  it('timeAgo appends "ago"', () => {
    const now = new Date('2024-05-01T12:00:00Z');
    assert.equal(timeAgo(new Date(now.getTime() - 2 * MINUTE), now), '2 minutes ago');
    assert.equal(timeAgo(new Date(now.getTime() - 70 * MINUTE), now), 'About an hour ago');
  });
});

describe('formatTable (tabwriter: min width 10, padding 3)', () => {
  it('pads every column but the last', () => {
    const out = formatTable(
      ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
      [['busybox', 'latest', '8fa1a51df159', '2 minutes ago', '1.98MB']],
    );
    assert.equal(
      out,
      'REPOSITORY   TAG       IMAGE ID       CREATED         SIZE\n' +
        'busybox      latest    8fa1a51df159   2 minutes ago   1.98MB',
    );
  });

  it('handles no rows and empty cells', () => {
    assert.equal(formatTable(['A', 'B'], []), 'A         B');
    assert.equal(formatTable(['A', 'B', 'C'], [['', 'x', '']]), 'A         B         C\n          x         ');
  });
});

describe('images rows', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  const img = (id: string, repoTags: string[], minutesAgo: number): ImageRecord => ({
    id: id.repeat(64),
    repoTags,
    created: new Date(now.getTime() - minutesAgo * MINUTE).toISOString(),
    size: 1_984_513,
    config: { Cmd: [], Entrypoint: [], Env: [], WorkingDir: '', User: '' },
  });
  const images = [img('a', ['busybox:latest', 'mybox:v1'], 2), img('b', [], 90)];

  it('lists one row per tag and <none> for dangling images', () => {
    const rows = imageRows(images, now, true);
    assert.deepEqual(
      rows.map((r) => [r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size]),
      [
        ['busybox', 'latest', 'aaaaaaaaaaaa', '2 minutes ago', '1.98MB'],
        ['mybox', 'v1', 'aaaaaaaaaaaa', '2 minutes ago', '1.98MB'],
        ['<none>', '<none>', 'bbbbbbbbbbbb', '2 hours ago', '1.98MB'],
      ],
    );
    assert.equal(imageRows(images, now, false)[0]?.ID, `sha256:${'a'.repeat(64)}`);
  });

  it('filters by repository and tag', () => {
    assert.deepEqual(imageRows(images, now, true, 'busybox').map((r) => r.Repository), ['busybox']);
    assert.deepEqual(imageRows(images, now, true, 'mybox:v2'), []);
    assert.equal(imageRows(images, now, true, 'docker.io/library/busybox:latest').length, 1);
  });

  it('renders -q, the default table and --format', () => {
    const rows = imageRows(images, now, true);
    assert.deepEqual(formatImages(rows, { quiet: true }), ['aaaaaaaaaaaa', 'aaaaaaaaaaaa', 'bbbbbbbbbbbb']);
    assert.match(formatImages(rows, {})[0] ?? '', /^REPOSITORY {3}TAG {7}IMAGE ID {7}CREATED {9}SIZE\n/);
    assert.deepEqual(formatImages(rows, { format: '{{.Repository}}:{{.Tag}}' }), ['busybox:latest', 'mybox:v1', '<none>:<none>']);
    assert.equal(formatImages(rows.slice(0, 1), { format: 'table {{.ID}}\t{{.Size}}' })[0], 'IMAGE ID       SIZE\naaaaaaaaaaaa   1.98MB');
  });

  it('shows the digest of the row\'s repository with --digests', () => {
    const pulled: ImageRecord = { ...img('c', ['localhost:5000/app:1', 'app:local'], 1), repoDigests: [`localhost:5000/app@sha256:${'d'.repeat(64)}`] };
    const rows = imageRows([pulled], now, true);
    assert.deepEqual(rows.map((r) => r.Digest), [`sha256:${'d'.repeat(64)}`, '<none>']);
    assert.equal(
      formatImages(rows, { digests: true })[0],
      'REPOSITORY           TAG       DIGEST                                                                    IMAGE ID       CREATED              SIZE\n' +
        `localhost:5000/app   1         sha256:${'d'.repeat(64)}   cccccccccccc   About a minute ago   1.98MB\n` +
        'app                  local     <none>                                                                    cccccccccccc   About a minute ago   1.98MB',
    );
  });
});
