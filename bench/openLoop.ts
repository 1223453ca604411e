/**
 * Latency at a steady load (issue 26, item 3): journeys arrive at a fixed rate, open loop (each
 * starts at its scheduled time whether or not earlier ones have been decided), at fractions of the
 * capacity measured earlier in the same run (phase B's decisions per second, closed loop), through
 * the receiver. Each journey posts its application, then its score; what is measured is the time
 * from the receiver's 200 to the score to the LOS stand-in receiving the decision.
 */
import { delivery } from '../src/simulator/fixtures';
import { load, poster, summarise } from './load';
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

/**
 * Happy applicants at `perSecond` for as long as `count` new applicants that only send
 * `application.complete` are being created beside them (each then waits for scores that never come),
 * through the same receiver: what a flood of new applications does to a decision's latency.
 */
async function underFlood(stack: Stack, perSecond: number, count: number) {
  const post = poster([stack.receiverUrl], FLOOD_CONCURRENCY);
  const stamp = Date.now().toString(36);
  const bodies = Array.from({ length: count }, (_, i) =>
    JSON.stringify(delivery('application.complete', `FLOOD-${stamp}-${i}`)),
  );
  const started = Date.now();
  const flood = load(count, FLOOD_CONCURRENCY, (i) => post(bodies[i]!));
  const happy = await level(stack, 'flood', perSecond, { during: flood });
  const sent = await flood;
  const seconds = (Date.now() - started) / 1000;
  return {
    ...happy,
    flood: {
      newApplicants: count,
      failures: sent.failures,
      acceptedPerSecond: sent.throughput,
      ackP99Ms: sent.p99,
    },
    floodSeconds: Number(seconds.toFixed(1)),
  };
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
  ];
}
