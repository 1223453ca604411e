/**
 * Phase A, the ack path: the receiver against two ceilings measured in the same run and on the same
 * stack, Temporal (`direct`: the same signalWithStart made without HTTP) and HTTP (`bare`: a node:http
 * server that only checks the HMAC).
 */
import { deliveryBody, directDelivery } from './deliveries';
import { load, poster, type Latencies } from './load';
import { cpuMs, machineBusyMs } from './proc';
import { drain, TASK_QUEUE, type Stack } from './stack';

/** In the order the first round measures them. */
const TARGETS = ['bare', 'receiver', 'direct'] as const;
type Target = (typeof TARGETS)[number];
/** Calls before each ack-path cell's measured ones. */
const WARM_UP = 100;
/** Rounds per ack-path cell, in alternating order; the cell reports their medians. */
const ROUNDS = 3;

/** One ack-path measurement; the receiver's and the bare server's also have their process's CPU per delivery. */
type Cell = Latencies & { warmUp: number; machineCpuMsPerRequest: number; cpuMsPerDelivery?: number };
/** A cell's medians over its rounds, with every round's throughput. */
export type MedianCell = Cell & { roundThroughputs: number[] };
/** One concurrency: each target's cell, and the receiver's throughput and p99 over the direct path's. */
export interface AckRow {
  bare: MedianCell;
  receiver: MedianCell & { cpuMsPerDelivery: number };
  direct: MedianCell;
  throughputRatio: number;
  p99Ratio: number;
}
/** By concurrency. */
export type AckPath = Record<string, AckRow>;

/** Every target at each concurrency, `deliveries` measured calls per round. */
export async function ackPath(stack: Stack, label: string, concurrencies: number[], deliveries: number) {
  const results: AckPath = {};
  for (const concurrency of concurrencies) {
    const rounds = new Map<Target, Cell[]>(TARGETS.map((t) => [t, []]));
    // Alternating order, so neither target is always the one measured on a warmer or busier machine.
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of round % 2 === 0 ? TARGETS : [...TARGETS].reverse()) {
        const prefix = `A-${label}-${target}-${concurrency}-${round}-`;
        const cell = await measureCell(stack, prefix, target, concurrency, deliveries);
        rounds.get(target)!.push(cell);
        console.log(
          `  A ${label} c=${concurrency} round ${round + 1} ${target.padEnd(8)} ${cell.throughput}/s p50 ${cell.p50} p99 ${cell.p99} ms, machine CPU ${cell.machineCpuMsPerRequest} ms/request${cell.failures ? ` (${cell.failures} failed)` : ''}`,
        );
      }
    }
    const median = (target: Target) => medianCell(rounds.get(target)!);
    // measureCell gives every receiver cell its process's CPU, so their median has it too.
    const receiver = median('receiver') as AckRow['receiver'];
    const direct = median('direct');
    results[String(concurrency)] = {
      bare: median('bare'),
      receiver,
      direct,
      throughputRatio: Number((receiver.throughput / direct.throughput).toFixed(3)),
      p99Ratio: Number((receiver.p99 / direct.p99).toFixed(3)),
    };
  }
  return results;
}

/** One target at one concurrency: a warm-up, `deliveries` measured calls, then the worker left idle. */
export async function measureCell(
  stack: Stack,
  prefix: string,
  target: Target,
  concurrency: number,
  deliveries: number,
): Promise<Cell> {
  const send =
    target === 'direct'
      ? directDelivery(stack.client, TASK_QUEUE)
      : poster([target === 'bare' ? stack.bareUrl : stack.receiverUrl], concurrency);
  const bodies = Array.from({ length: WARM_UP + deliveries }, (_, i) =>
    deliveryBody('application.complete', `${prefix}${i}`),
  );
  // Not measured: the first calls of a cell pay for JIT, connection pools and caches.
  await load(WARM_UP, concurrency, (i) => send(bodies[i]!));
  // The process that serves the target; direct calls are made in this one.
  const pid = { receiver: stack.receiver.pid, bare: stack.bare.pid, direct: undefined }[target];
  const cpuBefore = pid ? cpuMs(pid) : 0;
  const machineBefore = machineBusyMs();
  const result = await load(deliveries, concurrency, (i) => send(bodies[WARM_UP + i]!));
  const cell: Cell = {
    ...result,
    warmUp: WARM_UP,
    machineCpuMsPerRequest: Number(((machineBusyMs() - machineBefore) / deliveries).toFixed(3)),
    ...(pid ? { cpuMsPerDelivery: Number(((cpuMs(pid) - cpuBefore) / deliveries).toFixed(3)) } : {}),
  };
  // The next cell starts with an idle worker: otherwise the journeys of this one are still being
  // run while it is measured, which favours whichever target goes first.
  if (target !== 'bare') await drain(stack, prefix, WARM_UP + deliveries - result.failures);
  return cell;
}

/** Each figure's median over the rounds (requests and failures summed), with every round's throughput. */
function medianCell(cells: Cell[]): MedianCell {
  const median = (pick: (c: Cell) => number) => {
    const sorted = cells.map(pick).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  };
  const cpu = cells.every((c) => c.cpuMsPerDelivery !== undefined)
    ? { cpuMsPerDelivery: median((c) => c.cpuMsPerDelivery!) }
    : {};
  return {
    requests: cells.reduce((n, c) => n + c.requests, 0),
    failures: cells.reduce((n, c) => n + c.failures, 0),
    warmUp: cells.reduce((n, c) => n + c.warmUp, 0),
    seconds: median((c) => c.seconds),
    throughput: median((c) => c.throughput),
    p50: median((c) => c.p50),
    p95: median((c) => c.p95),
    p99: median((c) => c.p99),
    machineCpuMsPerRequest: median((c) => c.machineCpuMsPerRequest),
    ...cpu,
    roundThroughputs: cells.map((c) => c.throughput),
  };
}

/** Journeys the ack path started: every acknowledged delivery, warm-ups included (a failed one may have landed too). */
export function acknowledged(ack: AckPath): number {
  return Object.values(ack)
    .flatMap((row) => [row.receiver, row.direct])
    .reduce((n, r) => n + r.warmUp + r.requests - r.failures, 0);
}
