/**
 * A flood of duplicate deliveries is counted but keeps the journey's state and history bounded:
 * past its history limit the journey continues as new, carrying its state, and keeps working.
 */
import { delivery, newUid } from '../support/begini';
import { startLos, type Los } from '../../dev/losStandIn';
import { startStack, type Stack } from '../support/stack';

let los: Los;
let stack: Stack;

beforeAll(async () => {
  los = await startLos();
  // The journey's own bounds, for whatever gets past the receiver's per-uid limit (flood.test.ts
  // covers the limit): several receivers, or a limit raised by an operator, let this much through.
  stack = await startStack({
    name: 'history',
    los,
    env: { LOS_TIMEOUT_MS: '20000', WEBHOOK_UID_RATE_LIMIT: '1000000' },
  });
});
afterAll(async () => {
  await stack.stop();
  await los.close();
});

/** Sends every body, retrying a 503 (say, while a run continues as new) the way Begini does. */
async function sendAll(bodies: string[], concurrency: number): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        let status = (await stack.send(body)).status;
        for (let retry = 0; status === 503 && retry < 10; retry++) {
          await new Promise((r) => setTimeout(r, 200));
          status = (await stack.send(body)).status;
        }
        statuses.push(status);
      }
    }),
  );
  return statuses;
}

test('2,500 duplicate deliveries: one decision, bounded events, continued as new, still working', async () => {
  const uid = newUid();
  const now = Math.floor(Date.now() / 1000);
  const score = JSON.stringify(delivery('psychometric_score.complete', uid, { now }));
  expect((await stack.send(score)).status).toBe(200);
  await stack.waitForJourney(uid, (v) => v.handoff.status === 'delivered');
  const firstRunId = (await stack.handle(uid).describe()).runId;

  const flood = 2_500;
  const statuses = await sendAll(Array(flood).fill(score), 32);
  expect(statuses.filter((s) => s === 200)).toHaveLength(flood);

  // A 503 retried after its signal had landed (as Begini would retry it) adds a duplicate, never an event.
  const view = await stack.waitForJourney(uid, (v) => v.counts.deliveries >= flood + 1, 60_000);
  expect(view.counts.duplicates).toBe(view.counts.deliveries - 1);
  expect(view.events.length).toBeLessThanOrEqual(100);
  expect(view.counts.eventsOmitted).toBeGreaterThan(0);
  expect(view.decision?.outcome).toBe('APPROVE');

  const latest = await stack.handle(uid).describe();
  expect(latest.runId).not.toBe(firstRunId);
  const firstRun = await stack.client.workflow.getHandle(uid, firstRunId).fetchHistory();
  expect(firstRun.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
  // The run continues as new past 2,000 events; signals that land while that last task runs are still
  // appended to it, a few hundred on a loaded machine (2,779 seen at load 16 on 2 cores).
  expect(firstRun.events!.length).toBeLessThan(3_200);

  // The continued journey still records, notifies and never re-decides.
  await stack.send(
    delivery('psychometric_score.complete', uid, { now: now + 60, details: { calculated: { risk_band: 'E' } } }),
  );
  const after = await stack.waitForJourney(uid, (v) => v.counts.noticesSent === 1);
  expect(after.decision?.outcome).toBe('APPROVE');
  expect(los.forUid(uid, 'decision')).toHaveLength(1);
  expect(los.forUid(uid, 'late_event')).toHaveLength(1);
});

test('a flood while the hand-off hangs: the run gives the hand-off up and continues as new, then hands off once', async () => {
  const uid = newUid();
  const score = JSON.stringify(delivery('psychometric_score.complete', uid));
  // The LOS takes longer than the flood to answer (each attempt gives up after 20 s): a hand-off is in flight throughout.
  los.delayMs = 60_000;
  try {
    expect((await stack.send(score)).status).toBe(200);
    await stack.waitForJourney(uid, (v) => v.handoff.status === 'pending');
    const firstRunId = (await stack.handle(uid).describe()).runId;
    const statuses = await sendAll(Array(2_100).fill(score), 32);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    // Well before the LOS answers, the run that was waiting on it has continued as new.
    const deadline = Date.now() + 30_000;
    let first = await stack.client.workflow.getHandle(uid, firstRunId).describe();
    while (first.status.name === 'RUNNING' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      first = await stack.client.workflow.getHandle(uid, firstRunId).describe();
    }
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
    // The run gave the hand-off up: every hand-off activity it scheduled was cancelled, none completed
    // (the run does not wait for a cancellation the hand-off, sending no heartbeat, cannot see).
    const history = await stack.client.workflow.getHandle(uid, firstRunId).fetchHistory();
    const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes).length;
    const cancelled = history.events!.filter((e) => e.activityTaskCancelRequestedEventAttributes).length;
    expect(cancelled).toBe(scheduled);
    expect(history.events!.some((e) => e.activityTaskCompletedEventAttributes)).toBe(false);
  } finally {
    los.delayMs = 0;
  }
  const view = await stack.waitForJourney(uid, (v) => v.handoff.status === 'delivered', 90_000);
  expect(view.decision?.outcome).toBe('APPROVE');
  // Every attempt carried the same Idempotency-Key: the LOS took one decision.
  expect(new Set(los.forUid(uid, 'decision').map((r) => r.idempotencyKey)).size).toBe(1);
}, 180_000);
