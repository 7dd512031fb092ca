// `-v`, `--mount`, `--tmpfs` and `--volumes-from` as Docker reads them (its CLI, then its
// daemon's checks), into MountRequests. Pure: the host is looked at in ./volumes.ts.
import { posix } from 'node:path';
import { MinictrError } from '../base/errors.js';
import { parseBytes } from '../cgroup/limits.js';

export interface MountRequest {
  type: 'bind' | 'volume' | 'tmpfs';
  /** Host path (bind), volume name (volume; '' for an anonymous one), '' for tmpfs. */
  source: string;
  destination: string;
  readOnly: boolean;
  /** Bind propagation ('' unless asked; binds default to rprivate when resolved). */
  propagation: string;
  /** tmpfs mount options, Docker's defaults merged in; '' for others. */
  options: string;
  /** `-v` makes a missing host directory; `--mount` refuses it. */
  createHostPath: boolean;
  noCopy: boolean;
}

/** Docker's local driver: at least two characters, no '/', not starting with '.'. */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);
const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
const COPY_MODES = new Set(['nocopy']);
/** Accepted and ignored on Linux, as Docker does. */
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated']);
/** What --tmpfs gets unless it asks otherwise (moby's oci_linux.go). */
const TMPFS_DEFAULTS = ['rw', 'noexec', 'nosuid', 'nodev'];

function badFlag(message: string): MinictrError {
  return new MinictrError('E_BAD_FLAG', message);
}

export function validateVolumeName(name: string): void {
  if (!VOLUME_NAME.test(name)) {
    throw badFlag(
      `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}

/** Why a mount's container path is refused, in Docker's words, or undefined. */
function destinationProblem(destination: string): string | undefined {
  if (posix.normalize(destination) === '/' || /^\/+$/.test(destination)) return "invalid specification: destination can't be '/'";
  if (!destination.startsWith('/')) return `invalid mount path: '${destination}' mount path must be absolute`;
  return undefined;
}

/** A path as Docker records it: cleaned, no trailing slash. */
export function cleanPath(path: string): string {
  const clean = posix.normalize(path);
  return clean.length > 1 ? clean.replace(/\/+$/, '') : clean;
}

/** Docker's CLI (23+) makes `.` and `./x` sources absolute against the working directory. */
function absoluteSource(source: string, cwd: string): string {
  return source === '.' || source.startsWith('./') ? posix.resolve(cwd, source) : source;
}

/** The daemon's checks of one mount, worded as its `invalid mount config` errors; undefined if fine. */
function mountConfigProblem(m: MountRequest, hasBindOptions: boolean, hasVolumeOptions: boolean): string | undefined {
  const problem = ((): string | undefined => {
    if (m.destination === '') return 'field Target must not be empty';
    const dest = destinationProblem(m.destination);
    if (dest) return dest;
    if (m.type === 'bind') {
      if (m.source === '') return 'field Source must not be empty';
      if (m.propagation && !PROPAGATIONS.has(m.propagation)) return `invalid propagation mode: ${m.propagation}`;
      if (hasVolumeOptions) return 'field VolumeOptions must not be specified';
      if (!m.source.startsWith('/')) return `invalid mount path: '${m.source}' mount path must be absolute`;
    } else if (m.type === 'volume') {
      if (hasBindOptions) return 'field BindOptions must not be specified';
      if (m.readOnly && m.source === '') return 'must not set ReadOnly mode when using anonymous volumes';
    } else {
      if (hasBindOptions) return 'field BindOptions must not be specified';
      if (m.source !== '') return 'field Source must not be specified';
    }
    return undefined;
  })();
  return problem === undefined ? undefined : `invalid mount config for type "${m.type}": ${problem}`;
}

/** moby's check of a `-v` mode: known options, at most one of each kind. */
function validMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0, 0];
  for (const o of mode.split(',')) {
    const kind = [RW_MODES, LABEL_MODES, PROPAGATIONS, COPY_MODES, CONSISTENCY_MODES].findIndex((set) => set.has(o));
    if (kind < 0) return false;
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts.every((n) => n <= 1);
}

/** `-v /host:/ctr[:opts]`, `-v name:/ctr[:opts]`, `-v /ctr` (an anonymous volume). */
export function parseVolumeFlag(text: string, cwd: string = process.cwd()): MountRequest {
  const invalid = badFlag(`invalid volume specification: '${text}'`);
  const parts = text.split(':');
  if (parts[0] === '' || parts.length > 3) throw invalid;
  // `/ctr:ro` is a destination with a mode: volumes cannot have one without a source.
  if (parts.length === 2 && validMode(parts[1] ?? '')) throw invalid;
  const [first = '', second, mode = ''] = parts;
  if (!validMode(mode)) throw badFlag(`invalid mode: ${mode}`);
  const options = mode === '' ? [] : mode.split(',');
  const source = second === undefined ? '' : absoluteSource(first, cwd);
  const destination = second ?? first;
  const request: MountRequest = {
    type: source.startsWith('/') ? 'bind' : 'volume',
    source: source.startsWith('/') ? cleanPath(source) : source,
    destination,
    readOnly: options.includes('ro'),
    propagation: options.find((o) => PROPAGATIONS.has(o)) ?? '',
    options: '',
    createHostPath: true,
    noCopy: options.includes('nocopy'),
  };
  const problem = mountConfigProblem(request, request.propagation !== '', options.includes('nocopy'));
  if (problem) throw badFlag(`invalid volume specification: '${text}': ${problem}`);
  if (request.type === 'volume' && request.source !== '') validateVolumeName(request.source);
  return { ...request, destination: cleanPath(destination) };
}

/** One CSV record (Go's encoding/csv: fields may be double-quoted, "" is a quote). */
function csvFields(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  if (quoted) throw badFlag(`invalid argument "${text}" for "--mount" flag: extraneous or missing " in quoted-field`);
  fields.push(field);
  return fields;
}

/** Go's strconv.ParseBool subset Docker's CLI takes; a bare key means true. */
function boolValue(key: string, value: string | undefined, cliError: (m: string) => MinictrError): boolean {
  if (value === undefined || value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw cliError(`invalid value for '${key}': invalid boolean value ("${value}"): must be one of "true", "1", "false", or "0" (default "true")`);
}

/** Docker's size= form: the largest unit that divides the bytes exactly. */
function sizeOption(bytes: number): string {
  for (const [suffix, divisor] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
    if (bytes % divisor === 0) return `size=${bytes / divisor}${suffix}`;
  }
  return `size=${bytes}`;
}

/** `--mount type=bind|volume|tmpfs,src=…,dst=…[,readonly][,bind-propagation=…][,volume-nocopy][,tmpfs-size=…][,tmpfs-mode=…]`. */
export function parseMountFlag(text: string, cwd: string = process.cwd()): MountRequest {
  const cliError = (message: string): MinictrError => badFlag(`invalid argument "${text}" for "--mount" flag: ${message}`);
  let type = 'volume';
  let source = '';
  let destination = '';
  let readOnly = false;
  let propagation = '';
  let noCopy = false;
  let sizeBytes = 0;
  let mode: number | undefined;
  const kinds = new Set<'bind' | 'volume' | 'tmpfs'>();
  for (const field of csvFields(text)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    if (value === undefined && !['readonly', 'ro', 'volume-nocopy'].includes(key)) {
      throw cliError(`invalid field '${field}' must be a key=value pair`);
    }
    switch (key) {
      case 'type':
        type = (value ?? '').toLowerCase();
        break;
      case 'source':
      case 'src':
        source = absoluteSource(value ?? '', cwd);
        break;
      case 'target':
      case 'dst':
      case 'destination':
        destination = value ?? '';
        break;
      case 'readonly':
      case 'ro':
        readOnly = boolValue(key, value, cliError);
        break;
      case 'consistency':
        break;
      case 'bind-propagation':
        propagation = (value ?? '').toLowerCase();
        kinds.add('bind');
        break;
      case 'volume-nocopy':
        noCopy = boolValue(key, value, cliError);
        kinds.add('volume');
        break;
      case 'tmpfs-size': {
        try {
          sizeBytes = parseBytes(value ?? '', key);
        } catch {
          throw cliError(`invalid value for ${key}: ${value ?? ''}`);
        }
        kinds.add('tmpfs');
        break;
      }
      case 'tmpfs-mode':
        if (!/^[0-7]+$/.test(value ?? '') || Number.parseInt(value ?? '', 8) > 0xffffffff) throw cliError(`invalid value for ${key}: ${value ?? ''}`);
        mode = Number.parseInt(value ?? '', 8);
        kinds.add('tmpfs');
        break;
      case 'bind-recursive':
      case 'bind-nonrecursive':
      case 'volume-subpath':
      case 'volume-label':
      case 'volume-driver':
      case 'volume-opt':
      case 'image-subpath':
        throw cliError(`'${key}' is not supported by minictr`);
      default:
        throw cliError(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (type === '') throw cliError('type is required');
  if (destination === '') throw cliError('target is required');
  for (const kind of kinds) {
    if (kind !== type) throw cliError(`cannot mix '${kind}-*' options with mount type '${type}'`);
  }
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') {
    throw badFlag(`invalid mount config for type "${type}": mount type unknown`);
  }
  const request: MountRequest = {
    type,
    source: type === 'bind' && source.startsWith('/') ? cleanPath(source) : source,
    destination,
    readOnly,
    propagation,
    options: '',
    createHostPath: false,
    noCopy,
  };
  const problem = mountConfigProblem(request, propagation !== '', noCopy);
  if (problem) throw badFlag(problem);
  if (type === 'volume' && source !== '') validateVolumeName(source);
  if (type === 'tmpfs') {
    const given = [...(mode !== undefined ? [`mode=${mode.toString(8)}`] : []), ...(sizeBytes ? [sizeOption(sizeBytes)] : [])];
    request.options = mergeTmpfsOptions([...TMPFS_DEFAULTS, ...(readOnly ? ['ro'] : []), ...given]);
  }
  return { ...request, destination: cleanPath(destination) };
}

/** Flags that cancel each other: the later one wins (moby's MergeTmpfsOptions). */
const OPPOSITES: Record<string, string> = {
  ro: 'rw', exec: 'noexec', suid: 'nosuid', dev: 'nodev', atime: 'noatime',
  diratime: 'nodiratime', relatime: 'norelatime', strictatime: 'nostrictatime',
};
const OPPOSITE = new Map<string, string>(Object.entries(OPPOSITES).flatMap(([a, b]) => [[a, b], [b, a]]));

function mergeTmpfsOptions(options: string[]): string {
  const merged: string[] = [];
  for (const option of options) {
    if (!/^[A-Za-z0-9_.+-]+(=[A-Za-z0-9_.:+-]*)?$/.test(option)) throw badFlag(`invalid tmpfs option "${option}"`);
    const key = option.split('=')[0] ?? option;
    const opposite = OPPOSITE.get(option);
    const drop = merged.findIndex((o) => (o.includes('=') ? o.split('=')[0] === key && option.includes('=') : o === option || o === opposite));
    if (drop >= 0) merged.splice(drop, 1);
    merged.push(option);
  }
  return merged.join(',');
}

/** `--tmpfs /path[:opts]`: a tmpfs with Docker's defaults (rw,noexec,nosuid,nodev), the options given overriding them. */
export function parseTmpfsFlag(text: string): MountRequest {
  const colon = text.indexOf(':');
  const destination = colon < 0 ? text : text.slice(0, colon);
  const given = colon < 0 || colon === text.length - 1 ? [] : text.slice(colon + 1).split(',');
  const problem = destinationProblem(destination);
  if (problem) throw badFlag(problem);
  const options = mergeTmpfsOptions([...TMPFS_DEFAULTS, ...given]);
  return {
    type: 'tmpfs',
    source: '',
    destination: cleanPath(destination),
    readOnly: options.split(',').includes('ro'),
    propagation: '',
    options,
    createHostPath: false,
    noCopy: false,
  };
}

/** `--volumes-from container[:ro|rw]`. */
export function parseVolumesFromFlag(text: string): { ref: string; readOnly: boolean } {
  if (text === '') throw badFlag('volumes-from specification cannot be an empty string');
  const colon = text.indexOf(':');
  const ref = colon < 0 ? text : text.slice(0, colon);
  const mode = colon < 0 ? '' : text.slice(colon + 1);
  const options = mode === '' ? [] : mode.split(',');
  // Propagation and copy modes belong to the source container's mounts, not to this flag.
  if (!validMode(mode) || options.some((o) => PROPAGATIONS.has(o) || COPY_MODES.has(o))) throw badFlag(`invalid mode: ${mode}`);
  return { ref, readOnly: options.includes('ro') };
}

/** Docker refuses two mounts on one container path. */
export function checkDuplicates(requests: { destination: string }[]): void {
  const seen = new Set<string>();
  for (const { destination } of requests) {
    const path = cleanPath(destination);
    if (seen.has(path)) throw badFlag(`Duplicate mount point: ${path}`);
    seen.add(path);
  }
}

/** Every -v, --mount and --tmpfs of a spec, parsed, duplicates refused. */
export function parseMountRequests(
  spec: { volumes?: string[]; mounts?: string[]; tmpfs?: string[] },
  cwd: string = process.cwd(),
): MountRequest[] {
  const requests = [
    ...(spec.volumes ?? []).map((v) => parseVolumeFlag(v, cwd)),
    ...(spec.mounts ?? []).map((m) => parseMountFlag(m, cwd)),
    ...(spec.tmpfs ?? []).map(parseTmpfsFlag),
  ];
  checkDuplicates(requests);
  return requests;
}

/** How deep a container path is: parents mount before their children. */
export function pathDepth(path: string): number {
  return cleanPath(path).split('/').filter(Boolean).length;
}
