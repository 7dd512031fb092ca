// `ps --filter`: Docker's keys, values and errors, as a pure function of the records. Several
// values of one key are ORed, keys are ANDed (labels: every one must match, as Docker's
// MatchKVList). What needs the host (an image reference resolved to its id, a network's id)
// comes in as facts.
import { MinictrError } from '../base/errors.js';
import type { ContainerRecord, Protocol } from '../base/records.js';
import { parsePortSpec } from '../network/ports.js';

/** Docker's accepted `ps` filter keys. */
export const PS_FILTER_KEYS = ['ancestor', 'before', 'exited', 'health', 'id', 'label', 'name', 'status', 'since', 'volume', 'network', 'is-task', 'publish', 'expose'] as const;
export type PsFilterKey = (typeof PS_FILTER_KEYS)[number];

/** Docker's container states, as the status filter accepts them. */
export const PS_STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'] as const;

export type PsFilters = Map<PsFilterKey, string[]>;

/** What the filters need from outside the records. */
export interface PsFilterFacts {
  /** Every container (before/since name one; it need not be in the list shown). */
  all: readonly ContainerRecord[];
  /** An ancestor= value → the id of the image it names here (absent: unknown image). */
  imageIds?: ReadonlyMap<string, string>;
  /** A network's name → its id. */
  networkIds?: ReadonlyMap<string, string>;
}

function invalid(text: string, exitCode = 1): MinictrError {
  return new MinictrError('E_BAD_FILTER', text, { exitCode });
}

/** A port filter value: `80`, `80/udp`, `8000-8080`, `8000-8080/tcp` → the `port/proto` keys it names. */
export function parsePortFilter(key: 'publish' | 'expose', value: string): Set<string> {
  if (value.includes(':')) throw invalid(`filter for '${key}' should not contain ':': ${value}`);
  const slash = value.indexOf('/');
  const proto = slash === -1 ? 'tcp' : value.slice(slash + 1).toLowerCase();
  const range = slash === -1 ? value : value.slice(0, slash);
  const m = /^(\d+)(?:-(\d+))?$/.exec(range);
  const start = Number(m?.[1]);
  const end = m?.[2] === undefined ? start : Number(m[2]);
  if (!m || start > 65535 || end > 65535 || end < start) {
    throw invalid(`error while looking up for ${key} ${value}: invalid port range: ${range}`);
  }
  const out = new Set<string>();
  for (let p = start; p <= end; p++) out.add(`${p}/${proto}`);
  return out;
}

/**
 * `--filter k=v` flags as Docker's CLI and daemon read them: the key lower-cased, both sides
 * trimmed; no `=` is the flag's own error (125), an unknown key or a bad value the daemon's (1).
 */
export function parsePsFilters(flags: readonly string[]): PsFilters {
  const filters: PsFilters = new Map();
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq === -1) throw invalid(`invalid argument "${flag}" for "-f, --filter" flag: bad format of filter (expected name=value)`, 125);
    const key = flag.slice(0, eq).trim().toLowerCase();
    const value = flag.slice(eq + 1).trim();
    if (!(PS_FILTER_KEYS as readonly string[]).includes(key)) throw invalid(`invalid filter '${key}'`);
    const k = key as PsFilterKey;
    if (k === 'status' && !(PS_STATUSES as readonly string[]).includes(value)) throw invalid(`invalid filter 'status=${value}'`);
    if (k === 'exited' && !/^-?\d+$/.test(value)) throw invalid(`invalid filter 'exited=${value}'`);
    if (k === 'health' && !['starting', 'healthy', 'unhealthy', 'none'].includes(value)) throw invalid(`invalid filter 'health=${value}'`);
    if (k === 'is-task' && !['true', 'false', '1', '0'].includes(value)) throw invalid(`invalid filter 'is-task=${value}'`);
    if (k === 'publish' || k === 'expose') parsePortFilter(k, value);
    const values = filters.get(k) ?? [];
    if (!values.includes(value)) values.push(value);
    filters.set(k, values);
  }
  return filters;
}

/** Docker's State: a frozen running container is "paused". */
export function psState(record: ContainerRecord): (typeof PS_STATUSES)[number] {
  if (record.state.status !== 'running' && record.state.restarting) return 'restarting';
  return record.state.status === 'running' && record.state.paused ? 'paused' : record.state.status;
}

/** Whether the filters ask for stopped containers too, as `-a` would (status, before, since do in Docker). */
export function filtersImplyAll(filters: PsFilters): boolean {
  return filters.has('status') || filters.has('before') || filters.has('since');
}

/** Docker's filters.Match: each value a regular expression searched in the text; a bad one matches nothing. */
function regexMatch(values: readonly string[], text: string): boolean {
  return values.some((v) => {
    try {
      return new RegExp(v).test(text);
    } catch {
      return false;
    }
  });
}

/** Docker's MatchKVList: every `key`, `key=value` or `key!=value` must hold. */
function labelsMatch(values: readonly string[], labels: Readonly<Record<string, string>>): boolean {
  return values.every((v) => {
    const eq = v.indexOf('=');
    if (eq === -1) return Object.hasOwn(labels, v);
    const negate = v[eq - 1] === '!';
    const key = v.slice(0, negate ? eq - 1 : eq);
    const want = v.slice(eq + 1);
    const has = Object.hasOwn(labels, key);
    return negate ? !has || labels[key] !== want : has && labels[key] === want;
  });
}

/** The container ports a record publishes (`port/proto`): the bound ones while running, else its -p specs. */
export function publishedPorts(record: ContainerRecord): Set<string> {
  const out = new Set<string>();
  const add = (port: number, proto: Protocol): void => {
    out.add(`${port}/${proto}`);
  };
  if (record.network?.ports.length) {
    for (const p of record.network.ports) add(p.containerPort, p.proto);
    return out;
  }
  for (const spec of record.hostConfig.portSpecs) {
    try {
      for (const p of parsePortSpec(spec)) add(p.containerPort, p.proto);
    } catch {
      // A spec start would refuse publishes nothing.
    }
  }
  return out;
}

/** `busybox`, `busybox:latest`, `docker.io/library/busybox:latest` name the same image. */
function normalImage(ref: string): string {
  let r = ref.replace(/^docker\.io\//, '').replace(/^library\//, '');
  if (!r.includes('@') && !/:[^/]+$/.test(r)) r = `${r}:latest`;
  return r;
}

function ancestorMatch(values: readonly string[], record: ContainerRecord, imageIds: ReadonlyMap<string, string> | undefined): boolean {
  const id = record.config.imageId.replace(/^sha256:/, '');
  return values.some((v) => {
    const bare = v.replace(/^sha256:/, '');
    if (normalImage(v) === normalImage(record.config.image)) return true;
    if (/^[0-9a-f]{4,64}$/.test(bare) && id.startsWith(bare)) return true;
    const resolved = imageIds?.get(v);
    return resolved !== undefined && resolved.replace(/^sha256:/, '') === id;
  });
}

/** The container a before=/since= value names, as `find` would: full id, name, then id prefix. */
function named(ref: string, all: readonly ContainerRecord[]): ContainerRecord {
  const bare = ref.replace(/^\//, '');
  const found = all.find((c) => c.id === ref) ?? all.find((c) => c.name === bare) ?? (() => {
    const prefixed = all.filter((c) => c.id.startsWith(ref));
    return prefixed.length === 1 ? prefixed[0] : undefined;
  })();
  if (!found) throw new MinictrError('E_NO_SUCH_CONTAINER', `No such container: ${ref}`, { exitCode: 1 });
  return found;
}

/** Does one record pass every filter? */
export function matchesPsFilters(record: ContainerRecord, filters: PsFilters, facts: PsFilterFacts): boolean {
  for (const [key, values] of filters) {
    if (!matchKey(key, values, record, facts)) return false;
  }
  return true;
}

function matchKey(key: PsFilterKey, values: readonly string[], r: ContainerRecord, facts: PsFilterFacts): boolean {
  switch (key) {
    case 'status':
      return values.includes(psState(r));
    case 'name':
      return regexMatch(values, `/${r.name}`);
    case 'id':
      return regexMatch(values, r.id);
    case 'label':
      return labelsMatch(values, r.config.labels ?? {});
    case 'exited':
      // Docker: only containers that ran and stopped have an exit code to match.
      return r.state.status === 'exited' && values.some((v) => Number(v) === r.state.exitCode);
    case 'ancestor':
      return ancestorMatch(values, r, facts.imageIds);
    case 'network': {
      const mode = r.hostConfig.networkMode;
      const id = facts.networkIds?.get(mode);
      return values.some((v) => v === mode || (id !== undefined && v.length >= 1 && id.startsWith(v)));
    }
    case 'publish':
    case 'expose': {
      // minictr's exposed ports are the published ones (an image's EXPOSE is published by -P only).
      const ports = publishedPorts(r);
      return values.some((v) => [...parsePortFilter(key, v)].some((p) => ports.has(p)));
    }
    case 'volume':
      return values.some((v) => (r.mounts ?? []).some((m) => m.destination === v || (m.name ?? m.source) === v));
    case 'health':
      // No health checks in minictr: every container's health is "none".
      return values.includes('none');
    case 'is-task':
      // No swarm tasks.
      return values.some((v) => v === 'false' || v === '0');
    case 'before':
      return values.every((v) => Date.parse(r.created) < Date.parse(named(v, facts.all).created));
    case 'since':
      return values.every((v) => Date.parse(r.created) > Date.parse(named(v, facts.all).created));
  }
}

/** The records that pass; before=/since= naming an unknown container fail as Docker's lookup does. */
export function filterContainers(records: readonly ContainerRecord[], filters: PsFilters, facts: PsFilterFacts): ContainerRecord[] {
  for (const v of [...(filters.get('before') ?? []), ...(filters.get('since') ?? [])]) named(v, facts.all);
  return records.filter((r) => matchesPsFilters(r, filters, facts));
}
