/**
 * The cost model (bench/costModel.ts) fed with this run's figures: the live happy journey's whole
 * life (decided, settled, closed), and the same journey before issue #16 (the recorded difference
 * added back), with the in-memory stack's CPU per delivery and per journey.
 */
import { monthlyCost, type PerJourney } from './costModel';
import type { InMemoryPhases } from './stackPhases';

/** The defaults a deployment runs with (docs/configuration.md), for the cost model. */
const HORIZON = { settleDays: 30, retentionDays: 30 };

type Cost = { billableActions: number; events: number; historyBytes: number };

export function runCostModel({ inMemoryServer, journeyCost }: InMemoryPhases) {
  const liveHappy = journeyCost.live.happy!;
  const { before: happyBefore, after: happyAfter } = journeyCost.recorded.happy!;
  const cpu = {
    deliveries: 2,
    receiverCpuMsPerDelivery: inMemoryServer.ackPath['64']!.receiver.cpuMsPerDelivery,
    workerCpuMsPerJourney: inMemoryServer.endToEnd.workerCpuMsPerJourney,
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
  return {
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
}

/** Only the history's figures: the live cost also says whether the journey closed and how it ran. */
function pick(cost: Cost): Cost {
  return { billableActions: cost.billableActions, events: cost.events, historyBytes: cost.historyBytes };
}
