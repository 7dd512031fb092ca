import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import {
  compareRules,
  dockerRules,
  dockerScopeFor,
  minictrRules,
  parseCompareEngine,
  renderCompare,
  saveOrder,
  type CompareRow,
} from '../../../src/explain/compare.js';
import { specText, type Rule } from '../../../src/network/firewall/iptables.js';
import { planNetworkSetup } from '../../../src/network/plan.js';
import { concatPlans } from '../../../src/base/plan.js';
import type { NetworkAttachment } from '../../../src/base/records.js';
import { ATT, NET, containerSetupPlan } from '../network/fixtures.js';

const lines = (rules: Rule[]): string[] => rules.map((r) => `${r.table} -A ${r.chain} ${specText(r.spec)}`);

/** One published port, -p 8080:80, on Docker's and minictr's default bridges. */
const ONE_PORT: NetworkAttachment = { ...ATT, ports: [{ hostIp: '', hostPort: 8080, containerPort: 80, proto: 'tcp' }] };

test('engine spelling: docker is 28; minor versions allowed; others refused', () => {
  assert.equal(parseCompareEngine('docker'), 28);
  assert.equal(parseCompareEngine('docker@27'), 27);
  assert.equal(parseCompareEngine('docker@28.5.2'), 28);
  assert.equal(parseCompareEngine('docker@29'), 29);
  assert.throws(() => parseCompareEngine('docker@26'), /cannot compare with "docker@26"/);
  assert.throws(() => parseCompareEngine('podman'), /use docker/);
});

test('Docker\'s scope: default bridge maps to docker0 172.17/16 at the same offset; a user network keeps its subnet', () => {
  assert.deepEqual(dockerScopeFor(NET, ONE_PORT), { bridge: 'docker0', subnet: '172.17.0.0/16', ip: '172.17.0.2', ports: ONE_PORT.ports, onDefaultBridge: true });
  const user = { ...NET, name: 'front', id: 'f00d'.repeat(16), subnet: '10.20.0.0/24' };
  assert.deepEqual(dockerScopeFor(user, { ...ONE_PORT, ip: '10.20.0.7' }), { bridge: 'br-f00df00df00d', subnet: '10.20.0.0/24', ip: '10.20.0.7', ports: ONE_PORT.ports, onDefaultBridge: false });
});

test('Docker 27 rules: the classic layout of anchors §2.2', () => {
  assert.deepEqual(lines(dockerRules(dockerScopeFor(NET, ONE_PORT), 27)), [
    'filter -A FORWARD -j DOCKER-USER',
    'filter -A FORWARD -j DOCKER-ISOLATION-STAGE-1',
    'filter -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    'filter -A FORWARD -o docker0 -j DOCKER',
    'filter -A FORWARD -i docker0 ! -o docker0 -j ACCEPT',
    'filter -A FORWARD -i docker0 -o docker0 -j ACCEPT',
    'filter -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT',
    'filter -A DOCKER-ISOLATION-STAGE-1 -j RETURN',
    'filter -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2',
    'filter -A DOCKER-ISOLATION-STAGE-2 -j RETURN',
    'filter -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP',
    'filter -A DOCKER-USER -j RETURN',
    'nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
    'nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER',
    'nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
    'nat -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE',
    'nat -A DOCKER -i docker0 -j RETURN',
    'nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80',
  ]);
});

test('Docker 28 rules: anchors §2.3 (28.2+: raw guard per container), userland proxy on', () => {
  assert.deepEqual(lines(dockerRules(dockerScopeFor(NET, ONE_PORT), 28)), [
    'filter -A FORWARD -j DOCKER-USER',
    'filter -A FORWARD -j DOCKER-FORWARD',
    'filter -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT',
    'filter -A DOCKER ! -i docker0 -o docker0 -j DROP',
    'filter -A DOCKER-BRIDGE -o docker0 -j DOCKER',
    'filter -A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    'filter -A DOCKER-FORWARD -j DOCKER-CT',
    'filter -A DOCKER-FORWARD -j DOCKER-ISOLATION-STAGE-1',
    'filter -A DOCKER-FORWARD -j DOCKER-BRIDGE',
    'filter -A DOCKER-FORWARD -i docker0 -j ACCEPT',
    'filter -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2',
    'filter -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP',
    'nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
    'nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER',
    'nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
    'nat -A DOCKER -i docker0 -j RETURN',
    'nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80',
    'raw -A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP',
  ]);
});

test('Docker 29 rules: anchors §2.4, a user network beside docker0, -p 127.0.0.1:8080:80', () => {
  const user = { ...NET, name: 'bridge1', id: 'b1'.repeat(32), bridge: 'mc-bridge1', subnet: '192.0.2.0/24' };
  const att: NetworkAttachment = { ...ATT, network: 'bridge1', bridge: 'mc-bridge1', ip: '192.0.2.2', prefixLength: 24, gateway: '192.0.2.1', ports: [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, proto: 'tcp' }] };
  assert.deepEqual(lines(dockerRules(dockerScopeFor(user, att), 29)), [
    'filter -A FORWARD -j DOCKER-USER',
    'filter -A FORWARD -j DOCKER-FORWARD',
    'filter -A DOCKER -d 192.0.2.2/32 ! -i br-b1b1b1b1b1b1 -o br-b1b1b1b1b1b1 -p tcp -m tcp --dport 80 -j ACCEPT',
    'filter -A DOCKER ! -i docker0 -o docker0 -j DROP',
    'filter -A DOCKER ! -i br-b1b1b1b1b1b1 -o br-b1b1b1b1b1b1 -j DROP',
    'filter -A DOCKER-BRIDGE -o docker0 -j DOCKER',
    'filter -A DOCKER-BRIDGE -o br-b1b1b1b1b1b1 -j DOCKER',
    'filter -A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    'filter -A DOCKER-CT -o br-b1b1b1b1b1b1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    'filter -A DOCKER-FORWARD -j DOCKER-CT',
    'filter -A DOCKER-FORWARD -j DOCKER-INTERNAL',
    'filter -A DOCKER-FORWARD -j DOCKER-BRIDGE',
    'filter -A DOCKER-FORWARD -i docker0 -j ACCEPT',
    'filter -A DOCKER-FORWARD -i br-b1b1b1b1b1b1 -j ACCEPT',
    'nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
    'nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER',
    'nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
    'nat -A POSTROUTING -s 192.0.2.0/24 ! -o br-b1b1b1b1b1b1 -j MASQUERADE',
    'nat -A DOCKER -d 127.0.0.1/32 ! -i br-b1b1b1b1b1b1 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.0.2.2:80',
    'raw -A PREROUTING -d 127.0.0.1/32 ! -i lo -p tcp -m tcp --dport 8080 -j DROP',
    'raw -A PREROUTING -d 192.0.2.2/32 ! -i br-b1b1b1b1b1b1 -j DROP',
  ]);
});

test('minictr\'s side is the runtime\'s rule data, in iptables-save order (-I rules at the head)', () => {
  const rules = minictrRules(NET, ATT);
  assert.equal(rules.length, 7 + 10 + 8);
  assert.deepEqual(lines(rules).slice(0, 4), [
    'filter -A FORWARD -m comment --comment minictr -j MINICTR-USER',
    'filter -A FORWARD -m comment --comment minictr -j MINICTR-FORWARD',
    'filter -A MINICTR -d 172.18.0.2/32 ! -i minictr0 -o minictr0 -p udp -m udp --dport 80 -m comment --comment "minictr:abcdef012345" -j ACCEPT',
    'filter -A MINICTR -d 172.18.0.2/32 ! -i minictr0 -o minictr0 -p tcp -m tcp --dport 5000 -m comment --comment "minictr:abcdef012345" -j ACCEPT',
  ]);
  assert.deepEqual(
    saveOrder([
      { table: 'nat', chain: 'MINICTR', op: '-A', spec: ['-j', 'A'] },
      { table: 'filter', chain: 'ZED', op: '-A', spec: ['-j', 'B'] },
      { table: 'filter', chain: 'FORWARD', op: '-A', spec: ['-j', 'C'] },
      { table: 'filter', chain: 'ZED', op: '-I', spec: ['-j', 'D'] },
    ]).map((r) => r.spec[1]),
    ['C', 'D', 'B', 'A'],
  );
});

test('aligned with Docker 28, row by row, each difference explained', () => {
  const expected: CompareRow[] = [
    { table: 'filter', kind: 'docker-only', docker: '-P FORWARD DROP', note: "Docker sets it when it turned ip_forward on itself; minictr leaves the policy alone (its jumps come first, so it does not depend on it)" },
    { table: 'filter', kind: 'same', minictr: '-A FORWARD -m comment --comment minictr -j MINICTR-USER', docker: '-A FORWARD -j DOCKER-USER', note: "same: your own rules go in MINICTR-USER (DOCKER-USER), checked before anything else" },
    { table: 'filter', kind: 'same', minictr: '-A FORWARD -m comment --comment minictr -j MINICTR-FORWARD', docker: '-A FORWARD -j DOCKER-FORWARD', note: "same: one jump into the forwarding chains, so other tools can still append to FORWARD" },
    { table: 'filter', kind: 'same', minictr: '-A MINICTR -d 172.18.0.2/32 ! -i minictr0 -o minictr0 -p udp -m udp --dport 80 -m comment --comment "minictr:abcdef012345" -j ACCEPT', docker: '-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p udp -m udp --dport 80 -j ACCEPT', note: "same: the published port is let through to the container, from outside the bridge" },
    { table: 'filter', kind: 'same', minictr: '-A MINICTR -d 172.18.0.2/32 ! -i minictr0 -o minictr0 -p tcp -m tcp --dport 5000 -m comment --comment "minictr:abcdef012345" -j ACCEPT', docker: '-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 5000 -j ACCEPT', note: "same: the published port is let through to the container, from outside the bridge" },
    { table: 'filter', kind: 'same', minictr: '-A MINICTR ! -i minictr0 -o minictr0 -m comment --comment "minictr:bridge" -j DROP', docker: '-A DOCKER ! -i docker0 -o docker0 -j DROP', note: "same: anything else from outside the bridge is dropped (unpublished ports), whatever the FORWARD policy" },
    { table: 'filter', kind: 'same', minictr: '-A MINICTR-BRIDGE -o minictr0 -m comment --comment "minictr:bridge" -j MINICTR', docker: '-A DOCKER-BRIDGE -o docker0 -j DOCKER', note: "same rule, names aside" },
    { table: 'filter', kind: 'same', minictr: '-A MINICTR-CT -o minictr0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "minictr:bridge" -j ACCEPT', docker: '-A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', note: "same rule, names aside" },
    { table: 'filter', kind: 'same', minictr: '-A MINICTR-FORWARD -m comment --comment minictr -j MINICTR-CT', docker: '-A DOCKER-FORWARD -j DOCKER-CT', note: "same rule, names aside" },
    { table: 'filter', kind: 'same', minictr: '-A MINICTR-FORWARD -m comment --comment minictr -j MINICTR-ISOLATION-STAGE-1', docker: '-A DOCKER-FORWARD -j DOCKER-ISOLATION-STAGE-1', note: "same rule, names aside" },
    { table: 'filter', kind: 'same', minictr: '-A MINICTR-FORWARD -m comment --comment minictr -j MINICTR-BRIDGE', docker: '-A DOCKER-FORWARD -j DOCKER-BRIDGE', note: "same rule, names aside" },
    { table: 'filter', kind: 'same', minictr: '-A MINICTR-FORWARD -i minictr0 -m comment --comment "minictr:bridge" -j ACCEPT', docker: '-A DOCKER-FORWARD -i docker0 -j ACCEPT', note: "same rule, names aside" },
    { table: 'filter', kind: 'same', minictr: '-A MINICTR-ISOLATION-STAGE-1 -i minictr0 ! -o minictr0 -m comment --comment "minictr:bridge" -j MINICTR-ISOLATION-STAGE-2', docker: '-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2', note: "same: networks are isolated from each other" },
    { table: 'filter', kind: 'minictr-only', minictr: '-A MINICTR-ISOLATION-STAGE-2 -o minictr0 -m conntrack --ctstate DNAT -m comment --comment "minictr:bridge" -j RETURN', note: "no userland proxy: a container on another network reaches a published port through the host's address (DNATed), which Docker allows only through its proxy" },
    { table: 'filter', kind: 'same', minictr: '-A MINICTR-ISOLATION-STAGE-2 -o minictr0 -m comment --comment "minictr:bridge" -j DROP', docker: '-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP', note: "same: networks are isolated from each other" },
    { table: 'nat', kind: 'same', minictr: '-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment minictr -j MINICTR', docker: '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER', note: "same: every local address goes to the DNAT chain (-m addrtype --dst-type LOCAL); the article matched one `-d <host-ip>` instead" },
    { table: 'nat', kind: 'differs', minictr: '-A OUTPUT -m addrtype --dst-type LOCAL -m comment --comment minictr -j MINICTR', docker: '-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER', note: "no userland proxy: minictr has no `! -d 127.0.0.0/8`, so the host's own 127.0.0.1:PORT is DNATed in the kernel (Docker: only with userland-proxy=false)" },
    { table: 'nat', kind: 'same', minictr: '-A POSTROUTING -s 172.18.0.0/16 ! -o minictr0 -m comment --comment "minictr:bridge" -j MASQUERADE', docker: '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE', note: "same: the article's MASQUERADE, containers leave with the host's address" },
    { table: 'nat', kind: 'minictr-only', minictr: '-A POSTROUTING -o minictr0 -m addrtype --src-type LOCAL -m comment --comment "minictr:bridge" -j MASQUERADE', note: "no userland proxy: the host reaching a container via 127.0.0.1 or its own address gets the gateway as source (Docker: only with userland-proxy=false)" },
    { table: 'nat', kind: 'minictr-only', minictr: '-A POSTROUTING -s 172.18.0.2/32 -d 172.18.0.2/32 -p tcp -m tcp --dport 5000 -m comment --comment "minictr:abcdef012345" -j MASQUERADE', note: "no userland proxy: per-port hairpin masquerade, so a container can reach its own published port (Docker 28+: only with userland-proxy=false)" },
    { table: 'nat', kind: 'minictr-only', minictr: '-A POSTROUTING -s 172.18.0.2/32 -d 172.18.0.2/32 -p udp -m udp --dport 80 -m comment --comment "minictr:abcdef012345" -j MASQUERADE', note: "no userland proxy: per-port hairpin masquerade, so a container can reach its own published port (Docker 28+: only with userland-proxy=false)" },
    { table: 'nat', kind: 'docker-only', docker: '-A DOCKER -i docker0 -j RETURN', note: "connections from the bridge skip DNAT (Docker's userland proxy does hairpin); minictr DNATs them in the kernel (Docker 29 dropped this rule)" },
    { table: 'nat', kind: 'differs', minictr: '-A MINICTR -p tcp -m tcp --dport 5005 -m comment --comment "minictr:abcdef012345" -j DNAT --to-destination 172.18.0.2:5000', docker: '-A DOCKER ! -i docker0 -p tcp -m tcp --dport 5005 -j DNAT --to-destination 172.17.0.2:5000', note: "no `! -i docker0`: a container reaching a published port is DNATed in the kernel (hairpin); Docker leaves that to its userland proxy" },
    { table: 'nat', kind: 'differs', minictr: '-A MINICTR -d 127.0.0.1/32 -p udp -m udp --dport 8080 -m comment --comment "minictr:abcdef012345" -j DNAT --to-destination 172.18.0.2:80', docker: '-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p udp -m udp --dport 8080 -j DNAT --to-destination 172.17.0.2:80', note: "no `! -i docker0`: a container reaching a published port is DNATed in the kernel (hairpin); Docker leaves that to its userland proxy" },
    { table: 'raw', kind: 'minictr-only', minictr: '-A PREROUTING -d 127.0.0.0/8 -i minictr0 -m comment --comment "minictr:bridge" -j DROP', note: "minictr only: route_localnet=1 on the bridge must not let containers reach the host's 127.0.0.1 services" },
    { table: 'raw', kind: 'same', minictr: '-A PREROUTING -d 127.0.0.1/32 ! -i lo -p udp -m udp --dport 8080 -m comment --comment "minictr:abcdef012345" -j DROP', docker: '-A PREROUTING -d 127.0.0.1/32 ! -i lo -p udp -m udp --dport 8080 -j DROP', note: "same guard (CVE-2020-8558): a port published on 127.x cannot be reached from another interface" },
    { table: 'raw', kind: 'same', minictr: '-A PREROUTING -d 172.18.0.2/32 ! -i minictr0 -m comment --comment "minictr:abcdef012345" -j DROP', docker: '-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP', note: "same guard (Docker 28.2+): only the bridge may send packets straight to the container's address" },
  ];
  assert.deepEqual(compareRules(NET, ATT, 28), expected);
});

const row = (rows: CompareRow[], needle: string): CompareRow | undefined => rows.find((r) => (r.minictr ?? r.docker ?? '').includes(needle) || (r.docker ?? '').includes(needle));

test('aligned with Docker 27: FORWARD rules moved into the 28 chains, no raw guards, hairpin the same', () => {
  const rows = compareRules(NET, ONE_PORT, 27);
  assert.deepEqual(row(rows, 'MINICTR-CT -o'), {
    table: 'filter',
    kind: 'moved',
    minictr: '-A MINICTR-CT -o minictr0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "minictr:bridge" -j ACCEPT',
    docker: '-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    note: 'same match; Docker ≤27 has it directly in FORWARD, 28 moved it into DOCKER-CT (minictr follows 28)',
  });
  assert.deepEqual(row(rows, '-s 172.18.0.2/32 -d 172.18.0.2/32'), {
    table: 'nat',
    kind: 'same',
    minictr: '-A POSTROUTING -s 172.18.0.2/32 -d 172.18.0.2/32 -p tcp -m tcp --dport 80 -m comment --comment "minictr:abcdef012345" -j MASQUERADE',
    docker: '-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE',
    note: 'same per-port hairpin masquerade (Docker ≤27 always adds it; 28+ only with userland-proxy=false)',
  });
  assert.deepEqual(row(rows, 'PREROUTING -d 172.18.0.2/32'), {
    table: 'raw',
    kind: 'minictr-only',
    minictr: '-A PREROUTING -d 172.18.0.2/32 ! -i minictr0 -m comment --comment "minictr:abcdef012345" -j DROP',
    note: 'Docker ≤27 has no raw guards: a machine with a route to the subnet reaches every port of the container',
  });
  assert.deepEqual(row(rows, '-A DOCKER-USER -j RETURN'), { table: 'filter', kind: 'docker-only', docker: '-A DOCKER-USER -j RETURN', note: 'an explicit RETURN at the end of a chain (Docker ≤27); a chain returns anyway' });
  const forward = rows.filter((r) => r.docker?.startsWith('-A FORWARD -i docker0'));
  assert.deepEqual(forward.map((r) => r.kind).sort(), ['differs', 'docker-only']);
});

test('aligned with Docker 29: isolation chains gone, DOCKER-INTERNAL, no nat RETURN', () => {
  const rows = compareRules(NET, ONE_PORT, 29);
  assert.deepEqual(row(rows, 'DOCKER-INTERNAL'), { table: 'filter', kind: 'docker-only', docker: '-A DOCKER-FORWARD -j DOCKER-INTERNAL', note: 'Docker 29: the chain for --internal networks, which minictr does not have' });
  assert.equal(row(rows, 'MINICTR-ISOLATION-STAGE-2 -o minictr0 -m comment')?.kind, 'minictr-only');
  assert.equal(rows.find((r) => r.docker === '-A DOCKER -i docker0 -j RETURN'), undefined);
  assert.deepEqual(row(rows, '-j DNAT'), {
    table: 'nat',
    kind: 'differs',
    minictr: '-A MINICTR -p tcp -m tcp --dport 8080 -m comment --comment "minictr:abcdef012345" -j DNAT --to-destination 172.18.0.2:80',
    docker: '-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80',
    note: 'no `! -i docker0`: a container reaching a published port is DNATed in the kernel (hairpin); Docker leaves that to its userland proxy',
  });
});

test('a user network: docker0\'s rules show as Docker-only, nothing mis-paired', () => {
  const user = { ...NET, name: 'front', bridge: 'mc-front', subnet: '10.20.0.0/24' };
  const att: NetworkAttachment = { ...ONE_PORT, network: 'front', bridge: 'mc-front', ip: '10.20.0.2', prefixLength: 24, gateway: '10.20.0.1' };
  const rows = compareRules(user, att, 28);
  const docker0 = rows.filter((r) => r.docker?.includes('docker0'));
  assert.ok(docker0.length > 0);
  assert.ok(docker0.every((r) => r.kind === 'docker-only' && r.note.startsWith("Docker's default bridge docker0 always exists")));
  assert.equal(row(rows, '--src-type LOCAL')?.kind, 'minictr-only');
  // Every rule of either side appears exactly once.
  assert.equal(rows.filter((r) => r.minictr).length, minictrRules(user, att).length);
  assert.equal(rows.filter((r) => r.docker && r.docker !== '-P FORWARD DROP').length, dockerRules(dockerScopeFor(user, att), 28).length);
});

test('renderCompare: shell comments, marks, and which rules this run adds', () => {
  const plan = containerSetupPlan();
  const text = renderCompare({ net: NET, attachment: ATT, plan }, 28);
  const out = text.split('\n').filter(Boolean);
  assert.ok(out.every((l) => l.startsWith('#')), 'the dry-run output stays a runnable script');
  assert.equal(out[0], '# ---- minictr vs Docker 28 (28.2+ layout, iptables, userland proxy on) ----');
  assert.ok(out.includes('# names: MINICTR* ↔ DOCKER*, bridge minictr0 ↔ docker0, subnet 172.18.0.0/16 ↔ 172.17.0.0/16, container 172.18.0.2 ↔ 172.17.0.2'));
  assert.ok(out.includes('# ~ minictr* -A MINICTR -p tcp -m tcp --dport 5005 -m comment --comment "minictr:abcdef012345" -j DNAT --to-destination 172.18.0.2:5000'));
  assert.ok(out.includes('#   docker   -A DOCKER ! -i docker0 -p tcp -m tcp --dport 5005 -j DNAT --to-destination 172.17.0.2:5000'));
  assert.ok(out.includes('# = minictr  -A FORWARD -m comment --comment minictr -j MINICTR-USER'), 'standing rules are not added by a container plan');
  assert.ok(out.includes('# - docker   -A DOCKER -i docker0 -j RETURN'));
  assert.equal(out[out.length - 1], '# 17 the same, 3 different, 5 minictr only, 2 Docker only');
  assert.equal(
    renderCompare(undefined, 27),
    '# ---- minictr vs Docker 27 (classic layout, ≤27, iptables, userland proxy on) ----\n# --network none/host: neither minictr nor Docker installs firewall rules for this container.\n',
  );
});

test('renderCompare on a first run: every minictr rule is added by the plan', () => {
  const plan = concatPlans('run', planNetworkSetup(NET, { bridgeExists: false, standingRulesExist: false, networkRulesExist: false }), containerSetupPlan());
  const minictrLines = renderCompare({ net: NET, attachment: ATT, plan }, 29).split('\n').filter((l) => /^# [=~+] minictr/.test(l));
  assert.equal(minictrLines.length, minictrRules(NET, ATT).length);
  assert.ok(minictrLines.every((l) => /^# [=~+] minictr\* /.test(l)), minictrLines.join('\n'));
});
