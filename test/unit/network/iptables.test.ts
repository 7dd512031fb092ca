import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import {
  containerRules,
  iptablesCommand,
  networkRules,
  restoreShown,
  restoreText,
  standingChains,
  standingRules,
  type Rule,
} from '../../../src/network/firewall/iptables.js';
import { ATT, C, NET } from './fixtures.js';

const N = 'minictr:bridge';

test('standing rules and chains', () => {
  assert.deepEqual(standingChains(), [
    { table: 'filter', chain: 'MINICTR' },
    { table: 'filter', chain: 'MINICTR-BRIDGE' },
    { table: 'filter', chain: 'MINICTR-CT' },
    { table: 'filter', chain: 'MINICTR-FORWARD' },
    { table: 'filter', chain: 'MINICTR-ISOLATION-STAGE-1' },
    { table: 'filter', chain: 'MINICTR-ISOLATION-STAGE-2' },
    { table: 'filter', chain: 'MINICTR-USER' },
    { table: 'nat', chain: 'MINICTR' },
  ]);
  const s = ['-m', 'comment', '--comment', 'minictr', '-j'];
  assert.deepEqual(standingRules(), [
    { table: 'filter', chain: 'FORWARD', op: '-I', spec: [...s, 'MINICTR-FORWARD'] },
    { table: 'filter', chain: 'FORWARD', op: '-I', spec: [...s, 'MINICTR-USER'] },
    { table: 'filter', chain: 'MINICTR-FORWARD', op: '-A', spec: [...s, 'MINICTR-CT'] },
    { table: 'filter', chain: 'MINICTR-FORWARD', op: '-A', spec: [...s, 'MINICTR-ISOLATION-STAGE-1'] },
    { table: 'filter', chain: 'MINICTR-FORWARD', op: '-A', spec: [...s, 'MINICTR-BRIDGE'] },
    { table: 'nat', chain: 'PREROUTING', op: '-A', spec: ['-m', 'addrtype', '--dst-type', 'LOCAL', ...s, 'MINICTR'] },
    { table: 'nat', chain: 'OUTPUT', op: '-A', spec: ['-m', 'addrtype', '--dst-type', 'LOCAL', ...s, 'MINICTR'] },
  ]);
});

test('network rules for the default bridge', () => {
  const tail = (...t: string[]): string[] => ['-m', 'comment', '--comment', N, '-j', ...t];
  const want: Rule[] = [
    { table: 'filter', chain: 'MINICTR', op: '-A', spec: ['!', '-i', 'minictr0', '-o', 'minictr0', ...tail('DROP')] },
    { table: 'filter', chain: 'MINICTR-BRIDGE', op: '-A', spec: ['-o', 'minictr0', ...tail('MINICTR')] },
    {
      table: 'filter',
      chain: 'MINICTR-CT',
      op: '-A',
      spec: ['-o', 'minictr0', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...tail('ACCEPT')],
    },
    { table: 'filter', chain: 'MINICTR-FORWARD', op: '-A', spec: ['-i', 'minictr0', ...tail('ACCEPT')] },
    {
      table: 'filter',
      chain: 'MINICTR-ISOLATION-STAGE-1',
      op: '-A',
      spec: ['-i', 'minictr0', '!', '-o', 'minictr0', ...tail('MINICTR-ISOLATION-STAGE-2')],
    },
    { table: 'filter', chain: 'MINICTR-ISOLATION-STAGE-2', op: '-A', spec: ['-o', 'minictr0', ...tail('DROP')] },
    { table: 'filter', chain: 'MINICTR-ISOLATION-STAGE-2', op: '-I', spec: ['-o', 'minictr0', '-m', 'conntrack', '--ctstate', 'DNAT', ...tail('RETURN')] },
    { table: 'nat', chain: 'POSTROUTING', op: '-A', spec: ['-s', '172.18.0.0/16', '!', '-o', 'minictr0', ...tail('MASQUERADE')] },
    {
      table: 'nat',
      chain: 'POSTROUTING',
      op: '-A',
      spec: ['-o', 'minictr0', '-m', 'addrtype', '--src-type', 'LOCAL', ...tail('MASQUERADE')],
    },
    { table: 'raw', chain: 'PREROUTING', op: '-A', spec: ['-d', '127.0.0.0/8', '-i', 'minictr0', ...tail('DROP')] },
  ];
  assert.deepEqual(networkRules(NET), want);
});

const CONTAINER_ADD = `*filter
-I MINICTR -d 172.18.0.2/32 ! -i minictr0 -o minictr0 -p tcp -m tcp --dport 5000 -m comment --comment "${C}" -j ACCEPT
-I MINICTR -d 172.18.0.2/32 ! -i minictr0 -o minictr0 -p udp -m udp --dport 80 -m comment --comment "${C}" -j ACCEPT
COMMIT
*nat
-A MINICTR -p tcp -m tcp --dport 5005 -m comment --comment "${C}" -j DNAT --to-destination 172.18.0.2:5000
-A MINICTR -d 127.0.0.1/32 -p udp -m udp --dport 8080 -m comment --comment "${C}" -j DNAT --to-destination 172.18.0.2:80
-A POSTROUTING -s 172.18.0.2/32 -d 172.18.0.2/32 -p tcp -m tcp --dport 5000 -m comment --comment "${C}" -j MASQUERADE
-A POSTROUTING -s 172.18.0.2/32 -d 172.18.0.2/32 -p udp -m udp --dport 80 -m comment --comment "${C}" -j MASQUERADE
COMMIT
*raw
-A PREROUTING -d 127.0.0.1/32 ! -i lo -p udp -m udp --dport 8080 -m comment --comment "${C}" -j DROP
-A PREROUTING -d 172.18.0.2/32 ! -i minictr0 -m comment --comment "${C}" -j DROP
COMMIT
`;

// Deletes start with nat (see TABLE_ORDER in src/network/firewall/iptables.ts).
const CONTAINER_DELETE = `*nat
-D POSTROUTING -s 172.18.0.2/32 -d 172.18.0.2/32 -p udp -m udp --dport 80 -m comment --comment "${C}" -j MASQUERADE
-D POSTROUTING -s 172.18.0.2/32 -d 172.18.0.2/32 -p tcp -m tcp --dport 5000 -m comment --comment "${C}" -j MASQUERADE
-D MINICTR -d 127.0.0.1/32 -p udp -m udp --dport 8080 -m comment --comment "${C}" -j DNAT --to-destination 172.18.0.2:80
-D MINICTR -p tcp -m tcp --dport 5005 -m comment --comment "${C}" -j DNAT --to-destination 172.18.0.2:5000
COMMIT
*filter
-D MINICTR -d 172.18.0.2/32 ! -i minictr0 -o minictr0 -p udp -m udp --dport 80 -m comment --comment "${C}" -j ACCEPT
-D MINICTR -d 172.18.0.2/32 ! -i minictr0 -o minictr0 -p tcp -m tcp --dport 5000 -m comment --comment "${C}" -j ACCEPT
COMMIT
*raw
-D PREROUTING -d 172.18.0.2/32 ! -i minictr0 -m comment --comment "${C}" -j DROP
-D PREROUTING -d 127.0.0.1/32 ! -i lo -p udp -m udp --dport 8080 -m comment --comment "${C}" -j DROP
COMMIT
`;

test('container rules: literal restore text, add and delete', () => {
  assert.equal(restoreText(containerRules(ATT), {}, 'add'), CONTAINER_ADD);
  assert.equal(restoreText(containerRules(ATT), {}, 'delete'), CONTAINER_DELETE);
});

test('container rules as iptables commands (dry-run form)', () => {
  const cmds = containerRules(ATT).map((r) => iptablesCommand(r, 'add').join(' '));
  assert.deepEqual(cmds, [
    `iptables -w -t filter -I MINICTR -d 172.18.0.2/32 ! -i minictr0 -o minictr0 -p tcp -m tcp --dport 5000 -m comment --comment ${C} -j ACCEPT`,
    `iptables -w -t filter -I MINICTR -d 172.18.0.2/32 ! -i minictr0 -o minictr0 -p udp -m udp --dport 80 -m comment --comment ${C} -j ACCEPT`,
    `iptables -w -t nat -A MINICTR -p tcp -m tcp --dport 5005 -m comment --comment ${C} -j DNAT --to-destination 172.18.0.2:5000`,
    `iptables -w -t nat -A MINICTR -d 127.0.0.1/32 -p udp -m udp --dport 8080 -m comment --comment ${C} -j DNAT --to-destination 172.18.0.2:80`,
    `iptables -w -t nat -A POSTROUTING -s 172.18.0.2/32 -d 172.18.0.2/32 -p tcp -m tcp --dport 5000 -m comment --comment ${C} -j MASQUERADE`,
    `iptables -w -t nat -A POSTROUTING -s 172.18.0.2/32 -d 172.18.0.2/32 -p udp -m udp --dport 80 -m comment --comment ${C} -j MASQUERADE`,
    `iptables -w -t raw -A PREROUTING -d 127.0.0.1/32 ! -i lo -p udp -m udp --dport 8080 -m comment --comment ${C} -j DROP`,
    `iptables -w -t raw -A PREROUTING -d 172.18.0.2/32 ! -i minictr0 -m comment --comment ${C} -j DROP`,
  ]);
  assert.deepEqual(iptablesCommand(containerRules(ATT)[0]!, 'delete').slice(0, 6), ['iptables', '-w', '-t', 'filter', '-D', 'MINICTR']);
});

test('a container without ports still gets the raw guard', () => {
  assert.equal(
    restoreText(containerRules({ ...ATT, ports: [] }), {}, 'add'),
    `*raw\n-A PREROUTING -d 172.18.0.2/32 ! -i minictr0 -m comment --comment "${C}" -j DROP\nCOMMIT\n`,
  );
});

test('two host ports for one container port share ACCEPT and hairpin rules', () => {
  const rules = containerRules({
    ...ATT,
    ports: [
      { hostIp: '', hostPort: 8080, containerPort: 80, proto: 'tcp' },
      { hostIp: '10.99.0.1', hostPort: 8081, containerPort: 80, proto: 'tcp' },
    ],
  });
  assert.deepEqual(
    rules.map((r) => `${r.table} ${r.chain} ${r.spec.join(' ')}`),
    [
      `filter MINICTR -d 172.18.0.2/32 ! -i minictr0 -o minictr0 -p tcp -m tcp --dport 80 -m comment --comment ${C} -j ACCEPT`,
      `nat MINICTR -p tcp -m tcp --dport 8080 -m comment --comment ${C} -j DNAT --to-destination 172.18.0.2:80`,
      `nat MINICTR -d 10.99.0.1/32 -p tcp -m tcp --dport 8081 -m comment --comment ${C} -j DNAT --to-destination 172.18.0.2:80`,
      `nat POSTROUTING -s 172.18.0.2/32 -d 172.18.0.2/32 -p tcp -m tcp --dport 80 -m comment --comment ${C} -j MASQUERADE`,
      `raw PREROUTING -d 172.18.0.2/32 ! -i minictr0 -m comment --comment ${C} -j DROP`,
    ],
  );
});

test('every rule in a shared chain carries its owner\'s comment', () => {
  for (const r of containerRules(ATT)) assert.ok(r.spec.join(' ').includes(`--comment ${C} -j`), r.spec.join(' '));
  for (const r of networkRules(NET)) assert.ok(r.spec.join(' ').includes(`--comment ${N} -j`));
  for (const r of standingRules()) assert.ok(r.spec.join(' ').includes('--comment minictr -j'));
});

test('first-install restore text declares the chains, then standing and network rules', () => {
  const text = restoreText([...standingRules(), ...networkRules(NET)], { declareChains: standingChains() }, 'add');
  assert.equal(
    text,
    `*filter
:MINICTR - [0:0]
:MINICTR-BRIDGE - [0:0]
:MINICTR-CT - [0:0]
:MINICTR-FORWARD - [0:0]
:MINICTR-ISOLATION-STAGE-1 - [0:0]
:MINICTR-ISOLATION-STAGE-2 - [0:0]
:MINICTR-USER - [0:0]
-I FORWARD -m comment --comment minictr -j MINICTR-FORWARD
-I FORWARD -m comment --comment minictr -j MINICTR-USER
-A MINICTR-FORWARD -m comment --comment minictr -j MINICTR-CT
-A MINICTR-FORWARD -m comment --comment minictr -j MINICTR-ISOLATION-STAGE-1
-A MINICTR-FORWARD -m comment --comment minictr -j MINICTR-BRIDGE
-A MINICTR ! -i minictr0 -o minictr0 -m comment --comment "${N}" -j DROP
-A MINICTR-BRIDGE -o minictr0 -m comment --comment "${N}" -j MINICTR
-A MINICTR-CT -o minictr0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "${N}" -j ACCEPT
-A MINICTR-FORWARD -i minictr0 -m comment --comment "${N}" -j ACCEPT
-A MINICTR-ISOLATION-STAGE-1 -i minictr0 ! -o minictr0 -m comment --comment "${N}" -j MINICTR-ISOLATION-STAGE-2
-A MINICTR-ISOLATION-STAGE-2 -o minictr0 -m comment --comment "${N}" -j DROP
-I MINICTR-ISOLATION-STAGE-2 -o minictr0 -m conntrack --ctstate DNAT -m comment --comment "${N}" -j RETURN
COMMIT
*nat
:MINICTR - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment minictr -j MINICTR
-A OUTPUT -m addrtype --dst-type LOCAL -m comment --comment minictr -j MINICTR
-A POSTROUTING -s 172.18.0.0/16 ! -o minictr0 -m comment --comment "${N}" -j MASQUERADE
-A POSTROUTING -o minictr0 -m addrtype --src-type LOCAL -m comment --comment "${N}" -j MASQUERADE
COMMIT
*raw
-A PREROUTING -d 127.0.0.0/8 -i minictr0 -m comment --comment "${N}" -j DROP
COMMIT
`,
  );
});

test('restoreShown lists declared chains as -N, and chain removal as -F then -X', () => {
  assert.deepEqual(restoreShown([], { declareChains: [{ table: 'nat', chain: 'MINICTR' }] }, 'add'), [
    ['iptables', '-w', '-t', 'nat', '-N', 'MINICTR'],
  ]);
  const chains = [
    { table: 'filter' as const, chain: 'MINICTR' },
    { table: 'filter' as const, chain: 'MINICTR-CT' },
  ];
  assert.deepEqual(restoreShown([], { removeChains: chains }, 'delete'), [
    ['iptables', '-w', '-t', 'filter', '-F', 'MINICTR'],
    ['iptables', '-w', '-t', 'filter', '-F', 'MINICTR-CT'],
    ['iptables', '-w', '-t', 'filter', '-X', 'MINICTR'],
    ['iptables', '-w', '-t', 'filter', '-X', 'MINICTR-CT'],
  ]);
  assert.equal(
    restoreText([], { removeChains: chains }, 'delete'),
    '*filter\n-F MINICTR\n-F MINICTR-CT\n-X MINICTR\n-X MINICTR-CT\nCOMMIT\n',
  );
  assert.equal(restoreText([], {}, 'add'), '');
});

test('comments are quoted the way iptables-save prints them', () => {
  const rule: Rule = { table: 'filter', chain: 'X', op: '-A', spec: ['-m', 'comment', '--comment', 'say "hi"', '-j', 'ACCEPT'] };
  assert.equal(restoreText([rule], {}, 'add'), '*filter\n-A X -m comment --comment "say \\"hi\\"" -j ACCEPT\nCOMMIT\n');
});
