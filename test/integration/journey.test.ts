/**
 * The journey end to end, over what the workflow tier mocks: signed deliveries over real HTTP
 * into the receiver, a real Temporal dev server and worker, a real HTTP server as the LOS (its
 * signature, its answers, its retries in history), and the logs all of it wrote. Every timer path
 * and scenario is in test/workflow/, in journey time.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { reviewUpdate, searchAttributes, WORKFLOW_TYPES } from '../../workflows/definitions';
import { markdownText } from '../../workflows/markdown';
import { delivery, newUid as freshUid, TEST_KEY } from '../support/begini';
import { allLogs, leakedInLogs } from '../support/logAudit';
import { LOS_SECRET } from '../../dev/losStandIn';
import type { Los } from '../../dev/losStandIn';
import { losStacks } from '../support/losStacks';
import type { Stack } from '../support/stack';

const stacks = losStacks();
let los: Los;
const uids: string[] = [];
const newUid = () => {
  const uid = freshUid();
  uids.push(uid);
  return uid;
};

const stackWith = (name: string, env: Record<string, string> = {}): Promise<Stack> => stacks.start(name, { env });

beforeAll(() => {
  los = stacks.los();
});
beforeEach(() => {
  los.respond = () => 200;
});

const decided = (view: { stage: string; handoff: { status: string } }) => view.handoff.status === 'delivered';

describe('journey', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await stackWith('journey');
  });

  test('happy path: complete, then score, then one decision delivered to the LOS', async () => {
    const uid = newUid();
    expect((await stack.send(delivery('application.complete', uid))).status).toBe(200);
    expect((await stack.journey(uid)).stage).toBe('awaiting_scores');
    expect((await stack.send(delivery('psychometric_score.complete', uid))).status).toBe(200);

    const view = await stack.waitForJourney(uid, decided);
    expect(view.stage).toBe('decided');
    expect(view.decision).toMatchObject({
      outcome: 'APPROVE',
      reasons: ['low_risk_band'],
      policyVersion: 'reference-2026-11',
      decidedBy: 'policy',
    });
    expect(view.scores.psychometric).toMatchObject({ score: 42, riskBand: 'B', scoreConfidence: 'HIGH' });
    expect(view.events.map((e) => e.type)).toEqual(['application.complete', 'psychometric_score.complete']);

    const handoffs = los.forUid(uid, 'decision');
    expect(handoffs).toHaveLength(1);
    expect(handoffs[0]!.signatureValid).toBe(true);
    expect(handoffs[0]!.idempotencyKey).toMatch(/^[0-9a-f]{40}$/);
    expect(handoffs[0]!.body.decision?.outcome).toBe('APPROVE');

    const description = await stack.handle(uid).describe();
    expect(description.typedSearchAttributes.get(searchAttributes.stage)).toBe('decided');
    expect(description.typedSearchAttributes.get(searchAttributes.decision)).toBe('APPROVE');
    expect(description.typedSearchAttributes.get(searchAttributes.riskBand)).toBe('B');
    expect(description.typedSearchAttributes.get(searchAttributes.handoff)).toBe('delivered');
    // The summary stays short (the server caps it); the uid is the workflow ID and is in the details.
    expect(await description.staticSummary()).toBe('Begini journey (test)');
    expect(await description.staticDetails()).toContain(markdownText(uid));
    await stack.recordHistory(uid, 'happy-path');
  });

  test('a duplicate storm (the same delivery 20× concurrently) gives one decision and one callback', async () => {
    const uid = newUid();
    const body = JSON.stringify(delivery('psychometric_score.complete', uid));
    const results = await Promise.all(Array.from({ length: 20 }, () => stack.send(body)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const view = await stack.waitForJourney(uid, (v) => decided(v) && v.counts.deliveries === 20);
    expect(view.counts.duplicates).toBe(19);
    expect(view.events.filter((e) => !e.duplicate)).toHaveLength(1);
    expect(los.forUid(uid, 'decision')).toHaveLength(1);
    await stack.recordHistory(uid, 'duplicate-storm');
  });

  test('a callback failing 5× then succeeding gives one decision, the retries visible in history', async () => {
    const uid = newUid();
    los.respond = (request, attempt) => (request.body.uid === uid && attempt <= 5 ? 503 : 200);
    await stack.send(delivery('psychometric_score.complete', uid));
    const view = await stack.waitForJourney(uid, decided);
    expect(view.handoff.failedRounds).toBe(0);
    const attempts = los.forUid(uid, 'decision');
    expect(attempts.map((a) => a.answered)).toEqual([503, 503, 503, 503, 503, 200]);
    expect(new Set(attempts.map((a) => a.idempotencyKey)).size).toBe(1);
    // Only the policy runs inside the workflow task (a local activity, recorded as a marker); every
    // hand-off try is the activity's, whose one started event shows the attempt it succeeded on.
    const history = await stack.handle(uid).fetchHistory();
    const localTries = history.events!.filter(
      (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
    );
    expect(localTries.map((e) => e.markerRecordedEventAttributes!.failure?.message)).toEqual([undefined]);
    const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes);
    expect(started.map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([6]);
    await stack.recordHistory(uid, 'callback-retries');
  });

  test('a callback 400 sends the journey to review', async () => {
    const uid = newUid();
    los.respond = (request) => (request.body.uid === uid ? 400 : 200);
    await stack.send(delivery('psychometric_score.complete', uid));
    const view = await stack.waitForJourney(uid, (v) => v.stage === 'in_review');
    expect(view.handoff.status).toBe('rejected');
    expect(view.review).toMatchObject({ reason: 'handoff_rejected', deadline: null });
    expect(view.flags).toContain('handoff_rejected');
    expect(los.forUid(uid, 'decision')).toHaveLength(1);
    await stack.recordHistory(uid, 'callback-rejected');

    // The reviewer's decision is a new call: a key the LOS has not refused before.
    los.respond = () => 200;
    await stack.handle(uid).executeUpdate(reviewUpdate, {
      args: [{ outcome: 'DECLINE', reviewer: 'ana@lender', reasons: ['high_risk_band'] }],
    });
    await stack.waitForJourney(uid, decided);
    const [refused, accepted] = los.forUid(uid, 'decision');
    expect(accepted!.answered).toBe(200);
    expect(accepted!.idempotencyKey).not.toBe(refused!.idempotencyKey);
  });

  test('a referred journey waits for a review and hands off the reviewer’s decision', async () => {
    const uid = newUid();
    await stack.send(delivery('psychometric_score.complete', uid, { details: { calculated: { risk_band: 'C' } } }));
    const referred = await stack.waitForJourney(uid, (v) => v.stage === 'in_review');
    expect(referred.decision).toMatchObject({ outcome: 'REFER', reasons: ['medium_risk_band'] });
    const description = await stack.handle(uid).describe();
    expect(description.typedSearchAttributes.get(searchAttributes.stage)).toBe('in_review');
    expect(description.typedSearchAttributes.get(searchAttributes.reviewSince)).toBeInstanceOf(Date);

    await expect(
      stack.handle(uid).executeUpdate(reviewUpdate, { args: [{ outcome: 'MAYBE' as 'APPROVE', reviewer: 'ana' }] }),
    ).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    const decision = await stack
      .handle(uid)
      .executeUpdate(reviewUpdate, { args: [{ outcome: 'APPROVE', reviewer: 'ana', note: 'income verified' }] });
    expect(decision).toMatchObject({ outcome: 'APPROVE', decidedBy: 'review', reviewer: 'ana' });

    const view = await stack.waitForJourney(uid, decided);
    expect(view.stage).toBe('decided');
    expect(view.review).toMatchObject({ reviewer: 'ana', note: 'income verified' });
    const handoffs = los.forUid(uid, 'decision');
    expect(handoffs).toHaveLength(1);
    expect(handoffs[0]!.body.decision?.outcome).toBe('APPROVE');
    await expect(
      stack
        .handle(uid)
        .executeUpdate(reviewUpdate, { args: [{ outcome: 'DECLINE', reviewer: 'bo', reasons: ['high_risk_band'] }] }),
    ).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await stack.recordHistory(uid, 'review-approved');
  });
});

describe('after the journey closes', () => {
  test('a delivery after the journey has closed is recorded under the same workflow ID and decides nothing', async () => {
    const stack = await stackWith('settle', { JOURNEY_SETTLE: '1s' });
    const uid = newUid();
    // A real applicant whose uid looks like the old derived ID; it must never receive uid's late events.
    const lookalike = `${uid}/after-close`;
    const now = Math.floor(Date.now() / 1000);
    await stack.send(delivery('application.complete', lookalike, { now }));
    await stack.send(delivery('psychometric_score.complete', uid, { now }));
    const journeyRun = (await stack.handle(uid).describe()).runId;
    const result = await stack.handle(uid).result();
    expect(result.stage).toBe('closed');
    expect(result.decision?.outcome).toBe('APPROVE');
    await stack.recordHistory(uid, 'closed-then-late');

    const late = await stack.send(
      delivery('psychometric_score.complete', uid, { now: now + 3600, details: { calculated: { risk_band: 'E' } } }),
    );
    expect(late.status).toBe(200);
    const recorded = await stack.waitForJourney(
      uid,
      (v) => v.flags.includes('after_close') && v.counts.deliveries === 1,
    );
    expect(recorded.stage).toBe('closed');
    expect(recorded.decision).toBeNull();
    expect(recorded.events[0]).toMatchObject({ type: 'psychometric_score.complete', late: true });
    expect(recorded.flags).toEqual(expect.arrayContaining(['after_close', 'late_event']));
    const recorder = await stack.handle(uid).describe();
    expect(recorder.type).toBe(WORKFLOW_TYPES.afterClose);
    expect(recorder.runId).not.toBe(journeyRun);
    expect((await stack.client.workflow.getHandle(uid, journeyRun).describe()).status.name).toBe('COMPLETED');
    expect(los.forUid(uid, 'decision')).toHaveLength(1);
    const other = await stack.journey(lookalike);
    expect(other).toMatchObject({ stage: 'awaiting_scores', counts: { deliveries: 1 } });
    expect(los.forUid(lookalike)).toHaveLength(0);
    await stack.recordHistory(uid, 'after-close');
  });
});

describe('logs of all the journeys above', () => {
  test('name no uid, no key and no score', async () => {
    await stacks.stopAll();
    const logs = allLogs();
    expect(logs).toContain('"workflowRef"');
    expect(uids.length).toBeGreaterThan(5);
    expect(leakedInLogs([...uids, TEST_KEY, LOS_SECRET])).toEqual([]);
    expect(logs).not.toMatch(/"score":\s*\d/);
  });
});
