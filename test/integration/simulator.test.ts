/**
 * Every simulator scenario against the real stack, each scenario's end state asserted through the
 * `journey` query, and the CLI itself run once as a user would.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { runScenario, type RunSummary } from '../../src/simulator/run';
import { scenarios } from '../../src/simulator/scenarios';
import type { JourneyView } from '../../workflows/definitions';
import { TEST_KEY } from '../support/begini';
import { startLos, type Los } from '../../dev/losStandIn';
import { startStack, type Stack } from '../support/stack';

let los: Los;
let stack: Stack;

beforeAll(async () => {
  los = await startLos();
  stack = await startStack({ name: 'simulator', los });
});
afterAll(async () => {
  await stack.stop();
  await los.close();
});

async function simulate(name: string): Promise<{ summary: RunSummary; uid: string }> {
  const summary = await runScenario(name, { url: stack.webhookUrl, key: TEST_KEY, retries: 1, backoffMs: 50 });
  expect(summary.asExpected).toBe(true);
  return { summary, uid: summary.uids[0]! };
}

const handedOff = (v: JourneyView) => v.handoff.status === 'delivered';

test('every scenario is covered below', () => {
  expect(Object.keys(scenarios).sort()).toEqual(
    [
      'bad-signature',
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
      'wrong-environment-key',
    ].sort(),
  );
});

test('happy: decided APPROVE and handed off once', async () => {
  const { uid, summary } = await simulate('happy');
  expect(summary.accepted).toBe(2);
  const view = await stack.waitForJourney(uid, handedOff);
  expect(view).toMatchObject({ stage: 'decided', decision: { outcome: 'APPROVE' } });
  expect(view.events.map((e) => e.type)).toEqual(['application.complete', 'psychometric_score.complete']);
  expect(los.acceptedFor(uid, 'decision')).toHaveLength(1);
});

test.each([
  ['device', 'android'],
  ['ios', 'ios'],
])('%s: the device score is held beside the psychometric one', async (name, kind) => {
  const { uid } = await simulate(name);
  const view = await stack.waitForJourney(uid, handedOff);
  expect(view.stage).toBe('decided');
  expect(Object.keys(view.scores).sort()).toEqual([kind, 'psychometric'].sort());
});

test('expired: the journey waits, stage expired, no decision', async () => {
  const { uid } = await simulate('expired');
  const view = await stack.waitForJourney(uid, (v) => v.counts.deliveries === 1);
  expect(view).toMatchObject({ stage: 'expired', decision: null, application: 'expired' });
});

test('reopened: decided normally after the expiry', async () => {
  const { uid } = await simulate('reopened');
  const view = await stack.waitForJourney(uid, handedOff);
  expect(view).toMatchObject({ stage: 'decided', decision: { outcome: 'APPROVE' } });
  expect(view.flags).toContain('expired_seen');
});

test('incomplete: referred to review', async () => {
  const { uid } = await simulate('incomplete');
  const view = await stack.waitForJourney(uid, (v) => v.stage === 'in_review');
  expect(view.decision).toMatchObject({ outcome: 'REFER', reasons: ['application_incomplete'] });
});

test('cancelled: declined', async () => {
  const { uid } = await simulate('cancelled');
  const view = await stack.waitForJourney(uid, handedOff);
  expect(view).toMatchObject({ stage: 'cancelled', decision: { outcome: 'DECLINE' } });
});

test('duplicate-storm: twenty acknowledged, one decision, one callback', async () => {
  const { uid, summary } = await simulate('duplicate-storm');
  expect(summary.accepted).toBe(20);
  const view = await stack.waitForJourney(uid, (v) => handedOff(v) && v.counts.deliveries === 20);
  expect(view.counts.duplicates).toBe(19);
  expect(los.forUid(uid, 'decision')).toHaveLength(1);
});

test('out-of-order: decided once on the score; the later events are recorded, the stale expiry changes nothing', async () => {
  const { uid } = await simulate('out-of-order');
  const view = await stack.waitForJourney(uid, (v) => handedOff(v) && v.counts.deliveries === 3);
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
  expect(los.forUid(uid, 'decision')).toHaveLength(1);
});

test('late-rescore: a late notice, the decision unchanged', async () => {
  const { uid } = await simulate('late-rescore');
  const view = await stack.waitForJourney(uid, (v) => v.counts.noticesSent === 1);
  expect(view.decision?.outcome).toBe('APPROVE');
  expect(view.flags).toContain('rescored_after_decision');
  expect(los.forUid(uid, 'late_event')).toHaveLength(1);
});

test.each(['bad-signature', 'wrong-environment-key'])(
  '%s: every delivery refused with 403, no journey',
  async (name) => {
    const { uid, summary } = await simulate(name);
    expect(summary.accepted).toBe(0);
    expect(summary.deliveries.every((d) => d.status === 403)).toBe(true);
    expect(summary.retried).toBe(summary.deliveries.length);
    expect(await stack.exists(uid)).toBe(false);
  },
);

test('the CLI prints each delivery and a one-line summary', async () => {
  const cli = resolve(__dirname, '..', '../src/simulator/main.ts');
  const tsx = resolve(__dirname, '..', '../node_modules/.bin/tsx');
  const { stdout } = await promisify(execFile)(
    tsx,
    [cli, 'happy', '--url', stack.webhookUrl, '--key', TEST_KEY, '--uid', 'SIM-cli-check'],
    { env: { ...process.env, BEGINI_API_KEY: '' } },
  );
  const lines = stdout.trim().split('\n');
  expect(lines.filter((l) => l.startsWith('→'))).toHaveLength(2);
  expect(lines.at(-1)).toMatch(
    /^ok: happy · 1 journey\(s\) · 2 deliveries · 2 accepted · 0 rejected · 0 retried · http/,
  );
  expect((await stack.waitForJourney('SIM-cli-check', handedOff)).decision?.outcome).toBe('APPROVE');
});
