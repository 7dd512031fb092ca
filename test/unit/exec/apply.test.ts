// Applying plans: a failed batch falls back to its alternatives, and a teardown tries them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPlan, applyPlanBestEffort } from '../../../src/exec/apply.js';
import { command, mkdirOp, rmdirOp } from '../../../src/base/plan.js';
import { MinictrError } from '../../../src/base/errors.js';
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

test('mkdir and rmdir ops go through the runner, and a matching errno is tolerated', async () => {
  const runner = new RecordingRunner()
    .failDir('mkdir', '/cg/minictr', "EEXIST: file already exists, mkdir '/cg/minictr'")
    .failDir('rmdir', '/cg/minictr/b', "ENOENT: no such file or directory, rmdir '/cg/minictr/b'")
    .failDir('rmdir', '/cg/minictr/c', "EBUSY: resource busy or locked, rmdir '/cg/minictr/c'");
  await applyPlan({ title: 't', ops: [mkdirOp('/cg/minictr', 'parent', { tolerate: /EEXIST/ }), mkdirOp('/cg/minictr/a', 'child')] }, runner);
  const report = await applyPlanBestEffort(
    { title: 't', ops: ['a', 'b', 'c'].map((d) => rmdirOp(`/cg/minictr/${d}`, 'remove', { tolerate: /ENOENT/ })) },
    runner,
  );
  assert.deepEqual(runner.effects, [
    { kind: 'mkdir', path: '/cg/minictr' },
    { kind: 'mkdir', path: '/cg/minictr/a' },
    { kind: 'rmdir', path: '/cg/minictr/a' },
    { kind: 'rmdir', path: '/cg/minictr/b' },
    { kind: 'rmdir', path: '/cg/minictr/c' },
  ]);
  assert.equal(report.failures.length, 1, 'only the busy cgroup is a failure');
  assert.match(report.failures[0]?.error.message ?? '', /^could not rmdir \/cg\/minictr\/c: EBUSY/);
});

test('an untolerated mkdir failure stops the plan', async () => {
  const runner = new RecordingRunner().failDir('mkdir', '/cg/x', "EACCES: permission denied, mkdir '/cg/x'");
  await assert.rejects(applyPlan({ title: 't', ops: [mkdirOp('/cg/x', 'x'), mkdirOp('/cg/y', 'y')] }, runner), /could not mkdir \/cg\/x: EACCES/);
  assert.deepEqual(runner.effects, [{ kind: 'mkdir', path: '/cg/x' }]);
});

test('an optional tool that is not installed is tolerated only where the op says so', async () => {
  const missing = (runner: RecordingRunner): RecordingRunner => {
    const run = runner.run.bind(runner);
    runner.run = async (argv, options) => {
      if (argv[0] === 'conntrack' || argv[0] === 'nft') throw new MinictrError('E_MISSING_TOOL', `"${argv[0]}" was not found on PATH; install it`);
      return run(argv, options);
    };
    return runner;
  };
  const runner = missing(new RecordingRunner());
  await applyPlan({ title: 't', ops: [command(['conntrack', '-D', '-p', 'udp', '--dport', '53'], 'forget', { tolerate: /0 flow entries|not found/ }), command(['ip', 'link'], 'then')] }, runner);
  assert.deepEqual(runner.calls.map((c) => c.argv[0]), ['ip']);
  await assert.rejects(applyPlan({ title: 't', ops: [command(['nft', '-f', '-'], 'rules', { tolerate: /File exists/ })] }, missing(new RecordingRunner())), /"nft" was not found on PATH/);
});
