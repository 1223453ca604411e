/**
 * Drives applicants through a running stack the way Begini does (retrying anything but 200 for as
 * long as it takes) and checks the outcome: every acknowledged event in its journey, every journey
 * decided and handed off exactly once. Shared by the fault suite (dev server) and the cluster suite
 * (PostgreSQL cluster), which print the same table.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Los } from '../../dev/losStandIn';
import { delivery } from '../../src/simulator/fixtures';
import { send, type SendResult } from '../../src/simulator/sender';
import { journeyQuery, type JourneyView } from '../../workflows/definitions';
import { TEST_KEY } from './begini';

export interface LoadTarget {
  name: string;
  /** One receiver's URL, or a picker called per attempt (a load balancer over several). */
  webhookUrl: string | (() => string);
  client: Client;
  los: Los;
}

export interface Sent {
  uid: string;
  fingerprint: string;
  result: SendResult;
}

/** Each journey's deliveries, in batches: a batch is sent concurrently, batches in order. */
export type Plan = (uid: string, index: number) => string[][];

export type Row = Record<string, string | number>;

const CONCURRENCY = 16;

export async function drive(
  target: LoadTarget,
  journeys: number,
  plan: Plan,
  during?: (progress: () => number) => Promise<void>,
  /** Begini's retries; 0 sends each delivery once, as a sender whose retries are spent. */
  retries = 200,
): Promise<{ sent: Sent[]; uids: string[] }> {
  const uids = Array.from({ length: journeys }, (_, i) => `F-${target.name}-${i}-${Date.now().toString(36)}`);
  const sent: Sent[] = [];
  let next = 0;
  const options = {
    url: target.webhookUrl,
    key: TEST_KEY,
    otherEnvironmentKey: 'unused',
    malformedSignature: '',
    retries,
    backoffMs: 100,
    maxBackoffMs: 1_000,
  };
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (next < uids.length) {
      const index = next++;
      const uid = uids[index]!;
      for (const batch of plan(uid, index)) {
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

const raw = (type: string, uid: string, now: number) => JSON.stringify(delivery(type, uid, { now }));
const now = () => Math.floor(Date.now() / 1000);

export const completeThenScore: Plan = (uid) => {
  const at = now();
  return [[raw('application.complete', uid, at)], [raw('psychometric_score.complete', uid, at)]];
};

/**
 * Five journeys Begini sends, in turn, each ending in a decision: in order; with a device score;
 * expired then re-opened; the score before the application, then a stale expiry; every delivery
 * three times at once.
 */
export const mixedJourneys: Plan = (uid, index) => {
  const at = now();
  const [complete, score] = [raw('application.complete', uid, at), raw('psychometric_score.complete', uid, at)];
  switch (index % 5) {
    case 0:
      return [[complete], [score]];
    case 1:
      return [[complete], [raw(index % 2 ? 'android_score.complete' : 'ios_score.complete', uid, at)], [score]];
    case 2:
      return [[raw('application.expired', uid, at - 60)], [complete], [score]];
    case 3:
      return [[score], [complete], [raw('application.expired', uid, at - 60)]];
    default:
      return [
        [complete, complete, complete],
        [score, score, score],
      ];
  }
};

export async function untilProgress(progress: () => number, atLeast: number): Promise<void> {
  while (progress() < atLeast) await new Promise((r) => setTimeout(r, 20));
}

/** Waits for every journey's decision to reach the LOS, then counts; asserts the exactly-once claims. */
export async function check(
  target: LoadTarget,
  scenario: string,
  sent: Sent[],
  uids: string[],
  waitMs = 180_000,
): Promise<Row> {
  const views = new Map<string, JourneyView>();
  const deadline = Date.now() + waitMs;
  // An application the receivers deferred while the journeys were behind (src/receiver/backlog.ts)
  // reaches its journey from the spool after the decision: wait for every acknowledged delivery too.
  const acknowledgedFor = new Map<string, string[]>();
  for (const s of sent)
    if (s.result.status === 200) acknowledgedFor.set(s.uid, [...(acknowledgedFor.get(s.uid) ?? []), s.fingerprint]);
  const reached = (uid: string, view: JourneyView) =>
    (acknowledgedFor.get(uid) ?? []).every((f) => view.events.some((e) => f.startsWith(e.fingerprint)));
  const waitFor = async (uid: string) => {
    for (;;) {
      const view = await target.client.workflow
        .getHandle(uid)
        .query(journeyQuery)
        .catch(() => undefined);
      // Past the deadline a decided journey is counted as it is: what never arrived counts as lost.
      if (view?.handoff.status === 'delivered' && (reached(uid, view) || Date.now() > deadline)) {
        views.set(uid, view);
        return;
      }
      if (Date.now() > deadline)
        throw new Error(`${scenario}: journey ${uid} never delivered its decision: ${JSON.stringify(view)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  // A few queries at a time: one by one, hundreds of them dominate a scenario's time.
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < uids.length) await waitFor(uids[next++]!);
    }),
  );
  const statuses = sent.flatMap((s) => s.result.statuses);
  const acknowledged = sent.filter((s) => s.result.status === 200);
  const lost = acknowledged.filter(
    (s) => !views.get(s.uid)!.events.some((e) => s.fingerprint.startsWith(e.fingerprint)),
  );
  const losCalls = uids.reduce((n, uid) => n + target.los.forUid(uid).length, 0);
  // Distinct Idempotency-Keys the LOS accepted: a retried hand-off reuses its key, a second
  // decision would not.
  const decisionsPerUid = uids.map((uid) => target.los.acceptedFor(uid, 'decision').length);
  // The same hand-off (same body) accepted under two keys: sent twice as if new.
  const doubleHandoffs = uids.filter((uid) => {
    const bodies = target.los.acceptedFor(uid).map((r) => JSON.stringify(r.body));
    return new Set(bodies).size < bodies.length;
  });
  // One key, one body: a retry, a restarted worker or a replay resends the call, never new content.
  const keyDrift = uids.filter((uid) => !sameBodyPerKey(target.los.forUid(uid)));
  const decided = [...views.values()].filter((v) => v.decision !== null).length;
  const serverErrors = statuses.filter((s) => s >= 500 && s !== 503);
  const row: Row = {
    scenario,
    deliveries: sent.length,
    '200s': statuses.filter((s) => s === 200).length,
    '503s': statuses.filter((s) => s === 503).length,
    'no answer': statuses.filter((s) => s === 0).length,
    journeys: uids.length,
    decisions: decided,
    'LOS calls': losCalls,
    lost: lost.length,
    'double decisions': decisionsPerUid.filter((n) => n > 1).length,
    'double hand-offs': doubleHandoffs.length,
    'key content drift': keyDrift.length,
    '5xx not 503': serverErrors.length,
  };
  expect(acknowledged).toHaveLength(sent.length);
  expect(lost).toEqual([]);
  expect(decided).toBe(uids.length);
  expect(decisionsPerUid.every((n) => n === 1)).toBe(true);
  expect(doubleHandoffs).toEqual([]);
  expect(keyDrift).toEqual([]);
  expect(serverErrors).toEqual([]);
  return row;
}

/** Every request under one Idempotency-Key carried the same body, byte for byte. */
export function sameBodyPerKey(requests: Los['requests']): boolean {
  const bodyOf = new Map<string, string>();
  return requests.every(
    (r) => (bodyOf.get(r.idempotencyKey) ?? bodyOf.set(r.idempotencyKey, r.raw).get(r.idempotencyKey)) === r.raw,
  );
}

export function formatTable(rows: Row[]): string {
  if (rows.length === 0) return '';
  const columns = Object.keys(rows[0]!);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  return [
    '',
    line(columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(columns.map((c) => String(r[c])))),
  ].join('\n');
}
