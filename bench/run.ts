/**
 * `npm run bench [-- --quick]`: what the receiver adds on top of Temporal, and where the ceiling is.
 * Prints a table and writes JSON under bench/results/. A benchmark, not a test: it asserts nothing.
 *
 *   A. the ack path, against two ceilings measured in the same run: Temporal (the same
 *      signalWithStart made directly) and HTTP (a bare node:http server that only checks the HMAC);
 *   B. end to end, score received to decision delivered to the LOS;
 *   C. a duplicate storm;
 *   D. memory, including the worker with many open journeys waiting on their timers;
 *   S. the ack path with the intake spool on, Temporal up and down, and the drain rate once it is
 *      back (bench/spool.ts);
 *   and the ack path again on the in-memory dev server, to show what the SQLite store costs;
 *   E. what a journey costs in history events, workflow tasks, bytes and billable actions, per
 *      scenario, recorded before and after issue #16 and measured live; and from it, the monthly
 *      cost model and an SVG chart of the in-memory ack path.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { clusterBench } from './cluster';
import { spoolBench, spoolSummary, type SpoolBenchResult } from './spool';
import { drain, startStack, TASK_QUEUE, type Stack } from './stack';
import { ackPathChart, type Series } from './chart';
import { liveCosts, recordedCosts } from './journeyCost';
import { monthlyCost, type PerJourney } from './costModel';
import { BENCH_KEY as KEY, load, poster, sendScoredJourneys, summarise, type Latencies } from './load';
import { cpuMs, machineBusyMs, memoryMiB } from './proc';
import { deliveryBody as body, directDelivery } from './deliveries';

const ROOT = resolve(__dirname, '..');
const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, 'memory-only': { type: 'boolean', default: false } },
});
const QUICK = values.quick!;
/** Only the in-memory server's phases (its ack path, journey costs, cost model, chart): a shorter run. */
const MEMORY_ONLY = values['memory-only']!;
const SIZE = QUICK
  ? { ack: 400, journeys: 150, storm: 100, open: 1_000 }
  : { ack: 3_000, journeys: 1_000, storm: 500, open: 10_000 };
const CONCURRENCIES = [16, 64];
/** One ack-path measurement; the receiver's also has its process's CPU per delivery. */
type Cell = Latencies & { warmUp: number; machineCpuMsPerRequest: number; cpuMsPerDelivery?: number };
/** Calls before each ack-path cell's measured ones. */
const WARM_UP = 100;
/** Rounds per ack-path cell, in alternating order; the cell reports their medians. */
const ROUNDS = 3;
/** The in-memory ack path, the chart's x axis: where Temporal is fastest, the receiver's share shows. */
const MEMORY_CONCURRENCIES = [1, 4, 16, 64];
/** Short on the in-memory stack only, so the live journeys of phase E close within the run. */
const LIVE_SETTLE = '5s';
/** The defaults a deployment runs with (docs/configuration.md), for the cost model. */
const HORIZON = { settleDays: 30, retentionDays: 30 };

async function ackPath(
  stack: Stack,
  label: string,
  concurrencies: number[],
  targets: Array<'bare' | 'receiver' | 'direct'>,
) {
  const results: Record<string, Record<string, unknown>> = {};
  for (const concurrency of concurrencies) {
    const rounds = new Map<string, Cell[]>(targets.map((t) => [t, []]));
    // Alternating order, so neither target is always the one measured on a warmer or busier machine.
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
        const cell = await measureCell(stack, `A-${label}-${target}-${concurrency}-${round}-`, target, concurrency);
        rounds.get(target)!.push(cell);
        console.log(
          `  A ${label} c=${concurrency} round ${round + 1} ${target.padEnd(8)} ${cell.throughput}/s p50 ${cell.p50} p99 ${cell.p99} ms, machine CPU ${cell.machineCpuMsPerRequest} ms/request${cell.failures ? ` (${cell.failures} failed)` : ''}`,
        );
      }
    }
    const row: Record<string, unknown> = Object.fromEntries([...rounds].map(([t, cells]) => [t, medianCell(cells)]));
    const receiver = row.receiver as Cell | undefined;
    const directRow = row.direct as Cell | undefined;
    if (receiver && directRow) {
      row.throughputRatio = Number((receiver.throughput / directRow.throughput).toFixed(3));
      row.p99Ratio = Number((receiver.p99 / directRow.p99).toFixed(3));
    }
    results[String(concurrency)] = row;
  }
  return results;
}

/** One target at one concurrency: a warm-up, SIZE.ack measured calls, then the worker left idle. */
async function measureCell(
  stack: Stack,
  prefix: string,
  target: 'bare' | 'receiver' | 'direct',
  concurrency: number,
): Promise<Cell> {
  const send =
    target === 'direct'
      ? directDelivery(stack.client, TASK_QUEUE)
      : poster([target === 'bare' ? stack.bareUrl : stack.receiverUrl], concurrency);
  const bodies = Array.from({ length: WARM_UP + SIZE.ack }, (_, i) => body('application.complete', `${prefix}${i}`));
  // Not measured: the first calls of a cell pay for JIT, connection pools and caches.
  await load(WARM_UP, concurrency, (i) => send(bodies[i]!));
  const cpuBefore = cpuMs(stack.receiver.pid!);
  const machineBefore = machineBusyMs();
  const result = await load(SIZE.ack, concurrency, (i) => send(bodies[WARM_UP + i]!));
  const cell: Cell = {
    ...result,
    warmUp: WARM_UP,
    machineCpuMsPerRequest: Number(((machineBusyMs() - machineBefore) / SIZE.ack).toFixed(3)),
    ...(target === 'receiver'
      ? { cpuMsPerDelivery: Number(((cpuMs(stack.receiver.pid!) - cpuBefore) / SIZE.ack).toFixed(3)) }
      : {}),
  };
  // The next cell starts with an idle worker: otherwise the journeys of this one are still being
  // run while it is measured, which favours whichever target goes first.
  if (target !== 'bare') await drain(stack, prefix, WARM_UP + SIZE.ack - result.failures);
  return cell;
}

/** Each figure's median over the rounds (requests and failures summed), with every round's throughput. */
function medianCell(cells: Cell[]): Cell & { roundThroughputs: number[] } {
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
function acknowledged(ack: Record<string, Record<string, unknown>>): number {
  return Object.values(ack)
    .flatMap((row) => [row.receiver, row.direct] as Array<Cell | undefined>)
    .reduce((n, r) => n + (r ? r.warmUp + r.requests - r.failures : 0), 0);
}

async function endToEnd(stack: Stack) {
  const uids = Array.from({ length: SIZE.journeys }, (_, i) => `B-${i}-${Date.now().toString(36)}`);
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

async function duplicateStorm(stack: Stack) {
  const uids = Array.from({ length: SIZE.storm }, (_, i) => `C-${i}-${Date.now().toString(36)}`);
  const post = poster([stack.receiverUrl], 64);
  const bodies = uids.map((uid) => body('psychometric_score.complete', uid));
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

async function openJourneys(stack: Stack) {
  const send = directDelivery(stack.client, TASK_QUEUE);
  const bodies = Array.from({ length: SIZE.open }, (_, i) =>
    body('application.complete', `D-${i}-${Date.now().toString(36)}`),
  );
  await load(SIZE.open, 64, (i) => send(bodies[i]!));
  const drainSeconds = await drain(stack, 'D-', SIZE.open);
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

async function main(): Promise<void> {
  console.log(`building …`);
  execFileSync(resolve(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  // The worker loads the prebuilt workflow bundle: rebuild it, or the bench measures stale workflow code.
  execFileSync(process.execPath, ['dist/src/worker/bundle.js'], { cwd: ROOT, stdio: 'inherit' });
  const machine = {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
  console.log(
    `${QUICK ? 'quick' : 'full'} run on ${machine.cpus}× ${machine.model}, ${machine.memoryGiB} GiB, Node ${machine.node}`,
  );

  const results: Record<string, unknown> = {};
  if (!MEMORY_ONLY) {
    const sqlite = await startStack('sqlite');
    try {
      const ack = await ackPath(sqlite, 'sqlite', CONCURRENCIES, ['bare', 'receiver', 'direct']);
      const afterA = { receiver: memoryMiB(sqlite.receiver.pid!), worker: memoryMiB(sqlite.worker.pid!) };
      // Phase A started journeys; let the worker catch up so B measures decisions, not a backlog.
      const drainSeconds = await drain(sqlite, 'A-', acknowledged(ack));
      console.log(`  (worker drained phase A's ${acknowledged(ack)} journeys in ${drainSeconds.toFixed(1)} s)`);
      console.log('  B end to end …');
      const e2e = await endToEnd(sqlite);
      const afterB = { receiver: memoryMiB(sqlite.receiver.pid!), worker: memoryMiB(sqlite.worker.pid!) };
      console.log('  C duplicate storm …');
      const storm = await duplicateStorm(sqlite);
      console.log(`  D ${SIZE.open} open journeys …`);
      const open = await openJourneys(sqlite);
      Object.assign(results, {
        ackPath: ack,
        workerDrainSeconds: drainSeconds,
        endToEnd: e2e,
        duplicateStorm: storm,
        memoryMiB: { afterAckPath: afterA, afterEndToEnd: afterB, withOpenJourneys: open },
      });
    } finally {
      await sqlite.stop();
    }
    // The ack path with the intake spool on, Temporal up and down, and its drain (bench/spool.ts).
    console.log('spool: the ack path with the spool on, Temporal up and down, and the drain …');
    results.spool = await spoolBench({ quick: QUICK });
    // The same measures on the production topology: a Temporal cluster on PostgreSQL (bench/cluster.ts).
    console.log('cluster: PostgreSQL, four Temporal services, two receivers, two workers …');
    results.cluster = await clusterBench({ quick: QUICK });
  }
  const memory = await startStack('memory', { JOURNEY_SETTLE: LIVE_SETTLE });
  try {
    const memoryAckPath = await ackPath(memory, 'memory', MEMORY_CONCURRENCIES, ['bare', 'receiver', 'direct']);
    const started = acknowledged(memoryAckPath);
    console.log(`  (worker drained ${started} journeys in ${(await drain(memory, 'A-', started)).toFixed(1)} s)`);
    console.log('  B end to end (in-memory, for the worker’s CPU per journey) …');
    results.inMemoryServer = { ackPath: memoryAckPath, endToEnd: await endToEnd(memory) };
    console.log('  E journey cost per scenario …');
    results.journeyCost = {
      method:
        'bench/actions.ts: billable actions by https://docs.temporal.io/cloud/actions (read 2026-11-28); historyBytes = encoded History proto',
      recorded: recordedCosts(),
      live: await liveCosts(memory.client, memory.receiverUrl, KEY),
    };
  } finally {
    await memory.stop();
  }

  const ack = (results.ackPath ?? {}) as Record<
    string,
    {
      receiver: Cell & { cpuMsPerDelivery: number };
      direct: Cell;
      bare: Cell;
      throughputRatio: number;
      p99Ratio: number;
    }
  >;
  const open = (
    results.memoryMiB as
      { withOpenJourneys: { openJourneys: number; worker: { rss: number; peak: number } } } | undefined
  )?.withOpenJourneys;
  const inMemory = results.inMemoryServer as { ackPath: typeof ack; endToEnd: { workerCpuMsPerJourney: number } };
  const memoryAck = inMemory.ackPath;
  const targetRows = [...Object.values(ack), ...CONCURRENCIES.map((c) => memoryAck[String(c)]!)];
  const journeyCost = results.journeyCost as {
    recorded: Record<string, { before: { billableActions: number; events: number; historyBytes: number } }>;
    live: Record<string, { billableActions: number; events: number; historyBytes: number }>;
  };
  const targets = {
    throughputAtLeast90PercentOfDirect: targetRows.every((r) => r.throughputRatio >= 0.9),
    p99AtMost150PercentOfDirectPlus5ms: targetRows.every((r) => r.receiver.p99 <= 1.5 * r.direct.p99 + 5),
    inMemory: Object.fromEntries(
      CONCURRENCIES.map((c) => {
        const r = memoryAck[String(c)]!;
        return [
          c,
          {
            throughputRatio: r.throughputRatio,
            p99: r.receiver.p99,
            p99Limit: Number((1.5 * r.direct.p99 + 5).toFixed(2)),
            met: r.throughputRatio >= 0.9 && r.receiver.p99 <= 1.5 * r.direct.p99 + 5,
          },
        ];
      }),
    ),
    receiverCpuPerDeliveryMs: Math.max(...targetRows.map((r) => r.receiver.cpuMsPerDelivery)),
    workerRssWithOpenJourneysAtMost512MiB: open ? open.worker.peak <= 512 : 'not measured (--memory-only)',
  };

  // The cost model: the live happy journey's whole life (decided, settled, closed), and the same
  // journey before issue #16 (the recorded difference added back), with this run's CPU figures.
  const liveHappy = journeyCost.live.happy!;
  const recordedHappy = results.journeyCost as {
    recorded: Record<string, { before: typeof liveHappy; after: typeof liveHappy }>;
  };
  const { before: happyBefore, after: happyAfter } = recordedHappy.recorded.happy!;
  const cpu = {
    deliveries: 2,
    receiverCpuMsPerDelivery: memoryAck['64']!.receiver.cpuMsPerDelivery,
    workerCpuMsPerJourney: inMemory.endToEnd.workerCpuMsPerJourney,
  };
  const perJourney: Record<'before' | 'after', PerJourney> = {
    after: { ...cpu, ...pick(liveHappy) },
    before: {
      ...cpu,
      billableActions: liveHappy.billableActions - happyAfter.billableActions + happyBefore.billableActions,
      events: liveHappy.events - happyAfter.events + happyBefore.events,
      historyBytes: liveHappy.historyBytes - happyAfter.historyBytes + happyBefore.historyBytes,
    },
  };
  results.costModel = {
    horizon: HORIZON,
    perJourney,
    monthly: Object.fromEntries(
      (['before', 'after'] as const).map((when) => [
        when,
        [10_000, 100_000, 1_000_000].map((n) => monthlyCost(n, perJourney[when], HORIZON)),
      ]),
    ),
    settleTradeOff: [1, 7, 30, 90].map((settleDays) => ({
      settleDays,
      ...monthlyCost(100_000, perJourney.after, { ...HORIZON, settleDays }),
    })),
  };
  const report = {
    when: new Date().toISOString(),
    mode: `${QUICK ? 'quick' : 'full'}${MEMORY_ONLY ? ', in-memory only' : ''}`,
    machine,
    size: SIZE,
    results,
    targets,
  };
  const dir = resolve(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stem = resolve(
    dir,
    `${report.when.replace(/[:.]/g, '-')}${QUICK ? '-quick' : ''}${MEMORY_ONLY ? '-memory' : ''}`,
  );
  const file = `${stem}.json`;
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  const series: Series = {};
  for (const [name, target] of [
    ['receiver', 'receiver'],
    ['direct signalWithStart', 'direct'],
    ['bare HTTP + HMAC', 'bare'],
  ] as const) {
    series[name] = Object.entries(memoryAck).map(([c, row]) => ({
      concurrency: Number(c),
      throughput: row[target].throughput,
      p99: row[target].p99,
    }));
  }
  writeFileSync(
    `${stem}.svg`,
    ackPathChart(
      series,
      `Ack path, in-memory dev server, ${SIZE.ack} deliveries per point, ${report.when.slice(0, 10)} (${QUICK ? 'quick' : 'full'} run, ${machine.cpus} cores shared)`,
    ),
  );

  const rows = [
    [
      'concurrency',
      'bare HTTP /s',
      'receiver /s',
      'direct /s',
      'thru ratio',
      'recv p99 ms',
      'direct p99 ms',
      'p99 ratio',
      'recv CPU ms/delivery',
    ],
  ];
  for (const [c, r] of Object.entries(ack)) {
    rows.push([
      c,
      String(r.bare.throughput),
      String(r.receiver.throughput),
      String(r.direct.throughput),
      String(r.throughputRatio),
      String(r.receiver.p99),
      String(r.direct.p99),
      String(r.p99Ratio),
      String(r.receiver.cpuMsPerDelivery),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  console.log(`\nA. ack path (${SIZE.ack} signed deliveries per cell, distinct uids, SQLite dev server)`);
  for (const row of rows) console.log(row.map((cell, i) => cell.padStart(widths[i]!)).join('  '));
  console.log(`\nB. end to end: ${JSON.stringify(results.endToEnd)}`);
  console.log(`C. duplicate storm: ${JSON.stringify(results.duplicateStorm)}`);
  console.log(`D. memory (MiB): ${JSON.stringify(results.memoryMiB)}`);
  if (results.spool) {
    const spool = results.spool as SpoolBenchResult;
    console.log(
      `\nS. spool path (SQLite dev server, spool on a throwaway PostgreSQL, TEMPORAL_ACK_TIMEOUT_MS ${spool.ackTimeoutMs}):`,
    );
    for (const line of spoolSummary(spool)) console.log(line);
  }
  console.log(`\nin-memory dev server (${SIZE.ack} per cell):`);
  for (const [c, r] of Object.entries(memoryAck)) {
    console.log(
      `  c=${c.padStart(2)} bare ${r.bare.throughput}/s  receiver ${r.receiver.throughput}/s p99 ${r.receiver.p99}  direct ${r.direct.throughput}/s p99 ${r.direct.p99}  ratio ${r.throughputRatio}  p99 ratio ${r.p99Ratio}  recv CPU ${r.receiver.cpuMsPerDelivery} ms  machine CPU ms/request bare ${r.bare.machineCpuMsPerRequest} receiver ${r.receiver.machineCpuMsPerRequest} direct ${r.direct.machineCpuMsPerRequest}`,
    );
  }
  console.log('\nE. per journey (recorded before → after; live):');
  for (const [scenario, r] of Object.entries(
    (
      results.journeyCost as {
        recorded: Record<string, { before: typeof liveHappy; after: typeof liveHappy; durable?: typeof liveHappy }>;
      }
    ).recorded,
  )) {
    const durable = r.durable
      ? ` → durable decision: events ${r.durable.events}, actions ${r.durable.billableActions}, bytes ${r.durable.historyBytes}`
      : '';
    console.log(
      `  ${scenario.padEnd(16)} events ${r.before.events} → ${r.after.events}, actions ${r.before.billableActions} → ${r.after.billableActions}, bytes ${r.before.historyBytes} → ${r.after.historyBytes}${durable}`,
    );
  }
  for (const [scenario, r] of Object.entries(journeyCost.live)) {
    console.log(
      `  live ${scenario.padEnd(28)} events ${r.events}, actions ${r.billableActions}, bytes ${r.historyBytes}`,
    );
  }
  console.log(`cost model: ${JSON.stringify(results.costModel)}`);
  console.log(`targets: ${JSON.stringify(targets)}`);
  console.log(`\nwrote ${file}`);
}

function pick(cost: { billableActions: number; events: number; historyBytes: number }) {
  return { billableActions: cost.billableActions, events: cost.events, historyBytes: cost.historyBytes };
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
