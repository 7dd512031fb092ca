// A signal op: sent in-process (no kill(1) process), shown as the kill(1) that does the same, and
// a process gone already is tolerated only where the plan says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { applyPlan } from '../../../src/exec/apply.js';
import { HostRunner } from '../../../src/exec/runner.js';
import { signalOp } from '../../../src/base/plan.js';
import { renderShell } from '../../../src/explain/render.js';

test('a HUP reaches the process; the dry run shows kill -HUP, kill (TERM) and kill -KILL', async () => {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  const pid = child.pid ?? 0;
  assert.ok(pid > 0);
  const exited = once(child, 'exit');
  const plan = { title: 'signal', ops: [signalOp(pid, 'HUP', 'tell it to reload')] };
  await applyPlan(plan, new HostRunner());
  const [code, signal] = await exited;
  assert.equal(code, null);
  assert.equal(signal, 'SIGHUP', 'sleep ends on the HUP it was sent');
  const shown = renderShell({ title: 't', ops: [signalOp(42, 'HUP', 'a'), signalOp(42, 'TERM', 'b'), signalOp(42, 'KILL', 'c', { tolerate: /No such process/ })] });
  assert.deepEqual(shown.split('\n').filter((l) => l.startsWith('kill')), ['kill -HUP 42', 'kill 42', 'kill -KILL 42 || true']);
});

test('a process gone already: tolerated where the plan allows it, else one clear error', async () => {
  const child = spawn('true', [], { stdio: 'ignore' });
  const pid = child.pid ?? 0;
  await once(child, 'exit');
  await applyPlan({ title: 'stop', ops: [signalOp(pid, 'TERM', 'stop it', { tolerate: /No such process/ })] }, new HostRunner());
  await assert.rejects(applyPlan({ title: 'reload', ops: [signalOp(pid, 'HUP', 'reload it')] }, new HostRunner()), {
    code: 'E_SIGNAL_FAILED',
    message: `could not signal process ${pid} (HUP): kill: (${pid}) - No such process`,
  });
});
