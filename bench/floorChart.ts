/**
 * Phase F as a picture (bench/floors.ts): each component's CPU beside its floor's, measured in the
 * same run. Two panels, each on its own linear scale: the worker per decision (happy path, duplicate
 * storm), the receiver per delivery (by concurrency; its floor is the bare HMAC server plus the SDK
 * client, stacked). Plain SVG, as bench/chart.ts.
 */
import { COLOURS, escape } from './chart';
import type { Floors } from './floors';

interface Bar {
  label: string;
  /** Stacked segments, left to right. */
  parts: Array<{ name: string; value: number; colour: string }>;
}

const PANEL = { width: 400, left: 90, right: 50, top: 36, heading: 18, row: 26, gap: 12 };
const [REAL, FLOOR, FLOOR2] = [COLOURS[1]!, COLOURS[0]!, COLOURS[2]!];

type Group = { label: string; bars: Bar[] };

/** The panel's height: its groups' rows and gaps, and the axis label under them. */
const panelHeight = (groups: Group[]) =>
  PANEL.top + groups.reduce((h, g) => h + PANEL.heading + g.bars.length * PANEL.row + PANEL.gap, 0) + 10;

function panel(title: string, unit: string, groups: Group[], x0: number): string {
  const max = Math.max(...groups.flatMap((g) => g.bars.map((b) => b.parts.reduce((n, p) => n + p.value, 0))));
  const w = PANEL.width - PANEL.left - PANEL.right;
  const x = (v: number) => (v / max) * w;
  const parts = [
    `<text x="${x0 + PANEL.width / 2}" y="20" text-anchor="middle" font-weight="bold">${escape(title)}</text>`,
  ];
  let y = PANEL.top;
  for (const group of groups) {
    parts.push(`<text x="${x0 + 20}" y="${y + 12}" font-weight="bold">${escape(group.label)}</text>`);
    y += PANEL.heading;
    for (const bar of group.bars) {
      parts.push(`<text x="${x0 + PANEL.left - 6}" y="${y + 15}" text-anchor="end">${escape(bar.label)}</text>`);
      let left = x0 + PANEL.left;
      for (const p of bar.parts) {
        parts.push(
          `<rect x="${left.toFixed(1)}" y="${y + 3}" width="${x(p.value).toFixed(1)}" height="${PANEL.row - 8}" fill="${p.colour}"><title>${escape(`${group.label} ${bar.label} ${p.name}: ${p.value} ${unit}`)}</title></rect>`,
        );
        left += x(p.value);
      }
      const total = Number(bar.parts.reduce((n, p) => n + p.value, 0).toFixed(2));
      parts.push(`<text x="${(left + 4).toFixed(1)}" y="${y + 15}">${total}</text>`);
      y += PANEL.row;
    }
    y += PANEL.gap;
  }
  parts.push(`<text x="${x0 + PANEL.left + w / 2}" y="${y + 4}" text-anchor="middle">${escape(unit)}</text>`);
  return parts.join('\n');
}

export function floorChart(floors: Floors, caption: string): string {
  const worker = (label: string, w: Floors['worker']['happy']) => ({
    label: `${label} (ratio ${w.ratio})`,
    bars: [
      { label: 'journey', parts: [{ name: 'worker', value: w.workerCpuMsPerDecision, colour: REAL }] },
      { label: 'floor', parts: [{ name: 'floor worker', value: w.workerFloorCpuMsPerDecision, colour: FLOOR }] },
    ],
  });
  const receiver = Object.entries(floors.receiver).map(([c, r]) => ({
    label: `c=${c} (ratio ${r.ratio})`,
    bars: [
      { label: 'receiver', parts: [{ name: 'receiver', value: r.receiverCpuMsPerDelivery, colour: REAL }] },
      {
        label: 'floor',
        parts: [
          { name: 'bare HTTP + HMAC', value: r.bareHmacCpuMsPerDelivery, colour: FLOOR },
          { name: 'SDK client signalWithStart', value: r.clientCpuMsPerSignalWithStart, colour: FLOOR2 },
        ],
      },
    ],
  }));
  const workers = [worker('happy path', floors.worker.happy), worker('duplicate storm', floors.worker.storm)];
  const height = Math.max(panelHeight(workers), panelHeight(receiver)) + 50;
  const legend = [
    ['ours (journey worker, receiver)', REAL],
    ['floor (floor worker; bare HTTP + HMAC)', FLOOR],
    ['floor: SDK client signalWithStart', FLOOR2],
  ]
    .map(
      ([name, colour], i) =>
        `<rect x="${20 + i * 260}" y="${height - 44}" width="14" height="10" fill="${colour}"/><text x="${40 + i * 260}" y="${height - 35}">${escape(name!)}</text>`,
    )
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${PANEL.width * 2}" height="${height}" viewBox="0 0 ${PANEL.width * 2} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel('Worker: CPU per decision', 'ms of process CPU per decision', workers, 0),
    panel('Receiver: CPU per delivery', 'ms of process CPU per delivery', receiver, PANEL.width),
    legend,
    `<text x="${PANEL.width}" y="${height - 12}" text-anchor="middle" fill="#555">${escape(caption)}</text>`,
    `</svg>`,
    '',
  ].join('\n');
}
