import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_LINKS, DEV_NODES, devTemplateProblem, planDevTemplate, templateScript } from '../../../src/runtime/dev-template.js';

describe('the /dev template', () => {
  it("holds Docker's devices and links", () => {
    assert.deepEqual(DEV_NODES.map((n) => `${n.name} ${n.major}:${n.minor}`),
      ['null 1:3', 'zero 1:5', 'full 1:7', 'random 1:8', 'urandom 1:9', 'tty 5:0']);
    assert.deepEqual(Object.fromEntries(DEV_LINKS), {
      ptmx: 'pts/ptmx', fd: '/proc/self/fd', stdin: '/proc/self/fd/0', stdout: '/proc/self/fd/1', stderr: '/proc/self/fd/2',
    });
  });

  it('makes the whole template in one shell command, into the new directory given as $1', () => {
    const steps = templateScript().split(' && ');
    assert.equal(steps.length, 1 + DEV_NODES.length + 1 + DEV_LINKS.length);
    assert.equal(steps[0], 'mkdir -m 755 "$1"');
    assert.equal(steps[1], 'mknod -m 666 "$1/null" c 1 3');
    assert.equal(steps[DEV_NODES.length], 'mknod -m 666 "$1/tty" c 5 0');
    assert.match(steps[DEV_NODES.length + 1] ?? '', /^chmod 666 "\$1\/null" .* "\$1\/tty"$/);
    assert.equal(steps.at(-1), 'ln -s /proc/self/fd/2 "$1/stderr"');
    const plan = planDevTemplate('/bin/busybox', '/r/dev');
    assert.equal(plan.ops.length, 1, 'one step, with its why, for --dry-run and --explain');
    assert.deepEqual(plan.ops[0]?.kind === 'command' && plan.ops[0].argv.slice(0, 3), ['/bin/busybox', 'sh', '-c']);
    assert.equal(plan.ops[0]?.kind === 'command' && plan.ops[0].argv.at(-1), '/r/dev');
  });

  it('is found wrong when missing, incomplete or holding anything else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mc-devtpl-'));
    try {
      assert.ok(devTemplateProblem(join(dir, 'none')));
      const tpl = join(dir, 'dev');
      await mkdir(tpl, { mode: 0o755 });
      await symlink('/proc/self/fd', join(tpl, 'fd'));
      await symlink('elsewhere', join(tpl, 'ptmx'));
      assert.ok(devTemplateProblem(tpl));
      await mkdir(join(tpl, 'extra'));
      assert.match(devTemplateProblem(tpl) ?? '', /extra|root-owned/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
