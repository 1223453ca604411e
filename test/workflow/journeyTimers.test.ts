/**
 * Every timer of the journey, in journey time: expiry, the device-score grace, the review deadline
 * and its fallback, the hand-off's retries and pauses, the settle period, and continuing as new.
 * Production timings (src/config.ts defaults, activities/default-policy.yaml); nothing waits for them.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { REVIEW_REJECTIONS, reviewUpdate, WORKFLOW_TYPES } from '../../workflows/definitions';
import { newUid } from '../support/begini';
import { decisionTries, journeyTestbed, type Testbed } from '../support/journeyTestbed';

const HOUR = 3_600_000;
/** Recordings made since principal reasons and reopening (test/unit/replay.test.ts). */
const APPLICANT_RIGHTS = 'applicant-rights';
// One testbed (a test server, its clock and a worker) for the file; the few tests that skip weeks
// have their own, so that the shared clock never runs so far ahead that a fresh delivery looks old.
let bed: Testbed;
beforeAll(async () => {
  bed = await journeyTestbed();
});
afterAll(() => bed?.teardown());
beforeEach(() => {
  bed.los = () => 'delivered';
});

test('a journey with no score decides "no score" when it expires, 48 h after it started', async () => {
  const uid = newUid();
  await bed.send('application.complete', uid);
  const started = await bed.now();
  await bed.skip('47h');
  expect((await bed.journey(uid)).decision).toBeNull();
  await bed.skip('2h');
  const view = await bed.until(uid, (v) => v.handoff.status === 'delivered');
  expect(view).toMatchObject({ stage: 'expired', trigger: 'expired_no_score' });
  expect(view.decision).toMatchObject({ outcome: 'DECLINE', reasons: ['no_score'] });
  const [handoff] = decisionTries(bed, uid);
  expect(handoff!.at - started).toBeGreaterThanOrEqual(48 * HOUR);
  expect(handoff!.at - started).toBeLessThan(49 * HOUR);
  await bed.recordHistory(uid, 'expiry-no-score');
});

describe('a deployment that requires a device score too', () => {
  let device: Testbed;
  beforeAll(async () => {
    device = await journeyTestbed({ JOURNEY_REQUIRED_SCORES: 'psychometric,android' });
  });
  afterAll(() => device?.teardown());

  test('waits for both scores, then decides on both', async () => {
    const uid = newUid();
    await device.send('psychometric_score.complete', uid);
    await device.skip('10m');
    expect((await device.journey(uid)).stage).toBe('awaiting_scores');
    await device.send('android_score.complete', uid);
    const view = await device.until(uid, (v) => v.handoff.status === 'delivered');
    expect(view.trigger).toBe('scores_complete');
    expect(view.scores.android).toMatchObject({ score: 510, permissionsDenied: ['READ_SMS'] });
    expect(view.decision?.outcome).toBe('APPROVE');
  });

  test('decides with what is there once the 15 min grace passes', async () => {
    const uid = newUid();
    await device.send('psychometric_score.complete', uid);
    await device.skip('14m');
    expect((await device.journey(uid)).decision).toBeNull();
    await device.skip('2m');
    const view = await device.until(uid, (v) => v.decision !== null);
    expect(view.trigger).toBe('grace_elapsed');
    expect(view.decision).toMatchObject({ outcome: 'REFER', reasons: ['required_score_missing'] });
    await device.recordHistory(uid, 'grace-elapsed');
  });
});

describe('review', () => {
  const referred = async (): Promise<string> => {
    const uid = newUid();
    await bed.send('psychometric_score.complete', uid, { details: { calculated: { risk_band: 'D' } } });
    await bed.until(uid, (v) => v.stage === 'in_review');
    return uid;
  };

  test('nobody reviewing within the 48 h deadline hands off the policy’s fallback, and a late review is refused', async () => {
    const uid = await referred();
    expect((await bed.journey(uid)).review).toMatchObject({ reason: 'referred', fallback: 'DECLINE' });
    await bed.skip('47h');
    expect((await bed.journey(uid)).stage).toBe('in_review');
    await bed.skip('2h');
    const view = await bed.until(uid, (v) => v.handoff.status === 'delivered');
    expect(view.decision).toMatchObject({ outcome: 'DECLINE', decidedBy: 'review_deadline' });
    expect(view.decision?.reasons).toEqual(['medium_risk_band', 'review_deadline_passed']);
    // The fallback declines for the reasons the policy referred it: the notice can say why.
    const referralReasons = [{ code: 'medium_risk_band', text: 'Your assessment result needs a closer review.' }];
    expect(view.decision?.principalReasons).toEqual(referralReasons);
    const tries = decisionTries(bed, uid);
    expect(tries.map((t) => t.request.payload.decision?.outcome)).toEqual(['DECLINE']);
    expect(tries[0]!.request.payload.decision?.principalReasons).toEqual(referralReasons);
    await expect(
      bed.handle(uid).executeUpdate(reviewUpdate, { args: [{ outcome: 'APPROVE', reviewer: 'ana' }] }),
    ).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await bed.recordHistory(uid, `${APPLICANT_RIGHTS}/review-deadline`);
  });

  test('a review just before the deadline decides, and the deadline then changes nothing', async () => {
    const uid = await referred();
    await bed.skip('47h');
    const decision = await bed
      .handle(uid)
      .executeUpdate(reviewUpdate, { args: [{ outcome: 'APPROVE', reviewer: 'ana', note: 'income verified' }] });
    expect(decision).toMatchObject({ outcome: 'APPROVE', decidedBy: 'review', reviewer: 'ana' });
    await bed.skip('2h');
    const view = await bed.until(uid, (v) => v.handoff.status === 'delivered');
    expect(view.decision).toMatchObject({ outcome: 'APPROVE', decidedBy: 'review' });
    expect(decisionTries(bed, uid).map((t) => t.request.payload.decision?.outcome)).toEqual(['APPROVE']);
  });
});

describe('hand-off to the LOS', () => {
  test('a failing LOS is retried at 1, 2, 4… s under one Idempotency-Key with the same bytes until it answers', async () => {
    const uid = newUid();
    bed.los = (request, attempt) => (request.uid === uid && attempt <= 5 ? 'fails' : 'delivered');
    await bed.send('psychometric_score.complete', uid);
    await bed.skip('1m');
    const view = await bed.until(uid, (v) => v.handoff.status === 'delivered');
    expect(view.handoff.failedRounds).toBe(0);
    const tries = decisionTries(bed, uid);
    expect(tries.map((t) => t.answer)).toEqual(['fails', 'fails', 'fails', 'fails', 'fails', 'delivered']);
    expect(new Set(tries.map((t) => t.idempotencyKey)).size).toBe(1);
    expect(new Set(tries.map((t) => t.bytes)).size).toBe(1);
    const gaps = tries.slice(1).map((t, i) => t.at - tries[i]!.at);
    expect(gaps.map((gap) => Math.round(gap / 1000))).toEqual([1, 2, 4, 8, 16]);
  });

  test('a round of 8 failed tries pauses 64 s, says so on the journey, then tries again with the same key', async () => {
    const uid = newUid();
    bed.los = (request) => (request.uid === uid && decisionTries(bed, uid).length < 10 ? 'fails' : 'delivered');
    await bed.send('psychometric_score.complete', uid);
    await bed.skip('3m');
    const failing = await bed.until(uid, (v) => v.handoff.status === 'failing');
    expect(failing.flags).toContain('handoff_failing');
    expect(failing.handoff.failedRounds).toBe(1);
    await bed.skip('10m');
    const view = await bed.until(uid, (v) => v.handoff.status === 'delivered');
    expect(view.flags).not.toContain('handoff_failing');
    const tries = decisionTries(bed, uid);
    expect(tries.map((t) => t.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3]);
    expect(Math.round((tries[8]!.at - tries[7]!.at) / 1000)).toBe(64);
    expect(new Set(tries.map((t) => t.idempotencyKey)).size).toBe(1);
  });

  test('an LOS that refuses the decision sends it to review with no deadline; the reviewer’s decision goes under a new key', async () => {
    const uid = newUid();
    bed.los = (request) => (request.uid === uid && decisionTries(bed, uid).length === 0 ? 'rejects' : 'delivered');
    await bed.send('psychometric_score.complete', uid);
    const rejected = await bed.until(uid, (v) => v.stage === 'in_review');
    expect(rejected.handoff.status).toBe('rejected');
    expect(rejected.review).toMatchObject({ reason: 'handoff_rejected', deadline: null });
    await bed.skip('7d');
    expect((await bed.journey(uid)).stage).toBe('in_review');
    // A DECLINE must say why, in codes the policy knows: refused without, and with one it lacks.
    const refusal = (reasons?: string[]) =>
      bed
        .handle(uid)
        .executeUpdate(reviewUpdate, { args: [{ outcome: 'DECLINE', reviewer: 'ana', reasons }] })
        .then(
          () => 'accepted',
          (err: WorkflowUpdateFailedError) => (err.cause as ApplicationFailure).type,
        );
    expect(await refusal()).toBe(REVIEW_REJECTIONS.invalid);
    expect(await refusal(['income_unverified'])).toBe(REVIEW_REJECTIONS.unknownReason);
    expect((await bed.journey(uid)).stage).toBe('in_review');
    await bed.handle(uid).executeUpdate(reviewUpdate, {
      args: [{ outcome: 'DECLINE', reviewer: 'ana', reasons: ['low_score_confidence', 'high_risk_band'] }],
    });
    await bed.until(uid, (v) => v.handoff.status === 'delivered');
    const [refused, accepted] = decisionTries(bed, uid);
    expect(accepted!.request.payload.decision).toMatchObject({
      outcome: 'DECLINE',
      reasons: ['low_risk_band', 'reviewed_decline', 'low_score_confidence', 'high_risk_band'],
      // By the policy's priorities, not the order the reviewer typed them.
      principalReasons: [
        { code: 'high_risk_band', text: 'Your assessment result is outside our lending criteria.' },
        { code: 'low_score_confidence', text: 'Your assessment result was not conclusive enough.' },
      ],
    });
    expect(accepted!.idempotencyKey).not.toBe(refused!.idempotencyKey);
    await bed.recordHistory(uid, `${APPLICANT_RIGHTS}/review-declined-with-reasons`);
  });
});

describe('after the decision', () => {
  let settling: Testbed;
  beforeAll(async () => {
    // The late delivery is stamped by the wall clock, 31 days behind this journey's: under the
    // default 30 d maximum age it would be quarantined as too old before it is recorded.
    settling = await journeyTestbed({ JOURNEY_MAX_EVENT_AGE: '60d' });
  });
  afterAll(() => settling?.teardown());

  test('the journey stays open 30 days to absorb late deliveries, then closes; a later one is recorded apart', async () => {
    const uid = newUid();
    await settling.send('psychometric_score.complete', uid);
    await settling.until(uid, (v) => v.handoff.status === 'delivered');
    const journeyRun = (await settling.handle(uid).describe()).runId;
    await settling.skip('29d');
    expect((await settling.handle(uid).describe()).status.name).toBe('RUNNING');
    await settling.skip('2d');
    // Not handle.result(): waiting on it lets the test server skip its clock on without bound.
    const closed = await settling.until(uid, (v) => v.stage === 'closed');
    expect(closed.decision?.outcome).toBe('APPROVE');
    expect((await settling.handle(uid).describe()).status.name).toBe('COMPLETED');

    expect(
      await settling.send('psychometric_score.complete', uid, { details: { calculated: { risk_band: 'E' } } }),
    ).toBe('after_close');
    const recorder = await settling.handle(uid).describe();
    expect(recorder.type).toBe(WORKFLOW_TYPES.afterClose);
    expect(recorder.runId).not.toBe(journeyRun);
    expect((await settling.journey(uid)).decision).toBeNull();
    expect(decisionTries(settling, uid)).toHaveLength(1);
  });
});

describe('a long history', () => {
  // Its own testbed: thousands of signals on a server busy with other journeys' timers take minutes.
  let storm: Testbed;
  beforeAll(async () => {
    storm = await journeyTestbed();
  });
  afterAll(() => storm?.teardown());

  test('a storm of duplicates while it settles continues the run as new, with the decision and counts carried', async () => {
    const uid = newUid();
    const now = Math.floor(Date.now() / 1000);
    await storm.send('psychometric_score.complete', uid, { now });
    await storm.until(uid, (v) => v.handoff.status === 'delivered');
    const firstRun = (await storm.handle(uid).describe()).runId;
    await storm.resend(2_100, 'psychometric_score.complete', uid, { now });
    const view = await storm.until(uid, (v) => v.counts.deliveries === 2_101);
    expect((await storm.handle(uid).describe()).runId).not.toBe(firstRun);
    expect(view.counts.duplicates).toBe(2_100);
    expect(view.decision?.outcome).toBe('APPROVE');
    expect(decisionTries(storm, uid)).toHaveLength(1);
  });
});
