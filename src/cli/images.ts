// `images`, `import`, `rmi` (and `image ls|import|rm`): the image store on the command line.
import type { Command } from 'commander';
import { MinictrError, errorMessage } from '../base/errors.js';
import { shortId, type ImageRecord } from '../image/store.js';
import { parseRemote, repoTagMatcher, splitRepoTag } from '../image/reference.js';
import type { Platform } from '../image/formats.js';
import { Writable } from 'node:stream';
import { createInterface } from 'node:readline/promises';
import { print, runtimeFor } from './context.js';
import { goTimeString, humanSize, timeAgo } from '../base/human.js';
import { formatTable } from './table.js';
import { compileTemplate } from './template.js';

interface ImagesFlags {
  quiet?: boolean;
  trunc?: boolean;
  format?: string;
  all?: boolean;
  digests?: boolean;
}

/** One `images` row, with the field names `--format` knows (Docker's). */
export interface ImageRow {
  Repository: string;
  Tag: string;
  ID: string;
  Digest: string;
  CreatedSince: string;
  CreatedAt: string;
  Size: string;
  Containers: string;
}

const HEADERS: Record<keyof ImageRow, string> = {
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  ID: 'IMAGE ID',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
};

/** `images [REPOSITORY[:TAG]]`: keep the rows whose repository (and tag, if given) match. */
/** Rows as Docker lists them: newest image first, one row per tag, `<none>` for dangling images. */
export function imageRows(images: ImageRecord[], now: Date, truncate: boolean, filter?: string): ImageRow[] {
  const keep = repoTagMatcher(filter);
  const rows: ImageRow[] = [];
  for (const img of images) {
    const tags = img.repoTags.length > 0 ? img.repoTags.filter(keep) : filter === undefined ? [''] : [];
    for (const repoTag of tags) {
      const [repo, tag] = repoTag === '' ? ['<none>', '<none>'] : splitRepoTag(repoTag);
      const created = new Date(img.created);
      const repoDigest = img.repoDigests?.find((d) => repo === '<none>' || d.startsWith(`${repo}@`));
      rows.push({
        Repository: repo,
        Tag: tag,
        ID: truncate ? shortId(img.id) : `sha256:${img.id}`,
        Digest: repoDigest === undefined ? '<none>' : repoDigest.slice(repoDigest.indexOf('@') + 1),
        CreatedSince: timeAgo(created, now),
        CreatedAt: goTimeString(created),
        Size: humanSize(img.size),
        Containers: 'N/A',
      });
    }
  }
  return rows;
}

/** Render rows for `images`: the default table, -q ids, or a --format (with optional `table ` prefix). */
export function formatImages(rows: ImageRow[], flags: ImagesFlags): string[] {
  if (flags.quiet) return rows.map((r) => r.ID);
  const format = flags.format;
  if (format === undefined || format === '' || format === 'table') {
    if (flags.digests) {
      return [
        formatTable(
          ['REPOSITORY', 'TAG', 'DIGEST', 'IMAGE ID', 'CREATED', 'SIZE'],
          rows.map((r) => [r.Repository, r.Tag, r.Digest, r.ID, r.CreatedSince, r.Size]),
        ),
      ];
    }
    return [
      formatTable(
        ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
        rows.map((r) => [r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size]),
      ),
    ];
  }
  const table = /^table\s+/.exec(format);
  if (!table) {
    const template = compileTemplate(format);
    return rows.map((row) => template.execute(row));
  }
  const template = compileTemplate(format.slice(table[0].length));
  const split = (line: string): string[] => line.split('\t');
  return [formatTable(split(template.execute(HEADERS, { header: true })), rows.map((row) => split(template.execute(row))))];
}

async function listAction(filter: string | undefined, flags: ImagesFlags, cmd: Command): Promise<void> {
  const images = await runtimeFor(cmd).images.list();
  const rows = imageRows(images, new Date(), flags.trunc !== false, filter);
  for (const line of formatImages(rows, flags)) if (line !== '') print(line);
}

async function importAction(source: string, name: string | undefined, flags: { change: string[] }, cmd: Command): Promise<void> {
  const img = await runtimeFor(cmd).images.importTarball(source, name, flags.change);
  print(`sha256:${img.id}`);
}

/** Remove each image in turn; report every failure, exit 1 if any failed (as Docker does). */
async function removeAction(refs: string[], flags: { force?: boolean }, cmd: Command): Promise<void> {
  const rt = runtimeFor(cmd);
  const failures: MinictrError[] = [];
  for (const ref of refs) {
    try {
      for (const line of await rt.removeImage(ref, flags.force === true)) print(line);
    } catch (err) {
      if (refs.length === 1) throw err;
      const failure = err instanceof MinictrError ? err : new MinictrError('E_RMI', errorMessage(err), { exitCode: 1 });
      process.stderr.write(`minictr: ${failure.message}\n`);
      failures.push(failure);
    }
  }
  if (failures.length > 0) process.exitCode = 1;
}

/** Docker exits 1 when load, save, pull, tag or login fail (125 is for run). */
async function exitOne<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MinictrError && err.exitCode !== 1) throw new MinictrError(err.code, err.message, { exitCode: 1, cause: err.cause });
    if (!(err instanceof MinictrError)) throw new MinictrError('E_IMAGE', errorMessage(err), { exitCode: 1, cause: err });
    throw err;
  }
}

async function loadAction(flags: { input?: string; quiet?: boolean }, cmd: Command): Promise<void> {
  const lines = await exitOne(() => runtimeFor(cmd).images.load(flags.input ?? '-'));
  for (const line of lines) print(line);
}

async function saveAction(refs: string[], flags: { output?: string }, cmd: Command): Promise<void> {
  await exitOne(async () => {
    const output = flags.output === undefined || flags.output === '-' ? process.stdout : flags.output;
    if (output === process.stdout && process.stdout.isTTY) {
      throw new MinictrError('E_SAVE', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
    }
    await runtimeFor(cmd).images.save(refs, output);
  });
}

interface PullCliFlags {
  quiet?: boolean;
  platform?: string;
  insecureRegistry: string[];
  allTags?: boolean;
}

function parsePlatformFlag(value: string): Platform {
  const [os = '', architecture = '', variant] = value.split('/');
  if (os === '' || architecture === '') throw new MinictrError('E_BAD_FLAG', `--platform ${JSON.stringify(value)}: want OS/ARCH[/VARIANT], e.g. linux/arm64`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** A stream that swallows what it is given (pull -q). */
function sink(): NodeJS.WritableStream {
  return new Writable({ write: (_c, _e, done) => done() });
}

async function pullAction(ref: string, flags: PullCliFlags, cmd: Command): Promise<void> {
  await exitOne(async () => {
    if (flags.allTags) throw new MinictrError('E_BAD_FLAG', '--all-tags is not supported; pull one tag at a time');
    const images = runtimeFor(cmd).images;
    const out = flags.quiet ? sink() : process.stdout;
    await images.pull(ref, {
      out,
      insecureRegistries: flags.insecureRegistry,
      ...(flags.platform !== undefined ? { platform: parsePlatformFlag(flags.platform) } : {}),
    });
    if (flags.quiet) print(parseRemote(ref).canonical);
  });
}

/** Ask on the terminal; with `hidden`, what is typed is not echoed (a password). */
async function ask(question: string, hidden: boolean): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    const answer = rl.question(question);
    if (hidden) (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
    const value = await answer;
    if (hidden) process.stderr.write('\n');
    return value;
  } finally {
    rl.close();
  }
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

interface LoginFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  insecureRegistry: string[];
}

async function loginAction(server: string | undefined, flags: LoginFlags, cmd: Command): Promise<void> {
  await exitOne(async () => {
    const images = runtimeFor(cmd).images;
    if (flags.password !== undefined && flags.passwordStdin) throw new MinictrError('E_BAD_FLAG', '--password and --password-stdin are mutually exclusive');
    if (flags.password !== undefined) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    const interactive = process.stdin.isTTY === true;
    let username = flags.username;
    if (flags.passwordStdin && username === undefined) throw new MinictrError('E_BAD_FLAG', 'Must provide --username with --password-stdin');
    if (username === undefined) {
      if (!interactive) throw new MinictrError('E_LOGIN', 'Cannot perform an interactive login from a non TTY device; give --username and --password-stdin');
      username = (await ask('Username: ', false)).trim();
    }
    let password = flags.password;
    if (password === undefined && flags.passwordStdin) password = await readAllStdin();
    if (password === undefined) {
      if (!interactive) throw new MinictrError('E_LOGIN', 'Cannot perform an interactive login from a non TTY device; give --password-stdin');
      password = await ask('Password: ', true);
    }
    if (username === '' || password === '') throw new MinictrError('E_LOGIN', 'username and password must not be empty');
    const file = await images.login(server, { username, password }, { insecureRegistries: flags.insecureRegistry });
    process.stderr.write(`WARNING! Your password will be stored unencrypted in ${file} (readable by root only).\n`);
    print('Login Succeeded');
  });
}

async function logoutAction(server: string | undefined, cmd: Command): Promise<void> {
  await exitOne(async () => {
    const { key, removed } = await runtimeFor(cmd).images.logout(server);
    print(removed ? `Removing login credentials for ${key}` : `Not logged in to ${key}`);
  });
}

async function tagAction(source: string, target: string, cmd: Command): Promise<void> {
  await exitOne(() => runtimeFor(cmd).images.tag(source, target));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function addList(cmd: Command): Command {
  return cmd
    .argument('[repository]', 'only images of this REPOSITORY[:TAG]')
    .option('-q, --quiet', 'only show image IDs')
    .option('--no-trunc', "don't truncate output")
    .option('-a, --all', 'show all images (accepted for compatibility: there are no intermediate images)')
    .option('--digests', 'show digests')
    .option('--format <string>', 'format output using a Go template ({{.Repository}}, {{.ID}}, {{.Digest}}, {{json .}}, table …)')
    .action((filter: string | undefined, flags: ImagesFlags, c: Command) => listAction(filter, flags, c));
}

function addImport(cmd: Command): Command {
  return cmd
    .argument('<file>', 'a tar archive (plain or gzip) of a root filesystem, or - for stdin')
    .argument('[reference]', 'REPOSITORY[:TAG] to give the new image')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, USER, VOLUME, WORKDIR', collect, [])
    .action((source: string, name: string | undefined, flags: { change: string[] }, c: Command) =>
      importAction(source, name, flags, c),
    );
}

function addRemove(cmd: Command): Command {
  return cmd
    .argument('<image...>', 'images to remove (tag, id or id prefix)')
    .option('-f, --force', 'remove an image by id even when it has tags in several repositories')
    .action((refs: string[], flags: { force?: boolean }, c: Command) => removeAction(refs, flags, c));
}

function addLoad(cmd: Command): Command {
  return cmd
    .option('-i, --input <file>', 'read from a tar archive file (docker save or OCI layout, plain or gzip) or an OCI layout directory, instead of stdin')
    .option('-q, --quiet', 'suppress the load output (accepted for compatibility: there is no progress output)')
    .action((flags: { input?: string; quiet?: boolean }, c: Command) => loadAction(flags, c));
}

function addSave(cmd: Command): Command {
  return cmd
    .argument('<image...>', 'images to save (tag or id)')
    .option('-o, --output <file>', 'write to a file, instead of STDOUT')
    .action((refs: string[], flags: { output?: string }, c: Command) => saveAction(refs, flags, c));
}

function addTag(cmd: Command): Command {
  return cmd
    .argument('<source>', 'SOURCE_IMAGE[:TAG] (or an id)')
    .argument('<target>', 'TARGET_IMAGE[:TAG]')
    .action((source: string, target: string, _flags: unknown, c: Command) => tagAction(source, target, c));
}

function addPull(cmd: Command): Command {
  return cmd
    .argument('<name>', 'NAME[:TAG|@DIGEST]: alpine, localhost:5000/app:1, alpine@sha256:…')
    .option('-q, --quiet', 'suppress verbose output')
    .option('--platform <platform>', 'pull this platform of a multi-platform image (default: the host\'s), e.g. linux/arm64')
    .option('-a, --all-tags', 'download all tagged images in the repository (not supported)')
    .option('--insecure-registry <host>', 'reach this registry over plain http (loopback hosts always may; also MINICTR_INSECURE_REGISTRIES)', collect, [])
    .action((ref: string, flags: PullCliFlags, c: Command) => pullAction(ref, flags, c));
}

export function registerImageCommands(program: Command): void {
  addPull(program.command('pull').description('Download an image from a registry'));
  program
    .command('login')
    .description('Log in to a registry (default: Docker Hub); credentials are kept in <root>/auth.json, mode 0600')
    .argument('[server]', 'registry host, e.g. localhost:5000')
    .option('-u, --username <username>', 'username')
    .option('-p, --password <password>', 'password (insecure: use --password-stdin)')
    .option('--password-stdin', 'take the password from stdin')
    .option('--insecure-registry <host>', 'reach this registry over plain http', collect, [])
    .action((server: string | undefined, flags: LoginFlags, c: Command) => loginAction(server, flags, c));
  program
    .command('logout')
    .description('Log out from a registry (default: Docker Hub)')
    .argument('[server]', 'registry host')
    .action((server: string | undefined, _flags: unknown, c: Command) => logoutAction(server, c));
  addList(program.command('images').description('List images'));
  addImport(program.command('import').description('Import the contents from a tarball to create a filesystem image'));
  addRemove(program.command('rmi').description('Remove one or more images'));
  addLoad(program.command('load').description('Load an image from a tar archive or STDIN'));
  addTag(program.command('tag').description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE'));
  addSave(program.command('save').description('Save one or more images to a tar archive (streamed to STDOUT by default)'));

  const image = program.command('image').description('Manage images');
  addList(image.command('ls').alias('list').description('List images'));
  addImport(image.command('import').description('Import the contents from a tarball to create a filesystem image'));
  addRemove(image.command('rm').alias('remove').description('Remove one or more images'));
  addLoad(image.command('load').description('Load an image from a tar archive or STDIN'));
  addTag(image.command('tag').description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE'));
  addPull(image.command('pull').description('Download an image from a registry'));
  addSave(image.command('save').description('Save one or more images to a tar archive (streamed to STDOUT by default)'));
}
