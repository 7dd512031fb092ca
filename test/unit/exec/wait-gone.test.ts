// A wait-gone op: done when the kernel removes the thing by itself, removed by hand when not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyPlan } from '../../../src/exec/apply.js';
import { RecordingRunner } from '../../../src/exec/runner.js';
import { command, waitGone } from '../../../src/base/plan.js';
import { renderShell } from '../../../src/explain/render.js';
import { planContainerLinkTeardown } from '../../../src/network/plan.js';
import { ATT } from '../network/fixtures.js';

async function withTempFile(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'minictr-wait-'));
  try {
    const path = join(dir, 'veth');
    await writeFile(path, '');
    await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const byHand = command(['ip', 'link', 'del', 'veth0'], 'remove it by hand');

test('a wait-gone op ends when the path goes, without its fallback', async () => {
  await withTempFile(async (path) => {
    const runner = new RecordingRunner();
    const removal = new Promise<void>((resolve) => setTimeout(() => void rm(path).then(resolve), 20));
    await applyPlan({ title: 't', ops: [waitGone(path, 5_000, 'wait', [byHand])] }, runner);
    await removal;
    assert.deepEqual(runner.calls, [], 'nothing is removed by hand when the kernel did it');
  });
});

test('a wait-gone op whose path stays runs its fallback after the timeout', async () => {
  await withTempFile(async (path) => {
    const runner = new RecordingRunner();
    const started = performance.now();
    await applyPlan({ title: 't', ops: [waitGone(path, 30, 'wait', [byHand])] }, runner);
    assert.ok(performance.now() - started >= 30, 'it waited the whole timeout first');
    assert.deepEqual(runner.calls.map((c) => c.argv.join(' ')), ['ip link del veth0']);
  });
});

test('--dry-run shows the wait and the removal by hand after it', () => {
  const script = renderShell(planContainerLinkTeardown(ATT));
  assert.match(script, /^ip netns del minictr-abcdef012345 \|\| true$/m);
  assert.match(
    script,
    /^timeout 0\.25 sh -c 'while \[ -e \/proc\/sys\/net\/ipv4\/conf\/vethabcdef0 \]; do sleep 0\.001; done' \|\| ip link del vethabcdef0 \|\| true$/m,
  );
});
