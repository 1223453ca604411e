import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { searchAttributes as sa, type HandoffStatus, type Stage } from '../../workflows/definitions';
import type { SpoolStats } from '../spool/store';
import { cached } from './cached';

const running = (attribute: string, value: Stage | HandoffStatus) =>
  `${attribute} = '${value}' AND ExecutionStatus = 'Running'`;

/** Journeys that need a person, counted from Temporal visibility. */
const ATTENTION_QUERIES = {
  in_review: running(sa.stage.name, 'in_review'),
  handoff_failing: running(sa.handoff.name, 'failing'),
  handoff_rejected: running(sa.handoff.name, 'rejected'),
};

/** The intake spool as /metrics shows it: read from PostgreSQL at scrape time, at most once a second. */
export interface SpoolGauges {
  stats(): Promise<SpoolStats>;
  maxRows: number;
  maxBytes: number;
}

/** Counts matching journeys in one namespace. */
export type CountJourneys = (namespace: string, query: string) => Promise<number>;

export interface AttentionCounts {
  count: CountJourneys;
  namespaces: readonly string[];
  /** Visibility is asked at most this often, however often /metrics is scraped. */
  refreshMs: number;
}

/**
 * A registry per receiver, so several receivers in one process (tests) never share counts.
 * On a failed count the gauge keeps its last value; readiness reports the outage.
 */
export function createReceiverMetrics(attentionCounts?: AttentionCounts, spool?: SpoolGauges) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const attention = cached(attentionCounts?.refreshMs ?? 0, async () => {
    const { count, namespaces } = attentionCounts!;
    const counts: Array<{ namespace: string; condition: string; count: number | null }> = [];
    for (const namespace of namespaces) {
      for (const [condition, query] of Object.entries(ATTENTION_QUERIES)) {
        counts.push({ namespace, condition, count: await count(namespace, query).catch(() => null) });
      }
    }
    return counts;
  });
  // A failed read leaves every spool gauge at its last value; readiness and the 503 rate show the outage.
  const spoolStats = cached(1_000, async () => (spool ? await spool.stats().catch(() => null) : null));
  const spoolGauge = ({ name, help, read }: { name: string; help: string; read: (stats: SpoolStats) => number }) =>
    new Gauge({
      name,
      help,
      registers: spool ? [registry] : [],
      async collect() {
        const stats = await spoolStats();
        if (stats) this.set(read(stats));
      },
    });
  if (spool) {
    new Gauge({ name: 'begini_spool_max_rows', help: 'SPOOL_MAX_ROWS', registers: [registry] }).set(spool.maxRows);
    new Gauge({ name: 'begini_spool_max_bytes', help: 'SPOOL_MAX_BYTES', registers: [registry] }).set(spool.maxBytes);
  }
  spoolGauge({
    name: 'begini_spool_depth',
    help: 'Deliveries waiting in the intake spool for Temporal',
    read: (s) => s.waiting,
  });
  spoolGauge({
    name: 'begini_spool_oldest_seconds',
    help: 'Age (since it was received) of the oldest delivery waiting in the spool; 0 when none waits',
    read: (s) => s.oldestSeconds,
  });
  spoolGauge({
    name: 'begini_spool_dead',
    help: 'Spooled deliveries Temporal refused for good (dead-lettered), kept for an operator',
    read: (s) => s.dead,
  });
  spoolGauge({
    name: 'begini_spool_bytes',
    help: 'Sealed bytes held by the spool, waiting and dead-lettered',
    read: (s) => s.bytes,
  });
  return {
    registry,
    spoolDrained: new Counter({
      name: 'begini_spool_drained_total',
      help: 'Spooled deliveries Temporal accepted, by where they landed (journey, after_close, too_old)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    spoolFailed: new Counter({
      name: 'begini_spool_failed_total',
      help: 'Spooled deliveries dead-lettered, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    vaulted: new Counter({
      name: 'begini_vault_refused_total',
      help: 'Deliveries refused 403 signature_mismatch, by what the vault did (vaulted, rate_limited, failed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    requests: new Counter({
      name: 'begini_webhook_requests_total',
      help: 'Requests to the public listener by HTTP status and reason code',
      labelNames: ['status', 'reason'] as const,
      registers: [registry],
    }),
    ackSeconds: new Histogram({
      name: 'begini_webhook_ack_seconds',
      help: 'Time from request to answer, by HTTP status',
      labelNames: ['status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    journeyBacklog: new Gauge({
      name: 'begini_journey_backlog_seconds',
      help: "Age of the oldest workflow task waiting on the journeys' task queue, as last read (applications wait past WEBHOOK_DEFER_BACKLOG)",
      labelNames: ['namespace'] as const,
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'begini_temporal_calls_in_flight',
      help: 'signalWithStart calls awaiting Temporal',
      registers: [registry],
    }),
    journeys: new Gauge({
      name: 'begini_journeys_needing_attention',
      help: 'Running journeys in review or with a failing or rejected LOS hand-off (a cached visibility count)',
      labelNames: ['namespace', 'condition'] as const,
      registers: [registry],
      async collect() {
        if (!attentionCounts) return;
        for (const { namespace, condition, count } of await attention()) {
          if (count !== null) this.set({ namespace, condition }, count);
        }
      },
    }),
    erasedDeliveries: new Counter({
      name: 'begini_erased_deliveries_total',
      help: 'Verified deliveries for an erased uid, answered 200 erased and started nothing, by path (webhook, spool)',
      labelNames: ['path'] as const,
      registers: [registry],
    }),
    deliveriesByKey: new Counter({
      name: 'begini_deliveries_by_key_total',
      help: 'Verified deliveries by the id of the key that verified them',
      labelNames: ['key_id', 'environment'] as const,
      registers: [registry],
    }),
  };
}

export type ReceiverMetrics = ReturnType<typeof createReceiverMetrics>;
