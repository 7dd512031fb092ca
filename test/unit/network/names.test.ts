import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import {
  DEFAULT_NETWORK,
  attachmentScope,
  hostVethName,
  macFromIp,
  netnsName,
  ruleComment,
} from '../../../src/network/names.js';

const ID = 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789';

test('default network is the article\'s', () => {
  assert.deepEqual(DEFAULT_NETWORK, { name: 'bridge', bridge: 'minictr0', subnet: '172.18.0.0/16', gateway: '172.18.0.1' });
});

test('kernel object names come from the container id', () => {
  assert.equal(hostVethName(ID), 'vethabcdef0');
  assert.ok(hostVethName(ID).length <= 15);
  assert.equal(netnsName(ID), 'minictr-abcdef012345');
  assert.equal(attachmentScope({ netns: netnsName(ID) }), 'abcdef012345');
  assert.equal(attachmentScope({ netns: 'other' }), 'other');
});

test('MAC derived from the IPv4 address, as Docker does', () => {
  assert.equal(macFromIp('172.18.0.2'), '02:42:ac:12:00:02');
  assert.equal(macFromIp('172.17.255.254'), '02:42:ac:11:ff:fe');
  assert.equal(macFromIp('10.0.0.1'), '02:42:0a:00:00:01');
  assert.throws(() => macFromIp('172.18.0'), { code: 'E_BAD_ADDRESS' });
});

test('rule comments', () => {
  assert.equal(ruleComment(), 'minictr');
  assert.equal(ruleComment('bridge'), 'minictr:bridge');
  assert.equal(ruleComment('abcdef012345'), 'minictr:abcdef012345');
});
