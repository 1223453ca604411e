/**
 * Every accepted simulator scenario (src/simulator/scenarios.ts), played into the journey as the
 * receiver would hand it on, each end state asserted. The integration tier plays `happy` and the
 * refused ones over real HTTP, and runs the CLI.
 */
import { scenarios } from '../../src/simulator/scenarios';
import type { JourneyView } from '../../workflows/definitions';
import { newUid } from '../support/begini';
import { decisionTries, journeyTestbed, type Testbed } from '../support/journeyTestbed';

let bed: Testbed;
beforeAll(async () => {
  bed = await journeyTestbed({ JOURNEY_REQUIRED_SCORES: 'psychometric' });
});
afterAll(() => bed?.teardown());

/**
 * Plays scenario `name` for a new applicant: each step in order, its copies at once. The first copy
 * of a step that starts the journey goes alone: the Java test server can answer a signalWithStart
 * that races another's start with "already started" despite USE_EXISTING, which the real server
 * never does (the integration tier sends 20 at once into a journey that does not exist yet).
 */
async function play(name: string): Promise<string> {
  const uid = newUid();
  const now = Math.floor(Date.now() / 1000);
  let started = false;
  for (const step of scenarios[name]!.steps) {
    if (step.pauseMs) await bed.skip(step.pauseMs);
    const options = { now: now + (step.at ?? 0), details: step.details };
    const send = () => bed.send(step.type, uid, options);
    const first = started ? [] : [await send()];
    started = true;
    const rest = await Promise.all(Array.from({ length: (step.copies ?? 1) - first.length }, send));
    expect(new Set([...first, ...rest])).toEqual(new Set(['journey']));
  }
  return uid;
}

const handedOff = (v: JourneyView) => v.handoff.status === 'delivered';

test('every accepted scenario is played below', () => {
  const accepted = Object.entries(scenarios).filter(([, s]) => s.accepted);
  expect(accepted.map(([name]) => name).sort()).toEqual(
    [
      'cancelled',
      'device',
      'duplicate-storm',
      'expired',
      'happy',
      'incomplete',
      'ios',
      'late-rescore',
      'out-of-order',
      'reopened',
    ].sort(),
  );
});

test('happy: decided APPROVE on the score and handed off once', async () => {
  const uid = await play('happy');
  const view = await bed.until(uid, handedOff);
  expect(view).toMatchObject({ stage: 'decided', trigger: 'scores_complete' });
  expect(view.decision).toMatchObject({ outcome: 'APPROVE', reasons: ['low_risk_band'], decidedBy: 'policy' });
  expect(view.events.map((e) => e.type)).toEqual(['application.complete', 'psychometric_score.complete']);
  expect(decisionTries(bed, uid)).toHaveLength(1);
});

test.each([
  ['device', 'android'],
  ['ios', 'ios'],
])('%s: the device score is held beside the psychometric one', async (name, kind) => {
  const uid = await play(name);
  const view = await bed.until(uid, (v) => handedOff(v) && v.counts.deliveries === 3);
  expect(view.stage).toBe('decided');
  expect(Object.keys(view.scores).sort()).toEqual([kind, 'psychometric'].sort());
});

test('expired: the journey waits, stage expired, no decision, until its own expiry', async () => {
  const uid = await play('expired');
  await bed.skip('47h');
  expect(await bed.journey(uid)).toMatchObject({ stage: 'expired', decision: null, application: 'expired' });
});

test('reopened: decided normally after the expiry', async () => {
  const uid = await play('reopened');
  const view = await bed.until(uid, handedOff);
  expect(view).toMatchObject({ stage: 'decided', decision: { outcome: 'APPROVE' } });
  expect(view.flags).toContain('expired_seen');
  await bed.recordHistory(uid, 'expired-then-reopened');
});

test('incomplete: referred to review, nothing handed off yet', async () => {
  const uid = await play('incomplete');
  const view = await bed.until(uid, (v) => v.stage === 'in_review');
  expect(view.trigger).toBe('incomplete');
  expect(view.decision).toMatchObject({ outcome: 'REFER', reasons: ['application_incomplete'] });
  expect(view.review).toMatchObject({ reason: 'referred', fallback: 'DECLINE' });
  expect(decisionTries(bed, uid)).toHaveLength(0);
});

test('cancelled: declined and handed off', async () => {
  const uid = await play('cancelled');
  const view = await bed.until(uid, handedOff);
  expect(view).toMatchObject({
    stage: 'cancelled',
    decision: { outcome: 'DECLINE', reasons: ['application_cancelled'] },
  });
  expect(decisionTries(bed, uid)).toHaveLength(1);
  await bed.recordHistory(uid, 'cancelled');
});

test('duplicate-storm: twenty deliveries, one decision, one hand-off', async () => {
  const uid = await play('duplicate-storm');
  const view = await bed.until(uid, (v) => handedOff(v) && v.counts.deliveries === 20);
  expect(view.counts.duplicates).toBe(19);
  expect(view.events.filter((e) => !e.duplicate)).toHaveLength(1);
  expect(decisionTries(bed, uid)).toHaveLength(1);
});

test('out-of-order: decided once on the score; the later events are recorded, the stale expiry changes nothing', async () => {
  const uid = await play('out-of-order');
  const view = await bed.until(uid, (v) => handedOff(v) && v.counts.deliveries === 3);
  expect(view.stage).toBe('decided');
  expect(view.decision?.outcome).toBe('APPROVE');
  expect(view.events.map((e) => e.type)).toEqual([
    'psychometric_score.complete',
    'application.complete',
    'application.expired',
  ]);
  // Whether the later two count as late depends on whether deciding had begun when each arrived;
  // either way the record says which, and the stale expiry never makes the application expired.
  const [, complete, expiry] = view.events;
  expect(view.application).toBe(complete!.late ? 'pending' : 'complete');
  expect(view.flags.includes('expired_seen')).toBe(!expiry!.late);
  expect(decisionTries(bed, uid)).toHaveLength(1);
  await bed.recordHistory(uid, 'out-of-order');
});

test('late-rescore: one late notice with the new score, the decision unchanged', async () => {
  const uid = await play('late-rescore');
  const view = await bed.until(uid, (v) => v.counts.noticesSent === 1);
  expect(view.decision?.outcome).toBe('APPROVE');
  expect(view.scores.psychometric?.score).toBe(42);
  expect(view.flags).toEqual(expect.arrayContaining(['late_event', 'rescored_after_decision']));
  const notices = bed.handoffs.filter((h) => h.request.uid === uid && h.request.kind === 'late_event');
  expect(notices).toHaveLength(1);
  expect(notices[0]!.request.payload).toMatchObject({ decisionUnchanged: true, notice: { rescore: true } });
  expect(decisionTries(bed, uid)).toHaveLength(1);
  await bed.recordHistory(uid, 'late-rescore');
});
