// The embedded DNS, planned: the redirect in the container's namespace, the resolver's files
// and process, resolv.conf as Docker writes it; and the other network plans of #19 (connect,
// --internal, --ip, --add-host).
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { CommandOp } from '../../../src/base/plan.js';
import type { ContainerRecord, NetworkRecord } from '../../../src/base/records.js';
import { dnsRedirectRules, dnsRedirectStep, memberNames, nameservers, planResolverSync, resolverConfig, searchDomains } from '../../../src/network/dns.js';
import { bridgeDriver } from '../../../src/network/bridge.js';
import { opCommands } from '../../../src/explain/render.js';
import { networkRules } from '../../../src/network/firewall/iptables.js';
import { requestedIp } from '../../../src/network/ipam.js';
import { planNetworkConnect } from '../../../src/network/plan.js';
import { containerEtcFiles, resolvConf } from '../../../src/runtime/files.js';
import { extraHostsOf, parseAddHost } from '../../../src/runtime/container-etc.js';
import { ATT, ID, NET } from './fixtures.js';

const USER_ATT = { ...ATT, network: 'neta', bridge: 'minictr-1234567', ip: '172.19.0.2', gateway: '172.19.0.1', ports: [] };

test('127.0.0.11 is redirected to the gateway inside the container, with the container as source', () => {
  assert.deepEqual(dnsRedirectRules(USER_ATT), [
    '-A OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination 172.19.0.1:53',
    '-A OUTPUT -d 127.0.0.11/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination 172.19.0.1:53',
    '-A POSTROUTING -s 127.0.0.0/8 -d 172.19.0.1/32 -j SNAT --to-source 172.19.0.2',
  ]);
  // Run by the process chain that configures eth0: one nsenter and sh, the ip batch as a here-document.
  const [, op] = bridgeDriver.planContainerSetup(USER_ATT, {}, dnsRedirectStep(USER_ATT)).ops as CommandOp[];
  assert.deepEqual(op?.argv.slice(0, 3), ['nsenter', '--net=/run/netns/minictr-abcdef012345', 'sh']);
  assert.equal(op?.argv[4], [
    'set -e',
    'echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6',
    "ip -batch - <<'EOF'",
    'link set lo up',
    'addr add 172.19.0.2/16 dev eth0',
    'link set eth0 up',
    'route add default via 172.19.0.1 mtu 1500',
    'EOF',
    'echo 1 > /proc/sys/net/ipv4/conf/eth0/route_localnet && exec iptables-restore -w --noflush',
  ].join('\n'));
  assert.match(op?.stdin ?? '', /^\*nat\n-A OUTPUT .*\nCOMMIT\n$/s);
  assert.equal(op?.shown?.length, 1 + 4 + 4, 'IPv6 off, the four ip lines, the sysctl and each rule, as a person would type them');
  assert.match(op?.why ?? '', /; then send the container's DNS queries to 127\.0\.0\.11/);
});

test("the resolver's file: gateway and upstream servers, then one line per container with its names (and with the search domains)", () => {
  const names = memberNames({ id: ID, name: 'web', hostname: 'Web', aliases: ['api'] });
  assert.deepEqual(names, ['web', 'api', 'abcdef012345']);
  const text = resolverConfig('172.19.0.1', ['10.0.0.53', '127.0.0.53'], [
    { id: ID, ip: '172.19.0.2', names, servers: [] },
    { id: 'f'.repeat(64), ip: '172.19.0.3', names: ['db'], servers: ['10.9.9.9'] },
  ], ['corp.test']);
  assert.equal(text, [
    '172.19.0.1 10.0.0.53,127.0.0.53',
    `${ID} 172.19.0.2  web,web.corp.test,api,api.corp.test,abcdef012345,abcdef012345.corp.test`,
    `${'f'.repeat(64)} 172.19.0.3  db,db.corp.test 10.9.9.9`,
    '',
  ].join('\n'));
  assert.deepEqual(nameservers('# x\nnameserver 127.0.0.53\nsearch a b\nnameserver 10.0.0.1\n'), ['127.0.0.53', '10.0.0.1']);
  assert.deepEqual(searchDomains('search a b\nsearch c\n'), ['c']);
});

test('the resolver is started, told to reload (SIGHUP, its sockets kept) on each change, and stopped with the last network', () => {
  const facts = { binary: '/x/dist/minictr-dns', dir: '/s/dns', otherNetworks: 0 };
  // A signal is sent in-process, shown as the kill(1) that does the same.
  const lines = (p: ReturnType<typeof planResolverSync>) => p.ops.map((o) => (o.kind === 'command' ? o.argv.join(' ') : o.kind === 'signal' ? opCommands(o).join('') : `${o.kind} ${o.path}`));
  const start = '/x/dist/minictr-dns --config /s/dns --port 53';
  assert.deepEqual(lines(planResolverSync('neta', 'x\n', facts)), ['mkdir /s/dns', 'write /s/dns/neta', start]);
  assert.deepEqual(lines(planResolverSync('neta', 'x\n', { ...facts, pid: 42 })), ['mkdir /s/dns', 'write /s/dns/neta', 'kill -HUP 42']);
  assert.deepEqual(lines(planResolverSync('neta', undefined, { ...facts, pid: 42, otherNetworks: 1 })), ['rm -f /s/dns/neta', 'kill -HUP 42']);
  assert.deepEqual(lines(planResolverSync('neta', undefined, { ...facts, pid: 42 })), ['rm -f /s/dns/neta', 'kill 42', 'wait-gone /proc/42/exe', 'rm -f /s/dns/resolver.pid']);
});

test("resolv.conf as Docker writes it: 127.0.0.11 with ndots:0 on a user network, the flags replacing the host's lines", () => {
  const host = 'search corp.test\nnameserver 127.0.0.53\nnameserver 10.0.0.1\noptions edns0\n';
  assert.equal(resolvConf({ hostname: 'h', hostNetwork: false, embeddedDns: true }, host),
    'nameserver 127.0.0.11\nsearch corp.test\noptions edns0 ndots:0\n\n# ExtServers: [127.0.0.53 10.0.0.1] (asked by the network\'s resolver for names it does not know)\n');
  assert.match(resolvConf({ hostname: 'h', hostNetwork: false, embeddedDns: true, dnsOptions: ['ndots:3'] }, host), /^options ndots:3$/m);
  assert.equal(resolvConf({ hostname: 'h', hostNetwork: false, dns: ['9.9.9.9'], dnsSearch: ['x.test'] }, host),
    'nameserver 9.9.9.9\nsearch x.test\noptions edns0\n');
  // The default bridge without flags: the host's file less its loopback servers, as before.
  const files = containerEtcFiles({ hostname: 'h', ip: '172.18.0.2', hostNetwork: false }, { resolvConf: host, upstreamResolvConf: '', hosts: '' });
  assert.equal(files['resolv.conf'], 'search corp.test\nnameserver 10.0.0.1\noptions edns0\n');
});

test('--add-host: NAME:IP or NAME=IP, host-gateway is the gateway; bad ones refused with Docker\'s words', () => {
  assert.deepEqual(extraHostsOf(['db:10.1.2.3', 'gw=host-gateway', 'v6:[::1]'], '172.19.0.1'), [
    { ip: '10.1.2.3', names: ['db'] }, { ip: '172.19.0.1', names: ['gw'] }, { ip: '::1', names: ['v6'] },
  ]);
  assert.throws(() => parseAddHost('nocolon'), /bad format for add-host/);
  assert.throws(() => parseAddHost('db:1.2.3'), /invalid IP address in add-host: "1\.2\.3"/);
});

test('--ip: in the subnet, not the network, broadcast or gateway address, and free', () => {
  assert.equal(requestedIp('10.88.0.0/24', '10.88.0.1', ['10.88.0.2'], '10.88.0.77', 'n'), '10.88.0.77');
  assert.throws(() => requestedIp('10.88.0.0/24', '10.88.0.1', [], '10.88.1.5', 'n'), /does not belong to the subnet 10\.88\.0\.0\/24/);
  assert.throws(() => requestedIp('10.88.0.0/24', '10.88.0.1', [], '10.88.0.255', 'n'), /does not belong/);
  assert.throws(() => requestedIp('10.88.0.0/24', '10.88.0.1', ['10.88.0.2'], '10.88.0.2', 'n'), /already in use on network "n"/);
  assert.throws(() => requestedIp('10.88.0.0/24', '10.88.0.1', [], '10.88.0.1', 'n'), /already in use/);
});

test('an --internal network: no MASQUERADE out, drops at the head of isolation both ways', () => {
  const rules = networkRules({ name: 'in', bridge: 'br-in', subnet: '10.5.0.0/24', internal: true }).map((r) => `${r.table} ${r.op} ${r.chain} ${r.spec.join(' ')}`);
  assert.ok(!rules.some((r) => r.includes('! -o br-in') && r.includes('MASQUERADE')), 'no way out');
  assert.ok(rules.includes('filter -I MINICTR-ISOLATION-STAGE-1 ! -s 10.5.0.0/24 -o br-in -m comment --comment minictr:in -j DROP'));
  assert.ok(rules.includes('filter -I MINICTR-ISOLATION-STAGE-1 ! -d 10.5.0.0/24 -i br-in -m comment --comment minictr:in -j DROP'));
});

test('connect: the next ethN, a veth named after the container and the index, no default route, refusals', () => {
  const back: NetworkRecord = { ...NET, name: 'back', bridge: 'minictr-back000', subnet: '172.20.0.0/16', gateway: '172.20.0.1' };
  const record = { id: ID, name: 'app', config: { hostname: 'app' }, hostConfig: { networkMode: 'bridge' }, network: ATT } as unknown as ContainerRecord;
  const db = { id: 'e'.repeat(64), name: 'db', config: { hostname: 'db' }, hostConfig: { networkMode: 'back' }, network: { ...ATT, network: 'back', ip: '172.20.0.2' } } as unknown as ContainerRecord;
  const planned = planNetworkConnect({ record, net: back, records: [record, db], aliases: ['api'] });
  assert.equal(planned.attachment.ifname, 'eth1');
  assert.equal(planned.attachment.hostVeth, 'vethabcdef0-1');
  assert.equal(planned.attachment.ip, '172.20.0.3');
  assert.equal(planned.attachment.netns, ATT.netns);
  const text = planned.links.ops.map((o) => (o.kind === 'command' ? o.stdin ?? '' : '')).join('');
  assert.match(text, /peer name eth1 .* netns minictr-abcdef012345/);
  assert.doesNotMatch(text, /route add default/);
  assert.throws(() => planNetworkConnect({ record, net: back, records: [record, db], aliases: ['db'] }), /alias "db" is already a name of container db on network back/);
  const connected = { ...record, extraNetworks: [planned.attachment] } as ContainerRecord;
  assert.throws(() => planNetworkConnect({ record: connected, net: back, records: [connected, db], aliases: [] }), /endpoint with name app already exists in network back/);
});
