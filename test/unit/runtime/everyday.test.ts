// The pure parts of the everyday commands: ps --filter (Docker's keys, values, errors, AND/OR),
// rename's checks, and how top reads ps's output.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MinictrError } from '../../../src/base/errors.js';
import { NULL_TIME, type ContainerRecord } from '../../../src/base/records.js';
import { filterContainers, filtersImplyAll, parsePortFilter, parsePsFilters, psState } from '../../../src/runtime/ps-filter.js';
import { checkRename } from '../../../src/runtime/rename.js';
import { parsePsOutput, validatePsArgs } from '../../../src/runtime/top.js';
import { parseLabels } from '../../../src/runtime/options.js';

const IMG = 'f'.repeat(64);

function rec(name: string, over: { id?: string; created?: string; status?: ContainerRecord['state']['status']; paused?: boolean; exitCode?: number; labels?: Record<string, string>; image?: string; imageId?: string; network?: string; ports?: string[]; mountName?: string }): ContainerRecord {
  return {
    schemaVersion: 1,
    id: over.id ?? name.padEnd(64, '0').replace(/[^0-9a-f]/g, 'a'),
    name,
    created: over.created ?? '2024-01-01T00:00:00.000Z',
    config: { image: over.image ?? 'busybox', imageId: over.imageId ?? IMG, cmd: ['sh'], entrypoint: [], env: [], workdir: '/', hostname: name, tty: false, interactive: false, ...(over.labels ? { labels: over.labels } : {}) },
    hostConfig: { networkMode: over.network ?? 'bridge', autoRemove: false, portSpecs: over.ports ?? [] },
    state: {
      status: over.status ?? 'running', pid: 1, pidStartTime: 1, monitorPid: 1, exitCode: over.exitCode ?? 0,
      startedAt: NULL_TIME, finishedAt: NULL_TIME, error: '', ...(over.paused ? { paused: true } : {}),
    },
    rootfsMode: 'copy',
    ...(over.mountName ? { mounts: [{ type: 'volume' as const, name: over.mountName, source: '/v', destination: '/data', readOnly: false, propagation: '', options: '' }] } : {}),
  };
}

const web = rec('web', { id: 'aaaa'.padEnd(64, '1'), created: '2024-01-01T00:00:01.000Z', labels: { app: 'shop', tier: 'front' }, ports: ['8080:80', '53:53/udp'], network: 'backend' });
const db = rec('db', { id: 'bbbb'.padEnd(64, '2'), created: '2024-01-01T00:00:02.000Z', labels: { app: 'shop', tier: 'data' }, paused: true, image: 'postgres:16', imageId: 'c'.repeat(64), mountName: 'pgdata' });
const old = rec('old-job', { id: 'cccc'.padEnd(64, '3'), created: '2024-01-01T00:00:03.000Z', status: 'exited', exitCode: 3, image: 'docker.io/library/busybox:latest' });
const fresh = rec('fresh', { id: 'dddd'.padEnd(64, '4'), created: '2024-01-01T00:00:04.000Z', status: 'created' });
const ALL = [web, db, old, fresh];

function names(filters: string[]): string[] {
  return filterContainers(ALL, parsePsFilters(filters), { all: ALL, networkIds: new Map([['backend', '9f8e7d']]) }).map((r) => r.name);
}

function fails(fn: () => unknown, message: string, exitCode: number): void {
  assert.throws(fn, (err: unknown) => err instanceof MinictrError && err.message === message && err.exitCode === exitCode);
}

describe('ps --filter', () => {
  const table: [string[], string[]][] = [
    [['status=running'], ['web']],
    [['status=paused'], ['db']],
    [['status=exited'], ['old-job']],
    [['status=created'], ['fresh']],
    [['status=running', 'status=paused'], ['web', 'db']], // OR within a key
    [['name=web'], ['web']],
    [['name=o'], ['old-job']], // a substring: Docker's unanchored regexp
    [['name=^/d'], ['db']], // names are matched with their leading slash, as Docker's
    [['name=^d'], []],
    [['name=[bad'], []], // a bad regexp matches nothing
    [['id=bbbb'], ['db']],
    [['label=app'], ['web', 'db']],
    [['label=app=shop', 'label=tier=data'], ['db']], // labels: every one must hold
    [['label=tier!=data'], ['web', 'old-job', 'fresh']],
    [['label=nope'], []],
    [['ancestor=busybox'], ['web', 'old-job', 'fresh']],
    [['ancestor=busybox:latest'], ['web', 'old-job', 'fresh']],
    [['ancestor=postgres:16'], ['db']],
    [['ancestor=cccc'], ['db']], // an id prefix
    [['network=backend'], ['web']],
    [['network=9f8e'], ['web']], // a network id prefix
    [['publish=80'], ['web']],
    [['publish=80/tcp'], ['web']],
    [['publish=80/udp'], []],
    [['publish=53/udp'], ['web']],
    [['publish=8000-8090'], []], // container ports, not host ports
    [['publish=70-90'], ['web']],
    [['expose=80'], ['web']],
    [['exited=3'], ['old-job']],
    [['exited=0'], []], // a created container has no exit code to match
    [['volume=pgdata'], ['db']],
    [['volume=/data'], ['db']],
    [['before=old-job'], ['web', 'db']],
    [['since=db'], ['old-job', 'fresh']],
    [['health=none'], ['web', 'db', 'old-job', 'fresh']],
    [['is-task=true'], []],
    [['status=running', 'label=app'], ['web']], // AND across keys
    [['NAME = web '], ['web']], // key lower-cased, both sides trimmed
  ];
  for (const [filters, want] of table) {
    it(`${filters.join(' ')} → ${want.join(', ') || 'none'}`, () => assert.deepEqual(names(filters), want));
  }

  it("Docker's errors: an unknown key and bad values are the daemon's (1), no '=' the flag's (125)", () => {
    fails(() => parsePsFilters(['foo=bar']), "invalid filter 'foo'", 1);
    fails(() => parsePsFilters(['status=sleeping']), "invalid filter 'status=sleeping'", 1);
    fails(() => parsePsFilters(['exited=x']), "invalid filter 'exited=x'", 1);
    fails(() => parsePsFilters(['foo']), 'invalid argument "foo" for "-f, --filter" flag: bad format of filter (expected name=value)', 125);
    fails(() => parsePsFilters(['publish=8080:80']), "filter for 'publish' should not contain ':': 8080:80", 1);
    fails(() => parsePsFilters(['publish=http']), 'error while looking up for publish http: invalid port range: http', 1);
    fails(() => names(['before=ghost']), 'No such container: ghost', 1);
  });

  it('port filters name every port of a range, tcp unless said', () => {
    assert.deepEqual([...parsePortFilter('publish', '80-82/udp')], ['80/udp', '81/udp', '82/udp']);
    assert.deepEqual([...parsePortFilter('expose', '443')], ['443/tcp']);
  });

  it('status, before and since show stopped containers too, as -a would', () => {
    assert.equal(filtersImplyAll(parsePsFilters(['status=running'])), true);
    assert.equal(filtersImplyAll(parsePsFilters(['since=web'])), true);
    assert.equal(filtersImplyAll(parsePsFilters(['name=web'])), false);
  });

  it('a paused running container is in state "paused"', () => {
    assert.equal(psState(db), 'paused');
    assert.equal(psState(web), 'running');
  });
});

describe('rename checks', () => {
  it('a free valid name is taken as given (a leading slash dropped)', () => {
    assert.equal(checkRename(web, 'shop', ALL), 'shop');
    assert.equal(checkRename(web, '/shop', ALL), 'shop');
  });
  it("Docker's refusals, exit 1", () => {
    fails(() => checkRename(web, 'db', ALL), `the container name "/db" is already in use by container "${db.id}"; remove it or choose another name`, 1);
    fails(() => checkRename(web, 'web', ALL), 'Renaming a container with the same name as its current name', 1);
    fails(() => checkRename(web, '', ALL), 'Neither old nor new names may be empty', 1);
    fails(() => checkRename(web, 'no spaces', ALL), 'invalid container name "no spaces": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed', 1);
  });
});

describe('top', () => {
  const PS = [
    'UID          PID    PPID  C STIME TTY          TIME CMD',
    'root         100       1  0 10:00 ?        00:00:00 sh -c sleep 300 & sleep 301',
    'root         101     100  0 10:00 ?        00:00:00 sleep 300',
    'root         999       1  0 10:00 ?        00:00:00 /usr/sbin/sshd -D',
    '',
  ].join('\n');
  it("keeps the container's pids, the last column with its blanks", () => {
    const r = parsePsOutput(PS, [100, 101]);
    assert.deepEqual(r.titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    assert.deepEqual(r.processes, [
      ['root', '100', '1', '0', '10:00', '?', '00:00:00', 'sh -c sleep 300 & sleep 301'],
      ['root', '101', '100', '0', '10:00', '?', '00:00:00', 'sleep 300'],
    ]);
  });
  it("Docker's errors: no PID column, a PID column renamed", () => {
    fails(() => parsePsOutput('COMMAND\nsh\n', [1]), "Couldn't find PID field in ps output", 1);
    fails(() => validatePsArgs('-o user= -o x=PID'), 'specifying "x=PID" is not allowed', 1);
    validatePsArgs('-o pid=PID,comm');
  });
});

describe('labels', () => {
  it('key=value, a key alone is empty, later ones win', () => {
    assert.deepEqual(parseLabels(['a=1', 'b', 'a=2', 'c=x=y']), { a: '2', b: '', c: 'x=y' });
    assert.throws(() => parseLabels(['=v']), /invalid label/);
  });
});
