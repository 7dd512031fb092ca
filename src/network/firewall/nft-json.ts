// The one parser of nftables' dump, `nft -j list ruleset`: tables, chains with their policies,
// rules in order, and set/map elements as "rules" of a pseudo-chain `@set`. Identity comes from
// the JSON fields (table, chain or set, handle, comment); each rule and element also gets the
// line `nft list` prints for it, rendered from its JSON, because that line is what minictr's
// plan is written in (./nftables.ts), what `net inspect` shows and what repair compares. The
// renderer knows the expressions nft prints for minictr's rules and the common ones of other
// tools; anything else is shown as `<kind …>` (it can only be another tool's, never planned).
import { MinictrError, errorMessage } from '../../base/errors.js';
import type { DumpedChain, DumpedRule, FirewallDump } from '../driver.js';
import { elementChain } from './nftables.js';

type Json = Record<string, unknown>;

const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Meta keys nft prints without `meta ` in front (nftables' meta_key_is_unqualified). */
const UNQUALIFIED_META = new Set(['iif', 'oif', 'iifname', 'oifname', 'iifgroup', 'oifgroup']);
/** Keys whose values are strings nft prints in quotes (interface names and kinds). */
const QUOTED_META = new Set(['iifname', 'oifname', 'iifkind', 'oifkind', 'ibrname', 'obrname', 'sdifname']);
/** Set key types whose values nft prints in quotes. */
const QUOTED_TYPES = new Set(['ifname', 'string']);

function quote(text: string): string {
  return `"${text}"`;
}

/** Does this expression yield a quoted string type (iifname …)? */
function quotesRight(left: unknown): boolean {
  const meta = obj(obj(left)?.['meta']);
  return meta !== undefined && QUOTED_META.has(str(meta['key']) ?? '');
}

/** An expression as nft prints it; `quoted` for strings of a quoted type. */
export function renderExpr(e: unknown, quoted = false): string {
  // A string starting with @ names a set or map: never quoted.
  if (typeof e === 'string') return quoted && !e.startsWith('@') ? quote(e) : e;
  if (typeof e === 'number' || typeof e === 'boolean') return String(e);
  if (Array.isArray(e)) return e.map((x) => renderExpr(x, quoted)).join(',');
  const o = obj(e);
  if (!o) return String(e);
  const [kind, value] = Object.entries(o)[0] ?? ['', undefined];
  const v = obj(value);
  switch (kind) {
    case 'meta': {
      const key = str(v?.['key']) ?? '?';
      return UNQUALIFIED_META.has(key) ? key : `meta ${key}`;
    }
    case 'payload': {
      if (v?.['protocol'] !== undefined) return `${str(v['protocol']) ?? '?'} ${str(v['field']) ?? '?'}`;
      return `@${str(v?.['base']) ?? '?'},${String(v?.['offset'])},${String(v?.['len'])}`;
    }
    case 'fib': {
      const flags = Array.isArray(v?.['flags']) ? (v['flags'] as unknown[]).map(String) : [String(v?.['flags'] ?? '')];
      return `fib ${flags.join(' . ')} ${str(v?.['result']) ?? '?'}`;
    }
    case 'ct': {
      const dir = str(v?.['dir']);
      return `ct ${dir ? `${dir} ` : ''}${str(v?.['key']) ?? '?'}`;
    }
    case 'concat':
      return (Array.isArray(value) ? value : []).map((x) => renderExpr(x, quoted)).join(' . ');
    case 'prefix':
      return `${renderExpr(v?.['addr'])}/${String(v?.['len'])}`;
    case 'range': {
      const [lo, hi] = Array.isArray(value) ? value : [];
      return `${renderExpr(lo, quoted)}-${renderExpr(hi, quoted)}`;
    }
    case 'set':
      return `{ ${(Array.isArray(value) ? value : [value]).map((x) => (Array.isArray(x) ? `${renderExpr(x[0], quoted)} : ${renderExpr(x[1])}` : renderExpr(x, quoted))).join(', ')} }`;
    case 'map':
      return `${renderExpr(v?.['key'])} map ${renderExpr(v?.['data'])}`;
    case 'elem':
      return renderExpr(v?.['val'], quoted);
    default:
      return renderStatement(o);
  }
}

function natStatement(kind: string, v: Json | undefined): string {
  const family = str(v?.['family']);
  const addr = v?.['addr'];
  const port = v?.['port'];
  const to = addr !== undefined || port !== undefined ? ` to ${addr !== undefined ? renderExpr(addr) : ''}${port !== undefined ? `:${renderExpr(port)}` : ''}` : '';
  return `${kind}${family ? ` ${family}` : ''}${to}`;
}

/** One statement of a rule's `expr` list, as nft prints it. */
export function renderStatement(s: Json): string {
  const [kind, value] = Object.entries(s)[0] ?? ['', undefined];
  const v = obj(value);
  switch (kind) {
    case 'match': {
      const op = str(v?.['op']) ?? '==';
      const left = renderExpr(v?.['left']);
      const right = renderExpr(v?.['right'], quotesRight(v?.['left']));
      return op === '==' || op === 'in' ? `${left} ${right}` : `${left} ${op} ${right}`;
    }
    case 'vmap':
      return `${renderExpr(v?.['key'])} vmap ${renderExpr(v?.['data'])}`;
    case 'accept':
    case 'drop':
    case 'return':
    case 'continue':
    case 'notrack':
      return kind;
    case 'jump':
    case 'goto':
      return `${kind} ${str(v?.['target']) ?? '?'}`;
    case 'masquerade':
    case 'redirect':
      return v?.['port'] !== undefined ? `${kind} to :${renderExpr(v['port'])}` : kind;
    case 'dnat':
    case 'snat':
      return natStatement(kind, v);
    case 'counter':
      return v ? `counter packets ${String(v['packets'])} bytes ${String(v['bytes'])}` : 'counter';
    case 'log': {
      const prefix = str(v?.['prefix']);
      const level = str(v?.['level']);
      return `log${prefix !== undefined ? ` prefix ${quote(prefix)}` : ''}${level !== undefined ? ` level ${level}` : ''}`;
    }
    case 'reject': {
      const type = str(v?.['type']);
      const expr = v?.['expr'];
      if (type === 'tcp reset') return 'reject with tcp reset';
      return type ? `reject with ${type}${expr !== undefined ? ` ${renderExpr(expr)}` : ''}` : 'reject';
    }
    case 'limit':
      return `limit rate ${String(v?.['rate'])}/${str(v?.['per']) ?? 'second'}`;
    default:
      return `<${kind} ${JSON.stringify(value)}>`;
  }
}

/** A rule's expressions, joined as nft prints them, with its comment last. */
export function renderRule(expr: unknown[], comment?: string): string {
  const body = expr.map((s) => renderStatement(obj(s) ?? {})).join(' ');
  return comment === undefined ? body : `${body} comment ${quote(comment)}`;
}

/** Which positions of a set's key are of a quoted type. */
function quotedPositions(type: unknown): boolean[] {
  const types = Array.isArray(type) ? type.map(String) : [String(type ?? '')];
  return types.map((t) => QUOTED_TYPES.has(t));
}

/** A key (one value, or a concatenation) with each part quoted as its type wants. */
function renderKey(val: unknown, quoted: boolean[]): string {
  const concat = obj(val)?.['concat'];
  if (Array.isArray(concat)) return concat.map((x, i) => renderExpr(x, quoted[i] ?? false)).join(' . ');
  return renderExpr(val, quoted[0] ?? false);
}

/** An element as `nft list` prints it inside `elements = { … }`; its comment, if any, apart. */
export function renderElement(entry: unknown, type: unknown, mapType: unknown): { line: string; comment?: string } {
  const [keyPart, valuePart] = Array.isArray(entry) && entry.length === 2 ? entry : [entry, undefined];
  const elem = obj(obj(keyPart)?.['elem']);
  const val = elem ? elem['val'] : keyPart;
  const comment = str(elem?.['comment']);
  const key = renderKey(val, quotedPositions(type));
  const value = valuePart === undefined ? undefined : mapType === 'verdict' ? renderStatement(obj(valuePart) ?? {}) : renderKey(valuePart, quotedPositions(mapType));
  const line = `${key}${comment !== undefined ? ` comment ${quote(comment)}` : ''}${value !== undefined ? ` : ${value}` : ''}`;
  return comment === undefined ? { line } : { line, comment };
}

/** `nft -j list ruleset [family]` into a FirewallDump; empty output is an empty ruleset. */
export function parseNftJson(text: string): FirewallDump {
  const dump: FirewallDump = { chains: [], rules: [] };
  const trimmed = text.trim();
  if (trimmed === '') return dump;
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (err) {
    throw new MinictrError('E_BAD_OUTPUT', `could not read the output of nft -j list ruleset as JSON: ${errorMessage(err)}`);
  }
  const items = obj(parsed)?.['nftables'];
  if (!Array.isArray(items)) throw new MinictrError('E_BAD_OUTPUT', 'nft -j list ruleset printed JSON without an "nftables" list');
  const chains: DumpedChain[] = [];
  // As `nft list` orders them: table by table, its sets' elements, then its chains' rules.
  const byTable = new Map<string, { sets: DumpedRule[]; rules: DumpedRule[] }>();
  const of = (table: string): { sets: DumpedRule[]; rules: DumpedRule[] } => {
    let t = byTable.get(table);
    if (!t) byTable.set(table, (t = { sets: [], rules: [] }));
    return t;
  };
  for (const item of items) {
    const [kind, value] = Object.entries(obj(item) ?? {})[0] ?? ['', undefined];
    const v = obj(value);
    if (!v) continue;
    const table = `${str(v['family']) ?? '?'} ${str(v['table']) ?? '?'}`;
    if (kind === 'chain') {
      chains.push({ table, chain: str(v['name']) ?? '?', policy: v['hook'] !== undefined ? (str(v['policy']) ?? 'accept') : '-' });
    } else if (kind === 'set' || kind === 'map') {
      const chain = elementChain(str(v['name']) ?? '?');
      for (const entry of Array.isArray(v['elem']) ? v['elem'] : []) {
        const { line, comment } = renderElement(entry, v['type'], v['map']);
        of(table).sets.push({ table, chain, line, ...(comment !== undefined ? { comment } : {}) });
      }
    } else if (kind === 'rule') {
      const comment = str(v['comment']);
      const handle = typeof v['handle'] === 'number' ? v['handle'] : undefined;
      of(table).rules.push({
        table,
        chain: str(v['chain']) ?? '?',
        line: renderRule(Array.isArray(v['expr']) ? v['expr'] : [], comment),
        ...(handle !== undefined ? { handle } : {}),
        ...(comment !== undefined ? { comment } : {}),
      });
    }
  }
  dump.chains = chains;
  dump.rules = [...byTable.values()].flatMap((t) => [...t.sets, ...t.rules]);
  return dump;
}
