// State locks across processes: one holder at a time, a killed holder found at once, nothing left.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withLock } from '../../../src/state/lock.js';
import { Paths } from '../../../src/state/paths.js';

const LOCK_MODULE = fileURLToPath(new URL('../../../src/state/lock.js', import.meta.url));
const PATHS_MODULE = fileURLToPath(new URL('../../../src/state/paths.js', import.meta.url));

/** A node process that takes the containers lock `rounds` times and runs `body` inside it. */
function holder(root: string, rounds: number, body: string): Promise<number> {
  const script = `
    import { appendFileSync } from 'node:fs';
    import { withLock } from ${JSON.stringify(LOCK_MODULE)};
    import { Paths } from ${JSON.stringify(PATHS_MODULE)};
    const paths = new Paths(${JSON.stringify(root)});
    const log = ${JSON.stringify(join(root, 'log'))};
    for (let i = 0; i < ${rounds}; i++) {
      await withLock(paths, 'containers', async () => { ${body} });
    }`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 1)));
  });
}

async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'minictr-lock-'));
  try {
    await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('six processes taking one lock in turn never overlap inside it', async () => {
  await withRoot(async (root) => {
    const body = `appendFileSync(log, 'begin ' + process.pid + '\\n');
      await new Promise((r) => setTimeout(r, 1));
      appendFileSync(log, 'end ' + process.pid + '\\n');`;
    const codes = await Promise.all(Array.from({ length: 6 }, () => holder(root, 15, body)));
    assert.deepEqual(codes, [0, 0, 0, 0, 0, 0]);
    const lines = (await readFile(join(root, 'log'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 6 * 15 * 2);
    for (let i = 0; i < lines.length; i += 2) {
      const [begin, end] = [lines[i] ?? '', lines[i + 1] ?? ''];
      assert.match(begin, /^begin \d+$/);
      assert.equal(end, begin.replace('begin', 'end'), `line ${i + 2}: another holder got in between`);
    }
    // Released for good: no lock dir and no owner file left beside it.
    assert.deepEqual((await readdir(join(root, 'locks'))).sort(), []);
  });
});

test('holders that exit right after releasing are never taken for dead ones', async () => {
  // A waiter that checks a holder's pid after it released and exited must not steal the lock
  // the next holder has taken meanwhile.
  await withRoot(async (root) => {
    const body = `appendFileSync(log, 'begin ' + process.pid + '\\n');
      await new Promise((r) => setTimeout(r, 1));
      appendFileSync(log, 'end ' + process.pid + '\\n');`;
    for (let wave = 0; wave < 4; wave++) {
      const codes = await Promise.all(Array.from({ length: 16 }, () => holder(root, 1, body)));
      assert.deepEqual(codes, Array(16).fill(0));
    }
    const lines = (await readFile(join(root, 'log'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 4 * 16 * 2);
    for (let i = 0; i < lines.length; i += 2) {
      assert.equal(lines[i + 1], (lines[i] ?? '').replace('begin', 'end'), `line ${i + 2}: another holder got in between`);
    }
  });
});

test('a holder killed with -9 is found dead at once, not after the stale timeout', async () => {
  await withRoot(async (root) => {
    assert.equal(await holder(root, 1, `process.kill(process.pid, 'SIGKILL');`), 137);
    assert.ok((await readdir(join(root, 'locks'))).includes('containers.lock'), 'the killed holder left its lock');
    const started = performance.now();
    await withLock(new Paths(root), 'containers', async () => undefined);
    assert.ok(performance.now() - started < 5_000, `took ${Math.round(performance.now() - started)} ms`);
  });
});
