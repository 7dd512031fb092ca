// A Linux bridge takes 1,023 ports: the 1,024th container on a network is refused in one clear
// line before anything is made, not by the kernel's "Exchange full" halfway through a start.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { ContainerRecord } from '../../../src/base/records.js';
import type { NetworkMember } from '../../../src/base/members.js';
import { BRIDGE_MAX_PORTS, planAttach } from '../../../src/network/plan.js';
import { NET } from './fixtures.js';
import { asCniError } from '../../../src/cni/errors.js';

const record = { id: 'c'.repeat(64), name: 'web', config: { hostname: 'web' }, hostConfig: { portSpecs: [], networkMode: NET.name } } as unknown as ContainerRecord;
const facts = { bridgeExists: true, listeners: [], portRange: [40000, 40010] as [number, number] };
const members = (n: number, network = NET.name): NetworkMember[] =>
  Array.from({ length: n }, (_, i) => ({
    id: i.toString(16).padStart(64, '0'), network, name: `c${i}`, hostname: `c${i}`, aliases: [], dns: [], dnsSearch: [],
    ip: `172.18.${Math.floor((i + 2) / 256)}.${(i + 2) % 256}`, ports: [],
  }));
const attach = (m: NetworkMember[]) => planAttach({ record, net: NET, members: m, networks: [NET], facts, pickPort: () => 40000 });

test('planAttach: the 1,023rd container on a bridge is planned; the 1,024th is refused as a full network', () => {
  assert.equal(BRIDGE_MAX_PORTS, 1023);
  assert.equal(attach(members(BRIDGE_MAX_PORTS - 1)).attachment.network, NET.name);
  assert.throws(() => attach(members(BRIDGE_MAX_PORTS)), {
    code: 'E_NETWORK_FULL',
    message: 'network bridge is full: its bridge minictr0 already holds 1023 containers, the most a Linux bridge takes; start this one on another network (minictr network create NAME)',
  });
});

test('planAttach: only the members of this network count towards its bridge', () => {
  assert.equal(attach(members(BRIDGE_MAX_PORTS + 5, 'other')).attachment.network, NET.name);
});

test('the CNI plugin says a full bridge as its resource-exhausted error (101), as an exhausted address range', () => {
  try {
    attach(members(BRIDGE_MAX_PORTS));
    assert.fail('a full bridge was planned');
  } catch (err) {
    assert.equal(asCniError(err).code, 101);
  }
});
