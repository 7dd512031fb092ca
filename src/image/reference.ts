// Image references the way Docker reads them: busybox = busybox:latest = docker.io/library/busybox:latest.
import { MinictrError } from '../base/errors.js';

/** A parsed NAME[:TAG] in Docker's familiar form. */
export interface NamedRef {
  /** 'busybox', 'myuser/app', 'localhost:5000/app' */
  repository: string;
  tag: string;
  /** repository:tag, the form kept in ImageRecord.repoTags. */
  familiar: string;
}

/** What a user's image argument can mean: a tag, an id (or prefix), or both (a short hex name). */
export interface ImageRef {
  given: string;
  named?: NamedRef;
  /** NAME@sha256:…: matched against the images' repo digests ('alpine@sha256:…'). */
  repoDigest?: string;
  /** Lowercase hex, 1–64 digits: a full id or a prefix of one. */
  idPrefix?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const OFFICIAL_PREFIX = 'library/';
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const HEX = /^[0-9a-f]+$/;
const FULL_ID = /^[0-9a-f]{64}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const MAX_NAME_LENGTH = 255;

function badReference(detail: string): MinictrError {
  return new MinictrError('E_BAD_REFERENCE', `invalid reference format: ${detail}`);
}

/** Split off a registry domain the way distribution/reference does. */
function splitDomain(name: string): [string, string] {
  const slash = name.indexOf('/');
  if (slash === -1) return [DEFAULT_DOMAIN, name];
  const first = name.slice(0, slash);
  const isDomain = /[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first;
  if (!isDomain) return [DEFAULT_DOMAIN, name];
  return [first === 'index.docker.io' ? DEFAULT_DOMAIN : first, name.slice(slash + 1)];
}

interface ParsedName {
  domain: string;
  /** The path on the registry: 'library/busybox', 'myuser/app'. */
  path: string;
  /** Familiar repository: 'busybox', 'myuser/app', 'localhost:5000/app'. */
  repository: string;
}

/** Check and normalise a repository NAME (no tag, no digest). `quoted` is the whole argument, for errors. */
function parseName(name: string, quoted: string): ParsedName {
  if (name.length > MAX_NAME_LENGTH) throw badReference(`${quoted}: repository name longer than 255 characters`);
  const [domain, rest] = splitDomain(name);
  if (!DOMAIN.test(domain)) throw badReference(quoted);
  const path = domain === DEFAULT_DOMAIN && !rest.includes('/') ? `${OFFICIAL_PREFIX}${rest}` : rest;
  if (path !== path.toLowerCase()) {
    throw badReference(`repository name (${path}) must be lowercase`);
  }
  if (!path.split('/').every((c) => PATH_COMPONENT.test(c))) throw badReference(quoted);
  if (domain === DEFAULT_DOMAIN && FULL_ID.test(rest)) {
    throw badReference(`${quoted}: a repository name cannot be a 64-digit hexadecimal string`);
  }
  let repository: string;
  if (domain !== DEFAULT_DOMAIN) repository = `${domain}/${path}`;
  else if (path.startsWith(OFFICIAL_PREFIX) && !path.slice(OFFICIAL_PREFIX.length).includes('/')) {
    repository = path.slice(OFFICIAL_PREFIX.length);
  } else repository = path;
  return { domain, path, repository };
}

/** Split NAME[:TAG] (no digest) into name and tag ('latest' when none is given). */
function splitTag(ref: string, quoted: string): { name: string; tag: string; tagGiven: boolean } {
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const tagGiven = colon > lastSlash;
  const name = tagGiven ? ref.slice(0, colon) : ref;
  const tag = tagGiven ? ref.slice(colon + 1) : 'latest';
  if (!TAG.test(tag)) throw badReference(`${quoted}: bad tag "${tag}"`);
  return { name, tag, tagGiven };
}

/** Parse NAME[:TAG] into Docker's familiar form; throws E_BAD_REFERENCE. Digests are refused. */
export function parseNamed(ref: string): NamedRef {
  const quoted = JSON.stringify(ref);
  if (ref === '' || /\s/.test(ref)) throw badReference(quoted);
  if (ref.includes('@')) throw badReference(`${quoted}: a digest cannot name a tag; give NAME[:TAG]`);
  const { name, tag } = splitTag(ref, quoted);
  const { repository } = parseName(name, quoted);
  return { repository, tag, familiar: `${repository}:${tag}` };
}

/** A reference to an image on a registry: NAME[:TAG][@DIGEST]. */
export interface RemoteRef {
  /** 'docker.io', 'localhost:5000', 'registry.example.com' */
  domain: string;
  /** The repository's path on that registry: 'library/alpine'. */
  path: string;
  /** Familiar repository: 'alpine', 'localhost:5000/app'. */
  repository: string;
  /** The tag, when pulling by tag ('latest' when neither tag nor digest is given). */
  tag?: string;
  /** 'sha256:<64 hex>' when pulling by digest. */
  digest?: string;
  /** 'alpine:latest' or 'alpine@sha256:…': what Docker prints in Status lines. */
  familiar: string;
  /** 'docker.io/library/alpine:latest': the fully qualified form. */
  canonical: string;
}

/** Parse NAME[:TAG|@DIGEST] for pull; a digest wins over a tag, as in Docker. */
export function parseRemote(ref: string): RemoteRef {
  const quoted = JSON.stringify(ref);
  if (ref === '' || /\s/.test(ref)) throw badReference(quoted);
  const at = ref.indexOf('@');
  let digest: string | undefined;
  let rest = ref;
  if (at >= 0) {
    digest = ref.slice(at + 1);
    rest = ref.slice(0, at);
    if (!DIGEST.test(digest)) throw badReference(`${quoted}: bad digest "${digest}" (want sha256:<64 hex digits>)`);
  }
  const { name, tag, tagGiven } = splitTag(rest, quoted);
  const { domain, path, repository } = parseName(name, quoted);
  const qualified = `${domain}/${path}`;
  if (digest !== undefined) {
    return {
      domain,
      path,
      repository,
      ...(tagGiven ? { tag } : {}),
      digest,
      familiar: `${repository}@${digest}`,
      canonical: `${qualified}@${digest}`,
    };
  }
  return { domain, path, repository, tag, familiar: `${repository}:${tag}`, canonical: `${qualified}:${tag}` };
}

/** The host that serves a registry domain's API: Docker Hub's is registry-1.docker.io. */
export function registryHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? 'registry-1.docker.io' : domain;
}

/** Normalise what a user gives `login`/`logout` (a host, or a URL) to the key credentials are stored under. */
export function registryKey(server: string | undefined): string {
  if (server === undefined || server === '') return DEFAULT_DOMAIN;
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (host === 'index.docker.io' || host === 'registry-1.docker.io' || host === DEFAULT_DOMAIN) return DEFAULT_DOMAIN;
  if (!DOMAIN.test(host)) throw badReference(`${JSON.stringify(server)} is not a registry host`);
  return host;
}

/**
 * Parse an image argument: `sha256:<hex>` and 64-hex strings are ids; a short hex string is a
 * name that may also be an id prefix (the tag wins when both exist, as in Docker).
 */
export function parseImageRef(ref: string): ImageRef {
  if (ref.startsWith('sha256:')) {
    const hex = ref.slice('sha256:'.length);
    if (!HEX.test(hex) || hex.length > 64) throw badReference(JSON.stringify(ref));
    return { given: ref, idPrefix: hex };
  }
  if (FULL_ID.test(ref)) return { given: ref, idPrefix: ref };
  if (ref.includes('@')) {
    const remote = parseRemote(ref);
    return { given: ref, repoDigest: remote.familiar };
  }
  const named = parseNamed(ref);
  return HEX.test(ref) ? { given: ref, named, idPrefix: ref } : { given: ref, named };
}

/** 'busybox:latest' → ['busybox', 'latest']; 'localhost:5000/app:v1' → ['localhost:5000/app', 'v1']. */
export function splitRepoTag(repoTag: string): [string, string] {
  const colon = repoTag.lastIndexOf(':');
  return [repoTag.slice(0, colon), repoTag.slice(colon + 1)];
}

/** How a user would name the tag on the command line: `busybox` for busybox:latest. */
export function shortName(familiar: string): string {
  return familiar.endsWith(':latest') ? familiar.slice(0, -':latest'.length) : familiar;
}

/**
 * `docker images REPOSITORY[:TAG]` (the API's `reference` filter): whether a "repo:tag" is one the
 * filter names. Without a tag every tag of the repository matches; no filter matches everything.
 */
export function repoTagMatcher(filter: string | undefined): (repoTag: string) => boolean {
  if (filter === undefined) return () => true;
  const named = parseNamed(filter);
  const tagGiven = filter.lastIndexOf(':') > filter.lastIndexOf('/');
  return (repoTag) => {
    const [repo, tag] = splitRepoTag(repoTag);
    return repo === named.repository && (!tagGiven || tag === named.tag);
  };
}
