/** Review as pure logic: when a review may decide, its deadline, the fallback, and a reviewer's decision. */
import type { Decision } from '../../workflows/definitions';
import { startJourney, type JourneyState } from '../../workflows/journeyState';
import {
  applyReview,
  applyReviewDeadline,
  checkReview,
  checkReviewOpen,
  referForReview,
  reviewRejectedHandoff,
  reviewTimeLeft,
} from '../../workflows/review';
import { TEST_JOURNEY_SETTINGS } from '../support/begini';

const T0 = new Date('2026-11-26T10:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const policyDecision: Decision = {
  outcome: 'REFER',
  reasons: ['thin_file'],
  policyVersion: 'v7',
  decidedAt: T0.toISOString(),
  decidedBy: 'policy',
};

/** A journey the policy referred at T0 with a 60 s deadline and DECLINE as the fallback. */
function referred(): JourneyState {
  const state = startJourney(
    { uid: 'u', integrationId: 'i', environment: 'test', settings: TEST_JOURNEY_SETTINGS },
    T0,
  );
  state.decision = { ...policyDecision };
  referForReview(state, { deadlineMs: 60_000, fallback: 'DECLINE' }, T0);
  return state;
}

function rejected(): JourneyState {
  const state = referred();
  state.phase = 'delivering';
  reviewRejectedHandoff(state, at(10));
  return state;
}

const review = { outcome: 'APPROVE', reviewer: 'ana' };

describe('opening a review', () => {
  test('a referral waits for a reviewer until its deadline, then the fallback decides', () => {
    const state = referred();
    expect(state.phase).toBe('in_review');
    expect(state.review).toEqual({
      reason: 'referred',
      since: T0.toISOString(),
      deadline: at(60).toISOString(),
      fallback: 'DECLINE',
    });
  });

  test('a rejected hand-off waits for an operator with no deadline and no fallback', () => {
    const state = rejected();
    expect(state.phase).toBe('in_review');
    expect(state.review).toEqual({
      reason: 'handoff_rejected',
      since: at(10).toISOString(),
      deadline: null,
      fallback: null,
    });
  });
});

describe('the review deadline', () => {
  test('the time left counts down to the deadline and never below 1 ms (a timer of 0 would not fire)', () => {
    const state = referred();
    expect(reviewTimeLeft(state, T0)).toBe(60_000);
    expect(reviewTimeLeft(state, at(59))).toBe(1_000);
    expect(reviewTimeLeft(state, at(61))).toBe(1);
    expect(reviewTimeLeft(rejected(), at(86_400))).toBeUndefined();
  });

  test('a review at or past the deadline (workflow time) is refused, so the fallback decides', () => {
    const state = referred();
    expect(checkReview(state, review, new Date(at(60).getTime() - 1))).toEqual({ ok: true });
    for (const now of [at(60), new Date(at(60).getTime() + 30), at(3600)])
      expect(checkReview(state, review, now)).toMatchObject({ ok: false, type: 'ReviewDeadlinePassed' });
  });

  test('once the fallback has decided, a late review gets the same refusal', () => {
    const state = referred();
    applyReviewDeadline(state, at(60));
    expect(checkReview(state, review, at(61))).toMatchObject({ ok: false, type: 'ReviewDeadlinePassed' });
    expect(checkReviewOpen(state, at(61))).toMatchObject({ ok: false, type: 'ReviewDeadlinePassed' });
  });

  test('a review without a deadline (a rejected hand-off) is never late', () => {
    expect(checkReview(rejected(), review, at(86_400 * 365))).toEqual({ ok: true });
  });

  test('a journey that was never in review is "not in review", not "deadline passed"', () => {
    const state = referred();
    state.phase = 'settled';
    expect(checkReviewOpen(state, T0)).toMatchObject({ ok: false, type: 'NotInReview' });
  });

  test('the fallback decides with the policy reasons kept, resolves the review and moves on to delivery', () => {
    const state = referred();
    applyReviewDeadline(state, at(60));
    expect(state.decision).toEqual({
      outcome: 'DECLINE',
      reasons: ['thin_file', 'review_deadline_passed'],
      policyVersion: 'v7',
      decidedAt: at(60).toISOString(),
      decidedBy: 'review_deadline',
    });
    expect(state.review?.resolvedAt).toBe(at(60).toISOString());
    expect(state.phase).toBe('delivering');
    expect(state.audit?.at(-1)).toMatchObject({ action: 'review_deadline', what: 'DECLINE' });
  });
});

describe('a reviewer decides', () => {
  test('malformed reviews are refused as invalid', () => {
    const state = referred();
    for (const bad of [null, 'APPROVE', { outcome: 'REFER', reviewer: 'ana' }, { outcome: 'APPROVE', reviewer: ' ' }])
      expect(checkReview(state, bad, T0)).toMatchObject({ ok: false, type: 'InvalidReview' });
    expect(checkReview(state, { ...review, note: 'n'.repeat(2001) }, T0)).toMatchObject({ ok: false });
  });

  test("the reviewer's outcome replaces the policy's, named and noted on the review and the audit trail", () => {
    const state = referred();
    const decision = applyReview(state, { outcome: 'APPROVE', reviewer: 'ana', note: 'checked' }, at(30), 'upd-1');
    expect(decision).toMatchObject({
      outcome: 'APPROVE',
      reasons: ['thin_file', 'reviewed_approve'],
      policyVersion: 'v7',
      decidedAt: at(30).toISOString(),
      decidedBy: 'review',
      reviewer: 'ana',
    });
    expect(state.decision).toBe(decision);
    expect(state.review).toMatchObject({ reviewer: 'ana', note: 'checked', resolvedAt: at(30).toISOString() });
    expect(state.phase).toBe('delivering');
    expect(state.audit?.at(-1)).toMatchObject({ action: 'review', what: 'APPROVE', why: 'checked' });
    expect(checkReviewOpen(state, at(31))).toMatchObject({ ok: false, type: 'NotInReview' });
  });
});
