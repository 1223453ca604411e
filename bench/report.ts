/**
 * The run's summary on the console: the SQLite ack path as a table beside its two ceilings, phases
 * B–D, the spool, the in-memory ack path, the journey costs, the cost model, the floors (F) and the targets.
 */
import type { AckPath } from './ackPath';
import type { BenchReport } from './resultFiles';
import { floorsSummary } from './floorsReport';
import { latencySummary } from './openLoop';
import { spoolSummary } from './spool';

/** `file`: where the JSON was written. */
export function printReport({ size, results, targets }: BenchReport, file: string): void {
  printAckTable(results.ackPath ?? {}, size.ack);
  console.log(`\nB. end to end: ${JSON.stringify(results.endToEnd)}`);
  console.log(`C. duplicate storm: ${JSON.stringify(results.duplicateStorm)}`);
  console.log(`D. memory (MiB): ${JSON.stringify(results.memoryMiB)}`);
  if (results.spool) {
    console.log(
      `\nS. spool path (SQLite dev server, spool on a throwaway PostgreSQL, TEMPORAL_ACK_TIMEOUT_MS ${results.spool.ackTimeoutMs}):`,
    );
    for (const line of spoolSummary(results.spool)) console.log(line);
  }
  console.log(`\nin-memory dev server (${size.ack} per cell):`);
  for (const [c, r] of Object.entries(results.inMemoryServer.ackPath)) {
    console.log(
      `  c=${c.padStart(2)} bare ${r.bare.throughput}/s  receiver ${r.receiver.throughput}/s p99 ${r.receiver.p99}  direct ${r.direct.throughput}/s p99 ${r.direct.p99}  ratio ${r.throughputRatio}  p99 ratio ${r.p99Ratio}  recv CPU ${r.receiver.cpuMsPerDelivery} ms  machine CPU ms/request bare ${r.bare.machineCpuMsPerRequest} receiver ${r.receiver.machineCpuMsPerRequest} direct ${r.direct.machineCpuMsPerRequest}`,
    );
  }
  printJourneyCosts(results.journeyCost);
  console.log(`cost model: ${JSON.stringify(results.costModel)}`);
  for (const line of latencySummary(results)) console.log(line);
  for (const line of floorsSummary(results.floors)) console.log(line);
  console.log(`targets: ${JSON.stringify(targets)}`);
  console.log(`\nwrote ${file}`);
}

/** A: one row per concurrency, the columns padded to line up. */
function printAckTable(ack: AckPath, deliveries: number): void {
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
  console.log(`\nA. ack path (${deliveries} signed deliveries per cell, distinct uids, SQLite dev server)`);
  for (const row of rows) console.log(row.map((cell, i) => cell.padStart(widths[i]!)).join('  '));
}

/** E: each recorded scenario before → after issue #16 (and with the durable decision), then the live ones. */
function printJourneyCosts(journeyCost: BenchReport['results']['journeyCost']): void {
  console.log('\nE. per journey (recorded before → after; live):');
  for (const [scenario, r] of Object.entries(journeyCost.recorded)) {
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
}
