// A host whose rules an older minictr made: `network reload` replaces a minictr rule of an older
// shape instead of leaving it beside the new one. The case: ip6tables' nat OUTPUT jump from before
// it carried `! -d ::1/128` (Docker's rule), which still DNATs [::1] into a hang.
import { describe, test, before, after } from 'node:test';
import { strict as assert } from 'node:assert';
import { HOST_IP6, Sandbox, eventually, isRoot, type Result } from './sandbox.js';

const JUMP = ['-m', 'addrtype', '--dst-type', 'LOCAL', '-m', 'comment', '--comment', 'minictr', '-j', 'MINICTR'];
const NEW_LINE = '-A OUTPUT ! -d ::1/128 -m addrtype --dst-type LOCAL -m comment --comment minictr -j MINICTR';

describe('network reload replaces a minictr rule of an older shape (iptables, IPv6)', { skip: !isRoot && 'needs root' }, () => {
  const sb = new Sandbox({ firewall: 'iptables' });
  const show = (r: Result): string => `exit ${r.code}; stdout: ${JSON.stringify(r.stdout.slice(0, 400))}; stderr: ${JSON.stringify(r.stderr.slice(0, 400))}`;
  async function must(p: Promise<Result>, what: string): Promise<string> {
    const r = await p;
    assert.equal(r.code, 0, `${what} failed: ${show(r)}`);
    return r.stdout;
  }
  /** minictr's jumps from ip6tables' nat OUTPUT, as ip6tables-save prints them. */
  const outputJumps = async (): Promise<string[]> =>
    (await must(sb.host(['ip6tables-save', '-t', 'nat']), 'ip6tables-save')).split('\n').filter((l) => /^-A OUTPUT .*--comment minictr -j MINICTR$/.test(l));
  /** What an older minictr left: the jump without `! -d ::1/128`. */
  const addOldJump = (): Promise<string> => must(sb.host(['ip6tables', '-w', '-t', 'nat', '-A', 'OUTPUT', ...JUMP]), 'adding the old jump');
  const connectLoopback = (): Promise<Result> => sb.host(['socat', '-T2', '-', 'TCP6:[::1]:8080,connect-timeout=2'], { input: '' });

  before(async () => {
    await sb.setup();
    await must(sb.minictr(['network', 'create', '--ipv6', 'v6old']), 'network create --ipv6');
    await must(sb.minictr(['run', '-d', '--name', 'web', '--network', 'v6old', '-p', '8080:5000', 'busybox', 'sh', '-c', 'hostname > /tmp/hostname && exec httpd -f -p 5000 -h /tmp']), 'run web');
  });
  after(() => sb.cleanup());

  test('the old jump beside the new one, or instead of it: reload leaves only the new one, and [::1] of a published port is refused at once', async () => {
    assert.deepEqual(await outputJumps(), [NEW_LINE]);

    // Instead of the new one (a host reloaded by an older minictr): the new one in, the old one out.
    await must(sb.host(['ip6tables', '-w', '-t', 'nat', '-D', 'OUTPUT', '!', '-d', '::1/128', ...JUMP]), 'deleting the new jump');
    await addOldJump();
    const hung = await connectLoopback();
    assert.doesNotMatch(hung.stderr, /Connection refused/, `the old jump DNATs [::1] (the fixture shows the bug): ${show(hung)}`);
    const instead = await must(sb.minictr(['network', 'reload']), 'network reload');
    assert.equal(instead.trim(), 'put back 1 missing rule; removed 1 rule of an older minictr that the current ones replace');
    assert.deepEqual(await outputJumps(), [NEW_LINE]);

    // Beside the new one (what a reload before this fix left): the old one goes.
    await addOldJump();
    assert.equal(await outputJumps().then((j) => j.length), 2);
    const beside = await must(sb.minictr(['network', 'reload']), 'network reload');
    assert.equal(beside.trim(), 'removed 1 rule of an older minictr that the current ones replace');
    assert.deepEqual(await outputJumps(), [NEW_LINE]);

    const started = Date.now();
    const refused = await connectLoopback();
    assert.match(refused.stderr, /Connection refused/, show(refused));
    assert.ok(Date.now() - started < 1_500, `refused only after ${Date.now() - started} ms`);
    // The published port itself still answers over IPv6, and nothing else was touched.
    await eventually(async () => (await sb.wan(['timeout', '2', 'busybox', 'wget', '-qO-', `http://[${HOST_IP6}]:8080/hostname`])).code === 0, 10_000, 'web over IPv6 after the reload');
    assert.equal((await must(sb.minictr(['network', 'reload']), 'network reload')).trim(), 'all minictr rules are in place');
  });
});
