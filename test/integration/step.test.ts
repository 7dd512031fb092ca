// `run --step`: each host step shown before it runs, with its why, its commands and a command to
// see the change; Enter goes on, --step=auto:DURATION goes on by itself.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, isRoot } from './sandbox.js';

describe('run --step', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  before(() => box.setup());
  after(() => box.cleanup());

  it('--step=auto:10ms walks through the article: each step, why, commands, how to see it; the container still runs', async () => {
    const r = await box.minictr(['run', '--rm', '--step=auto:10ms', '-p', '5005:80', 'busybox', 'echo', 'stepped']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'stepped\n');
    assert.match(r.stderr, /^step 1: create the bridge minictr0, a virtual switch holding the gateway 172\.18\.0\.1 \(its own fixed MAC, so joining containers never change it\)\n  \$ ip link add minictr0 address 02:42:ac:12:00:01 type bridge$/m);
    assert.match(r.stderr, /^  see it \(another terminal\): ip -n minictr-[0-9a-f]{12} addr; ip -n minictr-[0-9a-f]{12} route$/m);
    assert.match(r.stderr, /^  \$ iptables -w -t nat -A MINICTR -p tcp -m tcp --dport 5005 .* -j DNAT --to-destination 172\.18\.0\.2:80$/m);
    assert.match(r.stderr, /\(going on in 0\.01 s\)/);
    const steps = [...r.stderr.matchAll(/^step (\d+): /gm)].map((m) => Number(m[1]));
    assert.deepEqual(steps, steps.map((_, i) => i + 1), 'numbered in order');
  });

  it('--step pauses before the [::1] port relay too, naming the port it relays', async () => {
    const r = await box.minictr(['run', '--rm', '--step=auto:10ms', '-p', '[::1]:5007:80', 'busybox', 'echo', 'relayed']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'relayed\n');
    const steps = r.stderr.split(/\n(?=step \d+: )/);
    const relay = steps.findIndex((s) => /port-relay|minictr-relay/.test(s));
    assert.ok(relay >= 0, `no step for the relay in:\n${r.stderr}`);
    assert.match(steps[relay] ?? '', /\[::1\]:5007/, 'the step names the port it relays');
    assert.match(steps[relay] ?? '', /\(going on in 0\.01 s\)/);
  });

  it('--step waits for Enter before each step, and stops when standard input ends', async () => {
    const r = await box.minictr(['run', '--rm', '--step', '--network', 'none', 'busybox', 'echo', 'stepped'], { input: '\n'.repeat(40) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /press Enter to run it/);
    assert.equal(r.stdout, 'stepped\n');
    const stopped = await box.minictr(['run', '--rm', '--step', '-p', '5006:80', 'busybox', 'true'], { input: '\n' });
    assert.equal(stopped.code, 125);
    assert.match(stopped.stderr, /stopped at a step: standard input ended/);
    assert.equal((await box.minictr(['ps', '-aq'])).stdout, '', 'nothing left behind');
  });
});
