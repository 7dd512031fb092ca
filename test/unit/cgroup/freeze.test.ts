// pause/unpause as plans: which freezer file is written with what, v1 and v2, and how its state reads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Plan } from '../../../src/base/plan.js';
import { cgroupPath, freezerFiles, parseFreezerState, planFreeze, planThaw, procsFile, type CgroupFacts } from '../../../src/cgroup/plan.js';

const CG = '/sys/fs/cgroup';
const V1: CgroupFacts = {
  version: 1,
  v1: Object.fromEntries(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'].map((c) => [c, `${CG}/${c}`])),
};
const V2: CgroupFacts = { version: 2, unified: CG };
const REC1 = { version: 1 as const, path: cgroupPath('minictr', 'abc') };
const REC2 = { version: 2 as const, path: cgroupPath('minictr', 'abc') };

const writes = (plan: Plan): [string, string][] =>
  plan.ops.map((op) => {
    assert.equal(op.kind, 'write');
    return op.kind === 'write' ? [op.path, op.content] : ['', ''];
  });

describe('freezer plans', () => {
  it('v1 writes FROZEN and THAWED into freezer.state of the container cgroup', () => {
    assert.deepEqual(writes(planFreeze(V1, REC1)), [[`${CG}/freezer/minictr/abc/freezer.state`, 'FROZEN']]);
    assert.deepEqual(writes(planThaw(V1, REC1)), [[`${CG}/freezer/minictr/abc/freezer.state`, 'THAWED']]);
    assert.deepEqual(freezerFiles(V1, REC1), { set: `${CG}/freezer/minictr/abc/freezer.state`, state: `${CG}/freezer/minictr/abc/freezer.state` });
  });

  it('v2 writes 1 and 0 into cgroup.freeze and reads cgroup.events', () => {
    assert.deepEqual(writes(planFreeze(V2, REC2)), [[`${CG}/minictr/abc/cgroup.freeze`, '1']]);
    assert.deepEqual(writes(planThaw(V2, REC2)), [[`${CG}/minictr/abc/cgroup.freeze`, '0']]);
    assert.equal(freezerFiles(V2, REC2)?.state, `${CG}/minictr/abc/cgroup.events`);
  });

  it('no freezer mounted: nothing to write', () => {
    const noFreezer: CgroupFacts = { version: 1, v1: { memory: `${CG}/memory` } };
    assert.deepEqual(planFreeze(noFreezer, REC1).ops, []);
    assert.equal(freezerFiles(noFreezer, REC1), undefined);
  });

  it('reads the state: v1 FREEZING is on the way, v2 frozen 1', () => {
    assert.equal(parseFreezerState(1, 'FROZEN\n'), 'frozen');
    assert.equal(parseFreezerState(1, 'FREEZING\n'), 'freezing');
    assert.equal(parseFreezerState(1, 'THAWED\n'), 'thawed');
    assert.equal(parseFreezerState(1, ''), 'thawed');
    assert.equal(parseFreezerState(2, 'populated 1\nfrozen 1\n'), 'frozen');
    assert.equal(parseFreezerState(2, 'populated 1\nfrozen 0\n'), 'thawed');
  });

  it('the processes are listed from the pids controller (v1) or the unified tree (v2)', () => {
    assert.equal(procsFile(V1, REC1), `${CG}/pids/minictr/abc/cgroup.procs`);
    assert.equal(procsFile(V2, REC2), `${CG}/minictr/abc/cgroup.procs`);
  });
});
