import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { compareNftables, isNftablesCompare, renderNftCompare } from '../../../src/explain/compare-nft.js';
import { ATT, NET } from '../network/fixtures.js';

test('docker@29-nftables is its own engine', () => {
  assert.equal(isNftablesCompare('docker@29-nftables'), true);
  assert.equal(isNftablesCompare('docker@29.1-nftables'), true);
  assert.equal(isNftablesCompare('docker@29'), false);
  assert.equal(isNftablesCompare('docker@28-nftables'), false, 'Docker 28 has no nftables backend');
});

test('each job a rule does, minictr\'s elements beside Docker 29\'s rules, every row explained', () => {
  const rows = compareNftables(NET, ATT);
  const dnat = rows.find((r) => r.what === 'DNAT of each published port');
  assert.deepEqual(dnat?.docker, [
    'nat-prerouting-and-output: iifname != "docker0" tcp dport 5005 dnat to 172.17.0.2:5000 comment "DNAT"',
    'nat-prerouting-and-output: iifname != "docker0" ip daddr 127.0.0.1 udp dport 8080 dnat to 172.17.0.2:80 comment "DNAT"',
  ]);
  assert.ok(dnat?.minictr.includes('@ports-any4: tcp . 5005 comment "minictr:abcdef012345" : 172.18.0.2 . 5000'));
  assert.ok(rows.some((r) => r.what.includes('CVE-2020-8558')), 'a 127.x publication brings the loopback row');
  assert.ok(rows.every((r) => r.note !== '' && r.minictr.length + r.docker.length > 0));
  const text = renderNftCompare({ net: NET, attachment: ATT });
  assert.ok(text.split('\n').every((l) => l === '' || l.startsWith('#')), 'comments only: the dry-run stays a script');
  assert.match(renderNftCompare(undefined), /--network none\/host/);
});
