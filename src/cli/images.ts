// `images`, `import`, `rmi` (and `image ls|import|rm`): the image store on the command line.
import type { Command } from 'commander';
import { MinictrError, errorMessage } from '../errors.js';
import { ImageStore, shortId, type ImageRecord } from '../image/store.js';
import { parseNamed, splitRepoTag } from '../image/reference.js';
import type { Store } from '../state/store.js';
import { print, storeFor } from './context.js';
import { goTimeString, humanSize, timeAgo } from './human.js';
import { formatTable } from './table.js';
import { renderTemplate } from './template.js';

interface ImagesFlags {
  quiet?: boolean;
  trunc?: boolean;
  format?: string;
  all?: boolean;
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
function matchesFilter(filter: string | undefined): (repoTag: string) => boolean {
  if (filter === undefined) return () => true;
  const named = parseNamed(filter);
  const tagGiven = filter.lastIndexOf(':') > filter.lastIndexOf('/');
  return (repoTag) => {
    const [repo, tag] = splitRepoTag(repoTag);
    return repo === named.repository && (!tagGiven || tag === named.tag);
  };
}

/** Rows as Docker lists them: newest image first, one row per tag, `<none>` for dangling images. */
export function imageRows(images: ImageRecord[], now: Date, truncate: boolean, filter?: string): ImageRow[] {
  const keep = matchesFilter(filter);
  const rows: ImageRow[] = [];
  for (const img of images) {
    const tags = img.repoTags.length > 0 ? img.repoTags.filter(keep) : filter === undefined ? [''] : [];
    for (const repoTag of tags) {
      const [repo, tag] = repoTag === '' ? ['<none>', '<none>'] : splitRepoTag(repoTag);
      const created = new Date(img.created);
      rows.push({
        Repository: repo,
        Tag: tag,
        ID: truncate ? shortId(img.id) : `sha256:${img.id}`,
        Digest: '<none>',
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
    return [
      formatTable(
        ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
        rows.map((r) => [r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size]),
      ),
    ];
  }
  const table = /^table\s+/.exec(format);
  if (!table) return rows.map((row) => renderTemplate(format, row));
  const body = format.slice(table[0].length);
  const split = (line: string): string[] => line.split('\t');
  return [formatTable(split(renderTemplate(body, HEADERS)), rows.map((row) => split(renderTemplate(body, row))))];
}

/** Short ids of the containers whose image is `imageId`. */
function containersUsing(store: Store): (imageId: string) => Promise<string[]> {
  return async (imageId) =>
    (await store.listContainers()).filter((c) => c.config.imageId === imageId).map((c) => c.id.slice(0, 12));
}

async function listAction(filter: string | undefined, flags: ImagesFlags, cmd: Command): Promise<void> {
  const images = await new ImageStore(storeFor(cmd)).list();
  const rows = imageRows(images, new Date(), flags.trunc !== false, filter);
  for (const line of formatImages(rows, flags)) if (line !== '') print(line);
}

async function importAction(source: string, name: string | undefined, flags: { change: string[] }, cmd: Command): Promise<void> {
  const img = await new ImageStore(storeFor(cmd)).importTarball(source, name, flags.change);
  print(`sha256:${img.id}`);
}

/** Remove each image in turn; report every failure, exit 1 if any failed (as Docker does). */
async function removeAction(refs: string[], flags: { force?: boolean }, cmd: Command): Promise<void> {
  const store = storeFor(cmd);
  const images = new ImageStore(store);
  const failures: MinictrError[] = [];
  for (const ref of refs) {
    try {
      for (const line of await images.remove(ref, containersUsing(store), { force: flags.force === true })) print(line);
    } catch (err) {
      if (refs.length === 1) throw err;
      const failure = err instanceof MinictrError ? err : new MinictrError('E_RMI', errorMessage(err), { exitCode: 1 });
      process.stderr.write(`minictr: ${failure.message}\n`);
      failures.push(failure);
    }
  }
  if (failures.length > 0) process.exitCode = 1;
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
    .option('--format <string>', 'format output using a Go template ({{.Repository}}, {{.ID}}, {{json .}}, table …)')
    .action((filter: string | undefined, flags: ImagesFlags, c: Command) => listAction(filter, flags, c));
}

function addImport(cmd: Command): Command {
  return cmd
    .argument('<file>', 'a tar archive (plain or gzip) of a root filesystem, or - for stdin')
    .argument('[reference]', 'REPOSITORY[:TAG] to give the new image')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, USER, WORKDIR', collect, [])
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

export function registerImageCommands(program: Command): void {
  addList(program.command('images').description('List images'));
  addImport(program.command('import').description('Import the contents from a tarball to create a filesystem image'));
  addRemove(program.command('rmi').description('Remove one or more images'));

  const image = program.command('image').description('Manage images');
  addList(image.command('ls').alias('list').description('List images'));
  addImport(image.command('import').description('Import the contents from a tarball to create a filesystem image'));
  addRemove(image.command('rm').alias('remove').description('Remove one or more images'));
}
