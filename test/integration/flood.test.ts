/**
 * One captured signed delivery replayed thousands of times, 32 at a time, against the real receiver,
 * dev server, worker and LOS stand-in: the journey must still decide once, keep running and take a
 * later genuine re-score. Prints what the flood cost the journey's history (all its runs).
 */
import { Worker } from '@temporalio/worker';
import { AesGcmCodec, parseCodecKeys } from '../../src/codec/aesGcm';
import { CONTINUE_AS_NEW_BY_HISTORY_BYTES, MAX_HISTORY_BYTES } from '../../workflows/publish';
import { delivery, newUid, TEST_CODEC_KEYS } from '../support/begini';
import { WORKFLOW_BUNDLE } from '../support/paths';
import { startLos, type Los } from '../../dev/losStandIn';
import { startStack, type Stack } from '../support/stack';

const COPIES = 4_000;
const CONCURRENCY = 32;
const WINDOW = '5s';

let los: Los;
let stack: Stack;
/** No per-uid limit to speak of: what reaches history when a flood gets through. */
let unlimited: Stack;

beforeAll(async () => {
  los = await startLos();
  stack = await startStack({ name: 'flood', los, env: { WEBHOOK_UID_RATE_WINDOW: WINDOW } });
  unlimited = await startStack({ name: 'flood-unlimited', los, env: { WEBHOOK_UID_RATE_LIMIT: '1000000' } });
});
afterAll(async () => {
  await Promise.all([stack?.stop(), unlimited?.stop()]);
  await los?.close();
});

async function historyOf(workflowId: string) {
  const runs: Array<{ events: number; bytes: number }> = [];
  for await (const run of stack.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    // The listing's figures are those of its last visibility update; describe has the run's own.
    const described = await stack.client.workflow.getHandle(workflowId, run.runId).describe();
    runs.push({ events: described.historyLength, bytes: described.historySize ?? NaN });
  }
  return runs;
}

/**
 * What the flood must not break: one decision, a running journey, and a later genuine re-score
 * taken. Returns how many 429s the re-score met.
 */
async function theJourneySurvives(uid: string): Promise<number> {
  const decided = await stack.waitForJourney(uid, (v) => v.handoff.status === 'delivered', 120_000);
  expect(decided.decision?.outcome).toBe('APPROVE');

  // A genuine re-score, new timestamps, sent the way Begini retries a 429: after Retry-After.
  const rescore = delivery('psychometric_score.complete', uid, { now: Math.floor(Date.now() / 1000) + 60 });
  let answer = await stack.send(rescore);
  let refused = 0;
  while (answer.status === 429) {
    refused++;
    await new Promise((r) => setTimeout(r, Number(answer.headers.get('retry-after')) * 1000));
    answer = await stack.send(rescore);
  }
  expect(answer.status).toBe(200);
  const after = await stack.waitForJourney(
    uid,
    (v) => v.events.some((e) => e.type === 'psychometric_score.complete' && e.late && !e.duplicate),
    60_000,
  );
  expect(after.decision).toEqual(decided.decision);
  console.log(`the journey counted ${after.counts.deliveries} deliveries, ${after.counts.duplicates} duplicate`);

  expect((await stack.handle(uid).describe()).status.name).toBe('RUNNING');
  expect(new Set(los.forUid(uid, 'decision').map((r) => r.idempotencyKey)).size).toBe(1);
  return refused;
}

test(`${COPIES} copies of one ~15 KB signed delivery, ${CONCURRENCY} at a time: decided once, still running, a later re-score lands`, async () => {
  const uid = newUid('FLOOD');
  const startedAt = Math.floor(Date.now() / 1000);
  expect((await stack.send(delivery('application.complete', uid, { now: startedAt }))).status).toBe(200);
  const replayed = JSON.stringify(
    delivery('psychometric_score.complete', uid, { now: startedAt, details: { padding: 'x'.repeat(15_500) } }),
  );
  expect(Buffer.byteLength(replayed)).toBeGreaterThan(15_500);

  const answers = new Map<number, number>();
  const retryAfter = new Set<string>();
  let next = 0;
  const floodStarted = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < COPIES) {
        next++;
        const { status, body, headers } = await stack.send(replayed);
        answers.set(status, (answers.get(status) ?? 0) + 1);
        if (status === 429) {
          expect(body).toMatchObject({ reason: 'uid_rate_limited' });
          retryAfter.add(headers.get('retry-after') ?? 'missing');
        }
      }
    }),
  );
  const floodSeconds = (Date.now() - floodStarted) / 1000;
  console.log(`flood: ${COPIES} copies in ${floodSeconds.toFixed(1)} s, answers ${JSON.stringify([...answers])}`);

  let rescoreRefused: number;
  try {
    rescoreRefused = await theJourneySurvives(uid);
  } finally {
    const runs = await historyOf(uid);
    const events = runs.reduce((n, r) => n + r.events, 0);
    const bytes = runs.reduce((n, r) => n + r.bytes, 0);
    console.log(
      `flood history: ${runs.length} run(s), ${events} events, ${(bytes / 1e6).toFixed(2)} MB in all; per run ${JSON.stringify(runs)}`,
    );
  }
  const metrics = await (await fetch(`${stack.receiver.internalUrl}/metrics`)).text();
  const counted = /^begini_webhook_requests_total\{status="429",reason="uid_rate_limited"\} (\d+)$/m.exec(metrics);
  expect(Number(counted?.[1])).toBe((answers.get(429) ?? 0) + rescoreRefused);

  // Begini's retries of a 429 are the only cost the flood left beyond the window's allowance.
  expect([...answers.keys()].every((s) => s === 200 || s === 429)).toBe(true);
  expect(answers.get(429) ?? 0).toBeGreaterThan(0);
  expect([...retryAfter].every((s) => /^[1-9]\d*$/.test(s))).toBe(true);
}, 300_000);

test('a run continues as new once its history passes the byte bound, and that run replays', async () => {
  const uid = newUid('BYTES');
  const now = Math.floor(Date.now() / 1000);
  expect((await unlimited.send(delivery('application.complete', uid, { now }))).status).toBe(200);
  // Distinct large deliveries, a few at a time: each is a ~16 KB signal, well under 2,000 events in all.
  const copies = Math.ceil((1.5 * MAX_HISTORY_BYTES) / 16_000);
  let sent = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (sent < copies) {
        const n = sent++;
        const body = delivery('psychometric_score.complete', uid, { now, details: { padding: `${n}`.padEnd(15_500) } });
        expect((await unlimited.send(body)).status).toBe(200);
      }
    }),
  );
  await unlimited.waitForJourney(uid, (v) => v.handoff.status === 'delivered', 120_000);

  const runs: Array<{ runId: string; status: string }> = [];
  const deadline = Date.now() + 60_000;
  while (!runs.some((r) => r.status === 'CONTINUED_AS_NEW') && Date.now() < deadline) {
    runs.length = 0;
    for await (const run of unlimited.client.workflow.list({ query: `WorkflowId = '${uid}'` }))
      runs.push({ runId: run.runId, status: run.status.name });
    await new Promise((r) => setTimeout(r, 200));
  }
  const continued = runs.find((r) => r.status === 'CONTINUED_AS_NEW');
  expect(continued).toBeDefined();
  const history = await unlimited.client.workflow.getHandle(uid, continued!.runId).fetchHistory();
  const events = history.events ?? [];
  console.log(
    `byte bound: first run ${events.length} events; ${runs.length} run(s) after ${copies} distinct ~16 KB deliveries`,
  );
  expect(events.length).toBeLessThan(2_000);
  const markers = events
    .flatMap((e) => Object.values(e.markerRecordedEventAttributes?.details ?? {}))
    .flatMap((p) => p.payloads ?? [])
    .map((p) => Buffer.from(p.data ?? []).toString());
  expect(markers.some((m) => m.includes(CONTINUE_AS_NEW_BY_HISTORY_BYTES))).toBe(true);
  // The new history replays against today's code (the recorded fixtures cover the old ones).
  await Worker.runReplayHistory(
    {
      workflowBundle: { codePath: WORKFLOW_BUNDLE },
      dataConverter: { payloadCodecs: [new AesGcmCodec(parseCodecKeys(TEST_CODEC_KEYS))] },
    },
    history,
  );
  expect(new Set(los.forUid(uid, 'decision').map((r) => r.idempotencyKey)).size).toBe(1);
}, 300_000);
