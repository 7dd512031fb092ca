// [::1] ports: served by the relay, not by kernel NAT — planned for it, and in no firewall driver's rules.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { ContainerRecord, NetworkAttachment, NetworkRecord } from '../../../src/base/records.js';
import { containerRules } from '../../../src/network/firewall/iptables.js';
import { containerElements } from '../../../src/network/firewall/nftables.js';
import { forgetUdpFlowsOps } from '../../../src/network/firewall/conntrack.js';
import { planAttach } from '../../../src/network/plan.js';
import { allMembersOf } from '../../../src/base/members.js';
import { planHostRelay, relayedPorts } from '../../../src/network/relay-plan.js';
import { ATT, NET } from './fixtures.js';

const NET6: NetworkRecord = { ...NET, subnet6: 'fd00:1::/64', gateway6: 'fd00:1::1' };
const record = (specs: string[]): ContainerRecord =>
  ({ id: 'c'.repeat(64), name: 'web', config: { hostname: 'web' }, hostConfig: { portSpecs: specs, networkMode: NET.name } }) as unknown as ContainerRecord;
const facts = { bridgeExists: true, listeners: [], portRange: [40000, 40010] as [number, number] };

test('planAttach: a [::1] port is the relay\'s, to the container\'s IPv6 address; the rest stays kernel NAT', () => {
  const planned = planAttach({ record: record(['[::1]:8080:80', '9090:90', '[::1]:5353:53/udp']), net: NET6, records: [], members: [], networks: [NET6], facts, pickPort: () => 40000 });
  assert.deepEqual(planned.attachment.ports.map((p) => `${p.hostIp}/${p.hostPort}`), ['::1/8080', '/9090', '::/9090', '::1/5353']);
  assert.equal(planned.relay?.target, 'fd00:1::2');
  assert.deepEqual(planned.relay?.ports.map((p) => p.hostPort), [8080, 5353]);
  assert.equal(relayedPorts(planned.relay?.target ?? '', planned.relay?.ports ?? []), '[::1]:8080 → [fd00:1::2]:80/tcp, [::1]:5353 → [fd00:1::2]:53/udp');
  const text = planned.plan.ops.map((o) => JSON.stringify(o)).join('\n');
  assert.ok(!/::1\b.*8080|8080.*::1\b/.test(text), 'no rule names [::1]:8080');
  assert.ok(!planned.plan.ops.some((o) => JSON.stringify(o).includes('5353')), 'no rule or conntrack flush for the relay\'s UDP port');
});

test('planAttach: [::1] on a network without IPv6 relays to the IPv4 address (as docker-proxy does); [::] there is still refused', () => {
  const planned = planAttach({ record: record(['[::1]:8080:80']), net: NET, records: [], members: [], networks: [NET], facts, pickPort: () => 40000 });
  assert.equal(planned.relay?.target, planned.attachment.ip);
  assert.throws(() => planAttach({ record: record(['[::]:8080:80']), net: NET, records: [], members: [], networks: [NET], facts, pickPort: () => 40000 }), { code: 'E_NO_IPV6' });
});

test('planAttach: a [::1] port another container holds, or a listener on it, is already allocated', () => {
  const other = { ...record([]), id: 'b'.repeat(64), network: { ...ATT, ports: [{ hostIp: '::1', hostPort: 8080, containerPort: 80, proto: 'tcp' }] } } as ContainerRecord;
  assert.throws(() => planAttach({ record: record(['[::1]:8080:80']), net: NET6, records: [other], members: allMembersOf([other]), networks: [NET6], facts, pickPort: () => 40000 }),
    { code: 'E_PORT_IN_USE', message: 'Bind for [::1]:8080 failed: port is already allocated' });
  assert.throws(() => planAttach({ record: record(['[::1]:8080:80']), net: NET6, records: [], members: [], networks: [NET6], facts: { ...facts, listeners: [{ ip: '::', port: 8080, proto: 'tcp' as const }] }, pickPort: () => 40000 }),
    { code: 'E_PORT_IN_USE' });
});

test('both firewall drivers leave [::1] ports out: no DNAT, no forward accept, no element, no flush', () => {
  const att: NetworkAttachment = { ...ATT, ip6: 'fd00:1::2', prefixLength6: 64, gateway6: 'fd00:1::1', ports: [{ hostIp: '::1', hostPort: 8080, containerPort: 80, proto: 'udp' }] };
  const rules = containerRules(att).map((r) => r.spec.join(' '));
  assert.ok(rules.every((r) => !/--dport (8080|80)\b/.test(r)), rules.join('\n'));
  assert.ok(containerElements(att).every((e) => !/\b(8080|80)\b/.test(`${e.key} ${e.value ?? ''}`)));
  assert.deepEqual(forgetUdpFlowsOps(att), []);
  assert.equal(planHostRelay({ ...att, ports: [] }), undefined);
});
