/**
 * The receiver's targets, judged against the floor measured in the same run: its ack path's
 * throughput and p99 beside the direct signalWithStart's at each concurrency (SQLite rows and the
 * in-memory ones at the SQLite concurrencies), its CPU per delivery, and the worker's memory.
 */
import type { AckPath, AckRow } from './ackPath';
import { CONCURRENCIES } from './options';
import type { SqlitePhases } from './stackPhases';

/** At least 90 % of the direct path's throughput. */
const throughputMet = (r: AckRow) => r.throughputRatio >= 0.9;
/** At most 150 % of the direct path's p99, plus 5 ms. */
const p99Limit = (r: AckRow) => 1.5 * r.direct.p99 + 5;
const p99Met = (r: AckRow) => r.receiver.p99 <= p99Limit(r);

/** `sqlite` is missing on a --memory-only run. */
export function targets(sqlite: SqlitePhases | undefined, memoryAck: AckPath) {
  const rows = [...Object.values(sqlite?.ackPath ?? {}), ...CONCURRENCIES.map((c) => memoryAck[String(c)]!)];
  const open = sqlite?.memoryMiB.withOpenJourneys;
  return {
    throughputAtLeast90PercentOfDirect: rows.every(throughputMet),
    p99AtMost150PercentOfDirectPlus5ms: rows.every(p99Met),
    inMemory: Object.fromEntries(
      CONCURRENCIES.map((c) => {
        const r = memoryAck[String(c)]!;
        return [
          c,
          {
            throughputRatio: r.throughputRatio,
            p99: r.receiver.p99,
            p99Limit: Number(p99Limit(r).toFixed(2)),
            met: throughputMet(r) && p99Met(r),
          },
        ];
      }),
    ),
    receiverCpuPerDeliveryMs: Math.max(...rows.map((r) => r.receiver.cpuMsPerDelivery)),
    workerRssWithOpenJourneysAtMost512MiB: open ? open.worker.peak <= 512 : 'not measured (--memory-only)',
  };
}
