// `stats`: a container's counters read from its cgroup's files and /proc, and the row
// `docker stats` prints from two samples. Pure: the runtime reads the files, this parses them.
import { bytesSize, humanSize } from '../base/go-units.js';
import type { CgroupRecord } from '../base/records.js';
import { controllerDir, type CgroupFacts } from './plan.js';

export interface StatsSample {
  /** CPU time the container's cgroup used, ns. */
  cpuNanos: number;
  /** CPU time of the whole host (every CPU, /proc/stat), ns. */
  systemNanos: number;
  onlineCpus: number;
  /** Memory in use, without the page cache the kernel can drop at once (as Docker's CLI counts). */
  memUsage: number;
  /** The container's memory limit; the host's memory when it has none. */
  memLimit: number;
  netRx: number;
  netTx: number;
  blkRead: number;
  blkWrite: number;
  pids: number;
  /** When it was taken, ms since the epoch. */
  at: number;
}

/** The counters that come from the cgroup's own files. */
export type CgroupCounters = Pick<StatsSample, 'cpuNanos' | 'memUsage' | 'memLimit' | 'blkRead' | 'blkWrite' | 'pids'>;

const V1_FILES = [
  'cpuacct.usage',
  'memory.usage_in_bytes',
  'memory.limit_in_bytes',
  'memory.stat',
  'blkio.throttle.io_service_bytes_recursive',
  'blkio.io_service_bytes_recursive',
  'pids.current',
];
const V2_FILES = ['cpu.stat', 'memory.current', 'memory.max', 'memory.stat', 'io.stat', 'pids.current'];

/** The cgroup files a sample reads, name → path; a file whose controller is not mounted is left out. */
export function statsFiles(facts: CgroupFacts, record: CgroupRecord): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of record.version === 2 ? V2_FILES : V1_FILES) {
    // A v1 file's controller is its prefix: memory.stat lives under the memory mount.
    const dir = controllerDir(facts, record, name.slice(0, name.indexOf('.')));
    if (dir !== undefined) files.set(name, `${dir}/${name}`);
  }
  return files;
}

function integer(text: string | undefined): number {
  const n = Number((text ?? '').trim());
  return Number.isFinite(n) ? n : 0;
}

/** "key value" lines (memory.stat, cpu.stat) as a record. */
export function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined) out[key] = integer(value);
  }
  return out;
}

/** Docker's CLI: usage minus the inactive page cache, when that is smaller. */
function withoutCache(usage: number, inactiveFile: number | undefined): number {
  return inactiveFile !== undefined && inactiveFile < usage ? usage - inactiveFile : usage;
}

/** A limit file's text ("max", or v1's near-2^63 "no limit"), capped at the host's memory as Docker reports it. */
function limit(text: string | undefined, hostMemory: number): number {
  const value = (text ?? '').trim();
  if (value === '' || value === 'max') return hostMemory;
  const n = integer(value);
  return n > 0 && n < hostMemory ? n : hostMemory;
}

/** v1 blkio: the "MAJ:MIN Read N" / "MAJ:MIN Write N" lines, summed over devices. */
export function parseBlkioV1(text: string): { read: number; write: number } {
  const out = { read: 0, write: 0 };
  for (const line of text.split('\n')) {
    const [, op, value] = line.trim().split(/\s+/);
    if (op?.toLowerCase() === 'read') out.read += integer(value);
    if (op?.toLowerCase() === 'write') out.write += integer(value);
  }
  return out;
}

/** v2 io.stat: "MAJ:MIN rbytes=N wbytes=N …" lines, summed over devices. */
export function parseIoStatV2(text: string): { read: number; write: number } {
  const out = { read: 0, write: 0 };
  for (const m of text.matchAll(/\b([rw])bytes=(\d+)/g)) {
    if (m[1] === 'r') out.read += Number(m[2]);
    else out.write += Number(m[2]);
  }
  return out;
}

/** The cgroup's counters from its files' texts (a missing file reads as ''). */
export function parseCgroupCounters(version: 1 | 2, texts: Map<string, string>, hostMemory: number): CgroupCounters {
  const memStat = parseKeyValues(texts.get('memory.stat') ?? '');
  if (version === 2) {
    const io = parseIoStatV2(texts.get('io.stat') ?? '');
    return {
      cpuNanos: (parseKeyValues(texts.get('cpu.stat') ?? '').usage_usec ?? 0) * 1000,
      memUsage: withoutCache(integer(texts.get('memory.current')), memStat.inactive_file),
      memLimit: limit(texts.get('memory.max'), hostMemory),
      blkRead: io.read,
      blkWrite: io.write,
      pids: integer(texts.get('pids.current')),
    };
  }
  // The throttle file counts every device; the other one is only filled by the CFQ scheduler.
  const throttle = parseBlkioV1(texts.get('blkio.throttle.io_service_bytes_recursive') ?? '');
  const blkio = throttle.read + throttle.write > 0 ? throttle : parseBlkioV1(texts.get('blkio.io_service_bytes_recursive') ?? '');
  return {
    cpuNanos: integer(texts.get('cpuacct.usage')),
    memUsage: withoutCache(integer(texts.get('memory.usage_in_bytes')), memStat.total_inactive_file),
    memLimit: limit(texts.get('memory.limit_in_bytes'), hostMemory),
    blkRead: blkio.read,
    blkWrite: blkio.write,
    pids: integer(texts.get('pids.current')),
  };
}

/** /proc/<pid>/net/dev: bytes received and sent on every interface but lo. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  const out = { rx: 0, tx: 0 };
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim() === 'lo') continue;
    const fields = line.slice(colon + 1).trim().split(/\s+/);
    out.rx += integer(fields[0]);
    out.tx += integer(fields[8]);
  }
  return out;
}

/** The host's CPU time from /proc/stat's first line, in ns, as Docker's daemon sums it (user … softirq). */
export function parseProcStat(text: string, ticksPerSecond = 100): number {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((sum, f) => sum + integer(f), 0);
  return (ticks * 1e9) / ticksPerSecond;
}

/** Docker's CLI: the container's share of the host's CPU time between two samples, × online CPUs. */
export function cpuPercent(prev: StatsSample | undefined, cur: StatsSample): number {
  if (!prev) return 0;
  const cpuDelta = cur.cpuNanos - prev.cpuNanos;
  const systemDelta = cur.systemNanos - prev.systemNanos;
  if (systemDelta <= 0 || cpuDelta <= 0) return 0;
  return (cpuDelta / systemDelta) * cur.onlineCpus * 100;
}

export function memPercent(sample: StatsSample): number {
  return sample.memLimit > 0 ? (sample.memUsage / sample.memLimit) * 100 : 0;
}

/** One `docker stats` row, by the field names of Docker's --format templates. */
export interface StatsRow {
  Container: string;
  Name: string;
  ID: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  NetIO: string;
  BlockIO: string;
  PIDs: string;
}

/** Docker's table headers for each field. */
export const STATS_HEADERS: Record<keyof StatsRow, string> = {
  Container: 'CONTAINER',
  Name: 'NAME',
  ID: 'CONTAINER ID',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

/** The columns of `docker stats` without --format. */
export const STATS_DEFAULT_COLUMNS: (keyof StatsRow)[] = ['ID', 'Name', 'CPUPerc', 'MemUsage', 'MemPerc', 'NetIO', 'BlockIO', 'PIDs'];

export interface StatsTarget {
  id: string;
  name: string;
  /** How the user named it ({{.Container}}); the short id when listing all. */
  container?: string;
}

/** A row from the last two samples (no earlier one: CPU 0.00%, as Docker's first frame). */
export function formatStatsRow(target: StatsTarget, prev: StatsSample | undefined, cur: StatsSample): StatsRow {
  const id = target.id.slice(0, 12);
  return {
    Container: target.container ?? id,
    Name: target.name.replace(/^\//, ''),
    ID: id,
    CPUPerc: `${cpuPercent(prev, cur).toFixed(2)}%`,
    MemUsage: `${bytesSize(cur.memUsage)} / ${bytesSize(cur.memLimit)}`,
    MemPerc: `${memPercent(cur).toFixed(2)}%`,
    NetIO: `${humanSize(cur.netRx, 3)} / ${humanSize(cur.netTx, 3)}`,
    BlockIO: `${humanSize(cur.blkRead, 3)} / ${humanSize(cur.blkWrite, 3)}`,
    PIDs: String(cur.pids),
  };
}
