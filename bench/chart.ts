/**
 * The ack path as a picture: throughput and p99 against concurrency for each target, two panels,
 * log-scaled (bare HTTP is an order of magnitude above the others). Plain SVG, no script, no fonts
 * beyond the viewer's sans-serif, so it renders on GitHub and in any browser.
 */
export interface Point {
  concurrency: number;
  throughput: number;
  p99: number;
}

export type Series = Record<string, Point[]>;

export const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
const PANEL = { width: 380, height: 260, left: 60, top: 40, bottom: 50, right: 20 };

export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** 1, 2, 5 × powers of ten covering [min, max]. */
function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let p = Math.floor(Math.log10(min)); p <= Math.ceil(Math.log10(max)); p++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** p;
      if (v >= min && v <= max) ticks.push(v);
    }
  }
  return ticks;
}

function panel(series: Series, metric: 'throughput' | 'p99', title: string, unit: string, x0: number): string {
  const all = Object.values(series).flat();
  const concurrencies = [...new Set(all.map((p) => p.concurrency))].sort((a, b) => a - b);
  const values = all.map((p) => p[metric]).filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  const w = PANEL.width - PANEL.left - PANEL.right;
  const h = PANEL.height - PANEL.top - PANEL.bottom;
  const x = (c: number) =>
    x0 +
    PANEL.left +
    (concurrencies.length === 1 ? w / 2 : (concurrencies.indexOf(c) / (concurrencies.length - 1)) * w);
  const y = (v: number) => PANEL.top + h - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * h;
  const parts: string[] = [
    `<text x="${x0 + PANEL.width / 2}" y="20" text-anchor="middle" font-weight="bold">${escape(title)}</text>`,
    `<rect x="${x0 + PANEL.left}" y="${PANEL.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`,
  ];
  for (const t of logTicks(lo, hi)) {
    parts.push(
      `<line x1="${x0 + PANEL.left}" x2="${x0 + PANEL.left + w}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/>`,
      `<text x="${x0 + PANEL.left - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`,
    );
  }
  for (const c of concurrencies) {
    parts.push(`<text x="${x(c)}" y="${PANEL.top + h + 18}" text-anchor="middle">${c}</text>`);
  }
  parts.push(
    `<text x="${x0 + PANEL.left + w / 2}" y="${PANEL.top + h + 38}" text-anchor="middle">concurrency (requests in flight)</text>`,
    `<text transform="translate(${x0 + 14} ${PANEL.top + h / 2}) rotate(-90)" text-anchor="middle">${escape(unit)}</text>`,
  );
  Object.entries(series).forEach(([name, points], i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const sorted = [...points].filter((p) => p[metric] > 0).sort((a, b) => a.concurrency - b.concurrency);
    parts.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${sorted.map((p) => `${x(p.concurrency).toFixed(1)},${y(p[metric]).toFixed(1)}`).join(' ')}"/>`,
      ...sorted.map(
        (p) =>
          `<circle cx="${x(p.concurrency).toFixed(1)}" cy="${y(p[metric]).toFixed(1)}" r="3" fill="${colour}"><title>${escape(name)} c=${p.concurrency}: ${p[metric]} ${escape(unit)}</title></circle>`,
      ),
    );
  });
  return parts.join('\n');
}

export function ackPathChart(series: Series, caption: string): string {
  const width = PANEL.width * 2;
  const legendY = PANEL.height + 10;
  const legend = Object.keys(series)
    .map((name, i) => {
      const lx = 70 + i * 160;
      const colour = COLOURS[i % COLOURS.length]!;
      return `<line x1="${lx}" x2="${lx + 24}" y1="${legendY}" y2="${legendY}" stroke="${colour}" stroke-width="3"/><text x="${lx + 30}" y="${legendY + 4}">${escape(name)}</text>`;
    })
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${legendY + 34}" viewBox="0 0 ${width} ${legendY + 34}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel(series, 'throughput', 'Throughput', 'requests/s (log)', 0),
    panel(series, 'p99', 'p99 latency', 'ms (log)', PANEL.width),
    legend,
    `<text x="${width / 2}" y="${legendY + 26}" text-anchor="middle" fill="#555">${escape(caption)}</text>`,
    `</svg>`,
    '',
  ].join('\n');
}
