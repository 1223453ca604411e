/**
 * Phase F, the worker and the receiver against their floors, measured in the same run on a fresh
 * in-memory stack (bench/stack.ts), each as the CPU time of its own process (/proc):
 *   - worker: the journey on the real worker (dist/, as shipped) against the floor workflow
 *     (bench/floor/workflow.ts) on a floor worker with the same settings (bench/floor/worker.ts),
 *     both sent the receiver's signalWithStart with its payloads, for the happy path (application,
 *     then score, 32 journeys in flight) and the duplicate storm (each score three times at once);
 *   - receiver: its CPU per delivery (signed `application.complete`, through HTTP) against a bare
 *     node:http server's with the same HMAC check plus the SDK client's per signalWithStart with the
 *     same payloads (bench/floor/client.ts), at the same concurrency, in alternating rounds.
 */
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { freePort } from '../src/freePort';
import { WORKFLOW_TYPES } from '../workflows/definitions';
import { costOf } from './actions';
import { measureCell } from './ackPath';
import { deliveryBody, signalWithStartOf } from './deliveries';
import { load, sendScoredJourneys, type Latencies } from './load';
import { cpuMs } from './proc';
import { drain, exited, TASK_QUEUE, waitReady, withStack, type Stack } from './stack';
import { stickyCache, type StickyCache } from './stickyCache';
import type { Size } from './options';

export const FLOOR_QUEUE = 'bench-floor';
export const FLOOR_TYPE = 'benchFloorJourney';
/** Rounds per measure, alternating which side goes first; the figures are the rounds' medians. */
const ROUNDS = 3;
/** Calls before each receiver-floor cell's measured ones (as the ack path's cells). */
const WARM_UP = 100;
/** The receiver's cells: the concurrencies the ack path's targets are judged at. */
export const FLOOR_CONCURRENCIES = [16, 64];
export const TARGETS = { workerRatio: 1.5, receiverRatio: 1.15 };

type Side = 'journey' | 'floor';
type Scenario = 'happy' | 'storm';

interface WorkerRound {
  decisions: number;
  seconds: number;
  cpuMsPerDecision: number;
  stickyCache: StickyCache;
}

const round2 = (n: number) => Number(n.toFixed(3));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
/** Round r's order: journey first on even rounds, floor first on odd ones. */
const order = (r: number): Side[] => (r % 2 === 0 ? ['journey', 'floor'] : ['floor', 'journey']);

export type Floors = Awaited<ReturnType<typeof floorsPhase>>;

export function floorsPhase(size: Size) {
  return withStack('memory', {}, async (stack) => {
    const floorWorker = await startFloorWorker(stack);
    try {
      const worker = {
        happy: await workerAgainstFloor(stack, floorWorker, 'happy', size.journeys),
        storm: await workerAgainstFloor(stack, floorWorker, 'storm', size.storm),
        historyShape: await historyShape(stack, size.journeys),
      };
      const receiver: Record<string, ReceiverRow> = {};
      for (const c of FLOOR_CONCURRENCIES) receiver[String(c)] = await receiverAgainstFloor(stack, c, size.ack);
      return {
        method:
          'process CPU (utime + stime from /proc, every thread) over each round, divided by decisions (worker) or deliveries (receiver); medians of alternating rounds; in-memory dev server; other processes share the cores',
        worker,
        receiver,
        targets: {
          workerRatioAtMost: TARGETS.workerRatio,
          receiverRatioAtMost: TARGETS.receiverRatio,
          workerHappyMet: worker.happy.ratio <= TARGETS.workerRatio,
          receiverMet: Object.values(receiver).every((r) => r.ratio <= TARGETS.receiverRatio),
        },
      };
    } finally {
      floorWorker.kill('SIGTERM');
      await exited(floorWorker);
    }
  });
}

export async function startFloorWorker(stack: Stack): Promise<ChildProcess & { metricsUrl: string }> {
  const port = await freePort();
  const child = stack.spawn(['--import', 'tsx', 'bench/floor/worker.ts'], {
    TEMPORAL_TASK_QUEUE: FLOOR_QUEUE,
    WORKER_METRICS_ADDRESS: `127.0.0.1:${port}`,
  });
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  await waitReady(metricsUrl);
  return Object.assign(child, { metricsUrl });
}

/** The journey and the floor, `journeys` each per round, one unmeasured round each first to fill the caches. */
async function workerAgainstFloor(
  stack: Stack,
  floorWorker: ChildProcess & { metricsUrl: string },
  scenario: Scenario,
  journeys: number,
) {
  const sides = {
    journey: {
      pid: stack.worker.pid!,
      metricsUrl: stack.workerMetricsUrl,
      type: WORKFLOW_TYPES.journey,
      queue: TASK_QUEUE,
    },
    floor: { pid: floorWorker.pid!, metricsUrl: floorWorker.metricsUrl, type: FLOOR_TYPE, queue: FLOOR_QUEUE },
  };
  const rounds: Record<Side, WorkerRound[]> = { journey: [], floor: [] };
  for (let r = -1; r < ROUNDS; r++) {
    for (const side of order(r + 1)) {
      const s = sides[side];
      const result = await workerRound(stack, s, `F-${side}-${scenario}-${r + 1}-`, scenario, journeys);
      console.log(
        `  F worker ${scenario} ${side.padEnd(7)} ${r < 0 ? 'warm-up' : `round ${r + 1}`}: ${result.cpuMsPerDecision} ms CPU per decision, ${result.decisions} in ${result.seconds} s, sticky cache ${JSON.stringify(result.stickyCache)}`,
      );
      if (r >= 0) rounds[side].push(result);
    }
  }
  const journey = median(rounds.journey.map((x) => x.cpuMsPerDecision));
  const floor = median(rounds.floor.map((x) => x.cpuMsPerDecision));
  return {
    journeysPerRound: journeys,
    workerCpuMsPerDecision: journey,
    workerFloorCpuMsPerDecision: floor,
    ratio: round2(journey / floor),
    rounds,
  };
}

async function workerRound(
  stack: Stack,
  side: { pid: number; metricsUrl: string; type: string; queue: string },
  prefix: string,
  scenario: Scenario,
  journeys: number,
): Promise<WorkerRound> {
  const uids = Array.from({ length: journeys }, (_, i) => `${prefix}${i}`);
  const send = signalWithStartOf(stack.client, side.type, side.queue);
  const cacheBefore = await stickyCache(side.metricsUrl);
  const cpuBefore = cpuMs(side.pid);
  const started = Date.now();
  if (scenario === 'happy') {
    await sendScoredJourneys(send, uids);
  } else {
    const scores = uids.map((uid) => deliveryBody('psychometric_score.complete', uid));
    await load(uids.length * 3, 64, (i) => send(scores[Math.floor(i / 3)]!));
  }
  await decided(stack, prefix, journeys);
  const seconds = (Date.now() - started) / 1000;
  const cpu = cpuMs(side.pid) - cpuBefore;
  const cacheAfter = await stickyCache(side.metricsUrl);
  return {
    decisions: journeys,
    seconds: Number(seconds.toFixed(1)),
    cpuMsPerDecision: round2(cpu / journeys),
    stickyCache: Object.fromEntries(
      Object.entries(cacheAfter).map(([k, v]) => [k, k.endsWith('size') ? v : v - (cacheBefore[k] ?? 0)]),
    ),
  };
}

/** Until every journey of `prefix` has published `decided` (its third task: the decision handed off). */
export async function decided(stack: Stack, prefix: string, expected: number): Promise<void> {
  const query = `WorkflowId STARTS_WITH '${prefix}' AND BeginiStage = 'decided'`;
  const started = Date.now();
  while (Number((await stack.client.workflow.count(query)).count) < expected) {
    if (Date.now() - started > 300_000) throw new Error(`${prefix}: not every journey decided within 300 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Journeys per side whose histories are compared. */
const SHAPE_SAMPLE = 20;

/**
 * What the happy histories of the last round hold on each side, averaged over the first
 * SHAPE_SAMPLE (under load a score can land in the first task, which changes a journey's shape and
 * the floor's alike), and how many of them have event types in the same order as their counterpart.
 */
async function historyShape(stack: Stack, journeys: number) {
  const ids = Array.from({ length: Math.min(SHAPE_SAMPLE, journeys) }, (_, i) => i);
  const histories = async (side: Side) =>
    Promise.all(ids.map((i) => stack.client.workflow.getHandle(`F-${side}-happy-${ROUNDS - 1}-${i}`).fetchHistory()));
  const [journey, floor] = [await histories('journey'), await histories('floor')];
  const types = (h: (typeof journey)[number]) => JSON.stringify((h.events ?? []).map((e) => e.eventType));
  const mean = (hs: typeof journey) => {
    const costs = hs.map(costOf);
    const avg = (pick: (c: (typeof costs)[number]) => number) =>
      Number((costs.reduce((n, c) => n + pick(c), 0) / costs.length).toFixed(1));
    return {
      events: avg((c) => c.events),
      workflowTasks: avg((c) => c.workflowTasks),
      historyBytes: avg((c) => c.historyBytes),
    };
  };
  return {
    sample: ids.length,
    journey: mean(journey),
    floor: mean(floor),
    sameEventTypes: ids.filter((i) => types(journey[i]!) === types(floor[i]!)).length,
  };
}

interface ReceiverRow {
  deliveriesPerRound: number;
  receiverCpuMsPerDelivery: number;
  bareHmacCpuMsPerDelivery: number;
  clientCpuMsPerSignalWithStart: number;
  receiverFloorCpuMsPerDelivery: number;
  ratio: number;
  rounds: { receiver: number[]; bare: number[]; client: number[] };
}

async function receiverAgainstFloor(stack: Stack, concurrency: number, deliveries: number): Promise<ReceiverRow> {
  const rounds = { receiver: [] as number[], bare: [] as number[], client: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    const targets = ['receiver', 'bare', 'client'] as const;
    for (const target of r % 2 === 0 ? targets : [...targets].reverse()) {
      const prefix = `F-${target}-${concurrency}-${r}-`;
      const cpu =
        target === 'client'
          ? (await clientCell(stack, prefix, concurrency, deliveries)).cpuMsPerCall
          : (await measureCell(stack, prefix, target, concurrency, deliveries)).cpuMsPerDelivery!;
      console.log(
        `  F receiver c=${concurrency} round ${r + 1} ${target.padEnd(8)} ${cpu.toFixed(3)} ms CPU per delivery`,
      );
      rounds[target].push(round2(cpu));
    }
  }
  const [receiver, bare, client] = [median(rounds.receiver), median(rounds.bare), median(rounds.client)];
  return {
    deliveriesPerRound: deliveries,
    receiverCpuMsPerDelivery: receiver,
    bareHmacCpuMsPerDelivery: bare,
    clientCpuMsPerSignalWithStart: client,
    receiverFloorCpuMsPerDelivery: round2(bare + client),
    ratio: round2(receiver / (bare + client)),
    rounds,
  };
}

/** The SDK client's floor in a process of its own; then the worker left idle, as after every ack-path cell. */
async function clientCell(stack: Stack, prefix: string, concurrency: number, calls: number) {
  const child = stack.spawn(
    ['--import', 'tsx', 'bench/floor/client.ts'],
    { PREFIX: prefix, CALLS: String(calls), WARM_UP: String(WARM_UP), CONCURRENCY: String(concurrency) },
    'pipe',
  );
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bench/floor/client.ts exited with ${code}`);
  const result = JSON.parse(out.trim().split('\n').pop()!) as Latencies & { cpuMsPerCall: number };
  await drain(stack, prefix, WARM_UP + calls - result.failures);
  return result;
}
