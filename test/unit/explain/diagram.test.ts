import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import {
  buildTopology,
  layoutTopologySvg,
  overlaps,
  parseHostInterfaces,
  renderTopologySvg,
  renderTopologyText,
  type Rect,
} from '../../../src/explain/diagram.js';
import type { Known } from '../../../src/explain/inspect-net.js';
import type { NetworkAttachment } from '../../../src/base/records.js';
import { ATT } from '../network/fixtures.js';
import { HOST_ADDR, KNOWN } from './fixtures.js';

// ---- a tiny XML reader: enough to check the SVG is well formed and to pull out elements.

interface Element {
  name: string;
  attrs: Record<string, string>;
  text: string;
}

function parseSvg(svg: string): Element[] {
  const out: Element[] = [];
  const stack: Element[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>|([^<]+)/g;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = tag.exec(svg)) !== null) {
    assert.equal(m.index, consumed, `unparsable SVG near: ${svg.slice(consumed, consumed + 60)}`);
    consumed = tag.lastIndex;
    if (m[5] !== undefined) {
      assert.ok(!/[<>]/.test(m[5]), 'text is escaped');
      assert.ok(!/&(?!amp;|lt;|gt;|quot;)/.test(m[5]), 'entities are escaped');
      const decoded = m[5].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
      for (const open of stack) open.text += decoded;
      continue;
    }
    const [, closing, name = '', rawAttrs = '', selfClosing] = m;
    if (closing) {
      const open = stack.pop();
      assert.equal(open?.name, name, `</${name}> closes <${open?.name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs.matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1] ?? ''] = a[2] ?? '';
    const el: Element = { name, attrs, text: '' };
    out.push(el);
    if (!selfClosing) stack.push(el);
  }
  assert.equal(consumed, svg.length, 'the whole document was read');
  assert.deepEqual(stack, [], 'every element is closed');
  return out;
}

const rectOf = (e: Element): Rect => ({ x: Number(e.attrs['x']), y: Number(e.attrs['y']), width: Number(e.attrs['width']), height: Number(e.attrs['height']) });

function attachment(i: number, ports = i % 3 === 0): NetworkAttachment {
  const hex = (i + 0x10).toString(16).padStart(2, '0');
  return {
    ...ATT,
    netns: `minictr-${hex}cdef012345`,
    hostVeth: `veth${hex}cdef0`,
    ip: `172.18.0.${i + 2}`,
    mac: '',
    ports: ports ? [{ hostIp: i % 2 ? '127.0.0.1' : '', hostPort: 8000 + i, containerPort: 80, proto: 'tcp' }] : [],
  };
}

function knownWith(n: number): Known {
  return {
    networks: KNOWN.networks,
    containers: Array.from({ length: n }, (_, i) => ({ name: i === 1 ? 'a-container-with-a-long-name' : `c${i}`, id: `${(i + 0x10).toString(16)}cdef0123456789`.padEnd(64, '0'), attachment: attachment(i) })),
  };
}

test('host interfaces from ip -j addr: IPv4 and global IPv6, state and master', () => {
  assert.deepEqual(parseHostInterfaces(HOST_ADDR), [
    { name: 'lo', up: true, addresses: ['127.0.0.1/8'] },
    { name: 'eth0', up: true, addresses: ['10.99.0.1/24'] },
    { name: 'minictr0', up: true, addresses: ['172.18.0.1/16'] },
    { name: 'vethabcdef0', up: true, addresses: [], master: 'minictr0' },
    { name: 'wlan0', up: false, addresses: [] },
  ]);
});

test('topology: host interfaces apart from bridges and veths, containers under their bridge', () => {
  const topo = buildTopology(KNOWN, HOST_ADDR);
  assert.deepEqual(topo, {
    host: [
      { name: 'lo', up: true, addresses: ['127.0.0.1/8'] },
      { name: 'eth0', up: true, addresses: ['10.99.0.1/24'] },
      { name: 'wlan0', up: false, addresses: [] },
    ],
    bridges: [
      {
        network: 'bridge',
        bridge: 'minictr0',
        subnet: '172.18.0.0/16',
        gateway: '172.18.0.1',
        present: true,
        addresses: ['172.18.0.1/16'],
        containers: [
          {
            name: 'web',
            id: KNOWN.containers[0]!.id,
            ip: '172.18.0.2',
            prefixLength: 16,
            netns: 'minictr-abcdef012345',
            hostVeth: 'vethabcdef0',
            vethPresent: true,
            ports: ATT.ports,
          },
        ],
      },
    ],
  });
  assert.deepEqual(buildTopology(KNOWN, HOST_ADDR, 'other').bridges, []);
});

test('text: a box-drawing tree with veth pairs and DNAT targets', () => {
  assert.equal(
    renderTopologyText(buildTopology(KNOWN, HOST_ADDR)),
    [
      "host (minictr's network namespace)",
      '├── lo     127.0.0.1/8',
      '├── eth0   10.99.0.1/24',
      '├── wlan0  (no address)  (down)',
      '│',
      '└─┬ minictr0  bridge of network "bridge"  172.18.0.0/16  gateway 172.18.0.1/16',
      '  │   host end        container end (own namespace)',
      '  └── vethabcdef0 ═══ eth0 172.18.0.2/16  web (abcdef012345)',
      '          published 0.0.0.0:5005/tcp ─DNAT→ 172.18.0.2:5000',
      '          published 127.0.0.1:8080/udp ─DNAT→ 172.18.0.2:80',
      '',
    ].join('\n'),
  );
  const missing = renderTopologyText(buildTopology(KNOWN, '[]'));
  assert.match(missing, /gateway 172\.18\.0\.1 \(device missing!\)/);
  assert.match(missing, /\(veth missing!\)/);
  assert.equal(
    renderTopologyText(buildTopology({ networks: [], containers: [] }, HOST_ADDR)).split('\n').slice(-2)[0],
    'no minictr networks yet: `minictr run` creates the default one (minictr0, 172.18.0.0/16)',
  );
});

test('SVG: well formed, with the bridge, each container, its address, veth and ports', () => {
  const svg = renderTopologySvg(buildTopology(KNOWN, HOST_ADDR));
  const els = parseSvg(svg);
  assert.equal(els[0]?.name, 'svg');
  const texts = els.filter((e) => e.name === 'text').map((e) => e.text);
  const has = (s: string): boolean => texts.some((t) => t.includes(s));
  for (const s of ['minictr0', 'bridge of network "bridge"', 'gateway 172.18.0.1/16', 'web', 'eth0 172.18.0.2/16', 'vethabcdef0', 'netns minictr-abcdef012345', 'publish :5005/tcp → :5000', 'publish 127.0.0.1:8080/udp → :80', '127.0.0.1:8080/udp', '→ 172.18.0.2:5000', 'eth0', '10.99.0.1/24']) {
    assert.ok(has(s), `SVG mentions ${s}`);
  }
  assert.equal(els.filter((e) => e.name === 'rect' && e.attrs['class'] === 'bridge').length, 1);
  assert.equal(els.filter((e) => e.name === 'path' && e.attrs['class'] === 'veth').length, 1);
});

/** Points of an orthogonal path "M x y V y H x V y …". */
function pathPoints(d: string): [number, number][] {
  const parts = d.trim().split(/\s+/);
  const pts: [number, number][] = [];
  let x = 0;
  let y = 0;
  for (let i = 0; i < parts.length; i++) {
    const op = parts[i];
    if (op === 'M') {
      x = Number(parts[++i]);
      y = Number(parts[++i]);
    } else if (op === 'V') y = Number(parts[++i]);
    else if (op === 'H') x = Number(parts[++i]);
    else continue;
    pts.push([x, y]);
  }
  return pts;
}

function segmentHits(a: [number, number], b: [number, number], r: Rect): boolean {
  const seg = { x: Math.min(a[0], b[0]), y: Math.min(a[1], b[1]), width: Math.abs(a[0] - b[0]) || 0.01, height: Math.abs(a[1] - b[1]) || 0.01 };
  return overlaps(seg, r);
}

test('SVG layout for 1 to 20 containers: no two boxes overlap, no veth line crosses another container', () => {
  for (let n = 1; n <= 20; n++) {
    const { svg, layout } = layoutTopologySvg(buildTopology(knownWith(n), HOST_ADDR));
    const els = parseSvg(svg);
    const boxes = els.filter((e) => e.name === 'rect' && e.attrs['class'] === 'container').map(rectOf);
    assert.equal(boxes.length, n);
    assert.deepEqual(layout.containers.map((c) => c.rect), boxes);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) assert.ok(!overlaps(boxes[i]!, boxes[j]!), `${n} containers: boxes ${i} and ${j} overlap`);
    }
    const host = rectOf(els.find((e) => e.attrs['class'] === 'host')!);
    const bridge = rectOf(els.find((e) => e.attrs['class'] === 'bridge')!);
    for (const b of boxes) {
      assert.ok(b.x >= host.x && b.x + b.width <= host.x + host.width && b.y >= host.y, 'inside the host box');
      assert.ok(b.y + b.height < bridge.y, 'above the bridge');
      assert.ok(!overlaps(b, bridge));
    }
    const paths = els.filter((e) => e.name === 'path' && e.attrs['class'] === 'veth').map((e) => pathPoints(e.attrs['d'] ?? ''));
    assert.equal(paths.length, n);
    paths.forEach((pts, k) => {
      for (let s = 1; s < pts.length; s++) {
        boxes.forEach((b, i) => {
          if (i === k) return;
          assert.ok(!segmentHits(pts[s - 1]!, pts[s]!, b), `${n} containers: veth of ${k} crosses box ${i}`);
        });
      }
      assert.equal(pts[pts.length - 1]![1], bridge.y, 'each veth ends on the bridge');
    });
    const texts = els.filter((e) => e.name === 'text').map((e) => e.text).join('\n');
    for (let i = 0; i < n; i++) {
      assert.ok(texts.includes(`eth0 172.18.0.${i + 2}/16`));
      assert.ok(texts.includes(attachment(i).hostVeth));
    }
    assert.ok(layout.width <= 1400, `${n} containers fit in ${layout.width}px`);
  }
});
