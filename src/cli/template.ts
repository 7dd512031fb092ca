// A small subset of Go templates for --format: {{json .}}, {{.A.B}}, {{json .A.B}},
// {{.A.B}} inside text, and \t / \n escapes. Enough for `inspect -f` and `ps --format`.
import { MinictrError } from '../base/errors.js';
import { byCodeUnits } from '../base/compare.js';

function lookup(value: unknown, path: string): unknown {
  if (path === '.' || path === '') return value;
  let current: unknown = value;
  for (const key of path.replace(/^\./, '').split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function show(value: unknown): string {
  if (value === undefined) return '<no value>';
  if (value === null) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(show).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => byCodeUnits(a, b));
    return `map[${entries.map(([k, v]) => `${k}:${show(v)}`).join(' ')}]`;
  }
  return String(value);
}

/** Docker exits 64 when a --format template does not parse. */
const EXIT_TEMPLATE = 64;

export function renderTemplate(template: string, value: unknown): string {
  const text = template.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const opened = (text.match(/\{\{/g) ?? []).length;
  const closed = (text.match(/\}\}/g) ?? []).length;
  if (opened !== closed) {
    throw new MinictrError('E_BAD_TEMPLATE', `template parsing error: unclosed action in "${template}"`, { exitCode: EXIT_TEMPLATE });
  }
  return text.replace(/\{\{\s*(.*?)\s*\}\}/g, (_whole, expr: string) => {
    const json = /^json\s+(\S+)$/.exec(expr);
    if (json) return JSON.stringify(lookup(value, json[1] ?? '.'));
    if (/^\.[A-Za-z0-9_.]*$/.test(expr) || expr === '.') return show(lookup(value, expr));
    throw new MinictrError('E_BAD_TEMPLATE', `template: unsupported expression "{{${expr}}}"; use {{json .}} or {{.Field.Sub}}`, { exitCode: EXIT_TEMPLATE });
  });
}
