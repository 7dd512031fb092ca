// A wait-gone op: done when the kernel removes the thing by itself, removed by hand when not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyPlan } from '../../../src/exec/apply.js';
import { HostRunner } from '../../../src/exec/runner.js';
import { RecordingRunner } from '../fakes/recording-runner.js';
import { command, waitGone } from '../../../src/base/plan.js';
import { renderShell } from '../../../src/explain/render.js';
import { bridgeDriver } from '../../../src/network/bridge.js';
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
  const runner = new RecordingRunner(() => true);
  await applyPlan({ title: 't', ops: [waitGone('/proc/sys/net/ipv4/conf/veth0', 5_000, 'wait', [byHand])] }, runner);
  assert.deepEqual(runner.effects, [{ kind: 'wait-gone', path: '/proc/sys/net/ipv4/conf/veth0', timeoutMs: 5_000 }], 'nothing is removed by hand when the kernel did it');
});

test('a wait-gone op whose path stays runs its fallback', async () => {
  const runner = new RecordingRunner(() => false);
  await applyPlan({ title: 't', ops: [waitGone('/proc/sys/net/ipv4/conf/veth0', 30, 'wait', [byHand])] }, runner);
  assert.deepEqual(runner.calls.map((c) => c.argv.join(' ')), ['ip link del veth0']);
});

test('the host runner waits until the path goes', async () => {
  await withTempFile(async (path) => {
    const removal = new Promise<void>((resolve) => setTimeout(() => void rm(path).then(resolve), 20));
    assert.equal(await new HostRunner().waitGone(path, 5_000), true);
    await removal;
  });
});

test('the host runner gives up after the timeout when the path stays', async () => {
  await withTempFile(async (path) => {
    const started = performance.now();
    assert.equal(await new HostRunner().waitGone(path, 30), false);
    // The deadline is kept in whole milliseconds (Date.now), so allow one for rounding.
    assert.ok(performance.now() - started >= 29, 'it waited the whole timeout first');
  });
});

test('--dry-run shows the wait and the removal by hand after it', () => {
  const script = renderShell(bridgeDriver.planContainerTeardown(ATT));
  assert.match(script, /^ip netns del minictr-abcdef012345 \|\| true$/m);
  assert.match(
    script,
    /^timeout 0\.25 sh -c 'while \[ -e \/proc\/sys\/net\/ipv4\/conf\/vethabcdef0 \]; do sleep 0\.001; done' \|\| ip link del vethabcdef0 \|\| true$/m,
  );
});
