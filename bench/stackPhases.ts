/**
 * The phases that run on the dev-server stack (bench/stack.ts), one stack per store: A–D on a SQLite
 * file, as a deployment's dev server keeps it, then A, B and E in memory, to show what the SQLite
 * store costs and to close the live journeys of E within the run.
 */
import { ackPath, acknowledged } from './ackPath';
import { duplicateStorm, endToEnd, openJourneys } from './journeyPhases';
import { liveCosts, recordedCosts } from './journeyCost';
import { BENCH_KEY as KEY } from './load';
import { CONCURRENCIES, MEMORY_CONCURRENCIES, type Size } from './options';
import { openLoop } from './openLoop';
import { memoryMiB } from './proc';
import { drain, withStack, type Stack } from './stack';

/** Short on the in-memory stack only, so the live journeys of phase E close within the run. */
const LIVE_SETTLE = '5s';

const processMemory = (stack: Stack) => ({
  receiver: memoryMiB(stack.receiver.pid!),
  worker: memoryMiB(stack.worker.pid!),
});

export type SqlitePhases = Awaited<ReturnType<typeof sqlitePhases>>;

/** A ack path, B end to end, C duplicate storm, D open journeys, and memory after each. */
export function sqlitePhases(size: Size) {
  return withStack('sqlite', {}, async (sqlite) => {
    const ack = await ackPath(sqlite, 'sqlite', CONCURRENCIES, size.ack);
    const afterA = processMemory(sqlite);
    // Phase A started journeys; let the worker catch up so B measures decisions, not a backlog.
    const drainSeconds = await drain(sqlite, 'A-', acknowledged(ack));
    console.log(`  (worker drained phase A's ${acknowledged(ack)} journeys in ${drainSeconds.toFixed(1)} s)`);
    console.log('  B end to end …');
    const e2e = await endToEnd(sqlite, size.journeys);
    const afterB = processMemory(sqlite);
    console.log('  C duplicate storm …');
    const storm = await duplicateStorm(sqlite, size.storm);
    console.log(`  D ${size.open} open journeys …`);
    const open = await openJourneys(sqlite, size.open);
    return {
      ackPath: ack,
      workerDrainSeconds: drainSeconds,
      endToEnd: e2e,
      duplicateStorm: storm,
      memoryMiB: { afterAckPath: afterA, afterEndToEnd: afterB, withOpenJourneys: open },
    };
  });
}

export type InMemoryPhases = Awaited<ReturnType<typeof inMemoryPhases>>;

/**
 * A ack path and B end to end (for the worker's CPU per journey) in memory, the open loop at
 * fractions of B's decisions per second, then E journey cost per scenario.
 */
export function inMemoryPhases(size: Size) {
  return withStack('memory', { JOURNEY_SETTLE: LIVE_SETTLE }, async (memory) => {
    const memoryAckPath = await ackPath(memory, 'memory', MEMORY_CONCURRENCIES, size.ack);
    const started = acknowledged(memoryAckPath);
    console.log(`  (worker drained ${started} journeys in ${(await drain(memory, 'A-', started)).toFixed(1)} s)`);
    console.log('  B end to end (in-memory, for the worker’s CPU per journey) …');
    const inMemoryServer = { ackPath: memoryAckPath, endToEnd: await endToEnd(memory, size.journeys) };
    const latency = await openLoop(
      memory,
      inMemoryServer.endToEnd.decisionsPerSecond,
      size.openLoopSeconds,
      size.flood,
    );
    console.log('  E journey cost per scenario …');
    const journeyCost = {
      method:
        'bench/actions.ts: billable actions by https://docs.temporal.io/cloud/actions (read 2026-11-28); historyBytes = encoded History proto',
      recorded: recordedCosts(),
      live: await liveCosts(memory.client, memory.receiverUrl, KEY),
    };
    return { inMemoryServer, latency, journeyCost };
  });
}

/** `-- --latency-only`: B for the capacity, then the open loop, on an in-memory stack of its own. */
export function latencyPhase(size: Size) {
  return withStack('memory', { JOURNEY_SETTLE: LIVE_SETTLE }, async (memory) => {
    console.log('  B end to end (in-memory, for the capacity) …');
    const capacity = await endToEnd(memory, size.journeys);
    return {
      endToEnd: capacity,
      latency: await openLoop(memory, capacity.decisionsPerSecond, size.openLoopSeconds, size.flood),
    };
  });
}
