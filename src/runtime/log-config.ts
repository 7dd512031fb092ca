// `--log-driver` and `--log-opt`, checked as Docker's json-file driver checks them. Pure.
import { MinictrError } from '../base/errors.js';
import type { LogConfig } from '../base/records.js';

export const LOG_DRIVERS = ['json-file', 'none'] as const;
/** json-file options minictr carries out. */
const SUPPORTED = new Set(['max-size', 'max-file']);
/** Docker's other json-file options: known, not carried out here. */
const UNSUPPORTED = new Set(['compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag']);

const DECIMAL: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };

/** go-units FromHumanSize (decimal: 10m is 10,000,000 bytes), as json-file reads max-size. */
export function parseHumanSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?b?$/i.exec(text.trim());
  if (!m) return undefined;
  return Math.trunc(Number(m[1]) * (DECIMAL[(m[2] ?? '').toLowerCase()] ?? 1));
}

function bad(message: string): MinictrError {
  return new MinictrError('E_BAD_LOG_CONFIG', message);
}

export function parseLogConfig(driver: string | undefined, opts: readonly string[]): LogConfig {
  const type = driver ?? 'json-file';
  if (!(LOG_DRIVERS as readonly string[]).includes(type)) {
    throw bad(`logger: no log driver named '${type}' is registered; minictr has ${LOG_DRIVERS.join(' and ')}`);
  }
  const config: Record<string, string> = {};
  for (const opt of opts) {
    const cut = opt.indexOf('=');
    if (cut <= 0) throw bad(`invalid argument "${opt}" for "--log-opt" flag: invalid key value pair format in log options: use key=value`);
    config[opt.slice(0, cut)] = opt.slice(cut + 1);
  }
  for (const key of Object.keys(config)) {
    if (type === 'none' || (!SUPPORTED.has(key) && !UNSUPPORTED.has(key))) throw bad(`unknown log opt '${key}' for ${type} log driver`);
    if (UNSUPPORTED.has(key)) throw bad(`log opt '${key}' is not supported by minictr's json-file driver: use max-size and max-file`);
  }
  const size = config['max-size'];
  if (size !== undefined && size !== '-1') {
    const bytes = parseHumanSize(size);
    if (bytes === undefined) throw bad(`invalid size: '${size}' for log opt max-size: use e.g. 10m`);
    if (bytes <= 0) throw bad('max-size must be a positive number');
  }
  const files = config['max-file'];
  if (files !== undefined) {
    if (!/^-?\d+$/.test(files)) throw bad(`strconv.Atoi: parsing "${files}": invalid syntax (log opt max-file)`);
    if (Number(files) < 1) throw bad('max-file cannot be less than 1');
  }
  return { type: type as LogConfig['type'], config };
}

/** The shim's rotation: bytes per file (0: unlimited) and files kept. */
export function logLimits(log: LogConfig): { maxSize: number; maxFile: number } {
  const size = log.config['max-size'];
  const maxSize = size === undefined || size === '-1' ? 0 : (parseHumanSize(size) ?? 0);
  return { maxSize, maxFile: maxSize > 0 ? Math.max(1, Number(log.config['max-file'] ?? '1')) : 1 };
}
