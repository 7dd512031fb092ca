// The default image: a rootfs made from the host's static busybox, following rootfs/busybox/recipe.json.
import { PROJECT_ROOT } from '../base/install-paths.js';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { accessSync, constants } from 'node:fs';
import { createHash } from 'node:crypto';
import { delimiter, dirname, join } from 'node:path';
import { MinictrError, errorMessage } from '../base/errors.js';
import type { Runner } from '../exec/runner.js';
import type { ImageConfig } from '../state/images.js';
import { readElf } from './elf.js';

export const DEFAULT_IMAGE = 'busybox:latest';

/** rootfs/busybox/ in the source tree (this file runs from dist/src/image/). */
export const DEFAULT_RECIPE_DIR = join(PROJECT_ROOT, 'rootfs', 'busybox');

interface RecipeEntry {
  path: string;
  mode: number;
}

export interface Recipe {
  version: string;
  binary: string;
  appletDir: string;
  dirs: RecipeEntry[];
  files: (RecipeEntry & { template: string; content: Buffer })[];
  config: ImageConfig;
  /** Bytes that, with the busybox binary, determine the image (recipe + templates). */
  fingerprint: Buffer;
}

interface RawEntry {
  path?: unknown;
  mode?: unknown;
  template?: unknown;
}

const SAFE_REL_PATH = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9._/-]+$/;
const APPLET_NAME = /^[A-Za-z0-9_.[\]-]+$/;

function recipeError(dir: string, detail: string): MinictrError {
  return new MinictrError('E_BAD_RECIPE', `${join(dir, 'recipe.json')}: ${detail}`);
}

function entry(dir: string, raw: RawEntry): RecipeEntry {
  if (typeof raw.path !== 'string' || !SAFE_REL_PATH.test(raw.path)) {
    throw recipeError(dir, `bad path ${JSON.stringify(raw.path)}`);
  }
  if (typeof raw.mode !== 'string' || !/^[0-7]{3,4}$/.test(raw.mode)) {
    throw recipeError(dir, `bad mode for ${raw.path}; write it as an octal string like "0755"`);
  }
  return { path: raw.path, mode: parseInt(raw.mode, 8) };
}

/** Read and check the recipe and its templates. */
export async function loadRecipe(dir: string = DEFAULT_RECIPE_DIR): Promise<Recipe> {
  let text: Buffer;
  try {
    text = await readFile(join(dir, 'recipe.json'));
  } catch (err) {
    throw recipeError(dir, `cannot read the default image recipe: ${errorMessage(err)}`);
  }
  let raw: { version?: unknown; binary?: unknown; appletDir?: unknown; dirs?: unknown; files?: unknown; config?: unknown };
  try {
    raw = JSON.parse(text.toString('utf8')) as typeof raw;
  } catch (err) {
    throw recipeError(dir, `not valid JSON: ${errorMessage(err)}`);
  }
  if (typeof raw.version !== 'string') throw recipeError(dir, 'missing "version"');
  if (typeof raw.binary !== 'string' || !SAFE_REL_PATH.test(raw.binary)) throw recipeError(dir, 'bad "binary"');
  if (typeof raw.appletDir !== 'string' || !SAFE_REL_PATH.test(raw.appletDir)) throw recipeError(dir, 'bad "appletDir"');
  if (!Array.isArray(raw.dirs) || !Array.isArray(raw.files)) throw recipeError(dir, '"dirs" and "files" must be lists');
  const cfg = raw.config as Partial<ImageConfig> | undefined;
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (!cfg || !strings(cfg.Cmd) || !strings(cfg.Env) || typeof cfg.WorkingDir !== 'string') {
    throw recipeError(dir, '"config" needs Cmd, Env (lists of strings) and WorkingDir');
  }
  const config: ImageConfig = {
    Cmd: cfg.Cmd,
    Entrypoint: strings(cfg.Entrypoint) ? cfg.Entrypoint : [],
    Env: cfg.Env,
    WorkingDir: cfg.WorkingDir,
    User: typeof cfg.User === 'string' ? cfg.User : '',
  };
  const dirs = (raw.dirs as RawEntry[]).map((d) => entry(dir, d));
  const files = [];
  const fingerprint: Buffer[] = [text];
  for (const f of raw.files as RawEntry[]) {
    const e = entry(dir, f);
    if (typeof f.template !== 'string' || !SAFE_REL_PATH.test(f.template)) {
      throw recipeError(dir, `bad template for ${e.path}`);
    }
    let content: Buffer;
    try {
      content = await readFile(join(dir, f.template));
    } catch (err) {
      throw recipeError(dir, `template ${f.template}: ${errorMessage(err)}`);
    }
    fingerprint.push(Buffer.from(`\0${f.template}\0`), content);
    files.push({ ...e, template: f.template, content });
  }
  return {
    version: raw.version,
    binary: raw.binary,
    appletDir: raw.appletDir,
    dirs,
    files,
    config,
    fingerprint: Buffer.concat(fingerprint),
  };
}

/** Where to look for the host's busybox: /bin, /usr/bin, then PATH. */
export function busyboxCandidates(pathEnv: string = process.env['PATH'] ?? ''): string[] {
  const fromPath = pathEnv.split(delimiter).filter(Boolean).map((d) => join(d, 'busybox'));
  return [...new Set(['/bin/busybox', '/usr/bin/busybox', ...fromPath])];
}

export interface HostBusybox {
  path: string;
  /** The binary's bytes: what is hashed and what is copied, so the id always matches the content. */
  binary: Buffer;
}

/** The first executable, statically linked busybox among the candidates, with its bytes. */
export async function findStaticBusybox(candidates: string[] = busyboxCandidates()): Promise<HostBusybox> {
  const path = staticBusyboxPath(candidates);
  return { path, binary: await readFile(path) };
}

/** The path of the first executable, statically linked busybox among the candidates (headers read only). */
export function staticBusyboxPath(candidates: string[] = busyboxCandidates()): string {
  let dynamic: MinictrError | undefined;
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
    } catch {
      continue;
    }
    const elf = readElf(path);
    if (elf.interpreter === undefined) return path;
    dynamic ??= new MinictrError(
      'E_BUSYBOX_DYNAMIC',
      `${path} is dynamically linked (needs ${elf.interpreter}) and cannot run inside a container; apt-get install busybox-static`,
    );
  }
  throw (
    dynamic ??
    new MinictrError(
      'E_NO_BUSYBOX',
      'no busybox found to build the default image (looked in /bin, /usr/bin and PATH); apt-get install busybox-static',
    )
  );
}

/** The image id: sha256 over the binary and the recipe (with its templates). */
export function busyboxImageId(binary: Buffer, recipe: Recipe): string {
  return createHash('sha256').update(binary).update('\0').update(recipe.fingerprint).digest('hex');
}

/** Ask the binary which applets it has (`busybox --list`). */
export async function listApplets(runner: Runner, busybox: string): Promise<string[]> {
  const { stdout } = await runner.run([busybox, '--list']);
  const applets = stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  const bad = applets.find((a) => !APPLET_NAME.test(a));
  if (bad !== undefined) {
    throw new MinictrError('E_BUSYBOX_LIST', `${busybox} --list printed an unexpected applet name ${JSON.stringify(bad)}`);
  }
  if (!applets.includes('sh')) {
    throw new MinictrError('E_BUSYBOX_LIST', `${busybox} --list has no "sh" applet; it cannot serve as the default image`);
  }
  return applets;
}

/** Lay out the rootfs in `rootfs` (which must not exist yet). Modes are set exactly, ignoring umask. */
export async function buildBusyboxRootfs(
  rootfs: string,
  binary: Buffer,
  applets: string[],
  recipe: Recipe,
): Promise<void> {
  await mkdir(rootfs, { mode: 0o755 });
  await chmod(rootfs, 0o755);
  for (const d of recipe.dirs) {
    await mkdir(join(rootfs, d.path), { recursive: true });
    await chmod(join(rootfs, d.path), d.mode);
  }
  const binPath = join(rootfs, recipe.binary);
  await mkdir(dirname(binPath), { recursive: true });
  // Copy the bytes we hashed (not the path again), so the id always matches the content.
  await writeFile(binPath, binary, { mode: 0o755 });
  await chmod(binPath, 0o755);
  const binaryName = recipe.binary.split('/').pop() ?? 'busybox';
  const appletDir = join(rootfs, recipe.appletDir);
  await mkdir(appletDir, { recursive: true });
  const target = recipe.appletDir === dirname(recipe.binary) ? binaryName : `/${recipe.binary}`;
  for (const applet of applets) {
    if (applet === binaryName) continue;
    await symlink(target, join(appletDir, applet));
  }
  for (const f of recipe.files) {
    const dest = join(rootfs, f.path);
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, f.content);
    await chmod(dest, f.mode);
  }
}
