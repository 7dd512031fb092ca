import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_LINKS, DEV_NODES, devTemplateProblem, mknodScript } from '../../../src/runtime/dev-template.js';

describe('the /dev template', () => {
  it("holds Docker's devices and links", () => {
    assert.deepEqual(DEV_NODES.map((n) => `${n.name} ${n.major}:${n.minor}`),
      ['null 1:3', 'zero 1:5', 'full 1:7', 'random 1:8', 'urandom 1:9', 'tty 5:0']);
    assert.deepEqual(Object.fromEntries(DEV_LINKS), {
      ptmx: 'pts/ptmx', fd: '/proc/self/fd', stdin: '/proc/self/fd/0', stdout: '/proc/self/fd/1', stderr: '/proc/self/fd/2',
    });
  });

  it('makes every node in one shell command, mode 666, into the directory given as $1', () => {
    const script = mknodScript();
    assert.equal(script.split(' && ').length, DEV_NODES.length);
    assert.match(script, /^mknod -m 666 "\$1\/null" c 1 3 && /);
    assert.match(script, / && mknod -m 666 "\$1\/tty" c 5 0$/);
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
