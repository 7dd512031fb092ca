// Resource-limit flags in Docker's units, rejected with Docker's words: the CLI's flag parsing
// (go-units RAMInBytes, opts.NanoCPUs, pflag's int64) and the daemon's checks
// (verifyPlatformContainerResources in moby's daemon/daemon_unix.go).
import { MinictrError } from '../base/errors.js';
import type { Resources } from '../base/records.js';

/** No limit at all: Docker's zero values. */
export const NO_RESOURCES: Resources = {
  memory: 0,
  memorySwap: 0,
  memoryReservation: 0,
  nanoCpus: 0,
  cpuShares: 0,
  cpusetCpus: '',
  pidsLimit: 0,
};

/** Whether any limit is set (a -1 "unlimited" is none). */
export function hasLimits(r: Resources | undefined): boolean {
  if (!r) return false;
  return r.memory > 0 || r.memorySwap > 0 || r.memoryReservation > 0 || r.nanoCpus > 0 || r.cpuShares > 0 || r.cpusetCpus !== '' || r.pidsLimit > 0;
}

/** The daemon's floor for memory limits and reservations (linuxMinMemory). */
export const MIN_MEMORY = 6 * 1024 * 1024;

/** pflag's wording for a value its parser refused. */
function badFlag(text: string, flagLabel: string, reason: string): MinictrError {
  return new MinictrError('E_BAD_FLAG', `invalid argument "${text}" for "${flagLabel}" flag: ${reason}`);
}

const BINARY: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
const SIZE = /^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$/i;

/**
 * go-units RAMInBytes: "32m", "1.5g", "512k", "100" (bytes), case-insensitive, "b"/"ib" optional.
 * `flagLabel` is how the flag is named in the error, e.g. "-m, --memory".
 */
export function parseBytes(text: string, flagLabel: string): number {
  const m = SIZE.exec(text);
  if (!m) throw badFlag(text, flagLabel, `invalid size: '${text}'`);
  const number = m[1] ?? '';
  // The pattern lets "1.2.3" through; Go's ParseFloat then refuses it.
  if (!/^\d+(\.\d+)?$/.test(number)) throw badFlag(text, flagLabel, `strconv.ParseFloat: parsing "${number}": invalid syntax`);
  return Math.trunc(Number(number) * (BINARY[(m[2] ?? '').toLowerCase()] ?? 1));
}

/** --memory-swap: a size, or -1 for unlimited swap. */
export function parseMemorySwap(text: string): number {
  return text === '-1' ? -1 : parseBytes(text, '--memory-swap');
}

/** An exact rational as BigInt numerator/denominator: Go's big.Rat SetString ("1.5", "3/2", "2e-1"). */
function rational(text: string): [bigint, bigint] | undefined {
  const fraction = /^([+-]?\d+)\/(\d+)$/.exec(text);
  if (fraction) {
    const den = BigInt(fraction[2] ?? '0');
    return den === 0n ? undefined : [BigInt(fraction[1] ?? '0'), den];
  }
  const decimal = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!decimal) return undefined;
  const [, sign = '', whole = '', frac = '', exp = '0'] = decimal;
  if (whole === '' && frac === '') return undefined;
  const shift = Number(exp) - frac.length;
  const digits = BigInt(`${sign}${whole}${frac}` || '0');
  return shift >= 0 ? [digits * 10n ** BigInt(shift), 1n] : [digits, 10n ** BigInt(-shift)];
}

/** --cpus "1.5" → nano-CPUs (1.5e9), as the CLI's NanoCPUs flag. */
export function parseCpus(text: string): number {
  const r = rational(text);
  if (!r) throw badFlag(text, '--cpus', `failed to parse ${text} as a rational number`);
  const [num, den] = r;
  const nano = num * 1_000_000_000n;
  if (nano % den !== 0n) throw badFlag(text, '--cpus', 'value is too precise');
  return Number(nano / den);
}

/** pflag's int64: an optional sign and decimal digits, within int64. */
function parseInt64(text: string, flagLabel: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw badFlag(text, flagLabel, `strconv.ParseInt: parsing "${text}": invalid syntax`);
  const value = BigInt(text);
  if (value > 2n ** 63n - 1n || value < -(2n ** 63n)) throw badFlag(text, flagLabel, `strconv.ParseInt: parsing "${text}": value out of range`);
  return Number(value);
}

/** -c, --cpu-shares: a relative weight (1024 is a default container's). */
export function parseCpuShares(text: string): number {
  return parseInt64(text, '-c, --cpu-shares');
}

/** --pids-limit: a number of tasks; 0 and -1 mean unlimited, as in Docker. */
export function parsePidsLimit(text: string): number {
  return parseInt64(text, '--pids-limit');
}

/** The ranges of a CPU list such as "0-2,5" (moby's parsers.ParseUintList), or undefined when it is not one. */
export function cpuRanges(text: string): [number, number][] | undefined {
  if (text === '') return [];
  const ranges: [number, number][] = [];
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) return undefined;
    ranges.push([from, to]);
  }
  return ranges;
}

/** Every CPU of `wanted` is in `available` (ranges compared, never expanded: "0-4000000000" is a valid list). */
function covered(wanted: [number, number][], available: [number, number][]): boolean {
  const merged = [...available].sort((a, b) => a[0] - b[0]).reduce<[number, number][]>((out, [from, to]) => {
    const last = out[out.length - 1];
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
    return out;
  }, []);
  return wanted.every(([from, to]) => merged.some(([a, b]) => a <= from && to <= b));
}

function badCpuset(text: string): MinictrError {
  return new MinictrError('E_BAD_FLAG', `Invalid value ${text} for cpuset cpus: invalid format: ${text}`);
}

/** --cpuset-cpus "0-1,3": checked for list syntax, kept as given (the kernel reads the same syntax). */
export function parseCpuset(text: string): string {
  if (!cpuRanges(text)) throw badCpuset(text);
  return text;
}

/** What the host offers, for the daemon's checks. */
export interface HostCpus {
  /** CPUs the host has (Docker's sysinfo.NumCPU). */
  cpus: number;
  /** The CPUs a container may be pinned to, as a list ("0-3"). */
  cpusetCpus: string;
}

function fail(message: string): never {
  throw new MinictrError('E_BAD_FLAG', message);
}

/** The daemon's checks of a whole set of limits, in its order and words. */
export function validateResources(r: Resources, host: HostCpus): void {
  if (r.memory !== 0 && r.memory < MIN_MEMORY) fail('Minimum memory limit allowed is 6MB');
  if (r.memory > 0 && r.memorySwap > 0 && r.memorySwap < r.memory) {
    fail('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (r.memory === 0 && r.memorySwap > 0) fail('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (r.memoryReservation > 0 && r.memoryReservation < MIN_MEMORY) fail('Minimum memory reservation allowed is 6MB');
  if (r.memory > 0 && r.memoryReservation > 0 && r.memory < r.memoryReservation) {
    fail('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (r.nanoCpus < 0 || r.nanoCpus > host.cpus * 1e9) {
    fail(`Range of CPUs is from 0.01 to ${host.cpus}.00, as there are only ${host.cpus} CPUs available`);
  }
  const wanted = cpuRanges(r.cpusetCpus);
  if (!wanted) throw badCpuset(r.cpusetCpus);
  if (!covered(wanted, cpuRanges(host.cpusetCpus) ?? [])) {
    fail(`Requested CPUs are not available - requested ${r.cpusetCpus}, available: ${host.cpusetCpus}`);
  }
}
