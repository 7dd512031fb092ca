import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import {
  countRules,
  evaluate,
  exitCodeFor,
  iptablesBackend,
  nameservers,
  overlaySupported,
  renderFindings,
  type DoctorFacts,
  type Finding,
} from '../../../src/explain/doctor.js';
import { HOST_SAVE } from './fixtures.js';

const GOOD: DoctorFacts = {
  root: true,
  iptablesVersion: 'iptables v1.8.9 (nf_tables)',
  activeSave: HOST_SAVE,
  otherSave: '',
  ipForward: '1',
  brNetfilter: true,
  bridgeNfCallIptables: '1',
  firewalld: false,
  ufw: false,
  networks: [{ name: 'bridge', bridge: 'minictr0', subnet: '172.18.0.0/16' }],
  routes: [
    { dst: 'default', gateway: '192.168.1.1', dev: 'eth0' },
    { dst: '192.168.1.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link' },
    { dst: '172.18.0.0/16', dev: 'minictr0', protocol: 'kernel', scope: 'link' },
  ],
  resolvConf: '# generated\nsearch lan\nnameserver 192.168.1.1\n',
  tools: ['ip', 'iptables', 'iptables-restore', 'unshare', 'nsenter', 'mount', 'conntrack', 'nft', 'ip6tables'].map((name) => ({ name, found: true, version: `${name} 1.0` })),
  busybox: { path: '/bin/busybox', static: true, version: 'BusyBox v1.35.0' },
  filesystems: 'nodev\tsysfs\nnodev\toverlay\n\text4\n',
};

const find = (findings: Finding[], check: string): Finding[] => findings.filter((f) => f.check === check);

test('parsing helpers', () => {
  assert.equal(iptablesBackend('iptables v1.8.9 (nf_tables)'), 'nf_tables');
  assert.equal(iptablesBackend('iptables v1.8.7 (legacy)'), 'legacy');
  assert.equal(iptablesBackend('iptables v1.6.1'), 'legacy');
  assert.equal(iptablesBackend(undefined), undefined);
  assert.deepEqual(countRules(HOST_SAVE), { rules: 27, minictr: 26 });
  assert.deepEqual(nameservers('nameserver 127.0.0.53\n# nameserver 1.1.1.1\n  nameserver ::1\noptions edns0\n'), ['127.0.0.53', '::1']);
  assert.equal(overlaySupported(GOOD.filesystems), true);
  assert.equal(overlaySupported('nodev\toverlayfs-not\n'), false);
});

test('a healthy host: every finding ok, exit 0', () => {
  const findings = evaluate(GOOD);
  assert.deepEqual(findings.filter((f) => f.status !== 'ok'), []);
  assert.deepEqual(findings.map((f) => f.check), [
    'tool ip', 'tool iptables', 'tool iptables-restore', 'tool unshare', 'tool nsenter', 'tool mount', 'tool conntrack', 'tool nft', 'tool ip6tables',
    'busybox', 'iptables backend', 'ip_forward', 'br_netfilter', 'FORWARD chain', 'IPv6', 'firewalld', 'ufw', 'subnets', 'DNS', 'overlayfs',
  ]);
  assert.deepEqual(find(findings, 'iptables backend'), [
    { check: 'iptables backend', status: 'ok', summary: "minictr uses nf_tables (27 rules, 26 of them minictr's); nothing in legacy", consequence: '', fix: '' },
  ]);
  assert.equal(find(findings, 'FORWARD chain')[0]?.summary, "policy DROP (Docker sets this); minictr's jumps come first, so iptables-driver networks are unaffected");
  assert.equal(find(findings, 'subnets')[0]?.summary, 'bridge 172.18.0.0/16: no overlap with host routes or nameservers');
  assert.equal(exitCodeFor(findings), 0);
});

test('blockers: not root, a missing tool, a dynamic busybox, an overlapping route and nameserver', () => {
  const findings = evaluate({
    ...GOOD,
    root: false,
    tools: GOOD.tools.map((t) => (t.name === 'nsenter' ? { name: 'nsenter', found: false } : t)),
    busybox: { path: '/usr/bin/busybox', static: false },
    routes: [...GOOD.routes, { dst: '172.18.5.0/24', dev: 'wg0', protocol: 'static' }, { dst: '172.18.9.9', dev: 'eth0' }],
    resolvConf: 'nameserver 172.18.0.53\n',
  });
  assert.deepEqual(find(findings, 'root'), [{ check: 'root', status: 'blocker', summary: 'not running as root', consequence: 'minictr creates namespaces and changes the network: it needs root', fix: 'run it with sudo' }]);
  assert.deepEqual(find(findings, 'tool nsenter'), [{ check: 'tool nsenter', status: 'blocker', summary: 'not found on PATH', consequence: 'minictr runs nsenter to start and enter containers: nothing works without it', fix: 'apt-get install util-linux' }]);
  assert.equal(find(findings, 'busybox')[0]?.status, 'blocker');
  assert.deepEqual(find(findings, 'subnets').map((f) => [f.status, f.summary]), [
    ['blocker', 'network bridge (172.18.0.0/16) overlaps the host route 172.18.5.0/24 dev wg0'],
    ['blocker', 'network bridge (172.18.0.0/16) overlaps the host route 172.18.9.9 dev eth0'],
    ['blocker', 'nameserver 172.18.0.53 lies inside network bridge (172.18.0.0/16)'],
  ]);
  assert.equal(exitCodeFor(findings), 1);
});

test('warnings: other backend, ip_forward, br_netfilter, FORWARD rules ahead, firewalld, ufw, DNS stub, no overlay, no conntrack', () => {
  const aheadSave = '*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j REJECT --reject-with icmp-host-prohibited\n-A FORWARD -m comment --comment minictr -j MINICTR-USER\nCOMMIT\n';
  const findings = evaluate({
    ...GOOD,
    activeSave: aheadSave,
    otherSave: '*filter\n:FORWARD DROP [0:0]\n-A FORWARD -j DOCKER-USER\n-A FORWARD -j DOCKER-FORWARD\nCOMMIT\n',
    ipForward: '0',
    brNetfilter: false,
    firewalld: true,
    ufw: true,
    resolvConf: 'nameserver 127.0.0.53\n',
    filesystems: 'nodev\tsysfs\n',
    tools: GOOD.tools.filter((t) => t.name !== 'conntrack'),
  });
  const warned = findings.filter((f) => f.status === 'warn').map((f) => f.check);
  assert.deepEqual(warned, ['tool conntrack', 'iptables backend', 'ip_forward', 'br_netfilter', 'FORWARD chain', 'firewalld', 'ufw', 'DNS', 'overlayfs']);
  assert.equal(exitCodeFor(findings), 0, 'warnings alone do not fail doctor');
  assert.deepEqual(find(findings, 'iptables backend')[0], {
    check: 'iptables backend',
    status: 'warn',
    summary: "minictr uses nf_tables (2 rules, 1 of them minictr's); 2 rules in legacy too",
    consequence: 'both rule sets apply, in an order nobody chose: a DROP in legacy (e.g. another tool\'s FORWARD policy) drops what minictr accepted',
    fix: 'use one backend for every tool (update-alternatives --config iptables), or check `iptables-legacy-save` allows container traffic',
  });
  assert.equal(find(findings, 'FORWARD chain')[0]?.summary, "policy ACCEPT; 1 rule(s) ahead of minictr's jumps, e.g. -A FORWARD -j REJECT --reject-with icmp-host-prohibited");
  assert.match(find(findings, 'ufw')[0]?.consequence ?? '', /published ports bypass INPUT/);
  assert.match(find(findings, 'firewalld')[0]?.consequence ?? '', /published ports bypass INPUT/);
  assert.equal(find(findings, 'DNS')[0]?.summary, 'only loopback nameservers (127.0.0.53): a local stub such as systemd-resolved');
});

test('minictr rules left in the other backend are called out', () => {
  const findings = evaluate({ ...GOOD, otherSave: '*nat\n-A POSTROUTING -s 172.18.0.0/16 ! -o minictr0 -m comment --comment "minictr:bridge" -j MASQUERADE\nCOMMIT\n' });
  assert.equal(find(findings, 'iptables backend')[0]?.summary, "minictr uses nf_tables (27 rules, 26 of them minictr's); 1 minictr rules sit in legacy");
});

test('rendering: one line per finding, consequence and fix under problems', () => {
  const text = renderFindings([
    { check: 'ip_forward', status: 'ok', summary: 'net.ipv4.ip_forward = 1', consequence: '', fix: '' },
    { check: 'ufw', status: 'warn', summary: 'enabled', consequence: 'ports bypass it', fix: 'use MINICTR-USER' },
    { check: 'root', status: 'blocker', summary: 'not root', consequence: 'cannot work', fix: 'sudo' },
  ]);
  assert.equal(
    text,
    [
      '  ok       ip_forward  net.ipv4.ip_forward = 1',
      '  WARN     ufw         enabled',
      '           → ports bypass it',
      '           fix: use MINICTR-USER',
      '  BLOCKER  root        not root',
      '           → cannot work',
      '           fix: sudo',
      '',
      '1 blocker(s), 1 warning(s): minictr cannot work here until the blockers are fixed',
      '',
    ].join('\n'),
  );
});

/** As `nft -j list ruleset` prints an iptables-nft FORWARD with policy drop, firewalld's table and minictr's. */
const NFT_RULESET = JSON.stringify({
  nftables: [
    {"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
    {"table": {"family": "ip", "name": "filter", "handle": 1}},
    {"chain": {"family": "ip", "table": "filter", "name": "FORWARD", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}},
    {"table": {"family": "inet", "name": "firewalld", "handle": 2}},
    {"chain": {"family": "inet", "table": "firewalld", "name": "filter_FORWARD", "handle": 1, "type": "filter", "hook": "forward", "prio": 10, "policy": "accept"}},
    {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_FORWARD", "handle": 2, "expr": [{"reject": {"type": "icmpx", "expr": "admin-prohibited"}}]}},
    {"table": {"family": "inet", "name": "minictr", "handle": 3}},
    {"chain": {"family": "inet", "table": "minictr", "name": "forward", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}},
    {"rule": {"family": "inet", "table": "minictr", "chain": "forward", "handle": 2, "comment": "minictr", "expr": [{"vmap": {"key": {"meta": {"key": "oifname"}}, "data": "@fwd-in"}}]}},
  ],
});

test('firewall drivers: which one new networks get, nft needed only when a network uses it, drops nftables cannot override', () => {
  const iptablesOnly = evaluate({ ...GOOD, firewall: { name: 'iptables', from: 'the default' }, networkFirewalls: [{ name: 'bridge', firewall: 'iptables' }], tools: GOOD.tools.filter((t) => t.name !== 'nft') });
  assert.deepEqual(find(iptablesOnly, 'tool nft').map((f) => f.status), ['ok']);
  assert.equal(find(iptablesOnly, 'firewall driver')[0]?.summary, 'new networks get iptables (the default); iptables: bridge; nftables: none');
  const needsNft = evaluate({ ...GOOD, firewall: { name: 'nftables', from: 'MINICTR_FIREWALL' }, networkFirewalls: [{ name: 'bridge', firewall: 'iptables' }], tools: GOOD.tools.filter((t) => t.name !== 'nft') });
  assert.deepEqual(find(needsNft, 'tool nft').map((f) => f.status), ['blocker']);
  assert.equal(exitCodeFor(needsNft), 1);

  const mixed = evaluate({ ...GOOD, firewall: { name: 'iptables', from: 'the default' }, networkFirewalls: [{ name: 'bridge', firewall: 'iptables' }, { name: 'web', firewall: 'nftables' }], nftRuleset: NFT_RULESET });
  assert.equal(find(mixed, 'other nftables rules')[0]?.summary, 'inet firewalld (firewalld)');
  const drop = find(mixed, 'forward drop vs nftables')[0];
  assert.equal(drop?.status, 'warn');
  assert.equal(drop?.summary, 'iptables FORWARD policy DROP; networks on nftables: web');
  assert.match(drop?.fix ?? '', /iptables -I FORWARD -i minictr\+ -j ACCEPT/);

  const bad = evaluate({ ...GOOD, firewall: { name: '?', from: 'invalid firewall "ufw" (MINICTR_FIREWALL): choose iptables or nftables' } });
  assert.equal(find(bad, 'firewall driver')[0]?.status, 'warn');
});

test('nft JSON: said in one line when the nftables driver is in use or asked for, with what to install when nft -j fails', () => {
  const said = 'JSON support not compiled-in';
  const onNft = { ...GOOD, firewall: { name: 'iptables', from: 'the default' }, networkFirewalls: [{ name: 'web', firewall: 'nftables' }] };
  assert.deepEqual(find(evaluate({ ...onNft, nftJson: { works: true } }), 'nft JSON').map((f) => [f.status, f.summary]), [['ok', '`nft -j list ruleset` works']]);
  const broken = evaluate({ ...onNft, nftJson: { works: false, said } });
  const finding = find(broken, 'nft JSON')[0];
  assert.equal(finding?.status, 'blocker');
  assert.equal(finding?.summary, `\`nft -j list ruleset\` fails: ${said}`);
  assert.match(finding?.fix ?? '', /libjansson.*apt-get install nftables/);
  assert.equal(exitCodeFor(broken), 1);
  assert.match(renderFindings(broken), /BLOCKER\s+nft JSON\s+`nft -j list ruleset` fails: JSON support not compiled-in\n\s+→ .*\n\s+fix: install an nft built with JSON support/);
  const noKernel = evaluate({ ...onNft, nftJson: { works: false, said: 'Error: Could not process rule: Operation not supported' } });
  assert.match(find(noKernel, 'nft JSON')[0]?.fix ?? '', /modprobe nf_tables/, 'another failure is not blamed on JSON');
  const askedFor = evaluate({ ...GOOD, firewall: { name: 'nftables', from: 'MINICTR_FIREWALL' }, networkFirewalls: [], nftJson: { works: false, said } });
  assert.equal(find(askedFor, 'nft JSON')[0]?.status, 'blocker', 'new networks would get nftables');
  const iptablesOnly = evaluate({ ...GOOD, firewall: { name: 'iptables', from: 'the default' }, networkFirewalls: [{ name: 'bridge', firewall: 'iptables' }], nftJson: { works: false, said } });
  assert.deepEqual(find(iptablesOnly, 'nft JSON'), [], 'not a concern while no network uses nftables');
});

test('IPv6, when a network asks for it: the kernel has it and has it on, the host forwards it, ip6tables is there and on one backend', () => {
  const none = evaluate(GOOD);
  assert.deepEqual(find(none, 'IPv6'), [{ check: 'IPv6', status: 'ok', summary: 'no network asks for it (network create --ipv6)', consequence: '', fix: '' }]);
  assert.deepEqual(find(evaluate({ ...GOOD, ipv6Kernel: false }), 'IPv6').map((f) => f.status), ['ok'], 'no IPv6 in the kernel is fine while nothing asks for it');

  const V6: DoctorFacts = {
    ...GOOD,
    networkFirewalls: [{ name: 'bridge', firewall: 'iptables' }, { name: 'v6net', firewall: 'iptables', ipv6: true }],
    ipv6Kernel: true, ipv6Disabled: '0', ipv6Forward: '1',
    tools: GOOD.tools.map((t) => (t.name === 'ip6tables' ? { ...t, version: 'ip6tables v1.8.9 (nf_tables)' } : t)),
    activeSave6: '*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j MINICTR-FORWARD -m comment --comment minictr\nCOMMIT\n', otherSave6: '',
  };
  const good = evaluate(V6);
  assert.deepEqual(good.filter((f) => f.status !== 'ok'), []);
  assert.deepEqual(find(good, 'IPv6')[0]?.summary, 'the kernel has IPv6; network(s) with it: v6net');
  assert.deepEqual(find(good, 'ip6tables backend')[0]?.summary, "minictr uses nf_tables (1 rules, 1 of them minictr's); nothing in legacy");

  const noKernel = evaluate({ ...V6, ipv6Kernel: false });
  assert.equal(find(noKernel, 'IPv6')[0]?.status, 'blocker');
  assert.match(find(noKernel, 'IPv6')[0]?.summary ?? '', /the kernel has no IPv6 \(\/proc\/sys\/net\/ipv6 is missing\); network\(s\) v6net ask for it/);
  assert.match(find(noKernel, 'IPv6')[0]?.fix ?? '', /ipv6\.disable=1/);
  assert.equal(exitCodeFor(noKernel), 1);

  const off = find(evaluate({ ...V6, ipv6Disabled: '1' }), 'IPv6')[0];
  assert.equal(off?.status, 'warn');
  assert.match(off?.fix ?? '', /sysctl -w net\.ipv6\.conf\.all\.disable_ipv6=0/);

  const noForward = find(evaluate({ ...V6, ipv6Forward: '0' }), 'ipv6 forwarding')[0];
  assert.equal(noForward?.status, 'warn');
  assert.equal(noForward?.summary, 'net.ipv6.conf.all.forwarding = 0');
  assert.match(noForward?.consequence ?? '', /it does when it sets up a network with IPv6, as Docker does/);

  const noTool = evaluate({ ...V6, tools: V6.tools.filter((t) => t.name !== 'ip6tables') });
  assert.equal(find(noTool, 'tool ip6tables')[0]?.status, 'blocker');
  assert.match(find(noTool, 'tool ip6tables')[0]?.consequence ?? '', /network\(s\) v6net have IPv6 on the iptables firewall/);
  assert.equal(find(evaluate({ ...GOOD, tools: GOOD.tools.filter((t) => t.name !== 'ip6tables') }), 'tool ip6tables')[0]?.status, 'ok');
  assert.equal(find(evaluate({ ...V6, networkFirewalls: [{ name: 'v6net', firewall: 'nftables', ipv6: true }], tools: V6.tools.filter((t) => t.name !== 'ip6tables') }), 'tool ip6tables')[0]?.status, 'ok', 'nftables needs no ip6tables');

  const mixed = find(evaluate({ ...V6, otherSave6: '*filter\n:FORWARD DROP [0:0]\n-A FORWARD -j DROP\nCOMMIT\n' }), 'ip6tables backend')[0];
  assert.equal(mixed?.status, 'warn');
  assert.match(mixed?.summary ?? '', /; 1 rules in legacy too$/);
  assert.match(mixed?.fix ?? '', /update-alternatives --config ip6tables\), or check `ip6tables-legacy-save` allows/);
  const leftover = find(evaluate({ ...V6, otherSave6: '*filter\n-A FORWARD -j MINICTR-FORWARD -m comment --comment minictr\nCOMMIT\n' }), 'ip6tables backend')[0];
  assert.match(leftover?.summary ?? '', /1 minictr rules sit in legacy/);
});
