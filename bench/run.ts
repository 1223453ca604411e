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
 *      (bench/floors.ts), and its SVG chart. `-- --floors-only` runs only F.
 */
import { floorsPhase } from './floors';
import { floorsSummary, writeFloorsFiles } from './floorsReport';
import { describeMachine } from './machine';
import { benchOptions, runKind } from './options';
import { printReport } from './report';
import { writeResultFiles } from './resultFiles';
import { runCostModel } from './runCostModel';
import { spoolBench } from './spool';
import { clusterBench } from './cluster';
import { buildEntryPoints } from './stack';
import { inMemoryPhases, sqlitePhases } from './stackPhases';
import { targets } from './targets';

async function main(): Promise<void> {
  const options = benchOptions();
  buildEntryPoints();
  const machine = describeMachine();
  console.log(
    `${runKind(options)} run on ${machine.cpus}× ${machine.model}, ${machine.memoryGiB} GiB, Node ${machine.node}`,
  );
  if (options.floorsOnly) return floorsOnly(options.quick);
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

/** Phase F alone: its JSON and chart as `<time>-<kind>-floors.{json,svg}`. */
async function floorsOnly(quick: boolean): Promise<void> {
  const mode = `${quick ? 'quick' : 'full'}, floors only`;
  const size = benchOptions(quick ? ['--quick'] : []).size;
  const report = {
    when: new Date().toISOString(),
    mode,
    machine: describeMachine(),
    size,
    results: { floors: await floorsPhase(size) },
  };
  for (const line of floorsSummary(report.results.floors)) console.log(line);
  console.log(`\nwrote ${writeFloorsFiles(report)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
