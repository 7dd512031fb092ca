// --dry-run prints the plan the runtime executes; --explain reports exactly the commands run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { concatPlans, mkdirOp, rmdirOp, write } from '../../../src/base/plan.js';
import { planNetworkSetup } from '../../../src/network/plan.js';
import { renderShell, formatStep, shellLine } from '../../../src/explain/render.js';
import { applyPlan } from '../../../src/exec/apply.js';
import { RecordingRunner, type Effect } from '../fakes/recording-runner.js';
import { NET, containerSetupPlan } from '../network/fixtures.js';

const GOLDEN = fileURLToPath(new URL('../../../../test/golden/dry-run-bridge.sh', import.meta.url));
const firstRun = { bridgeExists: false, standingRulesExist: false, networkRulesExist: false };

function fullPlan(facts = firstRun) {
  return concatPlans('connect container web to network bridge', planNetworkSetup(NET, facts), containerSetupPlan());
}

describe('--dry-run script', () => {
  it('is exactly the reviewed golden script for a first run with -p 5005:5000 -p 127.0.0.1:8080:80/udp', async () => {
    assert.equal(renderShell(fullPlan()), await readFile(GOLDEN, 'utf8'));
  });

  it('leaves out the bridge and the standing rules when the host already has them', () => {
    const text = renderShell(fullPlan({ bridgeExists: true, standingRulesExist: true, networkRulesExist: true }));
    assert.doesNotMatch(text, /ip link add minictr0 type bridge/);
    assert.doesNotMatch(text, /-N MINICTR/);
    assert.match(text, /ip link add vethabcdef0 mtu 65535 type veth peer name eth0 mtu 65535/);
    assert.match(text, /-j DNAT --to-destination 172\.18\.0\.2:5000/);
  });
});

describe('--explain', () => {
  it('reports every effect the runner saw, writes included, in order, with its input', async () => {
    const runner = new RecordingRunner();
    const lines: string[] = [];
    const plan = fullPlan();
    await applyPlan(plan, runner, { onStep: (r) => { lines.push(formatStep(r)); } });
    assert.equal(lines.length, plan.ops.length);
    assert.equal(runner.effects.length, plan.ops.length, 'one effect per op: nothing bypasses the runner');
    const shownAs = (e: Effect): string[] =>
      e.kind === 'command' ? [shellLine(e.argv), ...(e.input ?? '').split('\n').filter(Boolean)]
        : e.kind === 'write' ? [`echo ${e.content} > ${e.path}`]
          : e.kind === 'signal' ? [`kill -${e.signal} ${e.pid}`]
            : [e.path];
    runner.effects.forEach((effect, i) => {
      const shown = lines[i] ?? '';
      for (const part of shownAs(effect)) assert.ok(shown.includes(part), `step ${i} shows ${part}`);
    });
    assert.ok(runner.effects.some((e) => e.kind === 'write' && e.path === '/proc/sys/net/ipv4/ip_forward'), 'the ip_forward write is seen');
  });
});

describe('cgroup directories', () => {
  it('show as mkdir and rmdir lines, a tolerant one with || true', () => {
    const plan = {
      title: 'cgroup of c1',
      ops: [
        mkdirOp('/sys/fs/cgroup/memory/minictr', 'the parent of every minictr cgroup', { tolerate: /EEXIST/ }),
        write('/sys/fs/cgroup/memory/minictr/c1/memory.limit_in_bytes', '33554432', 'cap memory'),
        rmdirOp('/sys/fs/cgroup/memory/minictr/c1', 'remove the cgroup', { tolerate: /ENOENT/ }),
      ],
    };
    assert.equal(
      renderShell(plan),
      [
        '# cgroup of c1',
        '# the parent of every minictr cgroup',
        'mkdir /sys/fs/cgroup/memory/minictr || true',
        '# cap memory',
        'echo 33554432 > /sys/fs/cgroup/memory/minictr/c1/memory.limit_in_bytes',
        '# remove the cgroup',
        'rmdir /sys/fs/cgroup/memory/minictr/c1 || true',
        '',
      ].join('\n'),
    );
    assert.match(formatStep({ op: plan.ops[0]!, ms: 0.1 }), /mkdir \/sys\/fs\/cgroup\/memory\/minictr$/);
  });
});
