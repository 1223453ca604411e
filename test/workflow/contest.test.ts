/**
 * Contest: a delivered decision reopened by a human, reviewed anew and handed off under a new
 * Idempotency-Key naming the one it supersedes; a reopened review nobody takes up leaves the
 * delivered decision standing. Updates sent as the Web UI does (a typed operator name).
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { REOPEN_REJECTIONS, reopenUpdate, reviewUpdate, type ReopenRequest } from '../../workflows/definitions';
import { newUid } from '../support/begini';
import { decisionTries, journeyTestbed, type Testbed } from '../support/journeyTestbed';

let bed: Testbed;
beforeAll(async () => {
  bed = await journeyTestbed();
});
afterAll(() => bed?.teardown());

async function approvedAndDelivered(): Promise<string> {
  const uid = newUid();
  await bed.send('psychometric_score.complete', uid);
  const view = await bed.until(uid, (v) => v.stage === 'decided');
  expect(view.decision?.outcome).toBe('APPROVE');
  return uid;
}

const reopen = (uid: string, request: ReopenRequest) =>
  bed
    .handle(uid)
    .executeUpdate(reopenUpdate, { args: [request] })
    .then(
      (review) => review,
      (err: WorkflowUpdateFailedError) => (err.cause as ApplicationFailure).type,
    );

test('a contested APPROVE reopened and reviewed to DECLINE goes to the LOS under a new key that names the old one', async () => {
  const uid = await approvedAndDelivered();
  const [first] = decisionTries(bed, uid);
  const review = await reopen(uid, { reason: 'applicant contests: income misread', operator: 'ana@lender' });
  expect(review).toMatchObject({ reason: 'reopened', fallback: null, supersedes: first!.idempotencyKey });
  expect((await bed.journey(uid)).stage).toBe('in_review');
  // In review already: a second reopen is refused.
  expect(await reopen(uid, { reason: 'again', operator: 'ana@lender' })).toBe(REOPEN_REJECTIONS.notReopenable);

  await bed.handle(uid).executeUpdate(reviewUpdate, {
    args: [{ outcome: 'DECLINE', reasons: ['high_risk_band'], reviewer: 'bo@lender', note: 'payslip forged' }],
  });
  const view = await bed.until(uid, (v) => v.stage === 'decided' && decisionTries(bed, uid).length === 2);
  const [, second] = decisionTries(bed, uid);
  expect(second!.idempotencyKey).not.toBe(first!.idempotencyKey);
  expect(second!.request.payload.decision).toMatchObject({
    outcome: 'DECLINE',
    decidedBy: 'review',
    reviewer: 'bo@lender',
    supersedes: first!.idempotencyKey,
    principalReasons: [{ code: 'high_risk_band', text: 'Your assessment result is outside our lending criteria.' }],
  });
  expect(view.audit!.map((e) => [e.action, e.actor])).toEqual([
    ['decided', 'policy'],
    ['handoff_delivered', 'los'],
    ['reopen', 'ana@lender'],
    ['review', 'bo@lender'],
    ['handoff_delivered', 'los'],
  ]);
  expect(view.audit!.find((e) => e.action === 'reopen')).toMatchObject({
    what: 'APPROVE',
    why: 'applicant contests: income misread',
  });
  await bed.recordHistory(uid, 'applicant-rights/reopened-declined');
});

test('a reopened review nobody takes up lapses: the delivered decision stands and nothing is sent again', async () => {
  const uid = await approvedAndDelivered();
  const review = await reopen(uid, { reason: 'contested', operator: 'ana@lender', reviewWithinMs: 3_600_000 });
  expect(review).toMatchObject({ reason: 'reopened' });
  await bed.skip('2h');
  const view = await bed.until(uid, (v) => v.stage === 'decided');
  expect(view.decision).toMatchObject({ outcome: 'APPROVE', decidedBy: 'policy' });
  expect(view.audit!.at(-1)).toMatchObject({ action: 'reopen_lapsed', actor: 'review_deadline', what: 'APPROVE' });
  expect(decisionTries(bed, uid)).toHaveLength(1);
  await expect(
    bed.handle(uid).executeUpdate(reviewUpdate, { args: [{ outcome: 'APPROVE', reviewer: 'late' }] }),
  ).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
});

test('a journey is reopened at most three times: each reopening extends how long its data stays', async () => {
  const uid = await approvedAndDelivered();
  for (let round = 1; round <= 3; round++) {
    expect(await reopen(uid, { reason: `contest ${round}`, operator: 'ana' })).toMatchObject({ reason: 'reopened' });
    await bed.handle(uid).executeUpdate(reviewUpdate, { args: [{ outcome: 'APPROVE', reviewer: 'bo' }] });
    await bed.until(uid, (v) => v.stage === 'decided' && decisionTries(bed, uid).length === round + 1);
  }
  expect(await reopen(uid, { reason: 'contest 4', operator: 'ana' })).toBe(REOPEN_REJECTIONS.notReopenable);
});

test('reopening needs a reason and a delivered decision', async () => {
  const uid = await approvedAndDelivered();
  expect(await reopen(uid, { reason: ' ', operator: 'ana' })).toBe(REOPEN_REJECTIONS.invalid);
  expect(await reopen(uid, { reason: 'x', reviewWithinMs: 90 * 86_400_000 })).toBe(REOPEN_REJECTIONS.invalid);
  const waiting = newUid();
  await bed.send('application.complete', waiting);
  await bed.until(waiting, (v) => v.stage === 'awaiting_scores');
  expect(await reopen(waiting, { reason: 'contested' })).toBe(REOPEN_REJECTIONS.notReopenable);
  expect(decisionTries(bed, uid)).toHaveLength(1);
});
