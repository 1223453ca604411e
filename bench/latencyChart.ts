/**
 * The open loop as a picture (bench/openLoop.ts): score 200 → decision at the LOS, p50/p95/p99, at
 * each offered load, and at the lowest load again beside a flood of new applicants. On a log scale:
 * the flood's seconds and the quiet levels' milliseconds do not fit one linear axis. Plain SVG, as
 * bench/chart.ts.
 */
import { COLOURS, escape } from './chart';
import type { Latency } from './openLoop';

const W = { width: 760, left: 190, right: 70, top: 40, row: 14, gap: 14 };
const PERCENTILES = ['p50', 'p95', 'p99'] as const;

export function latencyChart(latency: Latency, caption: string): string {
  const f = latency.underFlood;
  const groups = [
    ...Object.entries(latency.levels).map(([label, l]) => ({ label: `${label}: ${l.offeredPerSecond}/s`, l })),
    { label: `${f.level} + ${f.flood.newApplicants} new applicants`, l: f },
  ];
  const values = groups.flatMap((g) => PERCENTILES.map((p) => Math.max(1, g.l.scoreAckToLosMs[p])));
  const [lo, hi] = [1, 10 ** Math.ceil(Math.log10(Math.max(...values)))];
  const plot = W.width - W.left - W.right;
  const x = (ms: number) => W.left + (Math.log10(Math.max(lo, ms)) / Math.log10(hi)) * plot;
  const height = W.top + groups.length * (PERCENTILES.length * W.row + W.gap) + 70;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W.width}" height="${height}" viewBox="0 0 ${W.width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${W.width / 2}" y="20" text-anchor="middle" font-weight="bold">Score 200 → decision at the LOS, open loop, by offered load (capacity ${latency.capacityDecisionsPerSecond} decisions/s)</text>`,
  ];
  const bottom = height - 60;
  for (let decade = lo; decade <= hi; decade *= 10) {
    const label = decade >= 1000 ? `${decade / 1000} s` : `${decade} ms`;
    parts.push(
      `<line x1="${x(decade).toFixed(1)}" y1="${W.top - 6}" x2="${x(decade).toFixed(1)}" y2="${bottom}" stroke="#ddd"/>`,
      `<text x="${x(decade).toFixed(1)}" y="${bottom + 14}" text-anchor="middle">${label}</text>`,
    );
  }
  let y = W.top;
  for (const g of groups) {
    parts.push(
      `<text x="${W.left - 8}" y="${y + (PERCENTILES.length * W.row) / 2 + 4}" text-anchor="end">${escape(g.label)}</text>`,
    );
    PERCENTILES.forEach((p, i) => {
      const ms = g.l.scoreAckToLosMs[p];
      parts.push(
        `<rect x="${W.left}" y="${y + 1}" width="${(x(ms) - W.left).toFixed(1)}" height="${W.row - 3}" fill="${COLOURS[i]}"><title>${escape(`${g.label} ${p}: ${ms} ms`)}</title></rect>`,
        `<text x="${(x(ms) + 4).toFixed(1)}" y="${y + W.row - 3}">${ms} ms</text>`,
      );
      y += W.row;
    });
    y += W.gap;
  }
  PERCENTILES.forEach((p, i) =>
    parts.push(
      `<rect x="${W.left + i * 70}" y="${bottom + 24}" width="14" height="10" fill="${COLOURS[i]}"/><text x="${W.left + 20 + i * 70}" y="${bottom + 33}">${p}</text>`,
    ),
  );
  parts.push(
    `<text x="${W.width / 2}" y="${height - 8}" text-anchor="middle" fill="#555">${escape(caption)}</text>`,
    '</svg>',
    '',
  );
  return parts.join('\n');
}
