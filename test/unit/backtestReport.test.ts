/**
 * The backtest's comparison and rendering, pure: counts, the changed list, and a page that shows
 * policy-supplied text as text.
 */
import { backtest } from '../../src/backtest/compare';
import { renderHtml, renderText, totals } from '../../src/backtest/report';
import { bandPolicy, recordedDecision } from '../support/recordedDecisions';

const recorded = recordedDecision;

const candidate = bandPolicy('<b>v2</b>', 'Band B <img src=x onerror=alert(1)>.');

const report = backtest(
  [recorded('A', 'APPROVE', 1), recorded('B', 'APPROVE', 2), recorded('C', 'REFER', 3), recorded('A', 'DECLINE', 4)],
  candidate,
  { filter: "WorkflowType = 'beginiJourney'", now: new Date('2026-11-28T00:00:00Z') },
);

test('the matrix, the reasons and the changed journeys', () => {
  expect(report.matrix).toEqual({
    APPROVE: { APPROVE: 1, REFER: 1, DECLINE: 0 },
    REFER: { APPROVE: 0, REFER: 0, DECLINE: 1 },
    DECLINE: { APPROVE: 1, REFER: 0, DECLINE: 0 },
  });
  expect(report.reasons.current).toEqual({ was_approve: 2, was_refer: 1, was_decline: 1 });
  expect(report.reasons.candidate).toEqual({ band_a: 2, band_b: 1, no_rule_matched: 1 });
  expect(report.changed.map((c) => [c.uidRef, c.current.outcome, c.candidate.outcome])).toEqual([
    ['ref2', 'APPROVE', 'REFER'],
    ['ref3', 'REFER', 'DECLINE'],
    ['ref4', 'DECLINE', 'APPROVE'],
  ]);
  // What the applicant's notice would say under each policy; none recorded for the old decisions.
  expect(report.changed[0]!.candidate.principalReasons).toEqual([
    { code: 'band_b', text: 'Band B <img src=x onerror=alert(1)>.' },
  ]);
  expect(report.changed[0]!.current.principalReasons).toEqual([]);
  expect(totals(report, 'current')).toEqual({ APPROVE: 2, REFER: 1, DECLINE: 1 });
  expect(totals(report, 'candidate')).toEqual({ APPROVE: 2, REFER: 1, DECLINE: 1 });
  expect(renderText(report)).toContain('3 journeys would change (75.0%)');
});

test('the HTML page shows policy text as text, and carries no script', () => {
  const html = renderHtml(report);
  expect(html).not.toContain('<img');
  expect(html).not.toContain('<b>v2');
  expect(html).toContain('<div class="notice">Band B &lt;img src=x onerror=alert(1)&gt;.</div>');
  expect(html).not.toMatch(/<script|javascript:|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  expect(html.match(/<svg/g)).toHaveLength(1);
});

test('no journeys: an empty report, not a failure', () => {
  const empty = backtest([], candidate, { filter: 'x' });
  expect(empty.journeys).toBe(0);
  expect(renderText(empty)).toContain('0 journeys would change (0%)');
  expect(renderHtml(empty)).toContain('<svg');
});
