// `minictr trace`'s pure parts: the TRACE rules, xtables-monitor's lines, the labels and the drop.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { parseTraceLine, tracePidOf, traceRules } from '../../../src/network/firewall/iptables-trace.js';
import type { TraceEvent, TraceMatch } from '../../../src/network/firewall/trace.js';
import { parseNftTraceLine, traceStatements, traceTablePids } from '../../../src/network/firewall/nftables-trace.js';
import { conntrackText, dropReason, firstExchanges, renderTrace, ruleText, ruleWhy } from '../../../src/explain/trace.js';
import { specText } from '../../../src/network/firewall/iptables.js';

const MATCH: TraceMatch = { proto: 'tcp', addr: '10.99.0.1', port: 5005, reply: { addr: '172.18.0.2', port: 80 } };

test('the TRACE rules: request and reply, at the head of raw PREROUTING and OUTPUT, tagged with the pid', () => {
  const rules = traceRules(MATCH, 4242);
  assert.deepEqual(rules.map((r) => `${r.op} ${r.chain} ${specText(r.spec)}`), [
    '-I PREROUTING -d 10.99.0.1/32 -p tcp -m tcp --dport 5005 -m comment --comment "minictr:trace:4242" -j TRACE',
    '-I OUTPUT -d 10.99.0.1/32 -p tcp -m tcp --dport 5005 -m comment --comment "minictr:trace:4242" -j TRACE',
    '-I PREROUTING -s 172.18.0.2/32 -p tcp -m tcp --sport 80 -m comment --comment "minictr:trace:4242" -j TRACE',
    '-I OUTPUT -s 172.18.0.2/32 -p tcp -m tcp --sport 80 -m comment --comment "minictr:trace:4242" -j TRACE',
  ]);
  assert.equal(tracePidOf('-A OUTPUT -m comment --comment "minictr:trace:17" -j TRACE'), 17);
});

const LINES = [
  'PACKET: 2 e0ba127b IN=wan0 SRC=10.99.0.2 DST=10.99.0.1 LEN=60 SPORT=4000 DPORT=5005 SYN ',
  ' TRACE: 2 e0ba127b nat:MINICTR:rule:0x14:ACCEPT  -4 -t nat -A MINICTR -p tcp -m tcp --dport 5005 -m comment --comment "minictr:abcdef012345" -j DNAT --to-destination 172.18.0.2:80',
  ' TRACE: 2 e0ba127b raw:PREROUTING:policy:ACCEPT ',
  'PACKET: 2 ce3555fd IN=minictr0 SRC=172.18.0.2 DST=10.99.0.2 SPORT=80 DPORT=4000 SYN ACK ',
  'PACKET: 2 e0ba127b IN=wan0 SRC=10.99.0.2 DST=10.99.0.1 SPORT=4000 DPORT=5005 ACK ',
];

test("xtables-monitor's lines parsed; the first exchange ends at the next request after a reply", () => {
  const events = LINES.map(parseTraceLine).filter((e): e is TraceEvent => e !== undefined);
  assert.deepEqual(events[1], {
    kind: 'rule', id: 'e0ba127b', table: 'nat', chain: 'MINICTR', type: 'rule', verdict: 'ACCEPT',
    line: '-A MINICTR -p tcp -m tcp --dport 5005 -m comment --comment "minictr:abcdef012345" -j DNAT --to-destination 172.18.0.2:80',
  });
  assert.deepEqual(events[2], { kind: 'rule', id: 'e0ba127b', table: 'raw', chain: 'PREROUTING', type: 'policy', verdict: 'ACCEPT', line: '' });
  assert.equal(firstExchanges(events, MATCH, 1).length, 4);
  const text = renderTrace(firstExchanges(events, MATCH, 1), MATCH, {
    expected: [{ table: 'nat', chain: 'MINICTR', line: events[1]?.kind === 'rule' ? events[1].line : '', owner: 'container web' }],
  });
  assert.match(text, /MINICTR: -p tcp -m tcp --dport 5005 -j DNAT --to-destination 172\.18\.0\.2:80 → ACCEPT\n\s+container web: a published port/);
  assert.match(text, /^reply 172\.18\.0\.2:80 → 10\.99\.0\.2:4000 SYN,ACK \(in minictr0\)$/m);
});

test('a drop is said with its rule and its reason; conntrack as two tuples with the NAT named', () => {
  const drop = parseTraceLine(' TRACE: 2 aa raw:PREROUTING:rule:0x9:DROP  -4 -t raw -A PREROUTING -d 172.18.0.2/32 ! -i minictr0 -m comment --comment "minictr:abcdef012345" -j DROP');
  assert.ok(drop);
  assert.equal(dropReason([drop]), 'dropped by raw PREROUTING `-d 172.18.0.2/32 ! -i minictr0 -j DROP` (the guard against routing to container addresses directly: publish the port with -p)');
  assert.equal(ruleText('-A FORWARD -m comment --comment minictr -j MINICTR-FORWARD'), '-j MINICTR-FORWARD');
  assert.match(ruleWhy('nat', 'POSTROUTING', '-A POSTROUTING -s 172.18.0.0/16 ! -o minictr0 -m comment --comment "minictr:bridge" -j MASQUERADE'), /MASQUERADE step/);
  assert.deepEqual(conntrackText('tcp 6 119 TIME_WAIT src=127.0.0.1 dst=127.0.0.1 sport=1 dport=5005 src=172.18.0.2 dst=172.18.0.1 sport=80 dport=1 [ASSURED]'), [
    'conntrack: original 127.0.0.1:1 → 127.0.0.1:5005',
    '           reply    172.18.0.2:80 → 172.18.0.1:1   (DNAT: 127.0.0.1:5005 became 172.18.0.2:80; source rewritten (MASQUERADE): 127.0.0.1:1 became 172.18.0.1:1)',
  ]);
});

test('nft monitor trace lines parse into the same events: packets with their fields, rules with verdicts and hooks', () => {
  const packet = parseNftTraceLine('trace id 75f2897c inet minictr prerouting packet: iif "veth0" ether saddr 02:42:0a:63:00:02 ip saddr 10.99.0.2 ip daddr 10.99.0.1 ip protocol tcp tcp sport 40000 tcp dport 5005 tcp flags == syn tcp window 64240 ');
  assert.deepEqual(packet, { kind: 'packet', id: '75f2897c', fields: { IN: 'veth0', SRC: '10.99.0.2', DST: '10.99.0.1', SPORT: '40000', DPORT: '5005' }, flags: ['SYN'] });
  assert.deepEqual(parseNftTraceLine('trace id 75f2897c inet minictr prerouting rule fib daddr type local jump ports comment "minictr" (verdict jump ports)'),
    { kind: 'rule', id: '75f2897c', table: 'inet minictr', chain: 'prerouting', hook: 'PREROUTING', type: 'rule', verdict: 'JUMP:ports', line: 'fib daddr type local jump ports comment "minictr"' });
  assert.deepEqual(parseNftTraceLine('trace id 75f2897c inet minictr guard-minictr0 rule iifname != "minictr0" drop comment "minictr:bridge" (verdict drop)'),
    { kind: 'rule', id: '75f2897c', table: 'inet minictr', chain: 'guard-minictr0', type: 'rule', verdict: 'DROP', line: 'iifname != "minictr0" drop comment "minictr:bridge"' });
  assert.equal(parseNftTraceLine('trace id 75f2897c inet minictr raw-prerouting policy accept ')?.kind, 'rule');
  assert.equal(parseNftTraceLine('something else'), undefined);
});

test('an nftables drop is explained with the why minictr keeps beside the rule', () => {
  const drop = parseNftTraceLine('trace id 1 inet minictr guard-minictr0 rule iifname != "minictr0" drop comment "minictr:bridge" (verdict drop)');
  assert.ok(drop);
  const text = dropReason([drop], [{ table: 'inet minictr', chain: 'guard-minictr0', line: 'iifname != "minictr0" drop comment "minictr:bridge"', owner: 'network bridge', why: 'the guard against routing to container addresses directly: only minictr0 may (Docker 28.2+); publish the port with -p' }]);
  assert.equal(text, 'dropped by inet minictr guard-minictr0 `iifname != "minictr0" drop` (the guard against routing to container addresses directly: only minictr0 may (Docker 28.2+); publish the port with -p)');
});

test('the nftables trace is armed in a table of its own, before every other chain, and disarmed by deleting it', () => {
  const match: TraceMatch = { proto: 'tcp', addr: '10.99.0.1', port: 5005, reply: { addr: '172.18.0.2', port: 80 } };
  const text = traceStatements(match, 42);
  assert.match(text, /^add table inet minictr-trace-42$/m);
  assert.match(text, /^add chain inet minictr-trace-42 prerouting \{ type filter hook prerouting priority -350; \}$/m);
  assert.match(text, /^add rule inet minictr-trace-42 output ip daddr 10\.99\.0\.1 tcp dport 5005 meta nftrace set 1 comment "minictr:trace:42"$/m);
  assert.match(text, /^add rule inet minictr-trace-42 prerouting ip saddr 172\.18\.0\.2 tcp sport 80 meta nftrace set 1/m);
  assert.deepEqual(traceTablePids('table inet minictr\ntable inet minictr-trace-42\ntable ip filter\n'), [42]);
});
