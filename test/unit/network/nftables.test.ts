import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { CommandOp, Op } from '../../../src/base/plan.js';
import type { NetworkAttachment } from '../../../src/base/records.js';
import { chooseFirewall, firewallDriverFor, parseFirewallName } from '../../../src/network/drivers.js';
import { elementKey, nftCommentScope, nftablesDriver } from '../../../src/network/firewall/nftables-driver.js';
import { containerElements, networkElements, nftElementLine, networkRules } from '../../../src/network/firewall/nftables.js';
import { ATT, C, NET } from './fixtures.js';

const NFT_NET = { ...NET, firewall: 'nftables' as const };

function commandOf(op: Op | undefined): CommandOp {
  assert.ok(op && op.kind === 'command', 'expected a command op');
  return op;
}

/** The statements of an `nft -f -` op (its `#` why lines dropped). */
function statements(op: Op | undefined): string[] {
  return (commandOf(op).stdin ?? '').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

test('a container is set and map elements only, each commented with its owner', () => {
  const elements = containerElements(ATT);
  assert.deepEqual(
    elements.map((e) => `@${e.set} ${nftElementLine(e)}`),
    [
      `@published4 172.18.0.2 . tcp . 5000 comment "${C}"`,
      `@hairpin4 172.18.0.2 . 172.18.0.2 . tcp . 5000 comment "${C}"`,
      `@published4 172.18.0.2 . udp . 80 comment "${C}"`,
      `@hairpin4 172.18.0.2 . 172.18.0.2 . udp . 80 comment "${C}"`,
      `@ports-any4 tcp . 5005 comment "${C}" : 172.18.0.2 . 5000`,
      `@ports-addr4 127.0.0.1 . udp . 8080 comment "${C}" : 172.18.0.2 . 80`,
      `@loopback4 127.0.0.1 . udp . 8080 comment "${C}"`,
      `@guard4 172.18.0.2 comment "${C}" : jump guard-minictr0`,
    ],
  );
  assert.ok(elements.every((e) => e.why !== ''), 'every element says why');
});

test('a container\'s setup is one nft -f transaction of add element statements, each under its why', () => {
  const plan = nftablesDriver.planContainerSetup(ATT, NFT_NET);
  assert.equal(plan.ops.length, 1);
  const op = commandOf(plan.ops[0]);
  assert.deepEqual(op.argv, ['nft', '-f', '-']);
  const lines = (op.stdin ?? '').split('\n').filter(Boolean);
  assert.equal(lines.length, 16, 'a # why line above each of the 8 statements');
  assert.ok(lines.every((l, i) => (i % 2 === 0 ? l.startsWith('# ') : l.startsWith('add element inet minictr '))));
  assert.equal(lines[1], `add element inet minictr published4 { 172.18.0.2 . tcp . 5000 comment "${C}" }`);
});

test('a container\'s teardown deletes its elements in one transaction, element by element (tolerantly) if that fails, then forgets its UDP flows', () => {
  const plan = nftablesDriver.planContainerTeardown(ATT);
  const op = commandOf(plan.ops[0]);
  assert.deepEqual(statements(op)[0], 'delete element inet minictr published4 { 172.18.0.2 . tcp . 5000 }');
  assert.equal(statements(op).length, 8);
  assert.equal(op.fallback?.length, 8);
  const single = commandOf(op.fallback?.[7]);
  assert.deepEqual(single.argv, ['nft', 'delete element inet minictr guard4 { 172.18.0.2 }']);
  assert.ok(single.tolerate?.test('Error: Could not process rule: No such file or directory'));
  assert.deepEqual(commandOf(plan.ops[1]).argv, ['conntrack', '-D', '-p', 'udp', '--dport', '8080']);
});

test('many containers\' teardown is one transaction, with each container\'s own delete as its share', () => {
  const other: NetworkAttachment = { ...ATT, netns: 'minictr-0123456789ab', ip: '172.18.0.3', ports: [] };
  const batch = nftablesDriver.planContainersTeardown([
    { owner: 'a', attachment: ATT },
    { owner: 'b', attachment: other },
  ]);
  assert.equal(batch.shared.length, 1);
  assert.equal(statements(batch.shared[0]?.op).length, 9);
  assert.deepEqual(batch.shared[0]?.shares.map((s) => s.owner), ['a', 'b']);
  assert.deepEqual(batch.own.map((o) => o.owner), ['a'], 'only a has UDP flows to forget');
});

test('network setup declares the table, maps and chains (idempotent adds) and refills each chain whole', () => {
  const plan = nftablesDriver.planNetworkSetup(NFT_NET, { standingRulesExist: false, networkRulesExist: false });
  const lines = statements(plan.ops[0]);
  assert.equal(lines[0], 'add table inet minictr { comment "minictr"; }');
  assert.ok(lines.includes('add chain inet minictr forward { type filter hook forward priority filter; policy accept; }'));
  assert.ok(lines.includes('add chain inet minictr output { type nat hook output priority -100; policy accept; }'));
  assert.ok(lines.includes('flush chain inet minictr in-minictr0'));
  assert.ok(lines.indexOf('flush chain inet minictr in-minictr0') < lines.indexOf('add rule inet minictr in-minictr0 ct state established,related accept comment "minictr:bridge"'));
  assert.ok(lines.includes('add element inet minictr fwd-in { "minictr0" comment "minictr:bridge" : jump in-minictr0 }'));
  assert.deepEqual(nftablesDriver.planNetworkSetup(NFT_NET, { standingRulesExist: true, networkRulesExist: true }).ops, []);
});

test('the last network\'s teardown deletes the whole table; another one its elements and chains', () => {
  const last = nftablesDriver.planNetworkTeardown(NFT_NET, { lastNetwork: true });
  assert.deepEqual(commandOf(last.ops[0]).argv, ['nft', 'delete table inet minictr']);
  const one = statements(nftablesDriver.planNetworkTeardown(NFT_NET, { lastNetwork: false }).ops[0]);
  assert.equal(one[0], 'delete element inet minictr fwd-in { "minictr0" }');
  assert.equal(one.at(-1), 'delete chain inet minictr guard-minictr0');
});

test('repair puts back only what the dump lacks: nothing when complete, a missing element alone, a chain missing a rule refilled whole', () => {
  const owners = { networks: [NFT_NET], containers: [{ name: 'web', attachment: ATT }] };
  const full = nftablesDriver.expectedRules(owners);
  const asDump = (lines: typeof full) => ({
    chains: [...new Set(full.filter((e) => !e.chain.startsWith('@')).map((e) => e.chain))].map((chain) => ({ table: 'inet minictr', chain, policy: '-' })),
    rules: lines.map(({ table, chain, line }) => ({ table, chain, line })),
  });
  assert.deepEqual(nftablesDriver.planRepair(asDump(full), owners).ops, []);

  const noGuard = full.filter((e) => e.chain !== '@guard4');
  const repair = statements(nftablesDriver.planRepair(asDump(noGuard), owners).ops[0]).filter((l) => /^(add rule|add element|flush)/.test(l));
  assert.deepEqual(repair, [`add element inet minictr guard4 { 172.18.0.2 comment "${C}" : jump guard-minictr0 }`]);

  const oneRuleGone = full.filter((e) => !(e.chain === 'in-minictr0' && e.line.startsWith('drop')));
  const refill = statements(nftablesDriver.planRepair(asDump(oneRuleGone), owners).ops[0]).filter((l) => /^(add rule|add element|flush)/.test(l));
  assert.equal(refill[0], 'flush chain inet minictr in-minictr0');
  assert.equal(refill.length, 1 + networkRules(NFT_NET).filter((r) => r.chain === 'in-minictr0').length);
});

test('leftover elements are deleted by key; scopes are read from the comment', () => {
  const line = `tcp . 5005 comment "${C}" : 172.18.0.2 . 5000`;
  assert.equal(elementKey(line), 'tcp . 5005');
  assert.equal(nftCommentScope(line), 'abcdef012345');
  assert.equal(nftCommentScope('oifname vmap @fwd-in comment "minictr"'), '');
  assert.equal(nftCommentScope('ct state established accept'), undefined);
  assert.equal(nftablesDriver.scopeOf({ table: 'inet other', chain: 'x', line }), undefined, 'another table is never minictr\'s');
  const plan = nftablesDriver.planRemoveDumped([{ table: 'inet minictr', chain: '@ports-any4', line }], 'leftover');
  assert.deepEqual(statements(plan.ops[0]), ['delete element inet minictr ports-any4 { tcp . 5005 }']);
});

test('the firewall is chosen in one place: the option, else MINICTR_FIREWALL, else config.json, else iptables', () => {
  assert.equal(chooseFirewall({}), 'iptables');
  assert.equal(chooseFirewall({ config: 'nftables' }), 'nftables');
  assert.equal(chooseFirewall({ env: 'iptables', config: 'nftables' }), 'iptables');
  assert.equal(chooseFirewall({ option: 'nftables', env: 'iptables' }), 'nftables');
  assert.equal(chooseFirewall({ env: '', config: 'nftables' }), 'nftables', 'an empty variable chooses nothing');
  assert.throws(() => parseFirewallName('ufw', 'MINICTR_FIREWALL'), /invalid firewall "ufw" \(MINICTR_FIREWALL\): choose iptables or nftables/);
  assert.equal(firewallDriverFor(NFT_NET).name, 'nftables');
  assert.equal(firewallDriverFor(NET).name, 'iptables', 'records from before the choice are iptables');
});

test('an --internal network: no masquerade, its in-chain takes both directions and lets only the bridge talk to itself', () => {
  const internal = { ...NET, internal: true };
  const exprs = networkRules(internal).map((r) => r.expr);
  assert.ok(!exprs.some((e) => e.includes(`ip saddr ${NET.subnet}`)), 'nothing leaving is masqueraded');
  assert.ok(!exprs.some((e) => e.includes('@published')), 'published ports do not reach it');
  assert.deepEqual(exprs.slice(0, 2), [`iifname "${NET.bridge}" oifname "${NET.bridge}" accept`, 'drop']);
  const fwdOut = networkElements(internal).find((e) => e.set === 'fwd-out');
  assert.equal(fwdOut?.value, `jump in-${NET.bridge}`);
  assert.equal(networkElements(NET).find((e) => e.set === 'fwd-out')?.value, 'accept');
});
