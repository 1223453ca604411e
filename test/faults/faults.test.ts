/**
 * `npm run test:faults`: an accepted event is never lost, and an applicant is decided exactly once,
 * through a SIGKILLed Temporal server, worker and receiver, a LOS that goes away, and a storm of
 * duplicated, reordered deliveries. Each scenario drives JOURNEYS applicants through the real stack.
 */
import { createHash } from 'node:crypto';
import { delivery } from '../../src/simulator/fixtures';
import { send, type SendResult } from '../../src/simulator/sender';
import { journeyQuery, type JourneyView } from '../../workflows/definitions';
import { TEST_KEY } from '../support/begini';
import { startFaultStack, type FaultStack } from './faultStack';

const JOURNEYS = Number(process.env.FAULT_JOURNEYS ?? 200);
const CONCURRENCY = 16;
const rows: Array<Record<string, string | number>> = [];

interface Sent {
  uid: string;
  fingerprint: string;
  result: SendResult;
}

/** Sends each journey's deliveries like Begini: retrying anything but 200, for as long as it takes. */
async function drive(
  stack: FaultStack,
  plan: (uid: string) => string[][],
  during?: (progress: () => number) => Promise<void>,
): Promise<{ sent: Sent[]; uids: string[] }> {
  const uids = Array.from({ length: JOURNEYS }, (_, i) => `F-${stack.name}-${i}-${Date.now().toString(36)}`);
  const sent: Sent[] = [];
  let next = 0;
  const options = {
    url: stack.webhookUrl,
    key: TEST_KEY,
    otherEnvironmentKey: 'unused',
    malformedSignature: '',
    retries: 200,
    backoffMs: 100,
    maxBackoffMs: 1_000,
  };
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (next < uids.length) {
      const uid = uids[next++]!;
      for (const batch of plan(uid)) {
        await Promise.all(
          batch.map(async (raw) => {
            const result = await send(raw, 'valid', options);
            sent.push({ uid, fingerprint: createHash('sha256').update(raw).digest('hex'), result });
          }),
        );
      }
    }
  });
  await Promise.all([...workers, during?.(() => sent.length)]);
  return { sent, uids };
}

const completeThenScore = (uid: string) => {
  const now = Math.floor(Date.now() / 1000);
  return [
    [JSON.stringify(delivery('application.complete', uid, { now }))],
    [JSON.stringify(delivery('psychometric_score.complete', uid, { now }))],
  ];
};

async function untilProgress(progress: () => number, atLeast: number): Promise<void> {
  while (progress() < atLeast) await new Promise((r) => setTimeout(r, 20));
}

async function check(stack: FaultStack, scenario: string, sent: Sent[], uids: string[]): Promise<void> {
  // Every journey decided and handed off; wait for the stragglers that faults delayed.
  const views = new Map<string, JourneyView>();
  const deadline = Date.now() + 180_000;
  for (const uid of uids) {
    for (;;) {
      const view = await stack.client.workflow
        .getHandle(uid)
        .query(journeyQuery)
        .catch(() => undefined);
      if (view?.handoff.status === 'delivered') {
        views.set(uid, view);
        break;
      }
      if (Date.now() > deadline)
        throw new Error(`${scenario}: journey ${uid} never delivered its decision: ${JSON.stringify(view)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const statuses = sent.flatMap((s) => s.result.statuses);
  const acknowledged = sent.filter((s) => s.result.status === 200);
  const lost = acknowledged.filter(
    (s) => !views.get(s.uid)!.events.some((e) => s.fingerprint.startsWith(e.fingerprint)),
  );
  const callbacksPerUid = uids.map(
    (uid) =>
      new Set(
        stack.los
          .forUid(uid, 'decision')
          .filter((r) => r.answered === 200)
          .map((r) => r.idempotencyKey),
      ).size,
  );
  const decided = [...views.values()].filter((v) => v.decision !== null).length;
  const doubleDecisions = callbacksPerUid.filter((n) => n > 1).length;
  const row = {
    scenario,
    deliveries: sent.length,
    '200s': statuses.filter((s) => s === 200).length,
    '503s': statuses.filter((s) => s === 503).length,
    'no answer': statuses.filter((s) => s === 0).length,
    journeys: uids.length,
    decisions: decided,
    callbacks: callbacksPerUid.reduce((a, b) => a + b, 0),
    lost: lost.length,
    'double decisions': doubleDecisions,
  };
  rows.push(row);
  expect(acknowledged).toHaveLength(sent.length);
  expect(lost).toEqual([]);
  expect(decided).toBe(uids.length);
  expect(callbacksPerUid.every((n) => n === 1)).toBe(true);
  expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
}

/** One scenario on its own stack, torn down whatever happens. */
async function onFreshStack(name: string, scenario: (stack: FaultStack) => Promise<void>): Promise<void> {
  const stack = await startFaultStack(name);
  try {
    await scenario(stack);
  } finally {
    await stack.stop();
  }
}

afterAll(() => {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  console.log(
    [
      '',
      line(columns),
      line(widths.map((w) => '-'.repeat(w))),
      ...rows.map((r) => line(columns.map((c) => String(r[c])))),
    ].join('\n'),
  );
});

test('1. the Temporal server SIGKILLed mid-load, then restarted on the same database file', async () => {
  await onFreshStack('server-kill', async (stack) => {
    const { sent, uids } = await drive(stack, completeThenScore, async (progress) => {
      await untilProgress(progress, JOURNEYS * 0.6);
      await stack.killServer();
      await new Promise((r) => setTimeout(r, 2_000));
      await stack.startServer();
    });
    await check(stack, 'server SIGKILL', sent, uids);
  });
});

test('2. the worker SIGKILLed during the hand-off activity, then restarted', async () => {
  await onFreshStack('worker-kill', async (stack) => {
    stack.los.delayMs = 300;
    const { sent, uids } = await drive(stack, completeThenScore, async () => {
      while (stack.los.requests.length < JOURNEYS * 0.3) await new Promise((r) => setTimeout(r, 20));
      await stack.killWorker();
      await new Promise((r) => setTimeout(r, 1_000));
      await stack.startWorker();
    });
    stack.los.delayMs = 0;
    await check(stack, 'worker SIGKILL in hand-off', sent, uids);
  });
});

test('3. the receiver SIGKILLed mid-request, then restarted', async () => {
  await onFreshStack('receiver-kill', async (stack) => {
    const { sent, uids } = await drive(stack, completeThenScore, async (progress) => {
      await untilProgress(progress, JOURNEYS * 0.5);
      await stack.killReceiver();
      await new Promise((r) => setTimeout(r, 1_000));
      await stack.startReceiver();
    });
    await check(stack, 'receiver SIGKILL', sent, uids);
  });
});

test('4. the LOS down for a while, then back', async () => {
  await onFreshStack('los-down', async (stack) => {
    await stack.los.down();
    const { sent, uids } = await drive(stack, completeThenScore);
    await new Promise((r) => setTimeout(r, 3_000));
    await stack.los.up();
    await check(stack, 'LOS down, then back', sent, uids);
  });
});

test('5. every delivery sent 3× concurrently, and reordered', async () => {
  await onFreshStack('storm', async (stack) => {
    const { sent, uids } = await drive(stack, (uid) => {
      const [[complete], [score]] = completeThenScore(uid) as [[string], [string]];
      const order = uid.charCodeAt(uid.length - 1) % 2 ? [score, complete] : [complete, score];
      return order.map((raw) => [raw, raw, raw]);
    });
    await check(stack, '3× concurrent, reordered', sent, uids);
  });
});
