import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRestart, nextDelay, parseRestartPolicy, type ExitFacts } from '../../../src/base/restart-policy.js';
import { MinictrError } from '../../../src/base/errors.js';

test('--restart parses Docker policies', () => {
  assert.deepEqual(parseRestartPolicy(''), { name: 'no', maximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('no'), { name: 'no', maximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('always'), { name: 'always', maximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('unless-stopped'), { name: 'unless-stopped', maximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('on-failure'), { name: 'on-failure', maximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('on-failure:2'), { name: 'on-failure', maximumRetryCount: 2 });
  assert.deepEqual(parseRestartPolicy('always:0'), { name: 'always', maximumRetryCount: 0 });
});

test('--restart refuses bad input with Docker messages, exit 125', () => {
  const cases: [string, string][] = [
    ['on-failure:x', 'maximum retry count must be an integer'],
    ['on-failure:', 'maximum retry count must be an integer'],
    ['on-failure:1:2', 'invalid restart policy format'],
    ['always:3', "maximum retry count cannot be used with restart policy 'always'"],
    ['unless-stopped:1', "maximum retry count cannot be used with restart policy 'unless-stopped'"],
    ['no:1', "maximum retry count cannot be used with restart policy 'no'"],
    ['on-failure:-1', 'maximum retry count cannot be negative'],
    ['sometimes', "invalid restart policy 'sometimes'"],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseRestartPolicy(text), (err: unknown) => err instanceof MinictrError && err.message === message && err.exitCode === 125, text);
  }
});

test('back-off: 100 ms doubling to a minute, reset after 10 s up', () => {
  const seen: number[] = [];
  let d = 0;
  for (let i = 0; i < 12; i++) seen.push((d = nextDelay(d, 50)));
  assert.deepEqual(seen, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
  assert.equal(nextDelay(60000, 10_000), 100);
  assert.equal(nextDelay(400, 9_999), 800);
});

const facts = (f: Partial<ExitFacts>): ExitFacts => ({ exitCode: 1, restartCount: 0, previousDelayMs: 0, ranMs: 10, manuallyStopped: false, ...f });

test('decideRestart follows the policy', () => {
  assert.deepEqual(decideRestart(undefined, facts({})), { restart: false });
  assert.deepEqual(decideRestart({ name: 'no', maximumRetryCount: 0 }, facts({})), { restart: false });
  const always = { name: 'always', maximumRetryCount: 0 } as const;
  assert.deepEqual(decideRestart(always, facts({ exitCode: 0 })), { restart: true, delayMs: 100 });
  assert.deepEqual(decideRestart(always, facts({ previousDelayMs: 100 })), { restart: true, delayMs: 200 });
  assert.deepEqual(decideRestart(always, facts({ manuallyStopped: true })), { restart: false });
  assert.deepEqual(decideRestart({ name: 'unless-stopped', maximumRetryCount: 0 }, facts({ manuallyStopped: true })), { restart: false });
  const onFailure2 = { name: 'on-failure', maximumRetryCount: 2 } as const;
  assert.deepEqual(decideRestart(onFailure2, facts({ exitCode: 0 })), { restart: false });
  assert.deepEqual(decideRestart(onFailure2, facts({ exitCode: 3, restartCount: 1 })), { restart: true, delayMs: 100 });
  assert.deepEqual(decideRestart(onFailure2, facts({ exitCode: 3, restartCount: 2 })), { restart: false });
  assert.deepEqual(decideRestart({ name: 'on-failure', maximumRetryCount: 0 }, facts({ exitCode: 3, restartCount: 99 })), { restart: true, delayMs: 100 });
});
