import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { allocateIp, contains, intToIp, ipToInt, isIPv4, parseSubnet, subnetsOverlap } from '../../../src/network/ipam.js';

test('parseSubnet: network, prefix, gateway .1, broadcast', () => {
  assert.deepEqual(parseSubnet('172.18.0.0/16'), {
    cidr: '172.18.0.0/16',
    network: '172.18.0.0',
    prefixLength: 16,
    gateway: '172.18.0.1',
    broadcast: '172.18.255.255',
  });
  assert.equal(parseSubnet('10.99.5.0/30').gateway, '10.99.5.1');
});

test('parseSubnet: rejects what is not a usable IPv4 subnet', () => {
  const cases: [string, string][] = [
    ['172.18.0.5/16', 'invalid subnet "172.18.0.5/16": it should be 172.18.0.0/16'],
    ['172.18.0.0/31', 'invalid subnet "172.18.0.0/31": too small, it needs room for a gateway and one container (/30 or larger)'],
    ['172.18.0.0', 'invalid subnet "172.18.0.0": expected an IPv4 CIDR such as 172.18.0.0/16'],
    ['172.18.0.0/33', 'invalid subnet "172.18.0.0/33": expected an IPv4 CIDR such as 172.18.0.0/16'],
    ['300.1.0.0/16', 'invalid subnet "300.1.0.0/16": expected an IPv4 CIDR such as 172.18.0.0/16'],
    ['fd00::/64', 'invalid subnet "fd00::/64": IPv6 subnets are not supported'],
  ];
  for (const [cidr, message] of cases) assert.throws(() => parseSubnet(cidr), { code: 'E_BAD_SUBNET', message }, cidr);
});

test('isIPv4 / ipToInt / intToIp', () => {
  assert.equal(isIPv4('172.18.0.2'), true);
  assert.equal(isIPv4('172.18.0.02'), false);
  assert.equal(isIPv4('172.18.0'), false);
  assert.equal(isIPv4('::1'), false);
  assert.equal(ipToInt('255.255.255.255'), 0xffffffff);
  assert.equal(intToIp(ipToInt('172.18.200.9')), '172.18.200.9');
  assert.throws(() => ipToInt('1.2.3.4.5'), { code: 'E_BAD_ADDRESS' });
});

test('allocateIp: first container gets .2', () => {
  assert.equal(allocateIp('172.18.0.0/16', '172.18.0.1', []), '172.18.0.2');
});

test('allocateIp: skips used addresses and fills holes', () => {
  assert.equal(allocateIp('172.18.0.0/16', '172.18.0.1', ['172.18.0.2', '172.18.0.3', '172.18.0.5']), '172.18.0.4');
  assert.equal(allocateIp('172.18.0.0/16', '172.18.0.1', new Set(['172.18.0.2', '10.0.0.3'])), '172.18.0.3');
});

test('allocateIp: skips the gateway wherever it is, crosses into the next /24', () => {
  assert.equal(allocateIp('10.5.0.0/24', '10.5.0.254', []), '10.5.0.1');
  const used = Array.from({ length: 254 }, (_, i) => `172.18.0.${i + 1}`);
  assert.equal(allocateIp('172.18.0.0/16', '172.18.0.1', used), '172.18.0.255');
});

test('allocateIp: a full subnet fails with E_NO_ADDRESS', () => {
  assert.equal(allocateIp('10.9.0.0/30', '10.9.0.1', []), '10.9.0.2');
  assert.throws(() => allocateIp('10.9.0.0/30', '10.9.0.1', ['10.9.0.2'], 'tiny'), {
    code: 'E_NO_ADDRESS',
    exitCode: 125,
    message: 'no free address left in 10.9.0.0/30 (network "tiny")',
  });
  assert.throws(() => allocateIp('10.9.0.0/30', '10.9.0.1', ['10.9.0.2']), {
    message: 'no free address left in 10.9.0.0/30',
  });
});

test('allocateIp: fast on a /16 with many addresses in use', () => {
  const used = Array.from({ length: 200 }, (_, i) => intToIp(ipToInt('172.18.0.2') + i));
  const started = performance.now();
  for (let i = 0; i < 1000; i++) allocateIp('172.18.0.0/16', '172.18.0.1', used);
  assert.equal(allocateIp('172.18.0.0/16', '172.18.0.1', used), '172.18.0.202');
  // Generous bound: the point is no 65k-element arrays per call.
  assert.ok(performance.now() - started < 2000);
});

test('contains and subnetsOverlap', () => {
  assert.equal(contains('172.18.0.0/16', '172.18.255.254'), true);
  assert.equal(contains('172.18.0.0/16', '172.19.0.1'), false);
  assert.equal(contains('172.18.0.0/16', 'nonsense'), false);
  assert.equal(subnetsOverlap('172.18.0.0/16', '172.18.5.0/24'), true);
  assert.equal(subnetsOverlap('172.18.5.0/24', '172.18.0.0/16'), true);
  assert.equal(subnetsOverlap('172.18.0.0/16', '172.19.0.0/16'), false);
  assert.equal(subnetsOverlap('10.0.0.0/8', '10.255.255.0/24'), true);
  assert.equal(subnetsOverlap('192.168.1.0/25', '192.168.1.128/25'), false);
});
