// bin/minictr runs the bundle with V8's code cache: used when it fits, rewritten when it does not.
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

/** A copy of what the launcher needs: bin/, the bundle, package.json and rootfs/. */
async function install(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'minictr-launcher-'));
  await cp(join(REPO, 'bin'), join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'dist'));
  await cp(join(REPO, 'dist', 'minictr.cjs'), join(dir, 'dist', 'minictr.cjs'), { preserveTimestamps: true });
  await cp(join(REPO, 'package.json'), join(dir, 'package.json'));
  await mkdir(join(dir, 'rootfs'));
  return dir;
}

async function version(dir: string): Promise<string> {
  const { stdout } = await run(process.execPath, [join(dir, 'bin', 'minictr'), '--version']);
  return stdout.trim();
}

const expected = `minictr version ${(JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string }).version}`;

test('the build\'s code cache is accepted: a run does not write it again', async () => {
  const dir = await install();
  try {
    await cp(join(REPO, 'dist', 'minictr.cache'), join(dir, 'dist', 'minictr.cache'), { preserveTimestamps: true });
    const before = await stat(join(dir, 'dist', 'minictr.cache'));
    assert.equal(await version(dir), expected);
    assert.equal((await stat(join(dir, 'dist', 'minictr.cache'))).mtimeMs, before.mtimeMs);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing, foreign or damaged cache costs nothing but time, and is written again', async () => {
  const dir = await install();
  const cache = join(dir, 'dist', 'minictr.cache');
  const { size, mtimeMs } = await stat(join(dir, 'dist', 'minictr.cjs'));
  const stamp = `minictr code cache for ${size} bytes of ${Math.round(mtimeMs)}\n`;
  try {
    for (const content of [undefined, 'minictr code cache for 1 bytes of 0\ngarbage', `${stamp}not a V8 code cache`]) {
      await rm(cache, { force: true });
      if (content !== undefined) await writeFile(cache, content);
      assert.equal(await version(dir), expected);
      const written = await readFile(cache);
      assert.equal(written.subarray(0, stamp.length).toString(), stamp, 'stamped for this bundle');
      assert.ok(written.length > stamp.length + 1000, 'holds compiled code');
    }
    // …and the rewritten cache is then used as it is.
    const before = await stat(cache);
    assert.equal(await version(dir), expected);
    assert.equal((await stat(cache)).mtimeMs, before.mtimeMs);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
