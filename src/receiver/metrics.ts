import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Journeys that need a person, counted from Temporal visibility when /metrics is scraped. */
export const ATTENTION_QUERIES = {
  in_review: `BeginiStage = 'in_review' AND ExecutionStatus = 'Running'`,
  handoff_failing: `BeginiHandoff = 'failing' AND ExecutionStatus = 'Running'`,
  handoff_rejected: `BeginiHandoff = 'rejected' AND ExecutionStatus = 'Running'`,
} as const;

/**
 * A registry per receiver, so several receivers in one process (tests) never share counts.
 * `countJourneys` answers a visibility count; on failure the gauge keeps its last value.
 */
export function createReceiverMetrics(countJourneys?: (query: string) => Promise<number>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'begini_webhook_requests_total',
      help: 'Webhook requests by HTTP status and reason code',
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
    inFlight: new Gauge({
      name: 'begini_temporal_calls_in_flight',
      help: 'signalWithStart calls awaiting Temporal',
      registers: [registry],
    }),
    journeys: new Gauge({
      name: 'begini_journeys_needing_attention',
      help: 'Running journeys in review or with a failing or rejected LOS hand-off (visibility count at scrape)',
      labelNames: ['condition'] as const,
      registers: [registry],
      async collect() {
        if (!countJourneys) return;
        await Promise.all(
          Object.entries(ATTENTION_QUERIES).map(async ([condition, query]) => {
            try {
              this.set({ condition }, await countJourneys(query));
            } catch {
              // Temporal unreachable: keep the last value; readiness reports the outage.
            }
          }),
        );
      },
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
