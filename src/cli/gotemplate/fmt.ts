// Go's fmt for the values a template sees (decoded JSON: strings, numbers, booleans, nil,
// []interface{}, map[string]interface{}): %v printing, Sprint, Sprintln and Sprintf. Pure.
import { byCodeUnits } from '../../base/compare.js';

/** A JSON object, as Go's map[string]interface{}. */
export function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A map's entries in Go's order (sorted keys), without absent (undefined) ones. */
export function mapEntries(m: Record<string, unknown>): [string, unknown][] {
  return Object.entries(m).filter(([, v]) => v !== undefined).sort(([a], [b]) => byCodeUnits(a, b));
}

/** The Go type a value would have in Docker's decoded data (for messages and %T). */
export function goType(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** Go's %g with the shortest precision (strconv 'g', -1): an exponent below 1e-4 and from 1e+06. */
function shortestG(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const sign = x < 0 ? '-' : '';
  const [mantissa = '', expText = '0'] = Math.abs(x).toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const e = Math.abs(exp);
    return `${sign}${mantissa}e${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
  }
  const digits = mantissa.replace('.', '');
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${whole}${frac ? `.${frac}` : ''}`;
}

/** A number as Go prints it: integers (JSON ints) as ints, others as float64's %v. */
export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString();
  return shortestG(n);
}

/** %v of a value, as fmt prints it (strings bare, maps sorted, nil as <nil>). */
export function formatValue(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(' ')}]`;
  if (isMap(v)) return `map[${mapEntries(v).map(([k, val]) => `${k}:${formatValue(val)}`).join(' ')}]`;
  return String(v);
}

/** fmt.Sprint: operands separated by a space when neither side is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

/** fmt.Sprintln: always a space between operands, and a newline. */
export function sprintln(args: unknown[]): string {
  return `${args.map(formatValue).join(' ')}\n`;
}

/** strconv.Quote: Go's double-quoted string, escapes as Go writes them. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    const named: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"' };
    const esc = named[ch];
    if (esc !== undefined) out += esc;
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (/^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]$/u.test(ch) && (cp < 0x80 || ch !== ' ')) out += ch;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

interface Spec {
  minus: boolean;
  plus: boolean;
  space: boolean;
  zero: boolean;
  sharp: boolean;
  width?: number;
  precision?: number;
}

function pad(s: string, spec: Spec, numeric: boolean): string {
  const width = spec.width ?? 0;
  const len = [...s].length;
  if (len >= width) return s;
  if (spec.minus) return s + ' '.repeat(width - len);
  if (spec.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? s[0] : '';
    return sign + '0'.repeat(width - len) + s.slice(sign?.length ?? 0);
  }
  return ' '.repeat(width - len) + s;
}

function signed(n: string, negative: boolean, spec: Spec): string {
  if (negative) return `-${n}`;
  if (spec.plus) return `+${n}`;
  if (spec.space) return ` ${n}`;
  return n;
}

function bad(verb: string, v: unknown): string {
  return v === undefined || v === null ? `%!${verb}(<nil>)` : `%!${verb}(${goType(v)}=${formatValue(v)})`;
}

function utf8Hex(s: string, upper: boolean): string {
  const hex = Array.from(new TextEncoder().encode(s), (b) => b.toString(16).padStart(2, '0')).join('');
  return upper ? hex.toUpperCase() : hex;
}

function formatFloat(x: number, verb: string, spec: Spec): string {
  const negative = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let body: string;
  if (!Number.isFinite(a)) body = Number.isNaN(a) ? 'NaN' : 'Inf';
  else if (verb === 'f' || verb === 'F') body = a.toFixed(spec.precision ?? 6);
  else if (verb === 'e' || verb === 'E') {
    const [m = '', e = '0'] = a.toExponential(spec.precision ?? 6).split('e');
    const n = Number(e);
    body = `${m}e${n < 0 ? '-' : '+'}${Math.abs(n) < 10 ? '0' : ''}${Math.abs(n)}`;
    if (verb === 'E') body = body.toUpperCase();
  } else {
    // %g, %v: shortest, or %.Ng with N significant digits.
    if (spec.precision === undefined) body = shortestG(a);
    else {
      const p = spec.precision === 0 ? 1 : spec.precision;
      const exp = a === 0 ? 0 : Math.floor(Math.log10(a));
      body = exp < -4 || exp >= p ? formatFloat(a, 'e', { ...spec, precision: p - 1 }).replace(/\.?0+e/, 'e') : String(Number(a.toPrecision(p)));
    }
    if (verb === 'G') body = body.toUpperCase();
  }
  return pad(signed(body, negative && !Number.isNaN(x), spec), spec, Number.isFinite(a));
}

/** One verb applied to one value; slices and maps get the verb per element, as fmt does. */
function formatOne(verb: string, v: unknown, spec: Spec): string {
  if (verb === 'T') return pad(goType(v), spec, false);
  if (Array.isArray(v) && verb !== 'q' && verb !== 'x' && verb !== 'X') return pad(`[${v.map((e) => formatOne(verb, e, { ...spec, width: undefined })).join(' ')}]`, spec, false);
  if (isMap(v)) return pad(`map[${mapEntries(v).map(([k, e]) => `${formatOne(verb, k, { ...spec, width: undefined })}:${formatOne(verb, e, { ...spec, width: undefined })}`).join(' ')}]`, spec, false);
  if (v === undefined || v === null) return verb === 'v' ? pad('<nil>', spec, false) : bad(verb, v);
  if (typeof v === 'boolean') return verb === 'v' || verb === 't' ? pad(String(v), spec, false) : bad(verb, v);
  if (typeof v === 'string') {
    const s = spec.precision !== undefined ? [...v].slice(0, spec.precision).join('') : v;
    switch (verb) {
      case 'v': case 's': return pad(s, spec, false);
      case 'q': return pad(spec.sharp && !s.includes('`') ? `\`${s}\`` : goQuote(s), spec, false);
      case 'x': case 'X': return pad(utf8Hex(s, verb === 'X'), spec, false);
      default: return bad(verb, v);
    }
  }
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) {
      return 'eEfFgGv'.includes(verb) ? formatFloat(v, verb, spec) : bad(verb, v);
    }
    const negative = v < 0;
    const a = BigInt(Math.abs(v));
    switch (verb) {
      case 'v': case 'd': {
        let digits = a.toString();
        if (spec.precision !== undefined) digits = digits.padStart(spec.precision, '0');
        return pad(signed(digits, negative, spec), spec, spec.precision === undefined);
      }
      case 'x': case 'X': case 'o': case 'O': case 'b': {
        const radix = verb === 'o' || verb === 'O' ? 8 : verb === 'b' ? 2 : 16;
        let digits = a.toString(radix);
        if (verb === 'X') digits = digits.toUpperCase();
        const prefix = verb === 'O' ? '0o' : spec.sharp ? { x: '0x', X: '0X', o: '0', b: '0b' }[verb] ?? '' : '';
        return pad(signed(prefix + digits, negative, spec), spec, true);
      }
      case 'c': return pad(String.fromCodePoint(Number(a)), spec, false);
      case 'q': return pad(`'${String.fromCodePoint(Number(a))}'`, spec, false);
      case 'U': return pad(`U+${a.toString(16).toUpperCase().padStart(4, '0')}`, spec, false);
      case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': return bad(verb, v);
      default: return bad(verb, v);
    }
  }
  return bad(verb, v);
}

/** fmt.Sprintf with Go's verbs, flags, width and precision, and its %!verb(…) complaints. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argIndex = 0;
  let i = 0;
  while (i < format.length) {
    const c = format[i] ?? '';
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    i++;
    const spec: Spec = { minus: false, plus: false, space: false, zero: false, sharp: false };
    for (;;) {
      const f = format[i];
      if (f === '-') spec.minus = true;
      else if (f === '+') spec.plus = true;
      else if (f === ' ') spec.space = true;
      else if (f === '0') spec.zero = !spec.minus;
      else if (f === '#') spec.sharp = true;
      else break;
      i++;
    }
    const number = (): number | undefined => {
      if (format[i] === '*') {
        i++;
        const a = args[argIndex++];
        return typeof a === 'number' ? Math.trunc(a) : undefined;
      }
      const m = /^\d+/.exec(format.slice(i));
      if (!m) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    spec.width = number();
    if (spec.width !== undefined && spec.width < 0) {
      spec.minus = true;
      spec.width = -spec.width;
    }
    if (format[i] === '.') {
      i++;
      spec.precision = number() ?? 0;
    }
    const verb = format[i];
    if (verb === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    i++;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argIndex >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatOne(verb, args[argIndex++], spec);
  }
  if (argIndex < args.length) {
    out += `%!(EXTRA ${args.slice(argIndex).map((a) => `${goType(a)}=${formatValue(a)}`).join(', ')})`;
  }
  return out;
}
