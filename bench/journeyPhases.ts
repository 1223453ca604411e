/**
 * Phases B, C and D on a running stack (bench/stack.ts): whole journeys end to end, a duplicate
 * storm, and the worker's memory with many open journeys waiting on their timers.
 */
import { deliveryBody, directDelivery } from './deliveries';
import { load, poster, sendScoredJourneys, summarise } from './load';
import { cpuMs, memoryMiB } from './proc';
import { drain, TASK_QUEUE, type Stack } from './stack';

/** B: `journeys` journeys, score received to decision delivered to the LOS, and the worker's CPU per journey. */
export async function endToEnd(stack: Stack, journeys: number) {
  const uids = Array.from({ length: journeys }, (_, i) => `B-${i}-${Date.now().toString(36)}`);
  const post = poster([stack.receiverUrl], 32);
  const arrivals = new Map<string, number>();
  const respond = stack.los.respond;
  stack.los.respond = (request, attempt) => {
    if (request.body.kind === 'decision' && !arrivals.has(request.body.uid)) arrivals.set(request.body.uid, Date.now());
    return respond(request, attempt);
  };
  const started = Date.now();
  const workerCpuBefore = cpuMs(stack.worker.pid!);
  const scoreSentAt = await sendScoredJourneys(post, uids);
  while (arrivals.size < uids.length && Date.now() - started < 300_000) await new Promise((r) => setTimeout(r, 50));
  const latencies = uids.filter((u) => arrivals.has(u)).map((u) => arrivals.get(u)! - scoreSentAt.get(u)!);
  const last = Math.max(...arrivals.values());
  const summary = summarise(latencies, (last - Math.min(...scoreSentAt.values())) / 1000, uids.length - arrivals.size);
  return {
    journeys: uids.length,
    decided: arrivals.size,
    decisionsPerSecond: Number((arrivals.size / ((last - started) / 1000)).toFixed(1)),
    scoreToDecisionMs: { p50: summary.p50, p99: summary.p99 },
    workerCpuMsPerJourney: Number(
      ((cpuMs(stack.worker.pid!) - workerCpuBefore) / Math.max(arrivals.size, 1)).toFixed(2),
    ),
  };
}

/** C: each of `journeys` scores delivered three times at once; how many decisions the LOS got. */
export async function duplicateStorm(stack: Stack, journeys: number) {
  const uids = Array.from({ length: journeys }, (_, i) => `C-${i}-${Date.now().toString(36)}`);
  const post = poster([stack.receiverUrl], 64);
  const bodies = uids.map((uid) => deliveryBody('psychometric_score.complete', uid));
  const result = await load(uids.length * 3, 64, (i) => post(bodies[Math.floor(i / 3)]!));
  const started = Date.now();
  const decisionsFor = (uid: string) => new Set(stack.los.forUid(uid, 'decision').map((r) => r.idempotencyKey)).size;
  while (uids.some((u) => decisionsFor(u) === 0) && Date.now() - started < 120_000)
    await new Promise((r) => setTimeout(r, 50));
  const decisions = uids.reduce((n, u) => n + decisionsFor(u), 0);
  return {
    deliveries: uids.length * 3,
    journeys: uids.length,
    decisions,
    extraDecisions: decisions - uids.length,
    ackP99: result.p99,
    failures: result.failures,
  };
}

/** D: `journeys` journeys started directly and left waiting for their scores; the worker's memory then. */
export async function openJourneys(stack: Stack, journeys: number) {
  const send = directDelivery(stack.client, TASK_QUEUE);
  const bodies = Array.from({ length: journeys }, (_, i) =>
    deliveryBody('application.complete', `D-${i}-${Date.now().toString(36)}`),
  );
  await load(journeys, 64, (i) => send(bodies[i]!));
  const drainSeconds = await drain(stack, 'D-', journeys);
  await new Promise((r) => setTimeout(r, 2_000));
  const waiting = Number(
    (await stack.client.workflow.count(`WorkflowId STARTS_WITH 'D-' AND BeginiStage = 'awaiting_scores'`)).count,
  );
  return {
    openJourneys: waiting,
    secondsToStart: Number(drainSeconds.toFixed(1)),
    worker: memoryMiB(stack.worker.pid!),
  };
}
