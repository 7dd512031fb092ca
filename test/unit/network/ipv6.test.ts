import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { allocateIp6, canonicalIPv6, checkGateway6, contains6, isIPv6, parseSubnet6, subnetsOverlap6, ulaSubnet } from '../../../src/network/ipv6.js';
import { checkSubnet6Free, pickSubnet6 } from '../../../src/network/subnets.js';

test('canonicalIPv6: RFC 5952, as ip, nft and ip6tables-save print addresses back', () => {
  const cases: [string, string][] = [
    ['FD99:0000:0000:0000:0000:0000:0000:0001', 'fd99::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:127.0.0.1', '::ffff:7f00:1'],
    ['fd00:1::', 'fd00:1::'],
  ];
  for (const [given, want] of cases) assert.equal(canonicalIPv6(given), want, given);
  for (const bad of ['1.2.3.4', 'fd99:::1', 'fd99::1::2', 'g::1', '1:2:3:4:5:6:7:8:9', 'fd99', '']) assert.equal(isIPv6(bad), false, bad);
});

test('parseSubnet6: the gateway is ::1 of the subnet; a host address or a tiny subnet is refused', () => {
  assert.deepEqual(parseSubnet6('fd00:1:2:3::/64'), { cidr: 'fd00:1:2:3::/64', prefixLength: 64, gateway: 'fd00:1:2:3::1' });
  assert.throws(() => parseSubnet6('fd00::5/64'), { code: 'E_BAD_SUBNET', message: 'invalid IPv6 subnet "fd00::5/64": it should be fd00::/64' });
  assert.throws(() => parseSubnet6('fd00::/126'), { code: 'E_BAD_SUBNET' });
  assert.throws(() => parseSubnet6('10.0.0.0/8'), { code: 'E_BAD_SUBNET' });
  assert.equal(checkGateway6('fd00::/64', 'fd00::fe'), 'fd00::fe');
  assert.throws(() => checkGateway6('fd00::/64', 'fd01::1'), { code: 'E_BAD_GATEWAY' });
});

test('contains6 and subnetsOverlap6', () => {
  assert.equal(contains6('fd00::/64', 'fd00::ffff'), true);
  assert.equal(contains6('fd00::/64', 'fd00:0:0:1::1'), false);
  assert.equal(subnetsOverlap6('fd00::/48', 'fd00:0:0:5::/64'), true);
  assert.equal(subnetsOverlap6('fd00::/64', 'fd00:0:0:1::/64'), false);
});

test('allocateIp6: the lowest free address after the gateway', () => {
  assert.equal(allocateIp6('fd00::/64', 'fd00::1', []), 'fd00::2');
  assert.equal(allocateIp6('fd00::/64', 'fd00::1', ['fd00::2', 'FD00::3']), 'fd00::4');
  assert.throws(() => allocateIp6('fd00::/120', 'fd00::1', Array.from({ length: 254 }, (_, i) => `fd00::${(i + 2).toString(16)}`), 'n'), {
    code: 'E_NO_ADDRESS',
  });
});

test('ulaSubnet: an fd../64 from the network id, stable, different per attempt', () => {
  const a = ulaSubnet('abc');
  assert.match(a, /^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/64$/);
  assert.equal(ulaSubnet('abc'), a);
  assert.notEqual(ulaSubnet('abc', 1), a);
  parseSubnet6(a);
});

test('pickSubnet6 steps past a subnet another network or a host route uses', () => {
  const first = ulaSubnet('id');
  assert.equal(pickSubnet6('id', [], []), first);
  assert.equal(pickSubnet6('id', [{ subnet6: first }], []), ulaSubnet('id', 1));
  assert.equal(pickSubnet6('id', [], [{ dst: first.replace('/64', '/48'), dev: 'eth0' }, { dst: 'default' }, { dst: '10.0.0.0/8' }]), ulaSubnet('id', 1));
});

test('checkSubnet6Free names what overlaps', () => {
  assert.throws(() => checkSubnet6Free('fd00::/64', [{ name: 'a', subnet6: 'fd00::/48' }], [], 'br'), {
    code: 'E_SUBNET_OVERLAP',
    message: 'IPv6 subnet fd00::/64 overlaps network "a" (fd00::/48); choose another with --subnet',
  });
  assert.throws(() => checkSubnet6Free('fd00::/64', [], [{ dst: 'fd00::/56', dev: 'eth1' }], 'br'), { message: /overlaps the host route fd00::\/56 on eth1/ });
  checkSubnet6Free('fd00::/64', [{ name: 'v4only' }], [{ dst: 'fd00::/64', dev: 'br' }], 'br');
});
