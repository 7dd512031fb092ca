// bin/minictr runs the bundle with V8's code cache: used when it fits, rewritten when it does not,
// and taught by the first runs that get as far as a container.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const run = promisify(execFile);

/** A copy of what the launcher needs: bin/, a bundle (the real one unless given), package.json and rootfs/. */
async function install(bundle?: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'minictr-launcher-'));
  await cp(join(REPO, 'bin'), join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'dist'));
  if (bundle === undefined) await cp(join(REPO, 'dist', 'minictr.cjs'), join(dir, 'dist', 'minictr.cjs'), { preserveTimestamps: true });
  else await writeFile(join(dir, 'dist', 'minictr.cjs'), bundle);
  await cp(join(REPO, 'package.json'), join(dir, 'package.json'));
  await mkdir(join(dir, 'rootfs'));
  return dir;
}

async function minictr(dir: string, args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [join(dir, 'bin', 'minictr'), ...args]);
    return { code: 0, stdout: stdout.trim() };
  } catch (err) {
    return { code: (err as { code: number }).code, stdout: '' };
  }
}

async function stampFor(dir: string, runs: number): Promise<string> {
  const { size, mtimeMs } = await stat(join(dir, 'dist', 'minictr.cjs'));
  return `minictr code cache for ${size} bytes of ${Math.round(mtimeMs)}, learned from ${runs} runs\n`;
}

async function cacheHead(dir: string): Promise<string> {
  const raw = await readFile(join(dir, 'dist', 'minictr.cache'));
  return raw.subarray(0, raw.indexOf(10) + 1).toString();
}

const cacheMtime = async (dir: string): Promise<number> => (await stat(join(dir, 'dist', 'minictr.cache'))).mtimeMs;
const expected = `minictr version ${(JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string }).version}`;

test('the build\'s code cache is accepted: a command does not write it again', async () => {
  const dir = await install();
  try {
    await cp(join(REPO, 'dist', 'minictr.cache'), join(dir, 'dist', 'minictr.cache'), { preserveTimestamps: true });
    // 0 runs as built; more once containers ran from this checkout (the integration tests do).
    const head = await cacheHead(dir);
    assert.match(head, /learned from [0-3] runs\n$/);
    assert.equal(head.replace(/\d runs\n$/, ''), (await stampFor(dir, 0)).replace(/\d runs\n$/, ''));
    const before = await cacheMtime(dir);
    assert.deepEqual(await minictr(dir, ['--version']), { code: 0, stdout: expected });
    assert.equal(await cacheMtime(dir), before);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing, foreign or damaged cache costs nothing but time, and is written again', async () => {
  const dir = await install();
  const cache = join(dir, 'dist', 'minictr.cache');
  const stamp = await stampFor(dir, 0);
  try {
    for (const content of [undefined, 'minictr code cache for 1 bytes of 0, learned from 0 runs\ngarbage', `${stamp}not a V8 code cache`]) {
      await rm(cache, { force: true });
      if (content !== undefined) await writeFile(cache, content);
      assert.deepEqual(await minictr(dir, ['--version']), { code: 0, stdout: expected });
      const written = await readFile(cache);
      assert.equal(written.subarray(0, stamp.length).toString(), stamp, 'stamped for this bundle');
      assert.ok(written.length > stamp.length + 1000, 'holds compiled code');
    }
    // …and the rewritten cache is then used as it is.
    const before = await cacheMtime(dir);
    assert.equal((await minictr(dir, ['--version'])).stdout, expected);
    assert.equal(await cacheMtime(dir), before);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the first three runs that get as far as a container teach the cache; failures and dry runs do not', async () => {
  // A stand-in bundle: exits with the status given as its last argument.
  const dir = await install('process.exitCode = Number(process.argv[process.argv.length - 1]);\n');
  try {
    assert.equal((await minictr(dir, ['--version', '0'])).code, 0);
    assert.equal(await cacheHead(dir), await stampFor(dir, 0));
    let before = await cacheMtime(dir);
    for (const [args, code] of [[['run', 'busybox', '125'], 125], [['run', '--dry-run', 'busybox', '0'], 0], [['ps', '0'], 0]] as const) {
      assert.equal((await minictr(dir, [...args])).code, code);
      assert.equal(await cacheMtime(dir), before, `${args.join(' ')} left the cache alone`);
    }
    // The container's own status (here 1) still means minictr did its whole job.
    for (const [runs, status] of [[1, 1], [2, 0], [3, 0]] as const) {
      assert.equal((await minictr(dir, ['run', 'busybox', String(status)])).code, status);
      assert.equal(await cacheHead(dir), await stampFor(dir, runs));
    }
    before = await cacheMtime(dir);
    assert.equal((await minictr(dir, ['run', 'busybox', '0'])).code, 0);
    assert.equal(await cacheMtime(dir), before, 'after three runs the cache is kept');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
