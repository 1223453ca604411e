/**
 * Deliveries after a journey has closed: each is counted as `accepted_after_close`, whether it
 * starts a recorder run or reaches one still open, and the operators' view keeps showing the
 * journey run's decision and audit trail with those deliveries beside it.
 */
import { startLos, type Los } from '../../dev/losStandIn';
import { WORKFLOW_TYPES } from '../../workflows/definitions';
import type { JourneyApiView } from '../../src/receiver/journeyView';
import { delivery, newUid } from '../support/begini';
import { OPERATORS, operatorsEnv } from '../support/operators';
import { startStack, type Stack } from '../support/stack';

let los: Los;
let stack: Stack;

beforeAll(async () => {
  los = await startLos();
  // Long enough for a few deliveries to reach one open recorder, short enough to watch it close.
  stack = await startStack({ name: 'after-close', los, env: { ...operatorsEnv('after-close'), JOURNEY_SETTLE: '3s' } });
});
afterAll(async () => {
  await stack.stop();
  await los.close();
});

async function acceptedAfterClose(): Promise<number> {
  const metrics = await (await fetch(`${stack.receiver.internalUrl}/metrics`)).text();
  const line = /^begini_webhook_requests_total\{status="200",reason="accepted_after_close"\} (\d+)$/m.exec(metrics);
  return Number(line?.[1] ?? 0);
}

async function view(uid: string): Promise<{ status: number; body: JourneyApiView }> {
  const response = await fetch(`${stack.receiver.internalUrl}/journeys/${encodeURIComponent(uid)}`, {
    headers: { authorization: `Bearer ${OPERATORS.viewer.token}` },
  });
  return { status: response.status, body: (await response.json()) as JourneyApiView };
}

/** A re-score `minutes` after `now`: a distinct delivery each time. */
const rescore = (uid: string, now: number, minutes: number) =>
  delivery('psychometric_score.complete', uid, {
    now: now + minutes * 60,
    details: { calculated: { risk_band: 'E' } },
  });

async function closedJourney(uid: string, now: number): Promise<void> {
  await stack.send(delivery('psychometric_score.complete', uid, { now }));
  expect((await stack.handle(uid).result()).decision?.outcome).toBe('APPROVE');
}

test('every delivery that lands in an after-close recorder is counted as such, the first and the ones after it', async () => {
  // A quote and a backslash: the view's list filter must quote the uid, not break on it.
  const uid = `${newUid()}'\\`;
  const now = Math.floor(Date.now() / 1000);
  await closedJourney(uid, now);
  const before = await acceptedAfterClose();

  for (let i = 1; i <= 4; i++) expect((await stack.send(rescore(uid, now, i))).status).toBe(200);
  const recorder = await stack.waitForJourney(uid, (v) => v.counts.deliveries === 4);
  // All four reached one recorder run: three of them an open one.
  expect((await stack.handle(uid).describe()).type).toBe(WORKFLOW_TYPES.afterClose);
  expect(recorder.flags).toContain('after_close');
  expect((await acceptedAfterClose()) - before).toBe(4);
});

test('GET /journeys/:uid shows the journey run’s decision and audit trail, with deliveries after its close beside it', async () => {
  const uid = newUid();
  const now = Math.floor(Date.now() / 1000);
  await closedJourney(uid, now);
  const closed = await view(uid);
  expect(closed.status).toBe(200);
  expect(closed.body).toMatchObject({ stage: 'closed', decision: { outcome: 'APPROVE' }, afterClose: [] });

  expect((await stack.send(rescore(uid, now, 1))).status).toBe(200);
  const first = await stack.handle(uid).describe();
  expect(first.type).toBe(WORKFLOW_TYPES.afterClose);
  const late = await view(uid);
  expect(late.status).toBe(200);
  expect(late.body).toMatchObject({
    stage: 'closed',
    decision: { outcome: 'APPROVE', decidedBy: 'policy' },
    handoff: { status: 'delivered' },
    afterClose: [{ runId: first.runId, deliveries: 1, events: [{ type: 'psychometric_score.complete', late: true }] }],
  });
  expect(late.body.audit).toEqual(closed.body.audit);
  expect(late.body.audit!.map((entry) => entry.action)).toEqual(['decided', 'handoff_delivered']);

  // Once that recorder has closed, another late delivery starts a second one: both are listed, newest first.
  await stack.client.workflow.getHandle(uid, first.runId).result();
  expect((await stack.send(rescore(uid, now, 2))).status).toBe(200);
  const second = await stack.handle(uid).describe();
  expect(second.runId).not.toBe(first.runId);
  const runs = (v: JourneyApiView) => v.afterClose.map((run) => [run.runId, run.status, run.deliveries]);
  const expected = [
    [second.runId, 'RUNNING', 1],
    [first.runId, 'COMPLETED', 1],
  ];
  // Visibility lists the closed recorder a moment after it closes.
  let twice = await view(uid);
  for (let i = 0; i < 50 && JSON.stringify(runs(twice.body)) !== JSON.stringify(expected); i++) {
    await new Promise((r) => setTimeout(r, 100));
    twice = await view(uid);
  }
  expect(twice.body.decision).toMatchObject({ outcome: 'APPROVE' });
  expect(runs(twice.body)).toEqual(expected);
});
