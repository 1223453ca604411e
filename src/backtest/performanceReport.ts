/**
 * The outcomes part of the backtest report (`--outcomes`): its lines in the terminal summary, and
 * its section of the HTML page, an inline SVG of approval and bad rate per policy and per arm.
 */
import { escapeHtml } from './html';
import type { ArmPerformance, PerformanceReport, PolicyPerformance, SwapJourney, SwapSummary } from './performance';

/** The HTML lists at most this many swapped journeys; the JSON report has them all. */
export const HTML_SWAP_ROWS = 500;

/** A rate as a percentage with one decimal; "n/a" when nothing was there to divide by. */
export const percentOrNa = (r: number | null) => (r === null ? 'n/a' : `${(100 * r).toFixed(1)}%`);

const POLICY_NAMES: Record<PolicyPerformance['policy'], string> = {
  recorded: 'recorded',
  candidate: 'candidate',
  shadow: 'shadow challenger',
};

const policyName = (p: PolicyPerformance) => `${POLICY_NAMES[p.policy]} (${p.versions.join(', ') || 'none'})`;
const badOf = (s: SwapSummary | null) => (s ? `${s.bad}/${s.withOutcome} ${percentOrNa(s.badRate)}` : '—');
const approvedOf = (p: { approved: number; decided: number; approvalRate: number | null }) =>
  `${p.approved}/${p.decided} ${percentOrNa(p.approvalRate)}`;
const badAmongApproved = (p: { approvedBad: number; approvedWithOutcome: number; badRate: number | null }) =>
  `${p.approvedBad}/${p.approvedWithOutcome} ${percentOrNa(p.badRate)}`;

function labelText(perf: PerformanceReport): string {
  return perf.label === 'defaulted' ? 'bad = defaulted' : `bad = ${perf.badDpd}+ days past due`;
}

function coverageText(perf: PerformanceReport): string {
  const { coverage } = perf;
  return `${coverage.withOutcome} of ${coverage.decided} decided journeys have an outcome (${percentOrNa(coverage.rate)}); ${coverage.unmatchedRows} ${coverage.unmatchedRows === 1 ? 'row' : 'rows'} of the file match${coverage.unmatchedRows === 1 ? 'es' : ''} no journey here`;
}

export function performanceText(perf: PerformanceReport): string[] {
  const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(34) : c.padStart(18))).join('');
  const lines = [
    '',
    `Outcomes (${labelText(perf)}): ${coverageText(perf)}.`,
    row(['policy', 'approved', 'bad of approved', 'bad of swap-out', 'swap-in']),
    ...perf.policies.map((p) =>
      row([
        policyName(p),
        approvedOf(p),
        badAmongApproved(p),
        badOf(p.swapOut),
        p.swapIn ? `${p.swapIn.journeys}` : '—',
      ]),
    ),
  ];
  if (perf.arms) {
    lines.push(row(['arm (recorded decisions)', 'approved', 'bad of approved']));
    for (const a of perf.arms) lines.push(row([a.arm, approvedOf(a), badAmongApproved(a)]));
  }
  lines.push(`Swap-in: outcomes unknown. Reject inference: ${perf.rejectInference}`);
  return lines;
}

const COLOURS = { approval: '#1f6feb', bad: '#cf222e' };

/** Grouped bars on a 0–100 % axis: each group's approval rate and bad rate among approved. */
function rateChart(
  title: string,
  groups: Array<{ name: string; approvalRate: number | null; badRate: number | null }>,
): string {
  const [left, bottom, top, groupWidth] = [50, 46, 30, 170];
  // Wide enough for the legend even with two groups.
  const width = Math.max(480, left + groups.length * groupWidth + 20);
  const height = 280;
  const plot = height - bottom - top;
  const y = (r: number) => top + plot - plot * r;
  const bar = groupWidth / 3;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img"><title>${escapeHtml(title)}</title>`,
    ...[0, 0.25, 0.5, 0.75, 1].map(
      (t) =>
        `<line x1="${left}" x2="${width - 10}" y1="${y(t)}" y2="${y(t)}" stroke="#e1e4e8"/><text x="${left - 8}" y="${y(t) + 4}" text-anchor="end" font-size="12" fill="#57606a">${t * 100}%</text>`,
    ),
  ];
  groups.forEach((g, i) => {
    const x0 = left + i * groupWidth + bar / 2;
    for (const [j, kind, r] of [
      [0, 'approval', g.approvalRate],
      [1, 'bad', g.badRate],
    ] as const) {
      const x = x0 + j * bar;
      const h = r === null ? 0 : top + plot - y(r);
      parts.push(
        `<rect x="${x}" y="${top + plot - h}" width="${bar - 6}" height="${h}" fill="${COLOURS[kind]}"><title>${escapeHtml(g.name)}, ${kind === 'approval' ? 'approval rate' : 'bad rate among approved'}: ${percentOrNa(r)}</title></rect>`,
        `<text x="${x + (bar - 6) / 2}" y="${top + plot - h - 5}" text-anchor="middle" font-size="12" fill="#24292f">${percentOrNa(r)}</text>`,
      );
    }
    parts.push(
      `<text x="${x0 + bar - 3}" y="${height - bottom + 20}" text-anchor="middle" font-size="13" font-weight="600" fill="#24292f">${escapeHtml(g.name)}</text>`,
    );
  });
  parts.push(
    `<rect x="${left}" y="6" width="12" height="12" fill="${COLOURS.approval}"/><text x="${left + 17}" y="16" font-size="12" fill="#24292f">approval rate</text>`,
    `<rect x="${left + 120}" y="6" width="12" height="12" fill="${COLOURS.bad}"/><text x="${left + 137}" y="16" font-size="12" fill="#24292f">bad rate among approved (known outcomes)</text>`,
    '</svg>',
  );
  return parts.join('\n');
}

const swapOutcome = (s: SwapJourney) =>
  s.performance === null
    ? s.direction === 'in'
      ? 'unknown (declined in reality)'
      : 'not in the file'
    : `${s.performance.bad ? '<strong>bad</strong>' : 'good'}${s.performance.daysPastDue === undefined ? '' : ` (${s.performance.daysPastDue} dpd)`}`;

export function performanceHtml(perf: PerformanceReport): string {
  const policyRows = perf.policies
    .map(
      (p) =>
        `<tr><th scope="row">${escapeHtml(policyName(p))}</th><td>${approvedOf(p)}</td><td>${badAmongApproved(p)}</td><td>${badOf(p.swapOut)}</td><td>${p.swapIn ? `${p.swapIn.journeys}, outcomes unknown` : '—'}</td></tr>`,
    )
    .join('\n');
  const arms = perf.arms ? armsHtml(perf.arms) : '';
  const shown = perf.swaps.slice(0, HTML_SWAP_ROWS);
  const swapRows = shown
    .map(
      (s) =>
        `<tr><td><code>${escapeHtml(s.uidRef)}</code></td><td>${escapeHtml(s.decidedAt.slice(0, 10))}</td><td>${POLICY_NAMES[s.policy]}</td><td>swap-${s.direction}</td><td>${s.recorded} → ${s.verdict}</td><td>${swapOutcome(s)}</td><td><code>${escapeHtml(s.runId)}</code></td></tr>`,
    )
    .join('\n');
  const more =
    perf.swaps.length > shown.length
      ? `<p>${perf.swaps.length - shown.length} more in <code>report.json</code>.</p>`
      : '';
  return `<h2>How the approved loans performed (${escapeHtml(labelText(perf))})</h2>
<p class="meta">${escapeHtml(coverageText(perf))}.</p>
${rateChart(
  'Approval rate and bad rate among approved, per policy',
  perf.policies.map((p) => ({ name: POLICY_NAMES[p.policy], approvalRate: p.approvalRate, badRate: p.badRate })),
)}
<table>
<tr><th>policy</th><th>approved</th><th>bad among approved (with a known outcome)</th><th>bad among swap-out (approved in reality, not by this policy)</th><th>swap-in (approved by this policy, declined in reality)</th></tr>
${policyRows}
</table>
<p><strong>Reject inference: not attempted.</strong> ${escapeHtml(perf.rejectInference.replace(/^Not attempted\. /, ''))} The bad rate among approved for a policy counts only the journeys it approves that were loans in reality.</p>
${arms}
<h2>The swap sets</h2>
<table class="changed">
<tr><th>uidRef</th><th>decided</th><th>policy</th><th>set</th><th>recorded → policy</th><th>outcome</th><th>run id</th></tr>
${swapRows}
</table>
${more}`;
}

function armsHtml(arms: ArmPerformance[]): string {
  return `<h2>Champion and challenger arms (the decisions each arm acted on)</h2>
${rateChart(
  'Approval rate and bad rate among approved, per arm',
  arms.map((a) => ({ name: a.arm, approvalRate: a.approvalRate, badRate: a.badRate })),
)}
<table>
<tr><th>arm</th><th>approved</th><th>bad among approved (with a known outcome)</th></tr>
${arms.map((a) => `<tr><th scope="row">${a.arm}</th><td>${approvedOf(a)}</td><td>${badAmongApproved(a)}</td></tr>`).join('\n')}
</table>`;
}
