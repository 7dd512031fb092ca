// Resource flags: Docker's units in, Docker's words out when a value is refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  NO_RESOURCES,
  cpuRanges,
  hasLimits,
  parseBytes,
  parseCpus,
  parseCpuset,
  parseCpuShares,
  parseMemorySwap,
  parsePidsLimit,
  validateResources,
} from '../../../src/cgroup/limits.js';
import { MinictrError } from '../../../src/base/errors.js';
import type { Resources } from '../../../src/base/records.js';

const MiB = 1024 * 1024;

/** The error a parse throws: code, exit status and message. */
function refusal(fn: () => unknown): { code: string; exitCode: number; message: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MinictrError, `a MinictrError, got ${String(err)}`);
    return { code: err.code, exitCode: err.exitCode, message: err.message };
  }
  assert.fail('expected a refusal');
}

describe('--memory and friends (go-units RAMInBytes)', () => {
  const cases: [string, number][] = [
    ['32m', 32 * MiB],
    ['32M', 32 * MiB],
    ['32mb', 32 * MiB],
    ['32MiB', 32 * MiB],
    ['1.5g', 1.5 * 1024 * MiB],
    ['512k', 512 * 1024],
    ['100', 100],
    ['100b', 100],
    ['1 g', 1024 * MiB],
    ['0', 0],
    ['1.5', 1],
  ];
  for (const [text, bytes] of cases) {
    it(`${text} is ${bytes} bytes`, () => assert.equal(parseBytes(text, '-m, --memory'), bytes));
  }

  it('refuses what is not a size, in pflag and go-units words, exit 125', () => {
    assert.deepEqual(refusal(() => parseBytes('1x', '-m, --memory')), {
      code: 'E_BAD_FLAG',
      exitCode: 125,
      message: `invalid argument "1x" for "-m, --memory" flag: invalid size: '1x'`,
    });
    for (const bad of ['-1', '', 'm', '1mm', '1  m', '0x10']) {
      assert.match(refusal(() => parseBytes(bad, '--memory-reservation')).message, /^invalid argument ".*" for "--memory-reservation" flag: invalid size: /);
    }
    assert.equal(
      refusal(() => parseBytes('1.2.3m', '-m, --memory')).message,
      'invalid argument "1.2.3m" for "-m, --memory" flag: strconv.ParseFloat: parsing "1.2.3": invalid syntax',
    );
  });

  it('--memory-swap takes -1 for unlimited swap', () => {
    assert.equal(parseMemorySwap('-1'), -1);
    assert.equal(parseMemorySwap('64m'), 64 * MiB);
    assert.equal(refusal(() => parseMemorySwap('-2')).message, `invalid argument "-2" for "--memory-swap" flag: invalid size: '-2'`);
  });
});

describe('--cpus (the CLI NanoCPUs flag)', () => {
  const cases: [string, number][] = [
    ['1', 1e9],
    ['1.5', 1.5e9],
    ['0.01', 1e7],
    ['.5', 5e8],
    ['3/2', 1.5e9],
    ['2e-1', 2e8],
    ['0.000000001', 1],
    ['-1', -1e9],
  ];
  for (const [text, nano] of cases) {
    it(`${text} is ${nano} nano-CPUs`, () => assert.equal(parseCpus(text), nano));
  }

  it('refuses what is not a number, and more precision than a nano-CPU', () => {
    assert.equal(refusal(() => parseCpus('two')).message, 'invalid argument "two" for "--cpus" flag: failed to parse two as a rational number');
    assert.equal(refusal(() => parseCpus('1/0')).message, 'invalid argument "1/0" for "--cpus" flag: failed to parse 1/0 as a rational number');
    assert.equal(refusal(() => parseCpus('0.0000000001')).message, 'invalid argument "0.0000000001" for "--cpus" flag: value is too precise');
    assert.equal(refusal(() => parseCpus('1/3')).message, 'invalid argument "1/3" for "--cpus" flag: value is too precise');
  });
});

describe('integer flags (pflag int64)', () => {
  it('--cpu-shares and --pids-limit', () => {
    assert.equal(parseCpuShares('512'), 512);
    assert.equal(parsePidsLimit('100'), 100);
    assert.equal(parsePidsLimit('-1'), -1);
    assert.equal(parsePidsLimit('0'), 0);
    assert.equal(refusal(() => parseCpuShares('lots')).message, 'invalid argument "lots" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "lots": invalid syntax');
    assert.equal(refusal(() => parsePidsLimit('1.5')).message, 'invalid argument "1.5" for "--pids-limit" flag: strconv.ParseInt: parsing "1.5": invalid syntax');
    assert.equal(
      refusal(() => parsePidsLimit('99999999999999999999')).message,
      'invalid argument "99999999999999999999" for "--pids-limit" flag: strconv.ParseInt: parsing "99999999999999999999": value out of range',
    );
  });
});

describe('--cpuset-cpus', () => {
  it('takes lists and ranges', () => {
    assert.equal(parseCpuset('0-1,3'), '0-1,3');
    assert.deepEqual(cpuRanges('0-1,3'), [[0, 1], [3, 3]]);
    assert.deepEqual(cpuRanges(''), []);
  });

  it('refuses anything else in the daemon words', () => {
    for (const bad of ['a', '1-', '3-1', '0,,1', '0-1-2', ' 0']) {
      assert.equal(refusal(() => parseCpuset(bad)).message, `Invalid value ${bad} for cpuset cpus: invalid format: ${bad}`);
    }
  });
});

describe('the daemon checks (verifyPlatformContainerResources)', () => {
  const host = { cpus: 2, cpusetCpus: '0-1' };
  const r = (over: Partial<Resources>): Resources => ({ ...NO_RESOURCES, ...over });
  const cases: [Partial<Resources>, string][] = [
    [{ memory: 4 * MiB }, 'Minimum memory limit allowed is 6MB'],
    [{ memory: 32 * MiB, memorySwap: 16 * MiB }, 'Minimum memoryswap limit should be larger than memory limit, see usage'],
    [{ memorySwap: 16 * MiB }, 'You should always set the Memory limit when using Memoryswap limit, see usage'],
    [{ memoryReservation: 1 * MiB }, 'Minimum memory reservation allowed is 6MB'],
    [{ memory: 32 * MiB, memoryReservation: 64 * MiB }, 'Minimum memory limit can not be less than memory reservation limit, see usage'],
    [{ nanoCpus: 3e9 }, 'Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available'],
    [{ nanoCpus: -1e9 }, 'Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available'],
    [{ cpusetCpus: '0-7' }, 'Requested CPUs are not available - requested 0-7, available: 0-1'],
    [{ cpusetCpus: '1-0' }, 'Invalid value 1-0 for cpuset cpus: invalid format: 1-0'],
  ];
  for (const [over, message] of cases) {
    it(message, () => {
      const got = refusal(() => validateResources(r(over), host));
      assert.deepEqual(got, { code: 'E_BAD_FLAG', exitCode: 125, message });
    });
  }

  it('lets a sound set through', () => {
    validateResources(r({ memory: 32 * MiB, memorySwap: 64 * MiB, memoryReservation: 16 * MiB, nanoCpus: 1.5e9, cpuShares: 512, cpusetCpus: '1', pidsLimit: 10 }), host);
    validateResources(r({ memory: 6 * MiB, memorySwap: -1, nanoCpus: 2e9, cpusetCpus: '0,1' }), host);
    validateResources(r({ cpusetCpus: '2,3-4' }), { cpus: 8, cpusetCpus: '0-3,4-7' });
    validateResources(NO_RESOURCES, host);
  });

  it('hasLimits: zero, empty and -1 are none', () => {
    assert.equal(hasLimits(undefined), false);
    assert.equal(hasLimits(NO_RESOURCES), false);
    assert.equal(hasLimits(r({ memorySwap: -1, pidsLimit: -1 })), false);
    assert.equal(hasLimits(r({ pidsLimit: 5 })), true);
    assert.equal(hasLimits(r({ cpusetCpus: '0' })), true);
  });
});
