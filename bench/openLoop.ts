/**
 * Latency at a steady load (issue 26, item 3): journeys arrive at a fixed rate, open loop (each
 * starts at its scheduled time whether or not earlier ones have been decided), at fractions of the
 * capacity measured earlier in the same run (phase B's decisions per second, closed loop), through
 * the receiver. Each journey posts its application, then its score; what is measured is the time
 * from the receiver's 200 to the score to the LOS stand-in receiving the decision.
 */
import { delivery } from '../src/simulator/fixtures';
import { poster, summarise } from './load';
import type { Stack } from './stack';

export const LOAD_FRACTIONS = [0.25, 0.5, 0.75];

/** When each of the journeys of `seconds` at `perSecond` starts, in ms from the start: evenly spaced. */
export function arrivalOffsets(perSecond: number, seconds: number): number[] {
  const count = Math.max(1, Math.floor(perSecond * seconds));
  return Array.from({ length: count }, (_, i) => (i * 1000) / perSecond);
}

/** Resolves at `at` (a Date.now() instant), or at once if it has passed. */
const until = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

/** One load level: arrivals for `seconds`, then until every decision has arrived (or 120 s more). */
async function level(stack: Stack, label: string, perSecond: number, seconds: number) {
  const post = poster([stack.receiverUrl], 256);
  const scoreAcked = new Map<string, number>();
  const received = new Map<string, number>();
  const respond = stack.los.respond;
  stack.los.respond = (request, attempt) => {
    if (request.body.kind === 'decision' && !received.has(request.body.uid)) received.set(request.body.uid, Date.now());
    return respond(request, attempt);
  };
  const offsets = arrivalOffsets(perSecond, seconds);
  const uids = offsets.map((_, i) => `O-${label}-${i}-${Date.now().toString(36)}`);
  const start = Date.now() + 100;
  let lateStarts = 0;
  let failures = 0;
  try {
    await Promise.all(
      uids.map(async (uid, i) => {
        await until(start + offsets[i]!);
        if (Date.now() - (start + offsets[i]!) > 50) lateStarts++;
        const ok =
          (await post(JSON.stringify(delivery('application.complete', uid)))) &&
          (await post(JSON.stringify(delivery('psychometric_score.complete', uid))));
        if (ok) scoreAcked.set(uid, Date.now());
        else failures++;
      }),
    );
    const waitUntil = Date.now() + 120_000;
    while ([...scoreAcked.keys()].some((u) => !received.has(u)) && Date.now() < waitUntil)
      await new Promise((r) => setTimeout(r, 50));
  } finally {
    stack.los.respond = respond;
  }
  const decided = [...scoreAcked.keys()].filter((u) => received.has(u));
  // A decision can reach the LOS before the score's 200 reaches the sender: that is a latency of 0.
  const latencies = decided.map((u) => Math.max(0, received.get(u)! - scoreAcked.get(u)!));
  const s = summarise(latencies, seconds, failures);
  return {
    offeredPerSecond: Number(perSecond.toFixed(2)),
    seconds,
    journeys: uids.length,
    decided: decided.length,
    failures,
    /** Arrivals that started more than 50 ms after their time: the load generator falling behind. */
    lateStarts,
    scoreAckToLosMs: { p50: s.p50, p95: s.p95, p99: s.p99 },
  };
}

/** Each of LOAD_FRACTIONS of `capacity` (decisions per second) for `seconds`, lowest first. */
export async function openLoop(stack: Stack, capacity: number, seconds: number) {
  const levels: Record<string, Awaited<ReturnType<typeof level>>> = {};
  for (const fraction of LOAD_FRACTIONS) {
    const label = `${Math.round(fraction * 100)}%`;
    console.log(`  O open loop at ${label} of ${capacity}/s for ${seconds} s …`);
    levels[label] = await level(stack, label, fraction * capacity, seconds);
    console.log(`    ${JSON.stringify(levels[label])}`);
  }
  return {
    capacityDecisionsPerSecond: capacity,
    capacityFrom: 'phase B on the same stack (closed loop, 32 journeys in flight)',
    levels,
  };
}

export type Latency = Awaited<ReturnType<typeof openLoop>>;

/** The console's lines: one per load level. */
export function latencySummary(result: { latency: Latency }): string[] {
  const { latency } = result;
  return [
    `\nO. open loop, score 200 → decision at the LOS (capacity ${latency.capacityDecisionsPerSecond} decisions/s from B):`,
    ...Object.entries(latency.levels).map(
      ([label, l]) =>
        `  ${label.padStart(4)} ${l.offeredPerSecond}/s for ${l.seconds} s: ${l.decided}/${l.journeys} decided, p50 ${l.scoreAckToLosMs.p50} p95 ${l.scoreAckToLosMs.p95} p99 ${l.scoreAckToLosMs.p99} ms${l.lateStarts ? ` (${l.lateStarts} late starts)` : ''}${l.failures ? ` (${l.failures} failed)` : ''}`,
    ),
  ];
}
