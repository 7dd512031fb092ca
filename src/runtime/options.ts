// Pure checks and conversions of `run`/`create` flags into a container's configuration.
import { randomBytes } from 'node:crypto';
import { MinictrError } from '../base/errors.js';
import { NAME_PATTERN } from '../state/store.js';

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

export function validateName(name: string): void {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  if (!NAME_PATTERN.test(bare) || bare.length > 128) {
    throw new MinictrError(
      'E_BAD_NAME',
      `invalid container name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
}

/** `-e NAME=VALUE` as given, `-e NAME` takes the value from minictr's own environment (as Docker). */
export function parseEnvFlag(entry: string, hostEnv: NodeJS.ProcessEnv = process.env): string | undefined {
  const eq = entry.indexOf('=');
  const name = eq === -1 ? entry : entry.slice(0, eq);
  if (name === '' || /\s/.test(name)) {
    throw new MinictrError('E_BAD_ENV', `invalid environment variable "${entry}": expected NAME=VALUE`);
  }
  if (eq !== -1) return entry;
  const value = hostEnv[name];
  return value === undefined ? undefined : `${name}=${value}`;
}

/** An --env-file: NAME=VALUE lines; blank lines and # comments skipped. */
export function parseEnvFile(text: string, file: string, hostEnv: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    try {
      const entry = parseEnvFlag(line, hostEnv);
      if (entry !== undefined) out.push(entry);
    } catch {
      throw new MinictrError('E_BAD_ENV', `invalid line ${index + 1} in env file ${file}: "${raw}"`);
    }
  });
  return out;
}

/** Later entries override earlier ones with the same name; order of first appearance kept. */
export function mergeEnv(...lists: string[][]): string[] {
  const byName = new Map<string, string>();
  for (const list of lists) {
    for (const entry of list) {
      const eq = entry.indexOf('=');
      byName.set(eq === -1 ? entry : entry.slice(0, eq), entry);
    }
  }
  return [...byName.values()];
}

/**
 * Docker's Config.Env: the user's variables first, then the image's that the user did not set.
 * (HOSTNAME, HOME and TERM are the process's, added at start: Docker does not list them here.)
 */
export function configEnv(user: string[], image: string[]): string[] {
  const name = (entry: string): string => (entry.includes('=') ? entry.slice(0, entry.indexOf('=')) : entry);
  const given = new Set(user.map(name));
  return [...mergeEnv(user), ...image.filter((e) => !given.has(name(e)))];
}

export function envValue(env: string[], name: string): string | undefined {
  const entry = env.find((e) => e.startsWith(`${name}=`));
  return entry?.slice(name.length + 1);
}

/** Docker's rule: --entrypoint replaces the image's entrypoint and drops its Cmd. */
export function resolveCommand(
  image: { Entrypoint: string[]; Cmd: string[] },
  entrypointFlag: string | undefined,
  args: string[],
): { entrypoint: string[]; cmd: string[] } {
  if (entrypointFlag !== undefined) {
    return { entrypoint: entrypointFlag === '' ? [] : [entrypointFlag], cmd: args };
  }
  return { entrypoint: image.Entrypoint ?? [], cmd: args.length > 0 ? args : image.Cmd ?? [] };
}

const ADJECTIVES = [
  'admiring', 'agitated', 'amazing', 'bold', 'brave', 'busy', 'calm', 'clever', 'cool', 'dazzling',
  'eager', 'elegant', 'epic', 'festive', 'focused', 'friendly', 'gallant', 'happy', 'hopeful', 'jolly',
  'keen', 'kind', 'loving', 'lucid', 'modest', 'nifty', 'optimistic', 'peaceful', 'quirky', 'relaxed',
  'serene', 'sharp', 'stoic', 'tender', 'trusting', 'vibrant', 'wizardly', 'youthful', 'zealous', 'zen',
];
const SURNAMES = [
  'albattani', 'babbage', 'bell', 'carson', 'curie', 'darwin', 'dijkstra', 'einstein', 'euler', 'feynman',
  'franklin', 'galois', 'goldberg', 'hamilton', 'hopper', 'hypatia', 'kepler', 'knuth', 'lamport', 'lovelace',
  'mccarthy', 'meitner', 'newton', 'noether', 'pascal', 'perlman', 'ritchie', 'shannon', 'thompson', 'turing',
  'wozniak', 'yonath',
];

function pick<T>(list: readonly T[]): T {
  return list[randomBytes(2).readUInt16BE(0) % list.length] as T;
}

/** Docker-style generated name, e.g. "focused_lovelace". */
/** Names to try in turn, as Docker's: adjective_surname, then with a number, then a random one. */
export function* nameCandidates(): Generator<string> {
  for (let i = 0; i < 100; i++) yield `${pick(ADJECTIVES)}_${pick(SURNAMES)}${i < 10 ? '' : String(i)}`;
  yield `minictr_${randomBytes(4).toString('hex')}`;
}

export function validateWorkdir(workdir: string): void {
  if (!workdir.startsWith('/')) {
    throw new MinictrError('E_BAD_WORKDIR', `the working directory "${workdir}" is invalid: it needs to be an absolute path`);
  }
}

/** What sethostname(2) accepts (at most 64 bytes), in the letters a host name may hold. */
export function validateHostname(hostname: string): void {
  if (hostname.length > 64 || !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(hostname)) {
    throw new MinictrError('E_BAD_HOSTNAME', `invalid hostname "${hostname}": use at most 64 letters, digits, dots and dashes`);
  }
}

/** `K=V` entries as an environment object (entries without a name are left out; later ones win). */
export function envObject(entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** `key=value` labels (`key` alone: an empty value, as Docker's CLI); later ones win. */
export function parseLabels(entries: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = eq === -1 ? entry : entry.slice(0, eq);
    if (key.trim() === '') throw new MinictrError('E_BAD_LABEL', `invalid label '${entry}': empty name`);
    labels[key] = eq === -1 ? '' : entry.slice(eq + 1);
  }
  return labels;
}
