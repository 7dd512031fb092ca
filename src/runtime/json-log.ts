// Docker's json-file log read back: one entry per line, `--since`/`--until` as Docker reads
// them (a time, a Unix timestamp or a duration ago), `--tail`, and `-t`'s fixed-width stamps. Pure.
import { MinictrError } from '../base/errors.js';

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  log: string;
  stream: LogStream;
  /** RFC 3339 with up to 9 fraction digits, as written. */
  time: string;
}

/** One line of a json-file log; undefined for a line that is not one (a torn write, a foreign line). */
export function parseLogLine(line: string): LogEntry | undefined {
  try {
    const value = JSON.parse(line) as Partial<LogEntry>;
    if (typeof value.log !== 'string' || typeof value.time !== 'string') return undefined;
    return { log: value.log, stream: value.stream === 'stderr' ? 'stderr' : 'stdout', time: value.time };
  } catch {
    return undefined;
  }
}

const NS_PER_MS = 1_000_000n;

/** An RFC 3339 time as nanoseconds since the epoch (the fraction kept to the nanosecond). */
export function timeNs(text: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?)?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?$/.exec(text);
  if (!m) return undefined;
  const base = m[1] ?? '';
  // A date or time without a zone is local time, as Docker reads it.
  const ms = Date.parse(m[3] ? `${base}${m[3]}` : base.includes('T') ? base : `${base}T00:00:00`);
  if (Number.isNaN(ms)) return undefined;
  const fraction = BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  return BigInt(ms) * NS_PER_MS + fraction;
}

const DURATION_UNITS: Record<string, bigint> = {
  ns: 1n, us: 1_000n, µs: 1_000n, ms: NS_PER_MS, s: 1_000n * NS_PER_MS, m: 60_000n * NS_PER_MS, h: 3_600_000n * NS_PER_MS,
};

/** Go's time.ParseDuration, in nanoseconds: "10s", "1h30m", "1.5h". */
export function durationNs(text: string): bigint | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, number, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(number) * Number(DURATION_UNITS[unit ?? 's'] ?? 0n);
  }
  return BigInt(Math.round(total));
}

/** `--since`/`--until`: an RFC 3339 time or date, a Unix timestamp, or a duration before `nowMs`. */
export function parseLogTime(flag: 'since' | 'until', text: string, nowMs: number): bigint {
  const ago = durationNs(text);
  if (ago !== undefined) return BigInt(nowMs) * NS_PER_MS - ago;
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (unix) return BigInt(unix[1] ?? '0') * 1_000_000_000n + BigInt((unix[2] ?? '').padEnd(9, '0') || '0');
  const at = timeNs(text);
  if (at !== undefined) return at;
  throw new MinictrError('E_BAD_FLAG', `invalid value for "${flag}": failed to parse value as time or duration: "${text}"`, { exitCode: 1 });
}

/** `--tail`: a number of lines, or all (undefined). */
export function parseTail(text: string): number | undefined {
  if (text === 'all' || text === '') return undefined;
  if (!/^\d+$/.test(text)) throw new MinictrError('E_BAD_FLAG', `invalid value for "tail": "${text}" is not a number of lines or "all"`, { exitCode: 1 });
  return Number(text);
}

/** `-t`: the entry's time with a fixed nine-digit fraction (Docker's RFC3339NanoFixed). */
export function fixedTime(time: string): string {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(time);
  if (!m) return time;
  return `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}${m[3]}`;
}

export interface LogFilter {
  sinceNs?: bigint;
  untilNs?: bigint;
}

export function inWindow(entry: LogEntry, filter: LogFilter): boolean {
  if (filter.sinceNs === undefined && filter.untilNs === undefined) return true;
  const at = timeNs(entry.time);
  if (at === undefined) return true;
  if (filter.sinceNs !== undefined && at < filter.sinceNs) return false;
  if (filter.untilNs !== undefined && at > filter.untilNs) return false;
  return true;
}
