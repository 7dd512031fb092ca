// `stats`: counters parsed from cgroup and /proc texts, and rows worded as `docker stats` words them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSize, humanSize } from '../../../src/base/go-units.js';
import type { CgroupFacts } from '../../../src/cgroup/plan.js';
import {
  STATS_DEFAULT_COLUMNS,
  STATS_HEADERS,
  cpuPercent,
  formatStatsRow,
  parseCgroupCounters,
  parseNetDev,
  parseProcStat,
  statsFiles,
  type StatsSample,
} from '../../../src/cgroup/stats.js';

const MiB = 1024 * 1024;
const HOST_MEMORY = 8 * 1024 * MiB;

const V1_TEXTS = new Map([
  ['cpuacct.usage', '123456789\n'],
  ['memory.usage_in_bytes', '5242880\n'],
  ['memory.limit_in_bytes', '33554432\n'],
  ['memory.stat', 'cache 1048576\nrss 2097152\ninactive_file 0\ntotal_cache 1048576\ntotal_inactive_file 1048576\n'],
  ['blkio.throttle.io_service_bytes_recursive', '8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\n8:16 Read 1000\n8:16 Write 0\nTotal 13288\n'],
  ['pids.current', '3\n'],
]);

const V2_TEXTS = new Map([
  ['cpu.stat', 'usage_usec 250000\nuser_usec 200000\nsystem_usec 50000\n'],
  ['memory.current', '4194304\n'],
  ['memory.max', 'max\n'],
  ['memory.stat', 'anon 2097152\nfile 2097152\nactive_file 1048576\ninactive_file 1048576\n'],
  ['io.stat', '8:0 rbytes=4096 wbytes=512 rios=1 wios=1 dbytes=0 dios=0\n8:16 rbytes=100 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n'],
  ['pids.current', '1\n'],
]);

describe('cgroup counters', () => {
  it('v1: cpuacct ns, usage minus total_inactive_file, the limit, blkio Read/Write over devices, pids', () => {
    assert.deepEqual(parseCgroupCounters(1, V1_TEXTS, HOST_MEMORY), {
      cpuNanos: 123456789,
      memUsage: 4 * MiB,
      memLimit: 32 * MiB,
      blkRead: 5096,
      blkWrite: 8192,
      pids: 3,
    });
  });

  it("v1: no limit (the kernel's near-2^63) is the host's memory; an empty throttle file falls back to CFQ's", () => {
    const texts = new Map(V1_TEXTS);
    texts.set('memory.limit_in_bytes', '9223372036854771712\n');
    texts.set('blkio.throttle.io_service_bytes_recursive', 'Total 0\n');
    texts.set('blkio.io_service_bytes_recursive', '8:0 Read 7\n8:0 Write 9\n');
    const c = parseCgroupCounters(1, texts, HOST_MEMORY);
    assert.equal(c.memLimit, HOST_MEMORY);
    assert.deepEqual([c.blkRead, c.blkWrite], [7, 9]);
  });

  it('v2: usage_usec, memory.current minus inactive_file, max is the host, io.stat bytes', () => {
    assert.deepEqual(parseCgroupCounters(2, V2_TEXTS, HOST_MEMORY), {
      cpuNanos: 250_000_000,
      memUsage: 3 * MiB,
      memLimit: HOST_MEMORY,
      blkRead: 4196,
      blkWrite: 512,
      pids: 1,
    });
  });

  it('missing files read as zero', () => {
    assert.deepEqual(parseCgroupCounters(2, new Map(), HOST_MEMORY), { cpuNanos: 0, memUsage: 0, memLimit: HOST_MEMORY, blkRead: 0, blkWrite: 0, pids: 0 });
  });

  it('reads each v1 file under its own controller, only those mounted', () => {
    const facts: CgroupFacts = { version: 1, v1: { cpuacct: '/cg/cpu,cpuacct', memory: '/cg/memory' } };
    assert.deepEqual([...statsFiles(facts, { version: 1, path: 'minictr/x' })], [
      ['cpuacct.usage', '/cg/cpu,cpuacct/minictr/x/cpuacct.usage'],
      ['memory.usage_in_bytes', '/cg/memory/minictr/x/memory.usage_in_bytes'],
      ['memory.limit_in_bytes', '/cg/memory/minictr/x/memory.limit_in_bytes'],
      ['memory.stat', '/cg/memory/minictr/x/memory.stat'],
    ]);
    assert.equal(statsFiles({ version: 2, unified: '/cg' }, { version: 2, path: 'minictr/x' }).get('io.stat'), '/cg/minictr/x/io.stat');
  });
});

describe('/proc', () => {
  it('net/dev: every interface but lo', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0',
      '  eth0:     648       8    0    0    0     0          0         0       42       1    0    0    0     0       0          0',
      '  eth1:1000000       8    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
    ].join('\n');
    assert.deepEqual(parseNetDev(text), { rx: 1000648, tx: 42 });
  });

  it('stat: user … softirq of the cpu line, in ns at 100 ticks a second', () => {
    assert.equal(parseProcStat('cpu  100 0 50 800 10 0 40 5 0 0\ncpu0 50 0 25 400 5 0 20 0 0 0\n'), 1000 * 1e7);
    assert.equal(parseProcStat(''), 0);
  });
});

const base: StatsSample = {
  cpuNanos: 0,
  systemNanos: 0,
  onlineCpus: 2,
  memUsage: 1.5 * MiB,
  memLimit: 32 * MiB,
  netRx: 648,
  netTx: 0,
  blkRead: 0,
  blkWrite: 0,
  pids: 1,
  at: 0,
};

describe('CPU %', () => {
  it("is the container's share of the host's CPU time times the online CPUs, as Docker's CLI computes it", () => {
    const later = { ...base, cpuNanos: 500_000_000, systemNanos: 2_000_000_000, at: 1000 };
    assert.equal(cpuPercent(base, later), 50);
    assert.equal(cpuPercent(undefined, later), 0, 'one sample: no rate yet');
    assert.equal(cpuPercent(later, later), 0);
  });
});

describe('units', () => {
  it('BytesSize: binary, 4 significant digits', () => {
    assert.deepEqual([0, 1023, 1536, 1.5 * MiB, 32 * MiB, 7.667 * 1024 * MiB, 1000 * 1024].map(bytesSize), ['0B', '1023B', '1.5KiB', '1.5MiB', '32MiB', '7.667GiB', '1000KiB']);
  });

  it('HumanSize with 3 digits: decimal', () => {
    assert.deepEqual([0, 648, 1020, 1234567, 999_999].map((n) => humanSize(n, 3)), ['0B', '648B', '1.02kB', '1.23MB', '1e+03kB']);
  });
});

describe('a row', () => {
  it("has Docker's columns and wording", () => {
    const later = { ...base, cpuNanos: 12_345_678, systemNanos: 1_000_000_000, blkRead: 4096, blkWrite: 1_500_000, pids: 3 };
    assert.deepEqual(formatStatsRow({ id: '3f2a9c0d1e2b4a5f6677', name: '/web' }, base, later), {
      Container: '3f2a9c0d1e2b',
      Name: 'web',
      ID: '3f2a9c0d1e2b',
      CPUPerc: '2.47%',
      MemUsage: '1.5MiB / 32MiB',
      MemPerc: '4.69%',
      NetIO: '648B / 0B',
      BlockIO: '4.1kB / 1.5MB',
      PIDs: '3',
    });
    assert.equal(formatStatsRow({ id: 'x', name: 'web', container: 'web' }, undefined, base).Container, 'web');
  });

  it('names its headers as docker stats does', () => {
    assert.deepEqual(STATS_DEFAULT_COLUMNS.map((c) => STATS_HEADERS[c]), ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS']);
  });
});
