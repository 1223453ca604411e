/**
 * Latency at a steady load (issue 26, item 3): journeys arrive at a fixed rate, open loop (each
 * starts at its scheduled time whether or not earlier ones have been decided), at fractions of the
 * capacity measured earlier in the same run (phase B's decisions per second, closed loop), through
 * the receiver. Each journey posts its application, then its score; what is measured is the time
 * from the receiver's 200 to the score to the LOS stand-in receiving the decision.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { Pool } from 'pg';
import { delivery } from '../src/simulator/fixtures';
import { newToken, tokenDigest } from '../src/auth/tokensFile';
import { freePort } from '../src/freePort';
import { SPOOL_TABLE } from '../src/spool/store';
import { ensure } from '../dev/cluster';
import { startPostgres } from '../dev/postgres';
import { loadReceiverConfig } from '../src/config/receiver';
import { BENCH_CODEC_KEYS, BENCH_KEY, load, poster, summarise } from './load';
import type { Stack } from './stack';

export const LOAD_FRACTIONS = [0.25, 0.5, 0.75];

/** When each of the journeys of `seconds` at `perSecond` starts, in ms from the start: evenly spaced. */
export function arrivalOffsets(perSecond: number, seconds: number): number[] {
  const count = Math.max(1, Math.floor(perSecond * seconds));
  return Array.from({ length: count }, (_, i) => (i * 1000) / perSecond);
}

/** Resolves at `at` (a Date.now() instant), or at once if it has passed. */
const until = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

/** How long a level's arrivals last: a fixed time, or as long as `during` (a flood) runs. */
type Arrivals = { seconds: number } | { during: Promise<unknown> };

/** One load level: arrivals for as long as `arrivals` says, then until every decision has arrived (or 120 s more). */
async function level(stack: Stack, label: string, perSecond: number, arrivals: Arrivals) {
  const post = poster([stack.receiverUrl], 256);
  const scoreAcked = new Map<string, number>();
  const received = new Map<string, number>();
  const respond = stack.los.respond;
  stack.los.respond = (request, attempt) => {
    if (request.body.kind === 'decision' && !received.has(request.body.uid)) received.set(request.body.uid, Date.now());
    return respond(request, attempt);
  };
  let flooding = 'during' in arrivals;
  if ('during' in arrivals) void arrivals.during.finally(() => (flooding = false));
  const stamp = Date.now().toString(36);
  const start = Date.now() + 100;
  const journeys: Array<Promise<void>> = [];
  let lateStarts = 0;
  let failures = 0;
  const journey = async (uid: string) => {
    const ok =
      (await post(JSON.stringify(delivery('application.complete', uid)))) &&
      (await post(JSON.stringify(delivery('psychometric_score.complete', uid))));
    if (ok) scoreAcked.set(uid, Date.now());
    else failures++;
  };
  try {
    // Open loop: each journey starts at its time, whether or not the earlier ones have finished.
    const offsets = 'seconds' in arrivals ? arrivalOffsets(perSecond, arrivals.seconds) : [];
    for (let i = 0; 'seconds' in arrivals ? i < offsets.length : flooding || i === 0; i++) {
      const at = start + (offsets[i] ?? (i * 1000) / perSecond);
      await until(at);
      if (Date.now() - at > 50) lateStarts++;
      journeys.push(journey(`O-${label}-${i}-${stamp}`));
    }
    await Promise.all(journeys);
    const waitUntil = Date.now() + 120_000;
    while ([...scoreAcked.keys()].some((u) => !received.has(u)) && Date.now() < waitUntil)
      await new Promise((r) => setTimeout(r, 50));
  } finally {
    stack.los.respond = respond;
  }
  const seconds = Number(((Date.now() - start) / 1000).toFixed(1));
  const decided = [...scoreAcked.keys()].filter((u) => received.has(u));
  // A decision can reach the LOS before the score's 200 reaches the sender: that is a latency of 0.
  const latencies = decided.map((u) => Math.max(0, received.get(u)! - scoreAcked.get(u)!));
  const s = summarise(latencies, seconds, failures);
  return {
    offeredPerSecond: Number(perSecond.toFixed(2)),
    seconds: 'seconds' in arrivals ? arrivals.seconds : seconds,
    journeys: journeys.length,
    decided: decided.length,
    failures,
    /** Arrivals that started more than 50 ms after their time: the load generator falling behind. */
    lateStarts,
    scoreAckToLosMs: { p50: s.p50, p95: s.p95, p99: s.p99 },
  };
}

/** Concurrent senders of the flood's application-only deliveries (new applicants, as a marketing push). */
const FLOOD_CONCURRENCY = 32;
/** Past what the gate lets through, so the workers, not the drainer's pace, set how fast the spool empties. */
const FLOOD_DRAIN_PER_SECOND = 1_000;
/** The receiver's default WEBHOOK_DEFER_BACKLOG, which the bench does not change. */
const DEFER_BACKLOG_MS = loadReceiverConfig({
  BEGINI_API_KEY: BENCH_KEY,
  PAYLOAD_CODEC_KEYS: BENCH_CODEC_KEYS,
}).deferBacklogMs;
/** How often the journey API's list is asked during the flood, as an operator's dashboard would. */
const LIST_EVERY_MS = 1_000;

const percentile = (samples: number[], q: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(0));
};

/**
 * Every LIST_EVERY_MS until `stop` resolves: the journey API's first page, timed, and the backlog
 * the receiver's gate last read (begini_journey_backlog_seconds), so the figures show how much of a
 * decision's wait was the queue and how much the shared CPU.
 */
async function sampleDuringFlood(internalUrl: string, token: string, stop: Promise<unknown>) {
  const lists: number[] = [];
  const backlogMs: number[] = [];
  let failures = 0;
  let stopped = false;
  void stop.finally(() => (stopped = true));
  while (!stopped) {
    const started = performance.now();
    try {
      const response = await fetch(`${internalUrl}/journeys?limit=50`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(30_000),
      });
      await response.arrayBuffer();
      if (response.ok) lists.push(performance.now() - started);
      else failures++;
      const metrics = await (await fetch(`${internalUrl}/metrics`)).text();
      const gauge = /^begini_journey_backlog_seconds\{namespace="default"\} (\S+)$/m.exec(metrics);
      if (gauge) backlogMs.push(Number(gauge[1]) * 1000);
    } catch {
      failures++;
    }
    await new Promise((r) => setTimeout(r, LIST_EVERY_MS));
  }
  return {
    journeyList: {
      lists: lists.length,
      failures,
      p50Ms: percentile(lists, 0.5),
      p99Ms: percentile(lists, 0.99),
      maxMs: percentile(lists, 1),
    },
    backlogAgeMs: { samples: backlogMs.length, p50: percentile(backlogMs, 0.5), max: percentile(backlogMs, 1) },
  };
}

/**
 * Happy applicants at `perSecond` for as long as `count` new applicants that only send
 * `application.complete` are being created beside them (each then waits for scores that never come),
 * through the same receiver, with the spool on as a lender who cannot lose an event runs it: what a
 * flood of new applications does to a decision's latency and to the journey API's list, and how long
 * the applications the backlog gate deferred take to leave the spool.
 */
async function underFlood(stack: Stack, perSecond: number, count: number) {
  const work = mkdtempSync(resolve(tmpdir(), 'begini-bench-flood-'));
  const postgres = await startPostgres(ensure('ensure-postgres', 'PostgreSQL'), work);
  const db = new Pool({ connectionString: postgres.url });
  const token = newToken();
  const tokens = resolve(work, 'operators.yaml');
  writeFileSync(
    tokens,
    `operators:\n  - name: bench@lender\n    role: viewer\n    sha256: ${tokenDigest(token).toString('hex')}\n`,
  );
  const internalPort = await freePort();
  try {
    await stack.restartReceiver({
      SPOOL_DATABASE_URL: postgres.url,
      SPOOL_DRAIN_PER_SECOND: String(FLOOD_DRAIN_PER_SECOND),
      OPERATOR_TOKENS_FILE: tokens,
      INTERNAL_PORT: String(internalPort),
    });
    const spooled = async () =>
      Number((await db.query(`SELECT count(*) AS n FROM ${SPOOL_TABLE} WHERE dead_at IS NULL`)).rows[0].n);
    const post = poster([stack.receiverUrl], FLOOD_CONCURRENCY);
    const stamp = Date.now().toString(36);
    const bodies = Array.from({ length: count }, (_, i) =>
      JSON.stringify(delivery('application.complete', `FLOOD-${stamp}-${i}`)),
    );
    const started = Date.now();
    const flood = load(count, FLOOD_CONCURRENCY, (i) => post(bodies[i]!));
    const sampled = sampleDuringFlood(`http://127.0.0.1:${internalPort}`, token, flood);
    const happy = await level(stack, 'flood', perSecond, { during: flood });
    const sent = await flood;
    const floodEnded = Date.now();
    const deferredAtEnd = await spooled();
    const drainUntil = Date.now() + 600_000;
    while ((await spooled()) > 0 && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 250));
    const left = await spooled();
    return {
      ...happy,
      flood: {
        newApplicants: count,
        failures: sent.failures,
        acceptedPerSecond: sent.throughput,
        ackP99Ms: sent.p99,
      },
      floodSeconds: Number(((floodEnded - started) / 1000).toFixed(1)),
      /** The flood's applications the backlog gate had put in the spool when the flood ended, and how long they took to leave it. */
      deferred: {
        spooledWhenFloodEnded: deferredAtEnd,
        secondsToEmpty: left === 0 ? Number(((Date.now() - floodEnded) / 1000).toFixed(1)) : null,
        left,
        drainPerSecond: FLOOD_DRAIN_PER_SECOND,
      },
      /** Once a second while the flood ran: GET /journeys?limit=50 (its bound: 5 s), and the backlog the gate read. */
      ...(await sampled),
      deferBacklogMs: DEFER_BACKLOG_MS,
    };
  } finally {
    await stack.restartReceiver({});
    await db.end();
    await postgres.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Each of LOAD_FRACTIONS of `capacity` (decisions per second) for `seconds`, lowest first; then the
 * lowest again while `flood` new applicants are created beside it.
 */
export async function openLoop(stack: Stack, capacity: number, seconds: number, flood: number) {
  const levels: Record<string, Awaited<ReturnType<typeof level>>> = {};
  for (const fraction of LOAD_FRACTIONS) {
    const label = `${Math.round(fraction * 100)}%`;
    console.log(`  O open loop at ${label} of ${capacity}/s for ${seconds} s …`);
    levels[label] = await level(stack, label, fraction * capacity, { seconds });
    console.log(`    ${JSON.stringify(levels[label])}`);
  }
  const quiet = `${Math.round(LOAD_FRACTIONS[0]! * 100)}%`;
  console.log(`  O open loop at ${quiet} while ${flood} new applicants are created beside it …`);
  const flooded = await underFlood(stack, LOAD_FRACTIONS[0]! * capacity, flood);
  console.log(`    ${JSON.stringify(flooded)}`);
  return {
    capacityDecisionsPerSecond: capacity,
    capacityFrom: 'phase B on the same stack (closed loop, 32 journeys in flight)',
    levels,
    underFlood: { ...flooded, withoutFloodP99Ms: levels[quiet]!.scoreAckToLosMs.p99, level: quiet },
  };
}

export type Latency = Awaited<ReturnType<typeof openLoop>>;

/** The console's lines: one per load level, then the flood's. */
export function latencySummary(result: { latency: Latency }): string[] {
  const { latency } = result;
  const f = latency.underFlood;
  const line = (label: string, l: Awaited<ReturnType<typeof level>>) =>
    `  ${label.padStart(4)} ${l.offeredPerSecond}/s for ${l.seconds} s: ${l.decided}/${l.journeys} decided, p50 ${l.scoreAckToLosMs.p50} p95 ${l.scoreAckToLosMs.p95} p99 ${l.scoreAckToLosMs.p99} ms${l.lateStarts ? ` (${l.lateStarts} late starts)` : ''}${l.failures ? ` (${l.failures} failed)` : ''}`;
  return [
    `\nO. open loop, score 200 → decision at the LOS (capacity ${latency.capacityDecisionsPerSecond} decisions/s from B):`,
    ...Object.entries(latency.levels).map(([label, l]) => line(label, l)),
    line(`${f.level} + flood`, f),
    `       beside ${f.flood.newApplicants} new applicants (${f.flood.acceptedPerSecond}/s accepted, ${f.flood.failures} failed): happy p99 ${f.scoreAckToLosMs.p99} ms against ${f.withoutFloodP99Ms} ms without`,
    `       ${f.deferred.spooledWhenFloodEnded} deferred to the spool when it ended, empty ${f.deferred.secondsToEmpty ?? `not within 600 s (${f.deferred.left} left)`} s later; journey list p50 ${f.journeyList.p50Ms} p99 ${f.journeyList.p99Ms} max ${f.journeyList.maxMs} ms over ${f.journeyList.lists} (${f.journeyList.failures} failed)`,
    `       oldest waiting workflow task as the gate read it: p50 ${f.backlogAgeMs.p50} max ${f.backlogAgeMs.max} ms (bound ${f.deferBacklogMs} ms)`,
  ];
}
