/**
 * `npm run bench [-- --quick]`: what the receiver adds on top of Temporal, and where the ceiling is.
 * Prints a table and writes JSON under bench/results/. A benchmark, not a test: it asserts nothing.
 * main lists the phases in the order they run; each lives in its own file, named beside it.
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
 *      cost model and an SVG chart of the in-memory ack path;
 *   F. the worker's and the receiver's CPU against their floors, on a fresh in-memory stack
 *      (bench/floors.ts), and its SVG chart. `-- --floors-only` runs only F;
 *   and, after B on the in-memory server, the latency at 25/50/75 % of B's decisions per second,
 *      open loop (bench/openLoop.ts); `-- --latency-only` runs only B and that.
 */
import { floorsPhase } from './floors';
import { floorsSummary } from './floorsReport';
import { describeMachine } from './machine';
import { latencySummary } from './openLoop';
import { benchOptions, runKind, type BenchOptions } from './options';
import { printReport } from './report';
import { writePhaseFiles, writeResultFiles } from './resultFiles';
import { runCostModel } from './runCostModel';
import { spoolBench } from './spool';
import { clusterBench } from './cluster';
import { buildEntryPoints } from './stack';
import { inMemoryPhases, latencyPhase, sqlitePhases } from './stackPhases';
import { targets } from './targets';

async function main(): Promise<void> {
  const options = benchOptions();
  buildEntryPoints();
  const machine = describeMachine();
  console.log(
    `${runKind(options)} run on ${machine.cpus}× ${machine.model}, ${machine.memoryGiB} GiB, Node ${machine.node}`,
  );
  if (options.floorsOnly) return alone(options, 'floors', () => floorsPhase(options.size), floorsSummary);
  if (options.latencyOnly) return alone(options, 'latency', () => latencyPhase(options.size), latencySummary);
  // A–D (bench/ackPath.ts, bench/journeyPhases.ts), then the spool and the cluster: not on --memory-only.
  const sqlite = options.memoryOnly ? undefined : await sqlitePhases(options.size);
  const spool = options.memoryOnly ? undefined : await spoolPhase(options.quick);
  const cluster = options.memoryOnly ? undefined : await clusterPhase(options.quick);
  // A, B and E on the in-memory server, and the cost model from them.
  const memory = await inMemoryPhases(options.size);
  const floors = await floorsPhase(options.size);
  const results = { ...sqlite, spool, cluster, ...memory, costModel: runCostModel(memory), floors };
  const report = {
    when: new Date().toISOString(),
    mode: `${runKind(options)}${options.memoryOnly ? ', in-memory only' : ''}`,
    machine,
    size: options.size,
    results,
    targets: targets(sqlite, memory.inMemoryServer.ackPath),
  };
  printReport(report, writeResultFiles(report, options));
}

/** The ack path with the intake spool on, Temporal up and down, and its drain (bench/spool.ts). */
function spoolPhase(quick: boolean) {
  console.log('spool: the ack path with the spool on, Temporal up and down, and the drain …');
  return spoolBench({ quick });
}

/** The same measures on the production topology: a Temporal cluster on PostgreSQL (bench/cluster.ts). */
function clusterPhase(quick: boolean) {
  console.log('cluster: PostgreSQL, four Temporal services, two receivers, two workers …');
  return clusterBench({ quick });
}

/** One phase alone: its JSON (and F's chart) as `<time>-<kind>-<name>.{json,svg}`. */
async function alone<T extends object>(
  options: BenchOptions,
  name: 'floors' | 'latency',
  run: () => Promise<T>,
  summary: (result: T) => string[],
): Promise<void> {
  const report = {
    when: new Date().toISOString(),
    mode: `${runKind(options)}, ${name} only`,
    machine: describeMachine(),
    size: options.size,
    results: await run(),
  };
  for (const line of summary(report.results)) console.log(line);
  console.log(`\nwrote ${writePhaseFiles(report, name)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
