/**
 * A decision is in history before its hand-off leaves (issue #20): the worker SIGKILLed while the
 * LOS holds the first decision POST, then restarted on a policy that declines what the shipped one
 * approves, resends the same decision byte for byte under the same Idempotency-Key, and the journey
 * records what the LOS received first.
 */
import { resolve } from 'node:path';
import { journeyQuery, type JourneyView } from '../../workflows/definitions';
import { check, completeThenScore, drive, sameBodyPerKey } from '../support/journeyLoad';
import { startFaultStack } from './faultStack';

const DECLINING_POLICY = resolve(__dirname, '..', 'fixtures', 'policy-declines-low-risk.yaml');

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
