/**
 * What a lender pays at scale, from measured per-journey figures: Temporal Cloud actions and
 * storage at list price, and the CPU of our own worker and receiver.
 *
 * Prices: https://docs.temporal.io/cloud/pricing (Pay-As-You-Go), read 2026-11-28 from the docs'
 * source (temporalio/documentation, docs/evaluate/temporal-cloud/pricing.mdx): actions $50 per
 * million for the first 5M a month, $45 to 10M, $40 to 20M, $35 to 50M, $30 to 100M, $25 to 200M;
 * active storage $0.042 per GBh, retained $0.00105 per GBh. Plan fees and the plan's included
 * actions and storage are left out (they depend on the plan, and would flatter the small rows).
 */
export const ACTION_TIERS: ReadonlyArray<readonly [upToMillions: number, dollarsPerMillion: number]> = [
  [5, 50],
  [10, 45],
  [20, 40],
  [50, 35],
  [100, 30],
  [200, 25],
];
export const ACTIVE_PER_GBH = 0.042;
export const RETAINED_PER_GBH = 0.00105;
const HOURS_PER_MONTH = 730;
const GB = 1e9;

export function actionsPrice(actions: number): number {
  let left = actions / 1e6;
  let floor = 0;
  let dollars = 0;
  for (const [upTo, price] of ACTION_TIERS) {
    const inTier = Math.min(left, upTo - floor);
    if (inTier <= 0) break;
    dollars += inTier * price;
    left -= inTier;
    floor = upTo;
  }
  // Past the last published tier the page says "contact sales"; priced here at the last tier.
  return dollars + Math.max(left, 0) * ACTION_TIERS[ACTION_TIERS.length - 1]![1];
}

export interface PerJourney {
  billableActions: number;
  events: number;
  historyBytes: number;
  /** Deliveries the receiver acknowledges per journey. */
  deliveries: number;
  receiverCpuMsPerDelivery: number;
  workerCpuMsPerJourney: number;
}

export interface Horizon {
  /** How long a decided journey stays open (JOURNEY_SETTLE). */
  settleDays: number;
  /** How long the namespace keeps a closed history (TEMPORAL_RETENTION_DAYS). */
  retentionDays: number;
}

const round = (n: number, places = 2) => Number(n.toFixed(places));

/** One month in steady state: every journey's whole life (open through settle, then retained). */
export function monthlyCost(applicants: number, journey: PerJourney, horizon: Horizon) {
  const actions = applicants * journey.billableActions;
  const openJourneys = applicants * (horizon.settleDays / (HOURS_PER_MONTH / 24));
  const activeGbh = (applicants * journey.historyBytes * horizon.settleDays * 24) / GB;
  const retainedGbh = (applicants * journey.historyBytes * horizon.retentionDays * 24) / GB;
  const actionsUsd = actionsPrice(actions);
  const storageUsd = activeGbh * ACTIVE_PER_GBH + retainedGbh * RETAINED_PER_GBH;
  return {
    applicants,
    actions,
    historyEvents: applicants * journey.events,
    actionsUsd: round(actionsUsd),
    openJourneys: Math.round(openJourneys),
    activeGbh: round(activeGbh, 1),
    retainedGbh: round(retainedGbh, 1),
    storageUsd: round(storageUsd),
    totalUsd: round(actionsUsd + storageUsd),
    workerCpuCoreHours: round((applicants * journey.workerCpuMsPerJourney) / 3.6e6),
    receiverCpuCoreHours: round((applicants * journey.deliveries * journey.receiverCpuMsPerDelivery) / 3.6e6),
  };
}
