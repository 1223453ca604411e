/**
 * The backtest's outcomes: the CSV reader and the outcomes file's problems (reason code and line,
 * never the applicant), and the rates, hand-worked, with zero denominators as null / "n/a".
 */
import { backtest } from '../../src/backtest/compare';
import { readCsv } from '../../src/backtest/csv';
import { parseOutcomes, type Outcomes, type Performance } from '../../src/backtest/outcomes';
import { rate } from '../../src/backtest/performance';
import { percentOrNa } from '../../src/backtest/performanceReport';
import { renderHtml, renderText } from '../../src/backtest/report';
import { keyUidRefs, uidRef } from '../../src/logger';
import type { Outcome } from '../../workflows/definitions';
import { bandPolicy, recordedDecision } from '../support/recordedDecisions';

beforeAll(() => keyUidRefs([{ key: Buffer.alloc(32, 7) }]));

const problemsOf = (text: string, badDpd = 90) =>
  parseOutcomes(text, badDpd).problems.map(({ reason, line }) => ({ reason, line }));

describe('readCsv', () => {
  test('quoted fields hold commas, doubled quotes and line breaks; records keep their first line', () => {
    const { records, problem } = readCsv('\uFEFFa,b\r\n"x, y","say ""hi"""\r\n"two\nlines",z\n\nlast,1');
    expect(problem).toBeNull();
    expect(records).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 3, fields: ['two\nlines', 'z'] },
      { line: 6, fields: ['last', '1'] },
    ]);
  });

  test('an unterminated quote names the line its field began on, a stray quote its own', () => {
    expect(readCsv('a,b\n1,"open\n2,3\n').problem).toEqual({ reason: 'unterminated_quote', line: 2 });
    expect(readCsv('a,b\n1,x"y\n').problem).toEqual({ reason: 'stray_quote', line: 2 });
    expect(readCsv('a,b\n1,"x"y\n').problem).toEqual({ reason: 'stray_quote', line: 2 });
  });
});

describe('the outcomes file', () => {
  test('a uid column is keyed to its uidRef; days past due are bad from the threshold on', () => {
    const byUid = parseOutcomes('uid,defaulted\nAPP-1,true\nAPP-2,FALSE\n', 90).outcomes!;
    expect([...byUid.byRef]).toEqual([
      [uidRef('APP-1'), { bad: true }],
      [uidRef('APP-2'), { bad: false }],
    ]);
    expect(byUid.badDpd).toBeNull();
    const ref = uidRef('APP-3');
    const byDpd = parseOutcomes(`days_past_due,uidRef\n30,${ref}\n29,${uidRef('APP-4')}\n`, 30).outcomes!;
    expect(byDpd.byRef.get(ref)).toEqual({ bad: true, daysPastDue: 30 });
    expect(byDpd.byRef.get(uidRef('APP-4'))).toEqual({ bad: false, daysPastDue: 29 });
    expect({ label: byDpd.label, badDpd: byDpd.badDpd }).toEqual({ label: 'days_past_due', badDpd: 30 });
  });

  test('every problem has its reason code and line, and none repeats the applicant', () => {
    expect(problemsOf('')).toEqual([{ reason: 'empty_file', line: 1 }]);
    expect(problemsOf('uid,defaulted,amount\n')).toEqual([{ reason: 'unknown_column', line: 1 }]);
    expect(problemsOf('defaulted\n')).toEqual([{ reason: 'missing_id_column', line: 1 }]);
    expect(problemsOf('uid\n')).toEqual([{ reason: 'missing_label_column', line: 1 }]);
    expect(problemsOf('uid,uidRef,defaulted\n')).toEqual([{ reason: 'duplicate_column', line: 1 }]);
    const text = [
      'uid,defaulted',
      'APP-SECRET-1,true',
      'APP-SECRET-2,yes',
      'APP-SECRET-3',
      ',false',
      'APP-SECRET-1,false',
      'APP-SECRET-4,"unterminated',
    ].join('\n');
    const { outcomes, problems } = parseOutcomes(text, 90);
    expect(outcomes).toBeNull();
    expect(problems.map(({ reason, line }) => ({ reason, line }))).toEqual([
      { reason: 'unterminated_quote', line: 7 },
      { reason: 'bad_value', line: 3 },
      { reason: 'wrong_field_count', line: 4 },
      { reason: 'bad_value', line: 5 },
      { reason: 'duplicate_uid', line: 6 },
    ]);
    expect(problems.find((p) => p.reason === 'duplicate_uid')!.message).toBe('the same applicant as line 2');
    for (const p of problems) expect(p.message).not.toMatch(/APP-SECRET/);
    expect(problemsOf('uidRef,days_past_due\nNOT-A-REF,3\n0123456789abcdef,-3\n0123456789abcdef,1.5\n')).toEqual([
      { reason: 'bad_value', line: 2 },
      { reason: 'bad_value', line: 3 },
      { reason: 'bad_value', line: 4 },
    ]);
  });
});

describe('rates', () => {
  test('nothing to divide by is null, shown as n/a, never NaN', () => {
    expect(rate(0, 0)).toBeNull();
    expect(rate(1, 3)).toBeCloseTo(1 / 3);
    expect(percentOrNa(null)).toBe('n/a');
    expect(percentOrNa(1 / 3)).toBe('33.3%');
  });

  // Candidate: band A approves, band B refers, anything else declines.
  const candidate = bandPolicy('v2', 'Band B.');
  // journey: band, recorded outcome, what the loan did (undefined: no outcome known)
  const JOURNEYS: Array<[string, Outcome, boolean | undefined]> = [
    ['A', 'APPROVE', false], // 1: candidate APPROVE
    ['A', 'APPROVE', true], //  2: candidate APPROVE
    ['B', 'APPROVE', true], //  3: candidate REFER: swap-out, bad
    ['B', 'APPROVE', true], //  4: candidate REFER: swap-out, bad
    ['A', 'DECLINE', undefined], // 5: candidate APPROVE: swap-in, never a loan
    ['C', 'REFER', undefined], //   6: candidate DECLINE
  ];
  const outcomes: Outcomes = {
    label: 'defaulted',
    badDpd: null,
    byRef: new Map(
      JOURNEYS.flatMap(([, , bad], i) => (bad === undefined ? [] : [[`ref${i + 1}`, { bad } as Performance]])),
    ),
  };
  const run = (experiment: (i: number) => Record<string, unknown> | undefined, files = outcomes) =>
    backtest(
      JOURNEYS.map(([band, outcome], i) =>
        recordedDecision(band, outcome, i + 1, experiment(i + 1) ? { experiment: experiment(i + 1) } : {}),
      ),
      candidate,
      { filter: 'f', outcomes: files },
    ).performance!;

  test('per policy, hand-worked', () => {
    const perf = run(() => undefined);
    const [recorded, cand] = perf.policies;
    // Recorded: 4 of 6 approved (66.7 %); all 4 have outcomes, 3 bad (2, 3, 4): 75 %.
    expect(recorded).toMatchObject({
      policy: 'recorded',
      approved: 4,
      decided: 6,
      approvedWithOutcome: 4,
      approvedBad: 3,
    });
    expect(recorded!.approvalRate).toBeCloseTo(4 / 6);
    expect(recorded!.badRate).toBe(0.75);
    expect({ out: recorded!.swapOut, in: recorded!.swapIn }).toEqual({ out: null, in: null });
    // Candidate: approves 1, 2, 5: 3 of 6 (50 %); 1 and 2 have outcomes, 1 bad: 50 %.
    // Swap-out 3, 4: both known, both bad: 100 %. Swap-in 5: no outcome, no rate.
    expect(cand).toMatchObject({
      policy: 'candidate',
      versions: ['v2'],
      approved: 3,
      approvedWithOutcome: 2,
      approvedBad: 1,
    });
    expect({ approval: cand!.approvalRate, bad: cand!.badRate }).toEqual({ approval: 0.5, bad: 0.5 });
    expect(cand!.swapOut).toEqual({ journeys: 2, withOutcome: 2, bad: 2, badRate: 1 });
    expect(cand!.swapIn).toEqual({ journeys: 1, withOutcome: 0, bad: 0, badRate: null });
    expect(perf.coverage).toEqual({ decided: 6, withOutcome: 4, rate: 4 / 6, unmatchedRows: 0 });
    expect(perf.swaps.map((s) => [s.uidRef, s.direction, s.performance])).toEqual([
      ['ref3', 'out', { bad: true }],
      ['ref4', 'out', { bad: true }],
      ['ref5', 'in', null],
    ]);
    expect(perf.arms).toBeNull();
  });

  test('a split experiment: each arm its own rates', () => {
    const perf = run((i) => ({ arm: i <= 3 ? 'champion' : 'challenger', mode: 'split' }));
    // Champion 1, 2, 3: 3 of 3 approved, 2 bad (2, 3) of 3 known: 66.7 %.
    // Challenger 4, 5, 6: 1 of 3 approved (4), bad: 100 %.
    expect(perf.arms!.map((a) => [a.arm, a.approved, a.decided, a.approvedBad, a.approvedWithOutcome])).toEqual([
      ['champion', 3, 3, 2, 3],
      ['challenger', 1, 3, 1, 1],
    ]);
    expect(perf.policies.map((p) => p.policy)).toEqual(['recorded', 'candidate']);
  });

  test('shadow mode: the shadow verdict as a third policy; an empty arm is n/a', () => {
    const SHADOW: Outcome[] = ['DECLINE', 'APPROVE', 'APPROVE', 'REFER', 'APPROVE', 'DECLINE'];
    const perf = run((i) => ({
      arm: 'champion',
      mode: 'shadow',
      shadow: { outcome: SHADOW[i - 1], policyVersion: 'shadow-v3', reasons: [], principalReasons: [] },
    }));
    const shadow = perf.policies[2]!;
    // Shadow approves 2, 3, 5: 3 of 6; 2 and 3 known, both bad: 100 %. Swap-out 1 (good), 4 (bad): 50 %.
    expect(shadow).toMatchObject({
      policy: 'shadow',
      versions: ['shadow-v3'],
      approved: 3,
      approvedWithOutcome: 2,
      approvedBad: 2,
      badRate: 1,
    });
    expect(shadow.swapOut).toEqual({ journeys: 2, withOutcome: 2, bad: 1, badRate: 0.5 });
    expect(shadow.swapIn).toEqual({ journeys: 1, withOutcome: 0, bad: 0, badRate: null });
    expect(perf.swaps.filter((s) => s.policy === 'shadow').map((s) => s.uidRef)).toEqual(['ref1', 'ref4', 'ref5']);
    // Every journey acted on the champion: the challenger arm decided none.
    expect(perf.arms![1]).toMatchObject({ arm: 'challenger', decided: 0, approvalRate: null, badRate: null });
  });

  test('no outcome matches: rates are null and the page and summary say n/a, never NaN', () => {
    const report = backtest(
      JOURNEYS.map(([band, outcome], i) => recordedDecision(band, outcome, i + 1)),
      candidate,
      {
        filter: 'f',
        outcomes: { label: 'defaulted', badDpd: null, byRef: new Map([['ffffffffffffffff', { bad: true }]]) },
      },
    );
    const perf = report.performance!;
    expect(perf.coverage).toEqual({ decided: 6, withOutcome: 0, rate: 0, unmatchedRows: 1 });
    expect(perf.policies.map((p) => p.badRate)).toEqual([null, null]);
    const text = renderText(report);
    const html = renderHtml(report);
    expect(text).toContain('0/0 n/a');
    expect(html).toContain('0/0 n/a');
    for (const s of [text, html, JSON.stringify(report)]) expect(s).not.toMatch(/NaN/);
    expect(html).toContain('Reject inference: not attempted.');
  });
});
