// Applying plans: a failed batch falls back to its alternatives, and a teardown tries them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPlanBestEffort } from '../../../src/exec/apply.js';
import { command } from '../../../src/base/plan.js';
import { RecordingRunner } from '../fakes/recording-runner.js';

test('a failed batch tries every alternative, reports the first failure and the rules found gone', async () => {
  const runner = new RecordingRunner()
    .answer((argv) => argv[0] === 'batch', { exitCode: 1, stderr: 'one rule is gone' })
    .answer((argv) => argv[1] === 'a', { exitCode: 4, stderr: 'Permission denied' })
    .answer((argv) => argv[1] === 'b', { exitCode: 1, stderr: 'Bad rule (does a matching rule exist in that chain?)' });
  const op = command(['batch'], 'remove the rules', {
    fallback: ['a', 'b', 'c'].map((r) => command(['del', r], 'remove one', { tolerate: /Bad rule/, goneNote: `rule ${r} was gone` })),
  });
  const report = await applyPlanBestEffort({ title: 't', ops: [op] }, runner);
  assert.deepEqual(runner.calls.map((c) => c.argv.join(' ')), ['batch', 'del a', 'del b', 'del c'], 'b and c are tried after a failed');
  assert.equal(report.failures.length, 1);
  assert.match(report.failures[0]?.error.message ?? '', /del a failed \(exit 4\): Permission denied/);
  assert.deepEqual(report.gone, ['rule b was gone']);
});
