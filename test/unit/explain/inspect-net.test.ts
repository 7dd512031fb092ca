import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import {
  buildNetView,
  expectedRules,
  firewallSummary,
  parseAddresses,
  parseLinks,
  parseNeighbours,
  parseRoutes,
  renderNetView,
  routeText,
  type InspectScope,
} from '../../../src/explain/inspect-net.js';
import { ID } from '../network/fixtures.js';
import { parseIptablesSave } from '../../../src/network/firewall/iptables-save.js';
import { commentScope } from '../../../src/network/firewall/iptables-driver.js';
import { CTR_ADDR, CTR_LINK, CTR_ROUTE, HOST_ADDR, HOST_LINK, HOST_NEIGH, HOST_ROUTE, HOST_SAVE, KNOWN } from './fixtures.js';

const HOST: InspectScope = { kind: 'host' };
const WEB: InspectScope = { kind: 'container', name: 'web', id: ID, mode: 'bridge', netns: 'minictr-abcdef012345' };

test('ip -j link: kind, state, master and the veth peer', () => {
  assert.deepEqual(parseLinks(HOST_LINK), [
    { ifindex: 1, name: 'lo', kind: 'loopback', state: 'UP', mtu: 65536, mac: '00:00:00:00:00:00' },
    { ifindex: 2, name: 'eth0', kind: 'veth', state: 'UP', mtu: 1500, mac: 'ea:55:7a:99:d2:4e', peerIfindex: 2, peerNetnsId: 0 },
    { ifindex: 3, name: 'minictr0', kind: 'bridge', state: 'UP', mtu: 1500, mac: 'da:f9:77:bd:3c:e0' },
    { ifindex: 4, name: 'vethabcdef0', kind: 'veth', state: 'UP', mtu: 1500, mac: 'da:f9:77:bd:3c:e0', master: 'minictr0', peerIfindex: 2, peerNetnsId: 1 },
    { ifindex: 5, name: 'wlan0', kind: 'ether', state: 'DOWN', mtu: 1500, mac: '10:20:30:40:50:60' },
  ]);
  assert.deepEqual(parseLinks(''), []);
  assert.throws(() => parseLinks('{"not":"a list"}'), /not a list/);
  assert.throws(() => parseLinks('Object "link" is unknown'), /could not read the output of ip -j link/);
});

test('ip -j addr: one entry per address', () => {
  assert.deepEqual(parseAddresses(CTR_ADDR), [
    { ifname: 'lo', family: 'inet', local: '127.0.0.1', prefixLength: 8, scope: 'host' },
    { ifname: 'eth0', family: 'inet', local: '172.18.0.2', prefixLength: 16, scope: 'global' },
    { ifname: 'eth0', family: 'inet6', local: 'fe80::42:acff:fe12:2', prefixLength: 64, scope: 'link' },
  ]);
});

test('ip -j route and neigh, and routes printed as ip route does', () => {
  const routes = parseRoutes(HOST_ROUTE);
  assert.deepEqual(routes[0], { dst: 'default', gateway: '10.99.0.254', dev: 'eth0', protocol: 'static' });
  assert.deepEqual(routes.map(routeText), [
    'default via 10.99.0.254 dev eth0 proto static',
    '10.99.0.0/24 dev eth0 proto kernel scope link src 10.99.0.1',
    '172.18.0.0/16 dev minictr0 proto kernel scope link src 172.18.0.1',
  ]);
  assert.equal(routeText({ dst: '10.1.0.0/16', type: 'blackhole', metric: 5 }), 'blackhole 10.1.0.0/16 metric 5');
  assert.deepEqual(parseNeighbours(HOST_NEIGH), [
    { dst: '172.18.0.2', dev: 'minictr0', lladdr: '02:42:ac:12:00:02', state: ['REACHABLE'] },
    { dst: '10.99.0.254', dev: 'eth0', state: ['FAILED'] },
  ]);
});

test('iptables-save: chains with policies, rules in order, comments and COMMIT dropped', () => {
  const dump = parseIptablesSave(HOST_SAVE);
  assert.deepEqual(dump.chains.slice(0, 4), [
    { table: 'raw', chain: 'PREROUTING', policy: 'ACCEPT' },
    { table: 'raw', chain: 'OUTPUT', policy: 'ACCEPT' },
    { table: 'filter', chain: 'INPUT', policy: 'ACCEPT' },
    { table: 'filter', chain: 'FORWARD', policy: 'DROP' },
  ]);
  assert.equal(dump.rules.length, 3 + 16 + 8);
  assert.deepEqual(dump.rules[0], {
    table: 'raw',
    chain: 'PREROUTING',
    line: '-A PREROUTING -d 127.0.0.0/8 -i minictr0 -m comment --comment "minictr:bridge" -j DROP',
  });
  assert.equal(commentScope('-A FORWARD -m comment --comment minictr -j MINICTR-USER'), '');
  assert.equal(commentScope(dump.rules[0]!.line), 'bridge');
  assert.equal(commentScope('-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT'), undefined);
  assert.equal(commentScope('-A X -m comment --comment minictrish -j ACCEPT'), undefined);
});

test('expected rules come from the runtime\'s own rule functions', () => {
  const host = expectedRules(KNOWN, HOST);
  assert.equal(host.length, 7 + 10 + 8);
  assert.deepEqual(host[0], { table: 'filter', chain: 'FORWARD', line: '-A FORWARD -m comment --comment minictr -j MINICTR-FORWARD', owner: 'minictr (its chains and the jumps into them)' });
  const web = expectedRules(KNOWN, WEB);
  assert.equal(web.length, 8);
  assert.ok(web.every((e) => e.owner === 'container web'));
  assert.deepEqual(expectedRules({ networks: [], containers: [] }, HOST), []);
});

test('host view: rules labelled planned, left over, duplicated, missing', () => {
  const view = buildNetView({ scope: HOST, stack: { link: HOST_LINK, addr: HOST_ADDR, route: HOST_ROUTE, neigh: HOST_NEIGH }, hostRules: HOST_SAVE, known: KNOWN, all: false });
  const status = (needle: string) => view.firewall.rules.filter((r) => r.line.includes(needle)).map((r) => [r.status, r.owner]);
  assert.deepEqual(status('172.18.0.9/32'), [['unplanned', 'container 0123456789ab (no record: a leftover)']]);
  assert.deepEqual(status('--dport 5005'), [['planned', 'container web'], ['duplicate', 'container web']]);
  assert.deepEqual(status('--dport 22'), [], 'foreign rules are left out without --all');
  assert.deepEqual(view.firewall.missing, [
    {
      table: 'nat',
      chain: 'MINICTR',
      line: '-A MINICTR -d 127.0.0.1/32 -p udp -m udp --dport 8080 -m comment --comment "minictr:abcdef012345" -j DNAT --to-destination 172.18.0.2:80',
      owner: 'container web',
    },
  ]);
  assert.equal(firewallSummary(view.firewall), '24 rules as planned, 1 missing, 1 not in any plan, 1 duplicate');
  assert.deepEqual(
    view.links.map((l) => [l.name, l.note]),
    [
      ['lo', 'loopback: this namespace talking to itself'],
      ['eth0', undefined],
      ['minictr0', 'bridge of network "bridge": the virtual switch its containers plug into'],
      ['vethabcdef0', "host end of web's veth pair, plugged into minictr0; the other end is eth0 in minictr-abcdef012345"],
      ['wlan0', undefined],
    ],
  );
  assert.deepEqual(view.addresses.map((a) => `${a.ifname} ${a.local}`), ['lo 127.0.0.1', 'lo ::1', 'eth0 10.99.0.1', 'minictr0 172.18.0.1']);
  assert.equal(view.hiddenAddresses, 3);
  assert.equal(view.addresses[3]!.note, 'gateway of network "bridge": containers send everything outside 172.18.0.0/16 here');
  assert.equal(view.routes[2]!.note, 'containers of network "bridge" are reached through the bridge');
  assert.equal(view.neighbours[0]!.note, 'container web');

  const all = buildNetView({ scope: HOST, stack: { link: HOST_LINK, addr: HOST_ADDR, route: HOST_ROUTE, neigh: HOST_NEIGH }, hostRules: HOST_SAVE, known: KNOWN, all: true });
  assert.deepEqual(all.firewall.rules.filter((r) => r.status === 'other').map((r) => r.line), ['-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT']);
  assert.equal(all.hiddenAddresses, 0);
});

test('container view: its namespace, and only the host rules that belong to it', () => {
  const view = buildNetView({ scope: WEB, stack: { link: CTR_LINK, addr: CTR_ADDR, route: CTR_ROUTE, neigh: '[]' }, hostRules: HOST_SAVE, insideRules: '', known: KNOWN, all: false });
  assert.equal(view.links[1]!.note, "the container's end of its veth pair; the other end is vethabcdef0 on the host, plugged into minictr0");
  assert.equal(view.addresses[1]!.note, 'the container\'s address on network "bridge"');
  assert.deepEqual(view.routes.map((r) => r.note), ['everything else goes to the gateway: the bridge on the host', 'the rest of the subnet is reached directly, through the bridge']);
  assert.ok(view.firewall.rules.every((r) => r.line.includes('minictr:abcdef012345')));
  assert.equal(view.firewall.rules.length, 8);
  assert.equal(view.firewall.missing.length, 1);
  assert.deepEqual(view.inside, { policies: [], rules: [], missing: [] });
});

test('rendering: labelled sections, markers and the way out', () => {
  const view = buildNetView({ scope: HOST, stack: { link: HOST_LINK, addr: HOST_ADDR, route: HOST_ROUTE, neigh: HOST_NEIGH }, hostRules: HOST_SAVE, known: KNOWN, all: false });
  const text = renderNetView(view, { all: false }, KNOWN);
  const lines = text.split('\n');
  for (const heading of ['Devices  (ip -d -j link)', 'Addresses  (ip -j addr)', 'Routes  (ip -j route)', 'Neighbours (ARP cache)  (ip -j neigh)']) {
    assert.ok(lines.includes(heading), `has section ${heading}`);
  }
  assert.ok(lines.includes('  #  NAME         KIND      STATE  MTU    MAC                LINK                WHAT IT IS'));
  assert.ok(lines.includes('  ✓ -A MINICTR -p tcp -m tcp --dport 5005 -m comment --comment "minictr:abcdef012345" -j DNAT --to-destination 172.18.0.2:5000'));
  assert.ok(lines.includes('  2 -A MINICTR -p tcp -m tcp --dport 5005 -m comment --comment "minictr:abcdef012345" -j DNAT --to-destination 172.18.0.2:5000'));
  assert.ok(lines.includes('  ✗ -A MINICTR -d 127.0.0.1/32 -p udp -m udp --dport 8080 -m comment --comment "minictr:abcdef012345" -j DNAT --to-destination 172.18.0.2:80'));
  assert.ok(lines.some((l) => l.startsWith('  ? -A MINICTR -d 172.18.0.9/32')));
  assert.ok(lines.includes('  ✗ planned rules are missing (a firewall reload?): `minictr network reload` puts them back'));
  assert.ok(lines.includes('    minictr:abcdef012345  = container web'));
  assert.ok(lines.includes("  FORWARD policy: DROP (minictr's jumps sit at the head of FORWARD, so its rules decide first either way)"));
  assert.ok(lines.includes('  (3 IPv6 link-local addresses hidden; --all shows them)'));
});
