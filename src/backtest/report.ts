/**
 * The backtest report in the forms its readers use: a text summary for the operator's terminal, and
 * one self-contained HTML page (inline SVG, no script, no external asset) for a credit manager.
 */
import type { Outcome } from '../../workflows/definitions';
import { OUTCOMES_BY_SEVERITY, type BacktestReport, type Verdict } from './compare';
import { escapeHtml } from './html';
import { performanceHtml, performanceText } from './performanceReport';

/** The HTML lists at most this many changed journeys; the JSON report has them all. */
export const HTML_CHANGED_ROWS = 500;

const COLOURS: Record<'current' | 'candidate', string> = { current: '#6b7a8f', candidate: '#1f6feb' };

export function totals(report: BacktestReport, side: 'current' | 'candidate'): Record<Outcome, number> {
  const sum = Object.fromEntries(OUTCOMES_BY_SEVERITY.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const current of OUTCOMES_BY_SEVERITY) {
    for (const candidate of OUTCOMES_BY_SEVERITY) {
      sum[side === 'current' ? current : candidate] += report.matrix[current][candidate];
    }
  }
  return sum;
}

const percent = (n: number, of: number) => (of === 0 ? '0%' : `${((100 * n) / of).toFixed(1)}%`);

export function renderText(report: BacktestReport): string {
  const current = totals(report, 'current');
  const candidate = totals(report, 'candidate');
  const width = 10;
  const lines = [
    `Backtest of policy ${report.candidateVersion} on ${report.journeys} decided journeys (decided by ${report.currentVersions.join(', ') || 'none'})`,
    `filter: ${report.filter}`,
    '',
    `${'current \\ candidate'.padEnd(20)}${OUTCOMES_BY_SEVERITY.map((o) => o.padStart(width)).join('')}${'total'.padStart(width)}`,
    ...OUTCOMES_BY_SEVERITY.map(
      (row) =>
        `${row.padEnd(20)}${OUTCOMES_BY_SEVERITY.map((col) => String(report.matrix[row][col]).padStart(width)).join('')}${String(current[row]).padStart(width)}`,
    ),
    `${'total'.padEnd(20)}${OUTCOMES_BY_SEVERITY.map((o) => String(candidate[o]).padStart(width)).join('')}${String(report.journeys).padStart(width)}`,
    '',
    `${report.changed.length} journeys would change (${percent(report.changed.length, report.journeys)}).`,
    ...(report.performance ? performanceText(report.performance) : []),
  ];
  return lines.join('\n');
}

const escape = escapeHtml;

/** Grouped bars: for each outcome, how many journeys the current and the candidate policy give it. */
function chart(report: BacktestReport): string {
  const current = totals(report, 'current');
  const candidate = totals(report, 'candidate');
  // Whole-number gridlines at an even step, four of them above zero.
  const step = Math.max(1, Math.ceil(Math.max(...OUTCOMES_BY_SEVERITY.flatMap((o) => [current[o], candidate[o]])) / 4));
  const max = step * 4;
  const [width, height, left, bottom, top] = [640, 300, 60, 40, 30];
  const plot = height - bottom - top;
  const group = (width - left - 20) / OUTCOMES_BY_SEVERITY.length;
  const bar = group / 3;
  const y = (n: number) => top + plot - (plot * n) / max;
  const ticks = [0, 1, 2, 3, 4].map((i) => i * step);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="chart-title">`,
    `<title id="chart-title">Journeys by outcome: current policy versus candidate ${escape(report.candidateVersion)}</title>`,
    ...ticks.map(
      (t) =>
        `<line x1="${left}" x2="${width - 10}" y1="${y(t)}" y2="${y(t)}" stroke="#e1e4e8"/><text x="${left - 8}" y="${y(t) + 4}" text-anchor="end" font-size="12" fill="#57606a">${t}</text>`,
    ),
  ];
  OUTCOMES_BY_SEVERITY.forEach((outcome, i) => {
    const x0 = left + i * group + bar / 2;
    for (const [j, side, n] of [
      [0, 'current', current[outcome]],
      [1, 'candidate', candidate[outcome]],
    ] as const) {
      const x = x0 + j * bar;
      parts.push(
        `<rect x="${x}" y="${y(n)}" width="${bar - 4}" height="${top + plot - y(n)}" fill="${COLOURS[side]}"><title>${outcome}, ${side}: ${n}</title></rect>`,
        `<text x="${x + (bar - 4) / 2}" y="${y(n) - 5}" text-anchor="middle" font-size="13" fill="#24292f">${n}</text>`,
      );
    }
    parts.push(
      `<text x="${x0 + bar - 2}" y="${height - bottom + 20}" text-anchor="middle" font-size="14" font-weight="600" fill="#24292f">${outcome}</text>`,
    );
  });
  parts.push(
    `<rect x="${width - 230}" y="6" width="12" height="12" fill="${COLOURS.current}"/><text x="${width - 213}" y="16" font-size="12" fill="#24292f">current policy</text>`,
    `<rect x="${width - 120}" y="6" width="12" height="12" fill="${COLOURS.candidate}"/><text x="${width - 103}" y="16" font-size="12" fill="#24292f">candidate</text>`,
    '</svg>',
  );
  return parts.join('\n');
}

export function renderHtml(report: BacktestReport): string {
  const current = totals(report, 'current');
  const candidate = totals(report, 'candidate');
  const matrixRows = OUTCOMES_BY_SEVERITY.map(
    (row) =>
      `<tr><th scope="row">${row}</th>${OUTCOMES_BY_SEVERITY.map(
        (col) =>
          `<td class="${row === col ? 'same' : report.matrix[row][col] ? 'moved' : ''}">${report.matrix[row][col]}</td>`,
      ).join('')}<td class="total">${current[row]}</td></tr>`,
  ).join('\n');
  const reasonNames = [
    ...new Set([...Object.keys(report.reasons.current), ...Object.keys(report.reasons.candidate)]),
  ].sort();
  const reasonRows = reasonNames
    .map(
      (r) =>
        `<tr><td>${escape(r)}</td><td>${report.reasons.current[r] ?? 0}</td><td>${report.reasons.candidate[r] ?? 0}</td></tr>`,
    )
    .join('\n');
  const shown = report.changed.slice(0, HTML_CHANGED_ROWS);
  const changedRows = shown
    .map(
      (c) =>
        `<tr><td><code>${escape(c.uidRef)}</code></td><td>${escape(c.decidedAt.slice(0, 10))}</td><td>${c.current.outcome}</td><td>${because(c.current)}</td><td>${c.candidate.outcome}</td><td>${because(c.candidate)}</td><td><code>${escape(c.runId)}</code></td></tr>`,
    )
    .join('\n');
  const moreChanged =
    report.changed.length > shown.length
      ? `<p>${report.changed.length - shown.length} more in <code>report.json</code>.</p>`
      : '';
  const summary = OUTCOMES_BY_SEVERITY.map(
    (o) =>
      `<li><strong>${o}</strong>: ${current[o]} → ${candidate[o]} (${candidate[o] - current[o] >= 0 ? '+' : ''}${candidate[o] - current[o]})</li>`,
  ).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Policy backtest: ${escape(report.candidateVersion)}</title>
<style>
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #24292f; margin: 2rem auto; max-width: 75rem; padding: 0 1rem; }
  h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
  .meta { color: #57606a; margin-top: 0; }
  table { border-collapse: collapse; margin: .5rem 0; } th, td { border: 1px solid #d0d7de; padding: .3rem .7rem; text-align: right; }
  th { background: #f6f8fa; } td:first-child, th:first-child { text-align: left; }
  td.same { background: #eef6ee; } td.moved { background: #fff1e5; font-weight: 600; } td.total { background: #f6f8fa; } div.notice { color: #57606a; font-size: .85rem; }
  .changed td, .changed th { text-align: left; font-size: 13px; white-space: nowrap; }
  code { font-size: 12px; }
</style>
</head>
<body>
<h1>What policy <code>${escape(report.candidateVersion)}</code> would have decided</h1>
<p class="meta">${report.journeys} decided journeys, decided by ${escape(report.currentVersions.join(', ') || 'none')} · generated ${escape(report.generatedAt)} · nothing was changed in Temporal</p>
<ul>
${summary}
<li><strong>${report.changed.length}</strong> journeys (${percent(report.changed.length, report.journeys)}) would get a different outcome.</li>
</ul>
${chart(report)}
<h2>Current outcome (rows) against candidate outcome (columns)</h2>
<table>
<tr><th></th>${OUTCOMES_BY_SEVERITY.map((o) => `<th scope="col">${o}</th>`).join('')}<th>total</th></tr>
${matrixRows}
<tr><th scope="row">total</th>${OUTCOMES_BY_SEVERITY.map((o) => `<td class="total">${candidate[o]}</td>`).join('')}<td class="total">${report.journeys}</td></tr>
</table>
<h2>Journeys by reason</h2>
<table>
<tr><th>reason</th><th>current</th><th>candidate</th></tr>
${reasonRows}
</table>
<h2>Journeys that would change</h2>
<p>Applicants appear by <code>uidRef</code>, the keyed reference the integration's logs use, never by uid. Someone with access to Temporal finds a journey with the list filter <code>RunId = "&lt;run id&gt;"</code>.</p>
<table class="changed">
<tr><th>uidRef</th><th>decided</th><th>current</th><th>because</th><th>candidate</th><th>because</th><th>run id</th></tr>
${changedRows}
</table>
${moreChanged}
${report.performance ? performanceHtml(report.performance) : ''}
<p class="meta">Filter: <code>${escape(report.filter)}</code></p>
</body>
</html>
`;
}

/** The codes, and under them what the applicant's notice would say, when the verdict gives it. */
function because(verdict: Verdict): string {
  const notice = verdict.principalReasons.map((r) => escape(r.text)).join('<br>');
  return `${escape(verdict.reasons.join(', '))}${notice && `<div class="notice">${notice}</div>`}`;
}
