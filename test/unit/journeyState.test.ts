/** The journey's event semantics as a pure reducer: no Temporal needed. */
import fc from 'fast-check';
import type { BeginiDelivery, ScoreFacts } from '../../workflows/definitions';
import { recordCases } from '../support/propertyCount';
import {
  applyDelivery,
  decisionTrigger,
  MAX_EVENTS_RECORDED,
  MAX_PENDING_NOTICES,
  nextWaitDeadline,
  stageOf,
  startJourney,
  type JourneyState,
} from '../../workflows/journeyState';
import { TEST_JOURNEY_SETTINGS } from '../support/begini';

const T0 = new Date('2026-11-26T10:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const settings = TEST_JOURNEY_SETTINGS;

function journey(requiredScores = ['psychometric']): JourneyState {
  return startJourney(
    { uid: 'u', integrationId: 'i', environment: 'test', settings: { ...settings, requiredScores } },
    T0,
  );
}

let n = 0;
function event(type: string, extra: Partial<BeginiDelivery> = {}): BeginiDelivery {
  n++;
  return {
    type,
    recognised: true,
    malformed: false,
    issues: [],
    details: {},
    reasons: null,
    score: null,
    integrationId: 'i',
    environment: 'test',
    keyId: 'k',
    receivedAt: T0.toISOString(),
    fingerprint: `fp${n}`.padEnd(64, '0'),
    semanticKey: `${type}|${n}`,
    ...extra,
  };
}

function score(kind: string, scoredAt: number, overrides: Partial<ScoreFacts> = {}): BeginiDelivery {
  const facts: ScoreFacts = {
    kind,
    score: 42,
    riskBand: 'B',
    scoreConfidence: 'HIGH',
    scoredAt,
    platform: 'WEB',
    traits: [],
    permissionsGranted: [],
    permissionsDenied: [],
    ...overrides,
  };
  return event(`${kind}_score.complete`, { score: facts, semanticKey: `${kind}_score.complete|scored_at=${scoredAt}` });
}

describe('dedupe', () => {
  test('the same fingerprint is a duplicate: counted, recorded, never re-applied', () => {
    const j = journey();
    const first = score('psychometric', 100);
    applyDelivery(j, first, T0);
    const again = applyDelivery(j, { ...first }, T0);
    expect(again.duplicate).toBe(true);
    expect(j.counts).toMatchObject({ deliveries: 2, duplicates: 1, rescores: 0 });
    expect(j.events).toHaveLength(2);
  });

  test('a different body with the same semantic key is a duplicate too', () => {
    const j = journey();
    applyDelivery(j, score('psychometric', 100), T0);
    const reserialised = score('psychometric', 100, { score: 1 });
    expect(applyDelivery(j, reserialised, T0).duplicate).toBe(true);
    expect(j.scores.psychometric?.score).toBe(42);
  });

  test('a later scored_at of a held score is a re-score that replaces it before the decision', () => {
    const j = journey(['psychometric', 'android']);
    applyDelivery(j, score('psychometric', 100), T0);
    const rescore = applyDelivery(j, score('psychometric', 200, { score: 10 }), T0);
    expect(rescore).toMatchObject({ rescore: true, duplicate: false, late: false });
    expect(j.scores.psychometric?.score).toBe(10);
    expect(j.flags).toContain('rescored');
  });

  test('an older scored_at is recorded as stale, not applied', () => {
    const j = journey(['psychometric', 'android']);
    applyDelivery(j, score('psychometric', 200), T0);
    expect(applyDelivery(j, score('psychometric', 100, { score: 1 }), T0).stale).toBe(true);
    expect(j.scores.psychometric?.score).toBe(42);
  });

  test('a flood is counted but the event list stays bounded, keeping the meaningful events', () => {
    const j = journey(['psychometric', 'android']);
    const dup = event('application.complete');
    for (let i = 0; i < MAX_EVENTS_RECORDED * 5; i++) applyDelivery(j, { ...dup }, T0);
    applyDelivery(j, score('psychometric', 1), T0);
    expect(j.events).toHaveLength(MAX_EVENTS_RECORDED);
    expect(j.counts.duplicates).toBe(MAX_EVENTS_RECORDED * 5 - 1);
    expect(j.events.filter((e) => !e.duplicate).map((e) => e.type)).toEqual([
      'application.complete',
      'psychometric_score.complete',
    ]);
    expect(j.eventsOmitted).toBeGreaterThan(0);
  });
});

describe('order', () => {
  test('complete wins over expired whichever arrives first', () => {
    for (const order of [
      ['application.expired', 'application.complete'],
      ['application.complete', 'application.expired'],
    ]) {
      const j = journey();
      for (const type of order) applyDelivery(j, event(type), T0);
      expect(j.application).toBe('complete');
      expect(stageOf(j)).toBe('awaiting_scores');
      expect(j.flags).toContain('expired_seen');
    }
  });

  test('expired alone is a stage, not an end: nothing triggers a decision', () => {
    const j = journey();
    applyDelivery(j, event('application.expired'), T0);
    expect(stageOf(j)).toBe('expired');
    expect(decisionTrigger(j, at(60))).toBeNull();
  });

  test('a score before application.complete is enough to decide', () => {
    const j = journey();
    applyDelivery(j, score('psychometric', 1), T0);
    expect(stageOf(j)).toBe('awaiting_scores');
    expect(decisionTrigger(j, T0)).toBe('scores_complete');
  });

  test('the same set of events gives the same state in any order', () => {
    const events = [
      event('application.complete'),
      score('psychometric', 5),
      event('application.expired'),
      score('psychometric', 9, { score: 7 }),
    ];
    const permutations = [events, [...events].reverse(), [events[2]!, events[0]!, events[3]!, events[1]!]];
    const results = permutations.map((order) => {
      const j = journey(['psychometric', 'android']);
      for (const e of order) applyDelivery(j, e, T0);
      return {
        application: j.application,
        scores: j.scores,
        stage: stageOf(j),
        flags: j.flags.filter((f) => f !== 'rescored'),
      };
    });
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    expect(results[0]!.scores.psychometric?.score).toBe(7);
  });
});

describe('when to decide', () => {
  test('cancelled and incomplete end the wait', () => {
    const cancelled = journey();
    applyDelivery(cancelled, event('application.cancelled'), T0);
    expect(decisionTrigger(cancelled, T0)).toBe('cancelled');
    const incomplete = journey();
    applyDelivery(incomplete, event('application.incomplete'), T0);
    expect(decisionTrigger(incomplete, T0)).toBe('incomplete');
  });

  test('a malformed score ends the wait so it can be reviewed', () => {
    const j = journey();
    applyDelivery(
      j,
      event('psychometric_score.complete', { malformed: true, issues: ['details.calculated.score: bad'] }),
      T0,
    );
    expect(decisionTrigger(j, T0)).toBe('malformed_score');
    expect(j.flags).toContain('malformed_event');
  });

  test('with two required scores, the grace period starts at the first', () => {
    const j = journey(['psychometric', 'android']);
    applyDelivery(j, score('psychometric', 1), at(10));
    expect(decisionTrigger(j, at(69))).toBeNull();
    expect(nextWaitDeadline(j)).toBe(at(70).getTime());
    expect(decisionTrigger(j, at(70))).toBe('grace_elapsed');
    applyDelivery(j, score('android', 1), at(20));
    expect(decisionTrigger(j, at(20))).toBe('scores_complete');
  });

  test('a score that is not required does not start the grace period', () => {
    const j = journey(['psychometric']);
    applyDelivery(j, score('ios', 1), T0);
    expect(j.firstRequiredScoreAt).toBeNull();
    expect(decisionTrigger(j, at(3_000))).toBeNull();
  });

  test('expiry with no required score is "no score"; with some, partial', () => {
    const none = journey();
    expect(nextWaitDeadline(none)).toBe(at(3_600).getTime());
    expect(decisionTrigger(none, at(3_600))).toBe('expired_no_score');
    const partial = journey(['psychometric', 'android']);
    partial.settings.scoreGraceMs = 10 * 3_600_000;
    applyDelivery(partial, score('psychometric', 1), at(3_000));
    expect(decisionTrigger(partial, at(3_600))).toBe('expired_partial_scores');
  });
});

/** The journey as it stands once the policy approved it and the hand-off settled. */
function settleApproved(j: JourneyState): void {
  j.phase = 'settled';
  j.decision = {
    outcome: 'APPROVE',
    reasons: [],
    policyVersion: 'v',
    decidedAt: T0.toISOString(),
    decidedBy: 'policy',
  };
}

describe('after the decision', () => {
  test('a re-score is late, flagged, queued as a notice and not applied', () => {
    const j = journey();
    applyDelivery(j, score('psychometric', 1), T0);
    settleApproved(j);
    const late = applyDelivery(j, score('psychometric', 2, { score: 99 }), T0);
    expect(late).toMatchObject({ late: true, rescore: true });
    expect(j.scores.psychometric?.score).toBe(42);
    expect(j.flags).toEqual(expect.arrayContaining(['late_event', 'rescored_after_decision']));
    expect(j.pendingNotices).toHaveLength(1);
    expect(j.pendingNotices[0]!.score?.score).toBe(99);
  });

  test('a duplicate of a late event queues no second notice', () => {
    const j = journey();
    j.phase = 'settled';
    const late = score('psychometric', 2);
    applyDelivery(j, late, T0);
    applyDelivery(j, { ...late }, T0);
    expect(j.pendingNotices).toHaveLength(1);
    expect(j.counts.late).toBe(1);
  });

  test('application events no longer change the application status', () => {
    const j = journey();
    j.phase = 'settled';
    applyDelivery(j, event('application.cancelled'), T0);
    expect(j.application).toBe('pending');
    expect(decisionTrigger(j, T0)).toBeNull();
  });
});

describe('quarantine: recorded, never applied', () => {
  test("a delivery of another integration or environment never changes the journey, and cannot mask the journey's own event", () => {
    const j = journey();
    const foreign = score('psychometric', 100, { riskBand: 'A' });
    for (const stranger of [
      { ...foreign, integrationId: 'other' },
      { ...foreign, fingerprint: 'f2'.padEnd(64, '0'), environment: 'production' },
    ]) {
      const record = applyDelivery(j, stranger, T0);
      expect(record).toMatchObject({ quarantined: 'foreign', duplicate: false, late: false });
    }
    expect(j.scores).toEqual({});
    expect(j.flags).toEqual(['foreign_delivery']);
    expect(j.counts).toMatchObject({ deliveries: 2, quarantined: 2, duplicates: 0 });
    expect(decisionTrigger(j, T0)).toBeNull();
    // The journey's own copy of the same event (same semantic key) is applied, not taken for a duplicate.
    const own = applyDelivery(j, { ...foreign, fingerprint: 'f3'.padEnd(64, '0') }, T0);
    expect(own).toMatchObject({ duplicate: false });
    expect(j.scores.psychometric?.riskBand).toBe('A');
  });

  test('an event older than the maximum event age is recorded and never applied; without the setting (older journeys) it applies', () => {
    const maxEventAgeMs = 30 * 86_400_000;
    const j = startJourney(
      { uid: 'u', integrationId: 'i', environment: 'test', settings: { ...settings, maxEventAgeMs } },
      T0,
    );
    const nowSeconds = T0.getTime() / 1000;
    const monthAgo = nowSeconds - 31 * 86_400;
    const replayed = applyDelivery(j, { ...score('psychometric', monthAgo), eventTime: monthAgo }, T0);
    expect(replayed.quarantined).toBe('too_old');
    expect(j.scores).toEqual({});
    expect(j.flags).toEqual(['event_too_old']);
    const fresh = applyDelivery(j, { ...score('psychometric', nowSeconds), eventTime: nowSeconds - 60 }, T0);
    expect(fresh.quarantined).toBeUndefined();
    expect(j.scores.psychometric).toBeDefined();

    const legacy = journey();
    applyDelivery(legacy, { ...score('psychometric', 1), eventTime: 1 }, T0);
    expect(legacy.scores.psychometric).toBeDefined();
  });

  test('late-event notices are bounded: the oldest are dropped and counted', () => {
    const j = journey();
    applyDelivery(j, score('psychometric', 1), T0);
    settleApproved(j);
    for (let i = 2; i < 2 + MAX_PENDING_NOTICES * 5; i++) applyDelivery(j, score('psychometric', i), T0);
    expect(j.pendingNotices).toHaveLength(MAX_PENDING_NOTICES);
    expect(j.counts.noticesDropped).toBe(MAX_PENDING_NOTICES * 4);
    expect(j.pendingNotices.at(-1)!.score?.scoredAt).toBe(1 + MAX_PENDING_NOTICES * 5);
  });
});

describe('order independence', () => {
  /**
   * What may depend on the order deliveries arrive in, and nothing else: the list of events (its
   * order, and which copy of an event is the duplicate, so which fingerprint is remembered; which
   * score is the stale one), the last event type, the rescore count and its `rescored` flag.
   */
  const ORDER_DEPENDENT_FLAGS = ['rescored'];
  const outcome = (j: JourneyState) => ({
    scores: j.scores,
    application: j.application,
    malformedScore: j.malformedScore,
    firstRequiredScoreAt: j.firstRequiredScoreAt,
    trigger: decisionTrigger(j, T0),
    stage: stageOf(j),
    flags: j.flags.filter((f) => !ORDER_DEPENDENT_FLAGS.includes(f)),
    counts: { deliveries: j.counts.deliveries, duplicates: j.counts.duplicates, quarantined: j.counts.quarantined },
    seenEvents: [...j.seen.semanticKeys].sort(),
  });

  const APPLICATION = [
    'application.complete',
    'application.expired',
    'application.incomplete',
    'application.cancelled',
    'webhook.test',
  ];
  const oneEvent = fc.oneof(
    fc
      .record({
        kind: fc.constantFrom('psychometric', 'android'),
        scoredAt: fc.integer({ min: 1, max: 1_000 }),
        band: fc.constantFrom('A', 'C', 'E'),
      })
      .map(({ kind, scoredAt, band }) => score(kind, scoredAt, { riskBand: band, score: scoredAt })),
    fc
      .constantFrom(...APPLICATION)
      .map((type) => event(type, { recognised: type !== 'webhook.test', semanticKey: `${type}|fixed` })),
    fc
      .constant(0)
      .map(() => event('psychometric_score.complete', { malformed: true, issues: ['details.calculated: required'] })),
    fc.constant(0).map(() => ({ ...score('psychometric', 5), integrationId: 'another-integration' })),
  );

  test("a journey's deliveries in any order leave the same journey (bar the fields named above)", () => {
    const runs = 2_000;
    fc.assert(
      fc.property(
        fc
          .array(oneEvent, { minLength: 1, maxLength: 12 })
          .chain((events) => {
            // One copy per semantic key (a re-sent copy is identical but for its bytes), plus resent copies.
            const unique = [...new Map(events.map((e) => [e.semanticKey, e])).values()];
            return fc.tuple(fc.constant(unique), fc.array(fc.nat(unique.length - 1), { maxLength: 4 }));
          })
          .chain(([unique, copies]) => {
            const all = [
              ...unique,
              ...copies.map((i, n) => ({ ...unique[i]!, fingerprint: `copy${n}-${unique[i]!.fingerprint}` })),
            ];
            return fc.tuple(
              fc.constant(all),
              fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
            );
          }),
        ([inOrder, shuffled]) => {
          const a = journey(['psychometric', 'android']);
          const b = journey(['psychometric', 'android']);
          for (const d of inOrder) applyDelivery(a, d, T0);
          for (const d of shuffled) applyDelivery(b, d, T0);
          expect(outcome(b)).toEqual(outcome(a));
        },
      ),
      { numRuns: runs },
    );
    recordCases('reducer: deliveries in any order', runs);
  });
});
