/**
 * A review at or past the review deadline (workflow time) is refused and the policy's fallback
 * decides, whatever order the workflow sees the deadline's timer and the late review in: through
 * the operators' API, a real worker and dev server, and a real HTTP server as the LOS.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { JourneyView } from '../../workflows/definitions';
import { delivery, newUid } from '../support/begini';
import { OPERATORS, operatorsEnv } from '../support/operators';
import { TEST_DATA_DIR } from '../support/paths';
import { losStacks } from '../support/losStacks';
import type { Stack } from '../support/stack';

const SHORT_REVIEW = resolve(__dirname, '..', 'fixtures/policy-short-review.yaml');

/** The short-review policy with another deadline. */
function policyWithDeadline(deadline: string): string {
  const path = resolve(TEST_DATA_DIR, `policy-review-${deadline}-${process.pid}.yaml`);
  writeFileSync(path, readFileSync(SHORT_REVIEW, 'utf8').replace(/deadline: \S+/, `deadline: ${deadline}`));
  return path;
}

const stacks = losStacks();
const stackWith = stacks.start;

async function review(stack: Stack, uid: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${stack.receiver.internalUrl}/journeys/${encodeURIComponent(uid)}/review`, {
    method: 'POST',
    headers: { authorization: `Bearer ${OPERATORS.reviewer.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ outcome: 'APPROVE', note: 'late' }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Sends a score the policy refers and waits for the referral; its deadline in epoch ms. */
async function referred(stack: Stack, uid: string): Promise<number> {
  await stack.send(delivery('psychometric_score.complete', uid, { details: { calculated: { risk_band: 'D' } } }));
  const view = await stack.waitForJourney(uid, (v) => v.stage === 'in_review');
  return Date.parse(view.review!.deadline!);
}

async function pastDeadline(deadline: number): Promise<void> {
  while (Date.now() <= deadline) await new Promise((r) => setTimeout(r, Math.max(deadline - Date.now() + 1, 1)));
}

function expectFallbackDecided(view: JourneyView, uid: string): void {
  expect(view.decision).toMatchObject({ outcome: 'DECLINE', decidedBy: 'review_deadline' });
  expect((view.audit ?? []).map((entry) => entry.action)).not.toContain('review');
  const handoffs = stacks.los().forUid(uid, 'decision');
  expect(handoffs.map((h) => h.body.decision?.outcome)).toEqual(['DECLINE']);
}

const delivered = (v: JourneyView) => v.handoff.status === 'delivered';

test('worker up: a review just after the deadline gets 409 review_deadline_passed and the fallback reaches the LOS', async () => {
  const stack = await stackWith('late-review-up', {
    env: { ...operatorsEnv('late-review-up'), POLICY_FILE: policyWithDeadline('2s') },
  });
  const uid = newUid();
  await pastDeadline(await referred(stack, uid));

  const late = await review(stack, uid);
  expect(late.status).toBe(409);
  expect(late.body).toMatchObject({ reason: 'review_deadline_passed' });
  expectFallbackDecided(await stack.waitForJourney(uid, delivered), uid);
  await stack.recordHistory(uid, 'review-closes-at-deadline/review-late-refused');
});

test('a review before the deadline still decides', async () => {
  const stack = await stackWith('review-in-time', {
    env: { ...operatorsEnv('review-in-time'), POLICY_FILE: policyWithDeadline('30s') },
  });
  const uid = newUid();
  await referred(stack, uid);
  const answer = await review(stack, uid);
  expect(answer.status).toBe(200);
  expect(answer.body.decision).toMatchObject({ outcome: 'APPROVE', decidedBy: 'review' });
  await stack.waitForJourney(uid, delivered);
  expect(
    stacks
      .los()
      .forUid(uid, 'decision')
      .map((h) => h.body.decision?.outcome),
  ).toEqual(['APPROVE']);
  await stack.recordHistory(uid, 'review-closes-at-deadline/review-in-time');
});

test('worker down: a review sent after the deadline is not applied when the worker returns; the fallback decides', async () => {
  // The receiver alone, and workers that come and go on its task queue.
  const receiver = await stackWith('late-review-down', { worker: false, env: operatorsEnv('late-review-down') });
  const workerEnv = {
    TEMPORAL_TASK_QUEUE: receiver.env.TEMPORAL_TASK_QUEUE!,
    POLICY_FILE: policyWithDeadline('8s'),
  };
  const first = await stackWith('late-review-down-worker', { env: workerEnv });
  const uid = newUid();
  const deadline = await referred(receiver, uid);
  await first.stop();
  if (Date.now() >= deadline) throw new Error('the worker took until the deadline to stop; the test proves nothing');

  await pastDeadline(deadline);
  // No worker answers the update: "retry later". Temporal keeps the update for the workflow's next task.
  const late = await review(receiver, uid);
  expect(late.status).toBe(503);
  expect(late.body).toMatchObject({ reason: 'temporal_unavailable' });

  // The returning worker gets the deadline's timer and the late review in one workflow task.
  await stackWith('late-review-down-worker-2', { env: workerEnv });
  expectFallbackDecided(await receiver.waitForJourney(uid, delivered), uid);
  await receiver.recordHistory(uid, 'review-closes-at-deadline/review-late-refused-worker-down');
});
