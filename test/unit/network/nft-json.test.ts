// The nftables dump parser against a capture from a real run (test/fixtures/nft-ruleset-inet.*,
// taken in the sandbox with nft 1.0.6: networks bridge, v6net (--ipv6) and inner (--internal);
// web on v6net with -p 8080:5000 -p 127.0.0.1:8081:5001/udp -p [fd99::1]:9091:5000, db on inner,
// plain on bridge with -p 10.99.0.1:7070:80). The JSON and the text listing were taken together;
// the ports chain's first rule (`ip6 daddr ::1 return`) was added to both by hand afterwards, in
// the form nft 1.0.6 prints and dumps it.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NetworkAttachment } from '../../../src/base/records.js';
import { MinictrError } from '../../../src/base/errors.js';
import { parseNftJson, renderRule } from '../../../src/network/firewall/nft-json.js';
import { nftablesDriver } from '../../../src/network/firewall/nftables-driver.js';
import { buildNetView, firewallView, renderNetView, type Known } from '../../../src/explain/inspect-net.js';

const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/', import.meta.url));
const JSON_DUMP = readFileSync(`${FIXTURES}nft-ruleset-inet.json`, 'utf8');
const TEXT_DUMP = readFileSync(`${FIXTURES}nft-ruleset-inet.txt`, 'utf8');

const WEB = '7c5f67778b0a397e45f9480ea2c1493d4f435d23006760775643f9a3f6aea78b';
const DB = 'df490459f05f6bfbb859ae04a9c7c6e04a4d2441f59c53ab7a4a4fc9a5fd045e';
const PLAIN = '64952dc8069fb5c6d5cd72ac255bd17b9f42814f1fe45b1eee499bcbf2cbecf0';

function att(id: string, fields: Partial<NetworkAttachment> & Pick<NetworkAttachment, 'network' | 'bridge' | 'ip' | 'prefixLength' | 'gateway'>): NetworkAttachment {
  return { netns: `minictr-${id.slice(0, 12)}`, hostVeth: `veth${id.slice(0, 7)}`, mac: '02:42:00:00:00:02', ports: [], ...fields };
}

/** The records of the run the fixture was captured from. */
const KNOWN: Known = {
  networks: [
    { name: 'bridge', bridge: 'minictr0', subnet: '172.18.0.0/16', gateway: '172.18.0.1', firewall: 'nftables' },
    { name: 'v6net', bridge: 'minictr-cd9721b', subnet: '10.77.0.0/24', gateway: '10.77.0.1', subnet6: 'fd77::/64', firewall: 'nftables' },
    { name: 'inner', bridge: 'minictr-5df2352', subnet: '10.78.0.0/24', gateway: '10.78.0.1', firewall: 'nftables', internal: true },
  ],
  containers: [
    {
      name: 'web',
      id: WEB,
      attachment: att(WEB, {
        network: 'v6net', bridge: 'minictr-cd9721b', ip: '10.77.0.2', prefixLength: 24, gateway: '10.77.0.1', ip6: 'fd77::2', prefixLength6: 64, gateway6: 'fd77::1',
        ports: [
          { hostIp: '', hostPort: 8080, containerPort: 5000, proto: 'tcp' },
          { hostIp: '::', hostPort: 8080, containerPort: 5000, proto: 'tcp' },
          { hostIp: '127.0.0.1', hostPort: 8081, containerPort: 5001, proto: 'udp' },
          { hostIp: 'fd99::1', hostPort: 9091, containerPort: 5000, proto: 'tcp' },
        ],
      }),
    },
    { name: 'db', id: DB, attachment: att(DB, { network: 'inner', bridge: 'minictr-5df2352', ip: '10.78.0.2', prefixLength: 24, gateway: '10.78.0.1', internal: true }) },
    {
      name: 'plain',
      id: PLAIN,
      attachment: att(PLAIN, { network: 'bridge', bridge: 'minictr0', ip: '172.18.0.2', prefixLength: 16, gateway: '172.18.0.1', ports: [{ hostIp: '10.99.0.1', hostPort: 7070, containerPort: 80, proto: 'tcp' }] }),
    },
  ],
};

/**
 * What the text listing shows, line by line: each rule line of a chain, and each element
 * between `elements = {` and `}` (the fixture's comments hold no comma, so a comma splits them).
 */
function textListing(text: string): { rules: string[]; elements: string[] } {
  const rules: string[] = [];
  const elements: string[] = [];
  let inChain = false;
  for (const m of text.matchAll(/elements = \{([^}]*)\}/g)) elements.push(...(m[1] ?? '').split(',').map((e) => e.replace(/\s+/g, ' ').trim()));
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (/^chain \S+ \{$/.test(line)) inChain = true;
    else if (line === '}') inChain = false;
    else if (inChain && line !== '' && !/^type .* hook /.test(line) && !/^comment "[^"]*"$/.test(line)) rules.push(line);
  }
  return { rules, elements };
}

test('every rule and element rendered from nft -j is the very line nft list printed for it', () => {
  const dump = parseNftJson(JSON_DUMP);
  const listed = textListing(TEXT_DUMP);
  const rules = dump.rules.filter((r) => !r.chain.startsWith('@')).map((r) => r.line);
  const elements = dump.rules.filter((r) => r.chain.startsWith('@')).map((r) => r.line);
  assert.deepEqual(rules, listed.rules);
  assert.deepEqual(elements.sort(), [...listed.elements].sort());
  assert.equal(rules.length, 46);
  assert.equal(elements.length, 36);
});

test('identity comes from the JSON: table, chain or @set, handle and comment; base chains carry their policy', () => {
  const dump = parseNftJson(JSON_DUMP);
  assert.deepEqual(dump.chains.slice(0, 6), [
    { table: 'inet minictr', chain: 'forward', policy: 'accept' },
    { table: 'inet minictr', chain: 'prerouting', policy: 'accept' },
    { table: 'inet minictr', chain: 'output', policy: 'accept' },
    { table: 'inet minictr', chain: 'postrouting', policy: 'accept' },
    { table: 'inet minictr', chain: 'raw-prerouting', policy: 'accept' },
    { table: 'inet minictr', chain: 'ports', policy: '-' },
  ]);
  const guard = dump.rules.find((r) => r.chain === '@guard6');
  assert.deepEqual(guard, { table: 'inet minictr', chain: '@guard6', line: 'fd77::2 comment "minictr:7c5f67778b0a" : jump guard-minictr-cd9721b', comment: 'minictr:7c5f67778b0a' });
  const first = dump.rules.find((r) => r.chain === 'forward');
  assert.deepEqual(first, { table: 'inet minictr', chain: 'forward', line: 'oifname vmap @fwd-in comment "minictr"', handle: 24, comment: 'minictr' });
  assert.equal(nftablesDriver.scopeOf(guard ?? first!), '7c5f67778b0a');
  assert.equal(nftablesDriver.scopeOf(first!), '');
  assert.equal(nftablesDriver.attachmentBridge(dump.rules.find((r) => r.chain === '@guard4' && r.comment === 'minictr:df490459f05f')!), 'minictr-5df2352');
});

test('net inspect checks the JSON dump against the plan: every rule ✓, none ✗ or ?', () => {
  const view = firewallView(parseNftJson(JSON_DUMP), nftablesDriver.expectedRules(KNOWN), KNOWN, { all: false });
  assert.deepEqual(view.missing.map((m) => `${m.chain} ${m.line}`), []);
  assert.deepEqual(view.rules.filter((r) => r.status !== 'planned').map((r) => `${r.status} ${r.chain} ${r.line}`), []);
  assert.equal(view.rules.length, 82);
  assert.equal(view.rules.find((r) => r.chain === '@ports-addr6')?.owner, 'container web');
});

test('net inspect marks what the JSON lacks ✗, an element no record plans ?, and another table\'s rules as not minictr\'s', () => {
  const doc = JSON.parse(JSON_DUMP) as { nftables: Record<string, Record<string, unknown>>[] };
  const items = doc.nftables.flatMap((item) => {
    const map = item['map'];
    if (map?.['name'] === 'ports-addr6') return [];
    const set = item['set'];
    if (set?.['name'] === 'published6') {
      const [elem] = set['elem'] as { elem: { val: unknown; comment: string } }[];
      return [{ set: { ...set, elem: [{ elem: { ...elem?.elem, comment: 'minictr:0123456789ab' } }] } }];
    }
    return [item];
  });
  items.push(
    { table: { family: 'inet', name: 'other', handle: 9 } },
    { chain: { family: 'inet', table: 'other', name: 'fwd', handle: 1, type: 'filter', hook: 'forward', prio: 0, policy: 'drop' } },
    { rule: { family: 'inet', table: 'other', chain: 'fwd', handle: 2, expr: [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'eth0' } }, { counter: { packets: 3, bytes: 180 } }, { accept: null }] } },
  );
  const dump = parseNftJson(JSON.stringify({ nftables: items }));
  const view = firewallView(dump, nftablesDriver.expectedRules(KNOWN), KNOWN, { all: true });
  assert.deepEqual(view.missing.map((m) => `${m.chain} ${m.line}`), [
    '@published6 fd77::2 . tcp . 5000 comment "minictr:7c5f67778b0a"',
    '@ports-addr6 fd99::1 . tcp . 9091 comment "minictr:7c5f67778b0a" : fd77::2 . 5000',
  ]);
  const stray = view.rules.find((r) => r.chain === '@published6');
  assert.equal(stray?.status, 'unplanned');
  assert.equal(stray?.owner, 'container 0123456789ab (no record: a leftover)');
  assert.deepEqual(view.rules.filter((r) => r.status === 'other').map((r) => `${r.table} ${r.chain} ${r.line}`), ['inet other fwd iifname "eth0" counter packets 3 bytes 180 accept']);
  const text = renderNetView(
    buildNetView({ scope: { kind: 'host' }, stack: { link: '[]', addr: '[]', route: '[]', neigh: '[]' }, hostRules: '', nftRules: JSON.stringify({ nftables: items }), known: KNOWN, all: false }),
    { all: false },
    KNOWN,
  );
  assert.match(text, /^ {2}✓ @guard6 {2}fd77::2 comment "minictr:7c5f67778b0a" : jump guard-minictr-cd9721b$/m);
  assert.match(text, /^ {2}✗ @ports-addr6 {2}fd99::1 \. tcp \. 9091 comment "minictr:7c5f67778b0a" : fd77::2 \. 5000$/m);
  assert.match(text, /^ {2}\? @published6 {2}fd77::2 \. tcp \. 5000 comment "minictr:0123456789ab"$/m);
  assert.match(text, /iptables-save and nft -j list ruleset inet/);
});

test('expressions the renderer does not know are shown by kind, never dropped; bad JSON is one clear error', () => {
  assert.equal(renderRule([{ quota: { val: 10, val_unit: 'mbytes' } }, { drop: null }]), '<quota {"val":10,"val_unit":"mbytes"}> drop');
  assert.equal(renderRule([{ match: { op: 'in', left: { ct: { key: 'state' } }, right: { set: ['new', 'untracked'] } } }, { reject: { type: 'tcp reset' } }], 'x'), 'ct state { new, untracked } reject with tcp reset comment "x"');
  assert.deepEqual(parseNftJson(''), { chains: [], rules: [] });
  assert.throws(() => parseNftJson('table inet minictr {'), (err: unknown) => err instanceof MinictrError && /could not read the output of nft -j list ruleset as JSON/.test(err.message));
});
