/**
 * A decision is in history before its hand-off leaves (issue #20): the worker SIGKILLed while the
 * LOS holds the first decision POST, then restarted on a policy that declines what the shipped one
 * approves, resends the same decision byte for byte under the same Idempotency-Key, and the journey
 * records what the LOS received first.
 */
import { resolve } from 'node:path';
import { delivery } from '../../../src/simulator/fixtures';
import { send } from '../../../src/simulator/sender';
import { journeyQuery, type JourneyView } from '../../../workflows/definitions';
import { TEST_KEY } from '../../support/begini';
import { check, completeThenScore, drive, sameBodyPerKey } from '../../support/journeyLoad';
import { startFaultStack } from './faultStack';

const DECLINING_POLICY = resolve(__dirname, '..', '..', 'fixtures', 'policy-declines-low-risk.yaml');

async function until(ready: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !ready(); await new Promise((r) => setTimeout(r, 20)))
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
}

test('the worker SIGKILLed while the LOS holds the first POST, restarted on a changed policy: one decision, byte for byte', async () => {
  const stack = await startFaultStack('decision-durable');
  try {
    // Holds every answer until the worker is gone: the first POST is received, never answered.
    stack.los.delayMs = 10 * 60_000;
    const { sent, uids } = await drive(stack, 1, completeThenScore);
    const uid = uids[0]!;
    await until(() => stack.los.forUid(uid, 'decision').length > 0, 'the first decision POST');
    await stack.killWorker();
    stack.los.delayMs = 0;
    await stack.startWorker({ POLICY_FILE: DECLINING_POLICY });
    await check(stack, 'worker SIGKILL, LOS holding, policy changed', sent, uids);

    const posts = stack.los.forUid(uid, 'decision');
    expect(posts.length).toBeGreaterThan(1);
    expect(sameBodyPerKey(posts)).toBe(true);
    const first = JSON.parse(posts[0]!.raw) as { decision: JourneyView['decision'] };
    expect(first.decision).toMatchObject({ outcome: 'APPROVE', policyVersion: 'reference-2026-11' });
    const view = await stack.client.workflow.getHandle(uid).query(journeyQuery);
    expect(view.decision).toEqual(first.decision);
  } finally {
    await stack.stop();
  }
});

test('the worker frozen past its workflow task timeout while the LOS holds the first POST: the task is replayed elsewhere, and every key still carries one body', async () => {
  const stack = await startFaultStack('decision-frozen');
  try {
    stack.los.delayMs = 3_000;
    const { sent, uids } = await drive(stack, 1, completeThenScore);
    const uid = uids[0]!;
    await until(() => stack.los.forUid(uid, 'decision').length > 0, 'the first decision POST');
    stack.pauseWorker();
    // A delivery meanwhile needs a workflow task; the frozen worker cannot run it, so the server
    // times a task out and hands the journey to a new one (the frozen worker's cached run is stale,
    // its completion is refused with "Task not found", and the next task replays from history).
    const later = Math.floor(Date.now() / 1000) + 60;
    const rescore = JSON.stringify(delivery('psychometric_score.complete', uid, { now: later }));
    const options = { url: stack.webhookUrl, key: TEST_KEY, otherEnvironmentKey: 'unused', malformedSignature: '' };
    expect((await send(rescore, 'valid', { ...options, retries: 0, backoffMs: 0, maxBackoffMs: 0 })).status).toBe(200);
    const handle = stack.client.workflow.getHandle(uid);
    const timedOut = async () =>
      (await handle.fetchHistory()).events!.some((e) => e.workflowTaskTimedOutEventAttributes);
    for (const deadline = Date.now() + 60_000; !(await timedOut()); await new Promise((r) => setTimeout(r, 250)))
      if (Date.now() > deadline) throw new Error('timed out waiting for a workflow task timeout');
    stack.los.delayMs = 0;
    stack.resumeWorker();
    await check(stack, 'worker frozen past the task timeout', sent, uids);
    await until(() => stack.los.acceptedFor(uid, 'late_event').length === 1, 'the late-event notice');

    const decisions = stack.los.forUid(uid, 'decision');
    expect(sameBodyPerKey(stack.los.forUid(uid))).toBe(true);
    const view = await handle.query(journeyQuery);
    expect((JSON.parse(decisions[0]!.raw) as { decision: unknown }).decision).toEqual(view.decision);
  } finally {
    stack.resumeWorker();
    await stack.stop();
  }
});
