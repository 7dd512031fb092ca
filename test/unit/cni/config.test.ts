import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { decodeConfig, parseConfig, parseEnv } from '../../../src/cni/config.js';
import { CniError } from '../../../src/cni/errors.js';
import { addResult } from '../../../src/cni/result.js';
import { bridgeDriver } from '../../../src/network/bridge.js';
import { allocateIp } from '../../../src/network/ipam.js';
import { cniAttachmentNames } from '../../../src/network/names.js';
import { sharedChainsFree } from '../../../src/network/plan.js';
import type { CommandOp } from '../../../src/base/plan.js';
import { ATT, C } from '../network/fixtures.js';
import { containerRules, networkRules, specText } from '../../../src/network/firewall/iptables.js';

/** The config the issue gives, which other tools rely on. */
const ISSUE = {
  cniVersion: '1.0.0', name: 'mynet', type: 'minictr', bridge: 'mcni0', isGateway: true, ipMasq: true, hairpinMode: true,
  ipam: { type: 'minictr', subnet: '10.77.0.0/24', dataDir: '/var/lib/minictr-cni/ipam' },
  dataDir: '/var/lib/minictr-cni',
  runtimeConfig: { portMappings: [{ hostPort: 8089, containerPort: 80, protocol: 'tcp' }] },
};
const ADD_ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0' };

function code(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CniError, `expected a CniError, got ${String(err)}`);
    return err.code;
  }
  assert.fail('expected an error');
}

test("the issue's config is accepted as written", () => {
  const conf = parseConfig(ISSUE, { command: 'ADD' });
  assert.equal(conf.bridge, 'mcni0');
  assert.deepEqual(conf.ipam, { type: 'minictr', subnet: '10.77.0.0/24', gateway: '10.77.0.1', dataDir: '/var/lib/minictr-cni/ipam' });
  assert.deepEqual(conf.portMappings, [{ hostIp: '', hostPort: 8089, containerPort: 80, proto: 'tcp' }]);
});

test('defaults: bridge cni0, dataDir /var/lib/minictr-cni, the IPAM under it', () => {
  const conf = parseConfig({ cniVersion: '0.4.0', name: 'n', type: 'minictr', ipam: { type: 'minictr', subnet: '10.1.0.0/16' } }, { command: 'ADD' });
  assert.equal(conf.bridge, 'cni0');
  assert.equal(conf.dataDir, '/var/lib/minictr-cni');
  assert.equal((conf.ipam as { dataDir: string }).dataDir, '/var/lib/minictr-cni/ipam');
});

test('bad config answers with the spec codes: 1 version, 2 unsupported field, 6 decode, 7 invalid', () => {
  const bad = (patch: Record<string, unknown>): number => code(() => parseConfig({ ...ISSUE, ...patch }, { command: 'ADD' }));
  assert.equal(bad({ cniVersion: '9.9.9' }), 1);
  assert.equal(bad({ ipMasq: 'no' }), 7);
  assert.equal(bad({ firewallBackend: 'pf' }), 2);
  assert.equal(bad({ runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 2, protocol: 'sctp' }] } }), 2);
  assert.equal(bad({ cniVersion: undefined }), 7);
  assert.equal(bad({ name: '' }), 7);
  assert.equal(bad({ type: 'bridge' }), 7);
  assert.equal(bad({ bridge: 'a-name-far-too-long' }), 7);
  assert.equal(bad({ ipam: undefined }), 7);
  assert.equal(bad({ ipam: { type: 'minictr' } }), 7);
  assert.equal(bad({ ipam: { type: 'minictr', subnet: '10.77.0.1/24' } }), 7);
  assert.equal(bad({ ipam: { type: 'minictr', subnet: '10.77.0.0/24', rangeStart: '10.78.0.5' } }), 7);
  assert.equal(bad({ dataDir: 'relative' }), 7);
  assert.equal(bad({ runtimeConfig: { portMappings: [{ hostPort: 0, containerPort: 80 }] } }), 7);
  assert.equal(code(() => decodeConfig('{')), 6);
  assert.equal(code(() => decodeConfig('[1]')), 6);
});

test('env: code 4 for a missing or bad variable; VERSION needs none but the command', () => {
  assert.equal(parseEnv({ CNI_COMMAND: 'VERSION' }).command, 'VERSION');
  assert.equal(code(() => parseEnv({})), 4);
  assert.equal(code(() => parseEnv({ CNI_COMMAND: 'FROB' })), 4);
  assert.equal(code(() => parseEnv({ ...ADD_ENV, CNI_CONTAINERID: '' })), 4);
  assert.equal(code(() => parseEnv({ ...ADD_ENV, CNI_NETNS: undefined })), 4);
  assert.equal(code(() => parseEnv({ ...ADD_ENV, CNI_IFNAME: 'x/y' })), 4);
  assert.equal(code(() => parseEnv({ ...ADD_ENV, CNI_ARGS: 'novalue' })), 4);
  // DEL without a namespace is the spec's "already gone" case.
  assert.equal(parseEnv({ ...ADD_ENV, CNI_COMMAND: 'DEL', CNI_NETNS: undefined }).command, 'DEL');
  assert.deepEqual(parseEnv({ ...ADD_ENV, CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=web' }).args, { IgnoreUnknown: '1', K8S_POD_NAME: 'web' });
});

test('GC reads cni.dev/valid-attachments, and the 1.1.0 draft name too', () => {
  const list = [{ containerID: 'a', ifname: 'eth0' }];
  assert.deepEqual(parseConfig({ ...ISSUE, 'cni.dev/valid-attachments': list }, { command: 'GC' }).validAttachments, [{ containerId: 'a', ifname: 'eth0' }]);
  assert.deepEqual(parseConfig({ ...ISSUE, 'cni.dev/attachments': list }, { command: 'GC' }).validAttachments, [{ containerId: 'a', ifname: 'eth0' }]);
});

test('results: 0.4.0 carries ips[].version, 1.x does not; the pod interface is index 2 with its sandbox', () => {
  const att = { ...ATT, netnsPath: '/proc/42/ns/net', ifname: 'net1' };
  const old = addResult(att, '0.4.0');
  assert.equal(old.ips[0]?.version, '4');
  const now = addResult(att, '1.0.0');
  assert.equal(now.ips[0]?.version, undefined);
  assert.deepEqual(now.interfaces[2], { name: 'net1', mac: att.mac, sandbox: '/proc/42/ns/net' });
  assert.equal(now.ips[0]?.address, `${att.ip}/${att.prefixLength}`);
});

test("a runtime's namespace is entered, never made or removed", () => {
  const names = cniAttachmentNames('mynet', 'c1', 'eth0');
  assert.match(names.netns, /^cni-[0-9a-f]{12}$/);
  assert.ok(names.hostVeth.length <= 15);
  const att = { ...ATT, ...names, netnsPath: '/proc/42/ns/net', ifname: 'net1', mtu: 1450 };
  const [host, inside] = bridgeDriver.planContainerSetup(att).ops as CommandOp[];
  assert.ok(!host?.stdin?.includes('netns add'));
  assert.match(host?.stdin ?? '', /peer name net1 mtu 1450 .* netns \/proc\/42\/ns\/net/);
  // An IPv4-only pod interface has IPv6 off before it comes up, as a minictr container's eth0.
  assert.deepEqual(inside?.argv, ['nsenter', '--net=/proc/42/ns/net', 'sh', '-c', 'echo 1 > /proc/sys/net/ipv6/conf/net1/disable_ipv6 && exec ip -batch -']);
  const teardown = bridgeDriver.planContainerTeardown(att).ops as CommandOp[];
  assert.deepEqual(teardown.map((o) => o.argv.join(' ')), [`ip link del ${names.hostVeth}`]);
});

test('IPAM within rangeStart..rangeEnd', () => {
  assert.equal(allocateIp('10.0.0.0/24', '10.0.0.1', [], undefined, { start: '10.0.0.100' }), '10.0.0.100');
  assert.equal(allocateIp('10.0.0.0/24', '10.0.0.1', ['10.0.0.100'], undefined, { start: '10.0.0.100', end: '10.0.0.101' }), '10.0.0.101');
  assert.throws(() => allocateIp('10.0.0.0/24', '10.0.0.1', ['10.0.0.100'], undefined, { start: '10.0.0.100', end: '10.0.0.100' }), /between 10.0.0.100 and 10.0.0.100/);
});

test('clusterCIDR: checked, and it scopes the MASQUERADE, opens the bridge to the cluster and lets it past the raw guard', () => {
  assert.equal(parseConfig({ ...ISSUE, clusterCIDR: '10.0.0.0/8' }, { command: 'ADD' }).clusterCidr, '10.0.0.0/8');
  assert.equal(code(() => parseConfig({ ...ISSUE, clusterCIDR: '192.168.0.0/16' }, { command: 'ADD' })), 7);
  assert.equal(code(() => parseConfig({ ...ISSUE, clusterCIDR: '10.0.0.1/8' }, { command: 'ADD' })), 7);
  const net = { name: 'cni:k', bridge: 'cni0', subnet: '10.77.0.0/24', clusterCidr: '10.0.0.0/8' };
  const lines = networkRules(net).map((r) => `${r.table} ${r.op} ${r.chain} ${specText(r.spec)}`);
  assert.ok(lines.includes('nat -A POSTROUTING -s 10.77.0.0/24 ! -d 10.0.0.0/8 ! -o cni0 -m comment --comment "minictr:cni:k" -j MASQUERADE'), lines.join('\n'));
  assert.ok(lines.includes('filter -I MINICTR -s 10.0.0.0/8 ! -i cni0 -o cni0 -m comment --comment "minictr:cni:k" -j ACCEPT'), lines.join('\n'));
  const guard = containerRules({ ...ATT, clusterCidr: '10.0.0.0/8' }).filter((r) => r.table === 'raw').pop();
  assert.equal(specText(guard?.spec ?? []), `! -s 10.0.0.0/8 -d ${ATT.ip}/32 ! -i ${ATT.bridge} -m comment --comment "${C}" -j DROP`);
  // Without it, minictr's own rules are unchanged.
  assert.ok(!networkRules({ ...net, clusterCidr: undefined }).some((r) => r.spec.includes('10.0.0.0/8')));
});

test("minictr's last network keeps the shared chains while another network's rules (the plugin's) use them", () => {
  const dump = (comment: string) => ({ chains: [], rules: [{ table: 'filter', chain: 'MINICTR-FORWARD', line: `-A MINICTR-FORWARD -i x -m comment --comment "${comment}" -j ACCEPT` }] });
  assert.equal(sharedChainsFree(dump('minictr:bridge'), { name: 'bridge' }), true);
  assert.equal(sharedChainsFree(dump('minictr'), { name: 'bridge' }), true);
  assert.equal(sharedChainsFree(dump('minictr:cni:mynet'), { name: 'bridge' }), false);
  assert.equal(sharedChainsFree({ chains: [], rules: [] }, { name: 'bridge' }), true);
});
