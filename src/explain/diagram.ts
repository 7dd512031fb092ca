// `network diagram`: the live topology (records + the host's `ip -j addr`) as a box-drawing tree
// and as an SVG in the spirit of the article's figures. Pure: data in, text out.
import type { PortMapping } from '../base/records.js';
import { parseJsonArray, type Known } from './inspect-net.js';
import { columns } from './text.js';

// ------------------------------------------------------------------ the model

export interface HostInterface {
  name: string;
  up: boolean;
  /** IPv4 and global IPv6, as address/prefix. */
  addresses: string[];
  master?: string;
}

export interface TopoContainer {
  name: string;
  id: string;
  ip: string;
  prefixLength: number;
  netns: string;
  hostVeth: string;
  /** The host end exists (in ip -j addr). */
  vethPresent: boolean;
  ports: PortMapping[];
}

export interface TopoBridge {
  network: string;
  bridge: string;
  subnet: string;
  gateway: string;
  /** The device exists on the host. */
  present: boolean;
  /** Its addresses as the kernel has them (the gateway, normally). */
  addresses: string[];
  containers: TopoContainer[];
}

export interface Topology {
  /** The host's own interfaces (bridges and container veths are shown with their network). */
  host: HostInterface[];
  bridges: TopoBridge[];
}

/** The host's interfaces from `ip -j addr` (link state, master, addresses). */
export function parseHostInterfaces(addrJson: string): HostInterface[] {
  return parseJsonArray(addrJson, 'ip -j addr').map((e) => {
    const flags = Array.isArray(e['flags']) ? e['flags'] : [];
    const infos = Array.isArray(e['addr_info']) ? (e['addr_info'] as Record<string, unknown>[]) : [];
    const addresses = infos
      .filter((a) => a && (a['family'] === 'inet' || (a['family'] === 'inet6' && a['scope'] === 'global')))
      .map((a) => `${String(a['local'])}/${String(a['prefixlen'])}`);
    const iface: HostInterface = { name: typeof e['ifname'] === 'string' ? e['ifname'] : '?', up: flags.includes('UP'), addresses };
    if (typeof e['master'] === 'string') iface.master = e['master'];
    return iface;
  });
}

/** Records + live interfaces → the picture. `only` keeps one network. */
export function buildTopology(known: Known, hostAddrJson: string, only?: string): Topology {
  const live = parseHostInterfaces(hostAddrJson);
  const byName = new Map(live.map((i) => [i.name, i]));
  const nets = known.networks.filter((n) => only === undefined || n.name === only);
  const bridgeNames = new Set(known.networks.map((n) => n.bridge));
  const veths = new Set(known.containers.flatMap((c) => (c.attachment ? [c.attachment.hostVeth] : [])));
  const bridges = nets.map((n): TopoBridge => {
    const dev = byName.get(n.bridge);
    return {
      network: n.name,
      bridge: n.bridge,
      subnet: n.subnet,
      gateway: n.gateway,
      present: dev !== undefined,
      addresses: dev?.addresses ?? [],
      containers: known.containers
        .filter((c) => c.attachment?.network === n.name)
        .map((c) => {
          const a = c.attachment!;
          return {
            name: c.name,
            id: c.id,
            ip: a.ip,
            prefixLength: a.prefixLength,
            netns: a.netns,
            hostVeth: a.hostVeth,
            vethPresent: byName.has(a.hostVeth),
            ports: a.ports,
          };
        })
        .sort((x, y) => ipOrder(x.ip) - ipOrder(y.ip)),
    };
  });
  const host = live.filter((i) => !bridgeNames.has(i.name) && !veths.has(i.name) && !(i.master && bridgeNames.has(i.master)));
  return { host, bridges };
}

function ipOrder(ip: string): number {
  return ip.split('.').reduce((acc, p) => acc * 256 + (Number(p) || 0), 0);
}

export function portLabel(p: PortMapping): string {
  return `${p.hostIp || '0.0.0.0'}:${p.hostPort}/${p.proto}`;
}

export function dnatLabel(p: PortMapping, ip: string): string {
  return `${portLabel(p)} ─DNAT→ ${ip}:${p.containerPort}`;
}

// ------------------------------------------------------------------ text

export function renderTopologyText(topo: Topology): string {
  const lines: string[] = ["host (minictr's network namespace)"];
  const ifaceWidth = Math.max(0, ...topo.host.map((i) => i.name.length));
  const hasBridges = topo.bridges.length > 0;
  topo.host.forEach((i, n) => {
    const last = n === topo.host.length - 1 && !hasBridges;
    const addrs = i.addresses.length > 0 ? i.addresses.join(', ') : '(no address)';
    lines.push(`${last ? '└──' : '├──'} ${i.name.padEnd(ifaceWidth)}  ${addrs}${i.up ? '' : '  (down)'}`);
  });
  if (!hasBridges) {
    lines.push('', 'no minictr networks yet: `minictr run` creates the default one (minictr0, 172.18.0.0/16)');
    return `${lines.join('\n')}\n`;
  }
  topo.bridges.forEach((b, n) => {
    const lastBridge = n === topo.bridges.length - 1;
    const stem = lastBridge ? '  ' : '│ ';
    const gw = b.addresses.length > 0 ? b.addresses.join(', ') : `${b.gateway} (device missing!)`;
    lines.push('│');
    lines.push(`${lastBridge ? '└─┬' : '├─┬'} ${b.bridge}  bridge of network "${b.network}"  ${b.subnet}  gateway ${gw}`);
    if (b.containers.length === 0) {
      lines.push(`${stem}└── (no containers)`);
      return;
    }
    const vethWidth = Math.max(...b.containers.map((c) => c.hostVeth.length));
    const addrWidth = Math.max(...b.containers.map((c) => `${c.ip}/${c.prefixLength}`.length));
    lines.push(`${stem}│   ${'host end'.padEnd(vethWidth)}     ${'container end (own namespace)'}`);
    b.containers.forEach((c, k) => {
      const lastC = k === b.containers.length - 1;
      const missing = c.vethPresent ? '' : '  (veth missing!)';
      lines.push(
        `${stem}${lastC ? '└──' : '├──'} ${c.hostVeth.padEnd(vethWidth)} ═══ eth0 ${`${c.ip}/${c.prefixLength}`.padEnd(addrWidth)}  ${c.name} (${c.id.slice(0, 12)})${missing}`,
      );
      for (const p of c.ports) lines.push(`${stem}${lastC ? ' ' : '│'}       published ${dnatLabel(p, c.ip)}`);
    });
  });
  return `${lines.join('\n')}\n`;
}

// ------------------------------------------------------------------ SVG

/** Monospace metrics (DejaVu Sans Mono and friends: 0.6 em per character). */
const CHAR = 0.6;
const FONT = 12;
const SMALL = 11;
const textWidth = (s: string, size = FONT): number => [...s].length * size * CHAR;

const MARGIN = 20;
const PAD = 20;
const TITLE_H = 34;
const BOX_MIN_W = 190;
const LINE_H = 16;
const ETH0_H = 22;
const ROW_GAP = 44;
const LANE = 8;
const BRIDGE_H = 34;
const SECTION_GAP = 36;
const IFACE_H = 40;
const MAX_ROW_WIDTH = 1250;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function containerLines(c: TopoContainer): { title: string; sub: string; ports: string[]; eth0: string } {
  return {
    title: c.name,
    sub: `netns ${c.netns}`,
    ports: c.ports.map((p) => `publish ${p.hostIp ? `${p.hostIp}:` : ':'}${p.hostPort}/${p.proto} → :${p.containerPort}`),
    eth0: `eth0 ${c.ip}/${c.prefixLength}`,
  };
}

interface Placed {
  c: TopoContainer;
  box: Rect;
  row: number;
  col: number;
}

interface SectionLayout {
  bridge: TopoBridge;
  boxW: number;
  boxH: number[];
  cols: number;
  rows: number;
  placed: Placed[];
  bridgeRect: Rect;
  height: number;
  width: number;
}

/** Containers in rows of at most `cols`; each row's veth lines run down their own lane in the gutter to the left. */
function layoutSection(b: TopoBridge, left: number, top: number): SectionLayout {
  const texts = b.containers.map(containerLines);
  const widest = texts.map((t) =>
    Math.max(textWidth(t.title, 13), textWidth(t.sub, SMALL), textWidth(t.eth0, SMALL) + 16, ...t.ports.map((p) => textWidth(p, SMALL))),
  );
  const boxW = Math.ceil(Math.max(BOX_MIN_W, ...widest.map((w) => w + 24)));
  const n = b.containers.length;
  let cols = Math.max(1, Math.min(n, 5));
  // Narrow the grid until it fits the target width.
  const gutterFor = (rows: number): number => Math.max(24, rows * LANE + 20);
  for (;;) {
    const rows = Math.ceil(n / cols);
    if (cols === 1 || cols * boxW + cols * gutterFor(rows) <= MAX_ROW_WIDTH) break;
    cols--;
  }
  const rows = Math.max(1, Math.ceil(n / cols));
  const gutter = gutterFor(rows);
  const rowHeights: number[] = [];
  for (let r = 0; r < rows; r++) {
    const inRow = texts.slice(r * cols, r * cols + cols);
    rowHeights.push(24 + 16 + Math.max(0, ...inRow.map((t) => t.ports.length)) * LINE_H + ETH0_H + 16);
  }
  const placed: Placed[] = [];
  let y = top;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const item = b.containers[i];
      if (!item) break;
      placed.push({ c: item, row: r, col: c, box: { x: left + gutter + c * (boxW + gutter), y, width: boxW, height: rowHeights[r] ?? 0 } });
    }
    y += (rowHeights[r] ?? 0) + ROW_GAP;
  }
  if (n === 0) y = top + 10;
  const width = gutter + cols * (boxW + gutter);
  const bridgeRect = { x: left, y, width, height: BRIDGE_H };
  return { bridge: b, boxW, boxH: rowHeights, cols, rows, placed, bridgeRect, height: y + BRIDGE_H - top, width };
}

const TITLE = "host: minictr's network namespace";
const ROUTE_LABEL = 'routing: ip_forward, MASQUERADE out, DNAT in';

function bridgeLabel(b: TopoBridge): string {
  const gw = b.addresses.length > 0 ? b.addresses.join(', ') : `${b.gateway} (device missing!)`;
  return `${b.bridge} bridge of network "${b.network}" · ${b.subnet} · gateway ${gw}${b.containers.length === 0 ? ' · no containers' : ''}`;
}

export interface SvgLayout {
  width: number;
  height: number;
  containers: { name: string; rect: Rect }[];
}

/** The topology as an SVG document. */
export function renderTopologySvg(topo: Topology): string {
  return layoutTopologySvg(topo).svg;
}

export function layoutTopologySvg(topo: Topology): { svg: string; layout: SvgLayout } {
  const left = MARGIN + PAD;
  let y = MARGIN + TITLE_H + 10;
  const sections: SectionLayout[] = [];
  for (const b of topo.bridges) {
    const s = layoutSection(b, left, y);
    sections.push(s);
    y += s.height + SECTION_GAP;
  }
  // Host interfaces along the bottom, and the published ports beside them.
  const ifaceBoxes = topo.host.map((i) => {
    const label = i.addresses.length > 0 ? i.addresses.join(', ') : '(no address)';
    return { i, label, width: Math.ceil(Math.max(textWidth(i.name, FONT), textWidth(label, SMALL)) + 20) };
  });
  const published = columns(
    topo.bridges.flatMap((b) => b.containers.flatMap((c) => c.ports.map((p) => [portLabel(p), `→ ${c.ip}:${p.containerPort}`, c.name]))),
  );
  const ifaceTop = y + 6;
  const ifacesWidth = ifaceBoxes.reduce((w, b) => w + b.width + 12, 0);
  const publishedTop = ifaceTop + IFACE_H + 26;
  const publishedWidth = Math.max(0, ...published.map((p) => textWidth(p, SMALL))) + 20;
  const contentWidth = Math.ceil(
    Math.max(
      420,
      ifacesWidth + textWidth(ROUTE_LABEL, SMALL) + 40,
      publishedWidth,
      ...sections.map((s) => Math.max(s.width, textWidth(bridgeLabel(s.bridge), FONT) + 24)),
      textWidth(TITLE, 14) + 40,
    ),
  );
  // Every bridge spans the host: one switch per network, whatever its number of containers.
  for (const s of sections) s.bridgeRect.width = contentWidth;
  const hostBottom = (published.length > 0 ? publishedTop + 18 + published.length * LINE_H : ifaceTop + IFACE_H) + PAD;
  const width = Math.ceil(contentWidth + 2 * (MARGIN + PAD));
  const height = Math.ceil(hostBottom + MARGIN);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="${FONT}" xml:space="preserve">`,
    '<style>',
    '.host{fill:#f6f6f4;stroke:#8a8a8a;stroke-width:1.5}',
    '.container{fill:#e9f1fb;stroke:#3f6fb0;stroke-width:1.5}',
    '.eth0{fill:#ffffff;stroke:#3f6fb0}',
    '.bridge{fill:#fde6c4;stroke:#c7801f;stroke-width:1.5}',
    '.iface{fill:#e5f3e5;stroke:#4a954a}',
    '.veth{fill:none;stroke:#c7801f;stroke-width:2}',
    '.route{fill:none;stroke:#777;stroke-width:1.2;stroke-dasharray:5 4}',
    '.title{font-size:14px;font-weight:bold;fill:#333}',
    '.name{font-size:13px;font-weight:bold;fill:#1d3f70}',
    '.small{font-size:11px;fill:#555}',
    '.label{font-size:11px;fill:#8a5a10}',
    '.missing{font-size:11px;fill:#b00020;font-weight:bold}',
    '</style>',
    `<rect class="host" x="${MARGIN}" y="${MARGIN}" width="${width - 2 * MARGIN}" height="${hostBottom - MARGIN}" rx="10"/>`,
    `<text class="title" x="${MARGIN + 14}" y="${MARGIN + 22}">${esc(TITLE)}</text>`,
  );
  const layoutContainers: SvgLayout['containers'] = [];
  for (const s of sections) {
    const br = s.bridgeRect;
    for (const p of s.placed) {
      const { box } = p;
      const t = containerLines(p.c);
      layoutContainers.push({ name: p.c.name, rect: box });
      out.push(
        `<g class="ctr" data-name="${esc(p.c.name)}">`,
        `<rect class="container" x="${box.x}" y="${box.y}" width="${box.width}" height="${box.height}" rx="8"/>`,
        `<text class="name" x="${box.x + 12}" y="${box.y + 20}">${esc(t.title)}</text>`,
        `<text class="small" x="${box.x + 12}" y="${box.y + 36}">${esc(t.sub)}</text>`,
      );
      t.ports.forEach((line, k) => out.push(`<text class="small" x="${box.x + 12}" y="${box.y + 54 + k * LINE_H}">${esc(line)}</text>`));
      const pillW = Math.ceil(textWidth(t.eth0, SMALL) + 16);
      const pillX = box.x + 12;
      const pillY = box.y + box.height - ETH0_H - 8;
      out.push(
        `<rect class="eth0" x="${pillX}" y="${pillY}" width="${pillW}" height="${ETH0_H}" rx="4"/>`,
        `<text class="small" x="${pillX + 8}" y="${pillY + 15}">${esc(t.eth0)}</text>`,
      );
      // The veth pair: down from eth0, into this row's lane left of the column, down to the bridge.
      const stubX = pillX + 18;
      const jogY = box.y + box.height + 26;
      const laneX = box.x - LANE * (s.rows - p.row) - 4;
      out.push(
        `<path class="veth" d="M ${stubX} ${pillY + ETH0_H} V ${jogY} H ${laneX} V ${br.y}"/>`,
        `<circle cx="${laneX}" cy="${br.y}" r="3.5" fill="#c7801f"/>`,
        `<text class="label" x="${stubX + 6}" y="${box.y + box.height + 15}">${esc(p.c.hostVeth)}${p.c.vethPresent ? '' : '<tspan class="missing"> (missing!)</tspan>'}</text>`,
        '</g>',
      );
    }
    const b = s.bridge;
    out.push(
      `<rect class="bridge" x="${br.x}" y="${br.y}" width="${br.width}" height="${br.height}" rx="6"/>`,
      `<text x="${br.x + 12}" y="${br.y + 21}"><tspan font-weight="bold">${esc(b.bridge)}</tspan>${esc(bridgeLabel(b).slice(b.bridge.length))}</text>`,
    );
  }
  // Host interfaces, joined to the bridges by routing (forwarding + NAT).
  let x = left;
  const ifaceCentres: number[] = [];
  for (const f of ifaceBoxes) {
    out.push(
      `<rect class="iface" x="${x}" y="${ifaceTop}" width="${f.width}" height="${IFACE_H}" rx="4"/>`,
      `<text x="${x + 10}" y="${ifaceTop + 16}" font-weight="bold">${esc(f.i.name)}${f.i.up ? '' : ' (down)'}</text>`,
      `<text class="small" x="${x + 10}" y="${ifaceTop + 32}">${esc(f.label)}</text>`,
    );
    ifaceCentres.push(x + f.width / 2);
    x += f.width + 12;
  }
  const lastBridge = sections[sections.length - 1]?.bridgeRect;
  if (lastBridge && ifaceBoxes.length > 0) {
    const fromY = lastBridge.y + lastBridge.height;
    const routeX = Math.max(x + 20, left + contentWidth - 10);
    out.push(
      `<path class="route" d="M ${routeX - 10} ${fromY} V ${ifaceTop + IFACE_H / 2} H ${x - 12}"/>`,
      `<text class="small" x="${x + 8}" y="${ifaceTop + IFACE_H / 2 - 6}">${esc(ROUTE_LABEL)}</text>`,
    );
  }
  if (published.length > 0) {
    out.push(`<text class="small" x="${left}" y="${publishedTop}" font-weight="bold">published ports (nat MINICTR chain):</text>`);
    published.forEach((p, k) => out.push(`<text class="small" x="${left}" y="${publishedTop + 18 + k * LINE_H}">${esc(p)}</text>`));
  }
  out.push('</svg>');
  return { svg: `${out.join('\n')}\n`, layout: { width, height, containers: layoutContainers } };
}
