// isGateway, ipMasq, hairpinMode false and firewallBackend nftables: from the config, through
// the same network record and attachment options a minictr network has, into the drivers' plans.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { CommandOp } from '../../../src/base/plan.js';
import { parseConfig } from '../../../src/cni/config.js';
import { networkOf, podAttachment } from '../../../src/cni/network.js';
import { addResult } from '../../../src/cni/result.js';
import { planConnect, planStrayAttachments } from '../../../src/network/plan.js';
import { firewallDriverFor } from '../../../src/network/drivers.js';
import { firewallChecks, iptablesDriver, saveTokens, savedLine } from '../../../src/network/firewall/iptables-driver.js';
import { nftablesDriver } from '../../../src/network/firewall/nftables-driver.js';
import { containerRules } from '../../../src/network/firewall/iptables.js';
import { containerElements, nftElementLine, elementChain } from '../../../src/network/firewall/nftables.js';

const BASE = {
  cniVersion: '1.0.0', name: 'mynet', type: 'minictr', bridge: 'mcni0',
  ipam: { type: 'minictr', subnet: '10.77.0.0/24' },
};
const ENV = { containerId: 'c1', ifname: 'eth0', netns: '/proc/42/ns/net' };
const ADDRESS = { ip: '10.77.0.2', prefixLength: 24, gateway: '10.77.0.1' };
const PORTS = [{ hostIp: '', hostPort: 8089, containerPort: 80, proto: 'tcp' as const }];

/** The plans of a pod's ADD on a new bridge, as text: the ip batches' lines and every firewall statement. */
function addPlan(patch: Record<string, unknown>): { text: string; conf: ReturnType<typeof parseConfig> } {
  const conf = parseConfig({ ...BASE, ...patch }, { command: 'ADD' });
  const attachment = podAttachment(conf, ENV, ADDRESS, PORTS);
  const net = networkOf(conf, attachment);
  const planned = planConnect({
    who: 'pod', attachment, net, networks: [net], owners: { networks: [net], containers: [] }, attached: [],
    facts: { bridgeExists: false, listeners: [], portRange: [0, 0], routes: [], firewallDump: { chains: [], rules: [] } },
  });
  const text = planned.plan.ops.map((o) => ('argv' in o ? `${(o as CommandOp).argv.join(' ')}\n${(o as CommandOp).stdin ?? ''}` : JSON.stringify(o))).join('\n');
  return { text, conf };
}

test('the switches default to true, as the reference bridge plugin has them; anything but a boolean is code 7', () => {
  const conf = parseConfig(BASE, { command: 'ADD' });
  assert.deepEqual(conf.switches, { isGateway: true, ipMasq: true, hairpinMode: true });
  assert.equal(conf.defaultRoute, true);
  assert.equal(conf.firewallBackend, 'iptables');
});

test('defaults: the bridge holds the gateway, the pod gets a default route and hairpin, the subnet is masqueraded', () => {
  const { text } = addPlan({});
  assert.match(text, /addr add 10\.77\.0\.1\/24 dev mcni0/);
  assert.match(text, /route add default via 10\.77\.0\.1/);
  assert.match(text, /bridge_slave hairpin on/);
  assert.match(text, /-A POSTROUTING -s 10\.77\.0\.0\/24 ! -o mcni0 .* -j MASQUERADE/);
});

test('isGateway false: no address on the bridge, no default route in the pod, none in the result', () => {
  const { text, conf } = addPlan({ isGateway: false });
  assert.doesNotMatch(text, /addr add 10\.77\.0\.1/);
  assert.match(text, /link add mcni0 address 02:42:0a:4d:00:01 type bridge/, 'a fixed MAC, as every bridge');
  assert.doesNotMatch(text, /route add default/);
  assert.match(text, /addr add 10\.77\.0\.2\/24 dev eth0/);
  assert.equal(conf.defaultRoute, false);
  const result = addResult(podAttachment(conf, ENV, ADDRESS, []), '1.0.0');
  assert.deepEqual(result.routes, []);
  assert.equal(result.ips[0]?.gateway, '10.77.0.1', 'the IPAM gateway is still reported, as host-local does');
});

test('isGateway false with a default route in ipam.routes: the pod routes via the gateway (a router elsewhere on the segment)', () => {
  const { text, conf } = addPlan({ isGateway: false, ipam: { ...BASE.ipam, routes: [{ dst: '0.0.0.0/0' }] } });
  assert.doesNotMatch(text, /addr add 10\.77\.0\.1/);
  assert.match(text, /route add default via 10\.77\.0\.1/);
  assert.deepEqual(addResult(podAttachment(conf, ENV, ADDRESS, []), '1.0.0').routes, [{ dst: '0.0.0.0/0', gw: '10.77.0.1' }]);
});

test('ipMasq false: no MASQUERADE of the subnet, with either firewall driver; the rest of the network rules stay', () => {
  const ipt = addPlan({ ipMasq: false }).text;
  assert.doesNotMatch(ipt, /-s 10\.77\.0\.0\/24 .*MASQUERADE/);
  assert.match(ipt, /-A POSTROUTING -o mcni0 -m addrtype --src-type LOCAL .* -j MASQUERADE/, 'host sources into the bridge are still rewritten');
  assert.match(ipt, /DNAT --to-destination 10\.77\.0\.2:80/);
  assert.doesNotMatch(ipt, /-A PREROUTING -d 10\.77\.0\.2\/32 ! -i mcni0 .* -j DROP/, 'no raw guard: replies come back to the pod\'s own address');
  assert.match(addPlan({}).text, /-A PREROUTING -d 10\.77\.0\.2\/32 ! -i mcni0 .* -j DROP/);
  const nft = addPlan({ ipMasq: false, firewallBackend: 'nftables' }).text;
  assert.doesNotMatch(nft, /ip saddr 10\.77\.0\.0\/24 masquerade/);
  assert.match(nft, /add chain inet minictr nat-out-mcni0/);
  assert.doesNotMatch(nft, /add rule inet minictr guard-mcni0/, 'the guard chain lets replies through');
  assert.match(addPlan({ firewallBackend: 'nftables' }).text, /add rule inet minictr guard-mcni0 iifname != "mcni0" drop/);
  assert.match(addPlan({ firewallBackend: 'nftables' }).text, /oifname != "mcni0" ip saddr 10\.77\.0\.0\/24 masquerade/);
  // What CHECK and repair expect agrees with what was made.
  const conf = parseConfig({ ...BASE, ipMasq: false }, { command: 'ADD' });
  const net = networkOf(conf);
  const expected = firewallDriverFor(net).expectedRules({ networks: [net], containers: [] });
  assert.ok(!expected.some((r) => /-s 10\.77\.0\.0\/24 .*MASQUERADE/.test(r.line)));
  assert.equal(firewallChecks(net).length, 2, "a pod's restore still checks two of the network's rules");
});

test('hairpinMode false: the pod\'s bridge port is left with hairpin off', () => {
  const { text } = addPlan({ hairpinMode: false });
  assert.doesNotMatch(text, /hairpin on/);
  assert.match(text, /link set vcni[0-9a-f]{11} master mcni0/);
});

test('firewallBackend nftables: the network and the pod\'s ports are nftables statements, no iptables', () => {
  const { text, conf } = addPlan({ firewallBackend: 'nftables' });
  assert.equal(conf.firewallBackend, 'nftables');
  assert.doesNotMatch(text, /iptables-restore|iptables -/);
  assert.match(text, /nft -f -/);
  assert.match(text, /add element inet minictr ports-any4 \{ tcp \. 8089 comment "minictr:cni-[0-9a-f]{12}" : 10\.77\.0\.2 \. 80 \}/);
  assert.match(text, /add element inet minictr fwd-in \{ "mcni0" comment "minictr:cni:mynet" : jump in-mcni0 \}/);
});

test('leftovers no record holds: only the scopes whose guard names this bridge, all their rules, and the picked veths', () => {
  const conf = parseConfig(BASE, { command: 'ADD' });
  const mine = podAttachment(conf, ENV, ADDRESS, PORTS);
  const other = podAttachment({ ...conf, bridge: 'other0' }, { ...ENV, containerId: 'c2' }, { ...ADDRESS, ip: '10.88.0.2' }, PORTS);
  const kept = podAttachment(conf, { ...ENV, containerId: 'c3' }, { ...ADDRESS, ip: '10.77.0.3' }, []);
  const iptDump = { chains: [], rules: [mine, other, kept].flatMap((a) => containerRules(a).map((r) => ({ table: r.table, chain: r.chain, line: savedLine(r) }))) };
  const pick = (s: string): boolean => s !== kept.netns;
  const ipt = planStrayAttachments({ bridge: 'mcni0', firewall: iptablesDriver, dump: iptDump, ports: [mine.hostVeth, kept.hostVeth, 'eth9'], stray: pick, strayVeth: (v) => v !== kept.hostVeth && v.startsWith('vcni') });
  assert.deepEqual(ipt.scopes, [mine.netns], 'another bridge\'s attachment and a kept one are left alone');
  assert.equal(ipt.rules, containerRules(mine).length, 'every rule of the stray, the DNAT too (which names no bridge)');
  assert.deepEqual(ipt.veths, [mine.hostVeth]);
  const ops = ipt.plan.ops as CommandOp[];
  assert.match(ops[0]?.stdin ?? '', /-D MINICTR .*DNAT --to-destination 10\.77\.0\.2:80/);
  assert.ok((ops[0]?.fallback?.length ?? 0) > 0, 'rule by rule, tolerantly, when one went meanwhile');
  assert.deepEqual(ops[1]?.argv, ['ip', 'link', 'del', mine.hostVeth]);
  const nftDump = { chains: [], rules: [mine, other, kept].flatMap((a) => containerElements(a).map((e) => ({ table: 'inet minictr', chain: elementChain(e.set), line: nftElementLine(e) }))) };
  const nft = planStrayAttachments({ bridge: 'mcni0', firewall: nftablesDriver, dump: nftDump, ports: [], stray: pick, strayVeth: () => false });
  assert.deepEqual(nft.scopes, [mine.netns]);
  assert.match((nft.plan.ops[0] as CommandOp).stdin ?? '', /delete element inet minictr ports-any4 \{ tcp \. 8089 \}/);
  assert.doesNotMatch((nft.plan.ops[0] as CommandOp).stdin ?? '', /10\.88\.0\.2|10\.77\.0\.3/);
});

test('an iptables-save line as arguments: the quoted comment unquoted', () => {
  assert.deepEqual(saveTokens('-D PREROUTING -d 10.77.0.2/32 ! -i mcni0 -m comment --comment "minictr:cni-0123456789ab" -j DROP'),
    ['-D', 'PREROUTING', '-d', '10.77.0.2/32', '!', '-i', 'mcni0', '-m', 'comment', '--comment', 'minictr:cni-0123456789ab', '-j', 'DROP']);
});

test('clusterCIDR with nftables: no masquerade towards the cluster, the cluster let into the bridge and past the guard', () => {
  const { text } = addPlan({ firewallBackend: 'nftables', clusterCIDR: '10.0.0.0/8' });
  assert.match(text, /add rule inet minictr nat-out-mcni0 oifname != "mcni0" ip saddr 10\.77\.0\.0\/24 ip daddr != 10\.0\.0\.0\/8 masquerade/);
  assert.match(text, /add rule inet minictr in-mcni0 ip saddr 10\.0\.0\.0\/8 accept/);
  assert.match(text, /add rule inet minictr guard-mcni0 ip saddr != 10\.0\.0\.0\/8 iifname != "mcni0" drop/);
  const rules = text.split('\n').filter((l) => l.startsWith('add rule inet minictr in-mcni0'));
  assert.ok(rules.findIndex((l) => l.includes('@bridges drop')) < rules.findIndex((l) => l.includes('10.0.0.0/8 accept')), 'after the isolation drop, as iptables has it in MINICTR');
});
