import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { CommandOp, Op } from '../../../src/base/plan.js';
import { planContainerNetworkTeardown, planContainersTeardown, planNetworkSetup, planNetworkTeardown } from '../../../src/network/plan.js';
import { firewallChecks, iptablesDriver } from '../../../src/network/firewall/iptables-driver.js';
import { containerRules, networkRules, restoreText, specText, standingChains, standingRules } from '../../../src/network/firewall/iptables.js';
import { ATT, C, NET, containerSetupPlan } from './fixtures.js';
import { bridgeDriver } from '../../../src/network/bridge.js';

function asCommand(op: Op | undefined): CommandOp {
  assert.ok(op && op.kind === 'command', `expected a command op, got ${JSON.stringify(op)}`);
  return op;
}

const INSIDE = ['nsenter', '--net=/run/netns/minictr-abcdef012345', 'ip'];

const line = (op: Op): string =>
  op.kind === 'command' ? op.argv.join(' ') : op.kind === 'write' ? `write ${op.path}=${op.content}` : op.kind === 'signal' ? `kill -${op.signal} ${op.pid}` : `wait until ${op.path} is gone`;

test('container setup: the article\'s steps, batched, each with a reason', () => {
  const plan = containerSetupPlan();
  assert.deepEqual(plan.ops.map(line), [
    'ip -batch -',
    'nsenter --net=/run/netns/minictr-abcdef012345 sh -c echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6 && exec ip -batch -',
    'iptables-restore -w --noflush',
  ]);
  const [host, inside, rules] = plan.ops.map(asCommand);
  assert.equal(
    host!.stdin,
    'netns add minictr-abcdef012345\n' +
      'link add vethabcdef0 mtu 65535 type veth peer name eth0 mtu 65535 address 02:42:ac:12:00:02 netns minictr-abcdef012345\n' +
      'link set vethabcdef0 master minictr0\n' +
      'link set vethabcdef0 addrgenmode none\n' +
      'link set vethabcdef0 up\n' +
      'link set vethabcdef0 type bridge_slave hairpin on\n',
  );
  assert.deepEqual(host!.shown, [
    ['ip', 'netns', 'add', 'minictr-abcdef012345'],
    ['ip', 'link', 'add', 'vethabcdef0', 'mtu', '65535', 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', '65535', 'address', '02:42:ac:12:00:02', 'netns', 'minictr-abcdef012345'],
    ['ip', 'link', 'set', 'vethabcdef0', 'master', 'minictr0'],
    ['ip', 'link', 'set', 'vethabcdef0', 'addrgenmode', 'none'],
    ['ip', 'link', 'set', 'vethabcdef0', 'up'],
    ['ip', 'link', 'set', 'vethabcdef0', 'type', 'bridge_slave', 'hairpin', 'on'],
  ]);
  assert.equal(
    inside!.stdin,
    'link set lo up\naddr add 172.18.0.2/16 dev eth0\nlink set eth0 up\nroute add default via 172.18.0.1 mtu 1500\n',
  );
  assert.deepEqual(inside!.shown, [
    ['nsenter', '--net=/run/netns/minictr-abcdef012345', 'sh', '-c', 'echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6'],
    [...INSIDE, 'link', 'set', 'lo', 'up'],
    [...INSIDE, 'addr', 'add', '172.18.0.2/16', 'dev', 'eth0'],
    [...INSIDE, 'link', 'set', 'eth0', 'up'],
    [...INSIDE, 'route', 'add', 'default', 'via', '172.18.0.1', 'mtu', '1500'],
  ]);
  assert.equal(rules!.stdin, restoreText(containerRules(ATT), {}, 'add'));
  assert.equal(rules!.shown?.length, 8);
  assert.equal(
    rules!.why,
    'publish 0.0.0.0:5005 → 172.18.0.2:5000/tcp (DNAT); publish 127.0.0.1:8080 → 172.18.0.2:80/udp (DNAT); ' +
      'let only minictr0 reach 172.18.0.2 directly',
  );
  assert.match(plan.ops[0]!.why, /own network stack/);
  for (const op of plan.ops) assert.ok(op.why.length > 10 && !op.why.includes('\n'));
});

test('container setup: IPv6 stays on where the network has it, and nothing of IPv6 is set on a kernel without it', () => {
  const dual = bridgeDriver.planContainerSetup({ ...ATT, ip6: 'fd00:1::2', prefixLength6: 64, gateway6: 'fd00:1::1' });
  const [host6, inside6] = dual.ops.map(asCommand);
  assert.match(host6!.stdin ?? '', /link set vethabcdef0 addrgenmode none\n/, 'the bridge port never needs a link-local address');
  assert.deepEqual(inside6!.argv, [...INSIDE, '-batch', '-']);
  assert.match(inside6!.stdin ?? '', /addr add fd00:1::2\/64 dev eth0 nodad\n/);
  const bare = bridgeDriver.planContainerSetup(ATT, { noIPv6: true });
  const [host4, inside4] = bare.ops.map(asCommand);
  assert.doesNotMatch(host4!.stdin ?? '', /addrgenmode/);
  assert.deepEqual(inside4!.argv, [...INSIDE, '-batch', '-']);
  const connect = bridgeDriver.planContainerConnect({ ...ATT, hostVeth: 'vethabcdef0-1', ifname: 'eth1' });
  assert.deepEqual(asCommand(connect.ops[1]).argv, ['nsenter', '--net=/run/netns/minictr-abcdef012345', 'sh', '-c', 'echo 1 > /proc/sys/net/ipv6/conf/eth1/disable_ipv6 && exec ip -batch -']);
});

test('container rules on a standing bridge check, in the same restore, that the network\'s rules are still there', () => {
  const checks = firewallChecks(NET);
  assert.deepEqual(checks.map((r) => `${r.table} ${r.chain}`), ['filter FORWARD', 'nat POSTROUTING']);
  const [op] = iptablesDriver.planContainerSetup(ATT, NET).ops.map(asCommand);
  const lines = (op!.stdin ?? '').split('\n');
  // Each check comes first in its table's block, so a wiped ruleset fails the block before any rule is added.
  for (const check of checks) {
    const at = lines.indexOf(`-C ${check.chain} ${specText(check.spec)}`);
    assert.ok(at > 0, `a -C line for ${check.chain} in ${op!.stdin}`);
    assert.equal(lines[at - 1], `*${check.table}`);
  }
  assert.ok(op!.shown?.some((argv) => argv.includes('-C') && argv.includes('FORWARD')));
  assert.equal(op!.shown?.length, containerRules(ATT).length + checks.length);
  // No checks asked for: exactly the container's rules.
  assert.equal(asCommand(iptablesDriver.planContainerSetup(ATT).ops[0]).stdin, restoreText(containerRules(ATT), {}, 'add'));
});

test('container teardown: rules (with per-rule fallback), UDP conntrack by host port, netns, then the veth goes with it', () => {
  const plan = planContainerNetworkTeardown(ATT);
  assert.deepEqual(plan.ops.map(line), [
    'iptables-restore -w --noflush',
    'conntrack -D -p udp --dport 8080',
    'ip netns del minictr-abcdef012345',
    'wait until /proc/sys/net/ipv4/conf/vethabcdef0 is gone',
  ]);
  const [rules, ct, ns] = plan.ops.slice(0, 3).map(asCommand);
  const wait = plan.ops[3];
  assert.ok(wait?.kind === 'wait-gone');
  // Still there after the wait (something holds the namespace): removed by hand.
  assert.deepEqual(wait.fallback?.map(line), ['ip link del vethabcdef0']);
  const veth = asCommand(wait.fallback?.[0]);
  assert.equal(rules!.stdin, restoreText(containerRules(ATT), {}, 'delete'));
  const fallback = (rules!.fallback ?? []).map(asCommand);
  assert.equal(fallback.length, 8);
  assert.deepEqual(fallback[0]!.argv, [
    'iptables', '-w', '-t', 'raw', '-D', 'PREROUTING', '-d', '172.18.0.2/32', '!', '-i', 'minictr0',
    '-m', 'comment', '--comment', C, '-j', 'DROP',
  ]);
  for (const op of fallback) {
    assert.equal(op.argv[4], '-D');
    assert.ok(op.tolerate?.test('iptables: Bad rule (does a matching rule exist in that chain?).'));
    assert.ok(op.tolerate?.test('iptables: No chain/target/match by that name.'));
  }
  assert.ok(ct!.tolerate?.test('conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.'));
  assert.ok(veth.tolerate?.test('Cannot find device "vethabcdef0"'));
  assert.ok(ns!.tolerate?.test('Cannot remove namespace file "/run/netns/minictr-abcdef012345": No such file or directory'));
});

test('container teardown without UDP ports has no conntrack step', () => {
  const plan = planContainerNetworkTeardown({ ...ATT, ports: [ATT.ports[0]!] });
  assert.deepEqual(plan.ops.map(line), [
    'iptables-restore -w --noflush',
    'ip netns del minictr-abcdef012345',
    'wait until /proc/sys/net/ipv4/conf/vethabcdef0 is gone',
  ]);
});

const SYSCTLS = [
  'write /proc/sys/net/ipv4/ip_forward=1',
  'write /proc/sys/net/ipv4/conf/minictr0/route_localnet=1',
  'write /proc/sys/net/bridge/bridge-nf-call-iptables=1',
];

test('network setup from nothing: bridge, sysctls, chains + standing + network rules in one restore', () => {
  const plan = planNetworkSetup(NET, { bridgeExists: false, standingRulesExist: false, networkRulesExist: false });
  assert.deepEqual(plan.ops.map(line), ['ip -batch -', ...SYSCTLS, 'iptables-restore -w --noflush']);
  const bridge = asCommand(plan.ops[0]);
  assert.equal(bridge.stdin, 'link add minictr0 address 02:42:ac:12:00:01 type bridge\naddr add 172.18.0.1/16 dev minictr0\nlink set minictr0 up\n');
  assert.deepEqual(bridge.shown, [
    ['ip', 'link', 'add', 'minictr0', 'address', '02:42:ac:12:00:01', 'type', 'bridge'],
    ['ip', 'addr', 'add', '172.18.0.1/16', 'dev', 'minictr0'],
    ['ip', 'link', 'set', 'minictr0', 'up'],
  ]);
  assert.deepEqual(bridge.fallback?.map(line), [
    'ip link add minictr0 address 02:42:ac:12:00:01 type bridge',
    'ip addr add 172.18.0.1/16 dev minictr0',
    'ip link set minictr0 up',
  ]);
  const bridgeNf = plan.ops[3]!;
  assert.ok(bridgeNf.tolerate?.test("ENOENT: no such file or directory, open '/proc/sys/net/bridge/bridge-nf-call-iptables'"));
  assert.equal(plan.ops[1]!.tolerate, undefined);
  const rules = asCommand(plan.ops[4]);
  assert.equal(
    rules.stdin,
    restoreText([...standingRules(), ...networkRules(NET)], { declareChains: standingChains() }, 'add'),
  );
  assert.deepEqual(rules.shown?.[0], ['iptables', '-w', '-t', 'filter', '-N', 'MINICTR']);
});

test('network setup when the bridge and standing rules exist: only sysctls and the network rules', () => {
  const plan = planNetworkSetup(NET, { bridgeExists: true, standingRulesExist: true, networkRulesExist: false });
  assert.deepEqual(plan.ops.map(line), [...SYSCTLS, 'iptables-restore -w --noflush']);
  const rules = asCommand(plan.ops[3]);
  assert.equal(rules.stdin, restoreText(networkRules(NET), {}, 'add'));
  assert.ok(!rules.stdin?.includes(':MINICTR'), 'existing chains must not be re-declared (that flushes them)');
});

test('network setup when everything exists: sysctls only', () => {
  const plan = planNetworkSetup(NET, { bridgeExists: true, standingRulesExist: true, networkRulesExist: true });
  assert.deepEqual(plan.ops.map(line), SYSCTLS);
});

test('network setup: a second network on a host that has the standing rules but not this bridge', () => {
  const other = { ...NET, name: 'web', bridge: 'minictr1', subnet: '172.19.0.0/24', gateway: '172.19.0.1' };
  const plan = planNetworkSetup(other, { bridgeExists: false, standingRulesExist: true, networkRulesExist: false });
  assert.equal(asCommand(plan.ops[0]).stdin, 'link add minictr1 address 02:42:ac:13:00:01 type bridge\naddr add 172.19.0.1/24 dev minictr1\nlink set minictr1 up\n');
  assert.match(asCommand(plan.ops[4]).stdin ?? '', /-A POSTROUTING -s 172\.19\.0\.0\/24 ! -o minictr1 -m comment --comment "minictr:web" -j MASQUERADE/);
});

test('network teardown, not the last network: its rules and its bridge', () => {
  const plan = planNetworkTeardown(NET, { lastNetwork: false });
  assert.deepEqual(plan.ops.map(line), ['iptables-restore -w --noflush', 'ip link del minictr0']);
  const rules = asCommand(plan.ops[0]);
  assert.equal(rules.stdin, restoreText(networkRules(NET), {}, 'delete'));
  assert.equal(rules.fallback?.length, networkRules(NET).length);
  assert.ok(asCommand(plan.ops[1]).tolerate?.test('Cannot find device "minictr0"'));
});

test('network teardown, last network: also unhooks and removes the MINICTR chains', () => {
  const plan = planNetworkTeardown(NET, { lastNetwork: true });
  assert.deepEqual(plan.ops.map(line), [
    'iptables-restore -w --noflush',
    'iptables-restore -w --noflush',
    'iptables-restore -w --noflush',
    'ip link del minictr0',
  ]);
  const [, standing, chains] = plan.ops.map(asCommand);
  assert.equal(standing!.stdin, restoreText(standingRules(), {}, 'delete'));
  assert.equal(
    chains!.stdin,
    '*nat\n-F MINICTR\n-X MINICTR\nCOMMIT\n' +
      '*filter\n' +
      '-F MINICTR\n-F MINICTR-BRIDGE\n-F MINICTR-CT\n-F MINICTR-FORWARD\n' +
      '-F MINICTR-ISOLATION-STAGE-1\n-F MINICTR-ISOLATION-STAGE-2\n-F MINICTR-USER\n' +
      '-X MINICTR\n-X MINICTR-BRIDGE\n-X MINICTR-CT\n-X MINICTR-FORWARD\n' +
      '-X MINICTR-ISOLATION-STAGE-1\n-X MINICTR-ISOLATION-STAGE-2\n-X MINICTR-USER\n' +
      'COMMIT\n',
  );
  const fb = (chains!.fallback ?? []).map(line);
  assert.equal(fb.length, 16);
  assert.equal(fb[0], 'iptables -w -t filter -F MINICTR');
  assert.equal(fb[15], 'iptables -w -t nat -X MINICTR');
  assert.ok(chains!.fallback?.every((op) => op.tolerate?.test('iptables: No chain/target/match by that name.')));
});

test('many containers torn down together: one restore per table with all their rules, one namespace batch; each owns its share', () => {
  const quiet = { ...ATT, netns: 'minictr-222222222222', hostVeth: 'veth2222222', ip: '172.18.0.3', ports: [] };
  const { firewall, links } = planContainersTeardown([
    { owner: 'one', attachment: ATT, net: NET },
    { owner: 'two', attachment: quiet, net: NET },
  ]);
  // The one without ports has a raw rule only: nat and filter are the first one's alone.
  assert.deepEqual(firewall.shared.map((s) => [asCommand(s.op).stdin?.split('\n')[0], s.shares.map((o) => o.owner)]), [
    ['*nat', ['one']],
    ['*filter', ['one']],
    ['*raw', ['one', 'two']],
  ]);
  const raw = asCommand(firewall.shared[2]?.op).stdin ?? '';
  assert.equal(raw.split('\n').filter((l) => l.startsWith('-D ')).length, containerRules(ATT).filter((r) => r.table === 'raw').length + 1);
  // Each share is the container's own tolerant delete of that table's rules.
  const share = firewall.shared[2]?.shares[1]?.plan.ops[0];
  assert.equal(asCommand(share).stdin, restoreText(containerRules(quiet), {}, 'delete'));
  assert.ok(share?.fallback && share.fallback.length === 1);
  assert.deepEqual(firewall.own.map((o) => [o.owner, o.plan.ops.map(line)]), [['one', ['conntrack -D -p udp --dport 8080']]]);

  assert.equal(links.shared.length, 1);
  const batch = asCommand(links.shared[0]?.op);
  assert.equal(line(batch), 'ip -force -batch -');
  assert.equal(batch.stdin, `netns del ${ATT.netns}\nnetns del ${quiet.netns}\n`);
  assert.deepEqual(links.shared[0]?.shares.map((o) => [o.owner, o.plan.ops.map(line)]), [
    ['one', [`ip netns del ${ATT.netns}`]],
    ['two', [`ip netns del ${quiet.netns}`]],
  ]);
  assert.deepEqual(links.own.map((o) => [o.owner, o.plan.ops.map(line)]), [
    ['one', [`wait until /proc/sys/net/ipv4/conf/${ATT.hostVeth} is gone`]],
    ['two', ['wait until /proc/sys/net/ipv4/conf/veth2222222 is gone']],
  ]);
});
