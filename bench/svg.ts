// A dependency-free SVG line chart for the scale curve (start and removal time against the
// number of containers that exist).
export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  /** 'dots': raw samples only; 'line' (default): a line with small dots. */
  style?: 'line' | 'dots';
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceStep(range: number, ticks: number): number {
  const raw = range / Math.max(1, ticks);
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

export function lineChart(options: {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Horizontal reference lines (e.g. 1.25 × the 10th start). */
  guides?: { y: number; label: string; color: string }[];
}): string {
  const W = 980;
  const H = 500;
  const m = { l: 70, r: 250, t: 60, b: 55 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const all = options.series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p[0]));
  const yMax = Math.max(1, ...all.map((p) => p[1]), ...(options.guides ?? []).map((g) => g.y)) * 1.08;
  const x = (v: number): number => m.l + (v / xMax) * pw;
  const y = (v: number): number => m.t + ph - (v / yMax) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.l}" y="24" font-size="16" font-weight="bold">${esc(options.title)}</text>`);
  if (options.subtitle) parts.push(`<text x="${m.l}" y="42" fill="#555">${esc(options.subtitle)}</text>`);
  const yStep = niceStep(yMax, 8);
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Number(v.toFixed(3))}</text>`);
  }
  const xStep = niceStep(xMax, 10);
  for (let v = 0; v <= xMax + 1e-9; v += xStep) {
    parts.push(`<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${m.t}" y2="${m.t + ph}" stroke="#f3f3f3"/>`);
    parts.push(`<text x="${x(v).toFixed(1)}" y="${m.t + ph + 16}" text-anchor="middle">${Number(v.toFixed(3))}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`);
  for (const g of options.guides ?? []) {
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y(g.y).toFixed(1)}" y2="${y(g.y).toFixed(1)}" stroke="${g.color}" stroke-dasharray="6 4"/>`);
  }
  let legendY = m.t + 10;
  for (const s of options.series) {
    if (s.points.length === 0) continue;
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    if (s.style === 'dots') {
      for (const p of pts) parts.push(`<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="2" fill="${s.color}" fill-opacity="0.35"/>`);
    } else {
      parts.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')}"/>`,
      );
    }
    parts.push(`<rect x="${m.l + pw + 15}" y="${legendY - 9}" width="14" height="3" fill="${s.color}"/>`);
    parts.push(`<text x="${m.l + pw + 35}" y="${legendY - 4}">${esc(s.name)}</text>`);
    legendY += 20;
  }
  for (const g of options.guides ?? []) {
    parts.push(`<line x1="${m.l + pw + 15}" x2="${m.l + pw + 29}" y1="${legendY - 8}" y2="${legendY - 8}" stroke="${g.color}" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${m.l + pw + 35}" y="${legendY - 4}">${esc(g.label)}</text>`);
    legendY += 20;
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
