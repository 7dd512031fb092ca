// The functions a template can call: Go's builtins (text/template funcs.go) and those Docker's
// CLI adds (docker/cli templates/templates.go). Pure.
import { formatValue, goType, isMap, mapEntries, sprint, sprintf, sprintln } from './fmt.js';

/** A function's failure, which the executor wraps as `error calling NAME: …`. */
export class FuncError extends Error {}

export interface TemplateFunc {
  /** Least and most arguments (max undefined: variadic). */
  min: number;
  max?: number;
  call(args: unknown[]): unknown;
}

/** Go's truth: false, 0, nil, and empty strings, slices and maps are false. */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v !== '';
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return mapEntries(v).length > 0;
  return true;
}

function wrongType(expected: string, v: unknown): FuncError {
  return new FuncError(v === undefined || v === null ? `invalid value; expected ${expected}` : `wrong type for value; expected ${expected}; got ${goType(v)}`);
}

function str(v: unknown): string {
  if (typeof v !== 'string') throw wrongType('string', v);
  return v;
}

function int(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw wrongType('int', v);
  return v;
}

/** Go's byte length of a string (len counts UTF-8 bytes). */
function byteLength(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** A basic kind for comparisons, or a FuncError. */
function kindOf(v: unknown, op: 'eq' | 'lt'): 'bool' | 'number' | 'string' | 'nil' {
  if (v === undefined || v === null) {
    if (op === 'eq') return 'nil';
    throw new FuncError('invalid type for comparison');
  }
  if (typeof v === 'boolean') {
    if (op === 'lt') throw new FuncError('invalid type for comparison');
    return 'bool';
  }
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  throw new FuncError(op === 'eq' ? `uncomparable type ${goType(v)}: ${formatValue(v)}` : 'invalid type for comparison');
}

function eq(args: unknown[]): boolean {
  const [first, ...rest] = args;
  const k1 = kindOf(first, 'eq');
  if (rest.length === 0) throw new FuncError('missing argument for comparison');
  for (const other of rest) {
    const k2 = kindOf(other, 'eq');
    if (k1 === 'nil' || k2 === 'nil') {
      if (k1 === k2) return true;
      continue;
    }
    if (k1 !== k2) throw new FuncError('incompatible types for comparison');
    if (first === other) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = kindOf(a, 'lt');
  const k2 = kindOf(b, 'lt');
  if (k1 !== k2) throw new FuncError('incompatible types for comparison');
  return (a as number | string) < (b as number | string);
}

function indexOf(item: unknown, key: unknown, length: number, cap = length): number {
  if (typeof key !== 'number' || !Number.isInteger(key)) {
    throw new FuncError(key === undefined || key === null ? 'cannot index slice/array with nil' : `cannot index slice/array with type ${goType(key)}`);
  }
  if (key < 0 || key > cap) throw new FuncError(`index out of range: ${key}`);
  void item;
  return key;
}

function index(item: unknown, keys: unknown[]): unknown {
  let v = item;
  for (const key of keys) {
    if (v === undefined || v === null) throw new FuncError('index of untyped nil');
    if (Array.isArray(v)) {
      const i = indexOf(v, key, v.length);
      if (i >= v.length) throw new FuncError(`index out of range: ${i}`);
      v = v[i];
    } else if (typeof v === 'string') {
      const bytes = new TextEncoder().encode(v);
      const i = indexOf(v, key, bytes.length);
      if (i >= bytes.length) throw new FuncError(`index out of range: ${i}`);
      v = bytes[i];
    } else if (isMap(v)) {
      if (typeof key !== 'string') throw new FuncError(key === undefined || key === null ? 'value is nil; should be of type string' : `value has type ${goType(key)}; should be string`);
      v = Object.hasOwn(v, key) ? v[key] : undefined;
    } else {
      throw new FuncError(`can't index item of type ${goType(v)}`);
    }
  }
  return v;
}

function slice(item: unknown, bounds: unknown[]): unknown {
  if (item === undefined || item === null) throw new FuncError('slice of untyped nil');
  if (bounds.length > 3) throw new FuncError(`too many slice indexes: ${bounds.length}`);
  let length: number;
  if (Array.isArray(item)) length = item.length;
  else if (typeof item === 'string') {
    if (bounds.length === 3) throw new FuncError('cannot 3-index slice a string');
    length = byteLength(item);
  } else throw new FuncError(`can't slice item of type ${goType(item)}`);
  const idx = bounds.map((b) => indexOf(item, b, length));
  const lo = idx[0] ?? 0;
  const hi = idx[1] ?? length;
  if (lo > hi) throw new FuncError(`invalid slice index: ${lo} > ${hi}`);
  if (idx[2] !== undefined && hi > idx[2]) throw new FuncError(`invalid slice index: ${hi} > ${idx[2]}`);
  if (Array.isArray(item)) return item.slice(lo, hi);
  return new TextDecoder().decode(new TextEncoder().encode(item as string).slice(lo, hi));
}

/** The argument text of html, js and urlquery: one string as is, else fmt.Sprint. */
function evalArgs(args: unknown[]): string {
  return args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args);
}

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => ({ '\0': '\uFFFD', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] ?? c);
}

function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    const named: Record<string, string> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D' };
    const esc = named[ch];
    if (esc !== undefined) out += esc;
    else if (cp < 0x20) out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

function queryEscape(s: string): string {
  let out = '';
  for (const b of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** strings.Title: the first letter of each word upper-cased. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    const separator = /[\p{L}\p{Nd}_]/u.test(prev) ? false : (prev.codePointAt(0) ?? 0) < 0x80 || /\s/u.test(prev);
    out += separator ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

/** Go's builtins. */
export const BUILTINS: Record<string, TemplateFunc> = {
  // and, or: evaluated lazily by the executor; these are only their arity.
  and: { min: 1, call: (a) => a.find((v) => !truth(v)) ?? a[a.length - 1] },
  or: { min: 1, call: (a) => a.find((v) => truth(v)) ?? a[a.length - 1] },
  not: { min: 1, max: 1, call: ([v]) => !truth(v) },
  eq: { min: 1, call: (a) => eq(a) },
  ne: { min: 2, max: 2, call: (a) => !eq(a) },
  lt: { min: 2, max: 2, call: ([a, b]) => lt(a, b) },
  le: { min: 2, max: 2, call: ([a, b]) => lt(a, b) || eq([a, b]) },
  gt: { min: 2, max: 2, call: ([a, b]) => !lt(a, b) && !eq([a, b]) },
  ge: { min: 2, max: 2, call: ([a, b]) => !lt(a, b) },
  len: {
    min: 1, max: 1,
    call: ([v]) => {
      if (v === undefined || v === null) throw new FuncError('len of nil pointer');
      if (typeof v === 'string') return byteLength(v);
      if (Array.isArray(v)) return v.length;
      if (isMap(v)) return mapEntries(v).length;
      throw new FuncError(`len of type ${goType(v)}`);
    },
  },
  index: { min: 1, call: ([item, ...keys]) => index(item, keys) },
  slice: { min: 1, call: ([item, ...bounds]) => slice(item, bounds) },
  print: { min: 0, call: (a) => sprint(a) },
  printf: { min: 1, call: ([f, ...a]) => sprintf(str(f), a) },
  println: { min: 0, call: (a) => sprintln(a) },
  html: { min: 0, call: (a) => htmlEscape(evalArgs(a)) },
  js: { min: 0, call: (a) => jsEscape(evalArgs(a)) },
  urlquery: { min: 0, call: (a) => queryEscape(evalArgs(a)) },
};

/** Docker's basicFunctions. join takes any list (Docker's typed []string; decoded JSON has []interface{}). */
export const DOCKER_FUNCS: Record<string, TemplateFunc> = {
  json: { min: 1, max: 1, call: ([v]) => JSON.stringify(v === undefined ? null : v) ?? 'null' },
  split: { min: 2, max: 2, call: ([s, sep]) => (str(sep) === '' ? [...str(s)] : str(s).split(str(sep))) },
  join: {
    min: 2, max: 2,
    call: ([list, sep]) => {
      if (!Array.isArray(list)) throw wrongType('[]string', list);
      return list.map(formatValue).join(str(sep));
    },
  },
  title: { min: 1, max: 1, call: ([s]) => title(str(s)) },
  lower: { min: 1, max: 1, call: ([s]) => str(s).toLowerCase() },
  upper: { min: 1, max: 1, call: ([s]) => str(s).toUpperCase() },
  pad: { min: 3, max: 3, call: ([s, pre, post]) => (str(s) === '' ? '' : ' '.repeat(Math.max(0, int(pre))) + str(s) + ' '.repeat(Math.max(0, int(post)))) },
  truncate: {
    min: 2, max: 2,
    call: ([s, n]) => {
      const bytes = new TextEncoder().encode(str(s));
      const length = int(n);
      return bytes.length < length ? str(s) : new TextDecoder().decode(bytes.slice(0, Math.max(0, length)));
    },
  },
};

/** Docker's HeaderFunctions: a table's header row keeps the column names as they are. */
export const DOCKER_HEADER_FUNCS: Record<string, TemplateFunc> = {
  ...DOCKER_FUNCS,
  ...Object.fromEntries(['json', 'split', 'join', 'title', 'lower', 'upper', 'truncate'].map((name) => [
    name, { min: DOCKER_FUNCS[name]?.min ?? 1, max: DOCKER_FUNCS[name]?.max, call: ([v]: unknown[]) => v },
  ])),
};
