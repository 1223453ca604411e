/**
 * The worker's floor (bench only, never shipped): a workflow with the journey's happy-path task
 * shape and trivial logic. It takes the same signalWithStart (input, `beginiEvent` signals, same
 * codec and sizes), and its history has the journey's events in the journey's order: the same
 * search-attribute upserts (the same ten keys), the expiry timer and its cancellation, the policy's
 * local-activity marker (a result of the same size), the journey's four patch markers, the hand-off
 * activity (input of the same size), the settle timer, and the same continue-as-new thresholds.
 * What it leaves out is ours: the journey's state, reducer, dedupe, audit, publisher and policy.
 * bench/floors.ts checks, each run, that the two histories have the same event types in order.
 */
import {
  ActivityCancellationType,
  condition,
  continueAsNew,
  patched,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { CancellationScope, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { beginiEventSignal, searchAttributes as sa, type JourneyInput } from '../../workflows/definitions';
import { historyIsLong } from '../../workflows/publish';
import type { FloorActivities } from './activities';

/** The journey's patches on its happy path, asked where it asks them (workflows/journey.ts, publish.ts). */
const PATCH = {
  onePublishPerTask: 'one-publish-per-task',
  explained: 'decision-principal-reasons',
  durable: 'decision-durable-before-handoff',
  yields: 'handoff-yields-to-long-history',
};

/** The journey's activity options (workflows/journey.ts), with the bench's hand-off retry settings. */
const local = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '30s', retry: { maximumInterval: '1m' } });

/**
 * Bytes of padding so that the floor's payloads are the journey's sizes (its policy input and result,
 * its hand-off request and result); bench/floors.ts prints both histories' sizes to check them.
 */
const PADDING = { policyInput: 700, policyResult: 540, handOff: 686, handOffResult: 15 };
const padded = (uid: string, bytes: number, answerBytes: number) => ({ uid, padding: 'x'.repeat(bytes), answerBytes });

interface FloorState {
  startedAt: number;
  stage: 'awaiting_scores' | 'deciding' | 'decided';
  scored: boolean;
  deliveries: number;
  lastEventType: string | null;
  decision: string | null;
  handoff: string | null;
}

export interface FloorRunInput extends JourneyInput {
  carried?: FloorState;
}

export async function benchFloorJourney(input: FloorRunInput): Promise<void> {
  const state: FloorState = input.carried ?? {
    startedAt: Date.now(),
    stage: 'awaiting_scores',
    scored: false,
    deliveries: 0,
    lastEventType: null,
    decision: null,
    handoff: null,
  };
  let last = '';
  const push = () => {
    const pairs = attributes(input, state);
    const values = JSON.stringify(pairs.map((p) => p.value));
    if (values !== last) upsertSearchAttributes(pairs);
    last = values;
  };
  // As the journey's publisher: the deliveries buffered before the handler (signalWithStart's) push
  // at once; later ones ask the patch and wait for the step they cause to push.
  let coalescing = false;
  setHandler(beginiEventSignal, (delivery) => {
    state.deliveries++;
    state.lastEventType = delivery.type;
    if (delivery.score) state.scored = true;
    if (!(coalescing && patched(PATCH.onePublishPerTask))) push();
  });
  coalescing = true;

  if (state.stage === 'awaiting_scores') {
    const woke = await condition(
      () => state.scored || historyIsLong(),
      Math.max(state.startedAt + input.settings.expiryMs - Date.now(), 1),
    );
    if (historyIsLong()) return continueAsNew<typeof benchFloorJourney>({ ...input, carried: state });
    if (!woke) return;
    patched(PATCH.onePublishPerTask);
    const policy = await local.decide.executeWithOptions({ summary: 'evaluate policy (scores_complete)' }, [
      padded(input.uid, PADDING.policyInput, PADDING.policyResult),
    ]);
    patched(PATCH.explained);
    state.decision = policy.outcome;
    state.stage = 'deciding';
    state.handoff = 'pending';
  }
  if (state.stage === 'deciding') {
    patched(PATCH.durable);
    const activities = handOffActivity(input);
    patched(PATCH.yields);
    const scope = new CancellationScope();
    const sent = scope.run(() =>
      Promise.race([
        activities.handOff
          .executeWithOptions({ summary: `hand ${state.decision} to LOS` }, [
            padded(input.uid, PADDING.handOff, PADDING.handOffResult),
          ])
          .then(() => true),
        condition(historyIsLong).then(() => false),
      ]),
    );
    push();
    const delivered = await sent.finally(() => scope.cancel());
    if (!delivered) return continueAsNew<typeof benchFloorJourney>({ ...input, carried: state });
    state.stage = 'decided';
    state.handoff = 'delivered';
  }
  const settled = condition(historyIsLong, Math.max(input.settings.settleMs, 1));
  push();
  if (await settled) return continueAsNew<typeof benchFloorJourney>({ ...input, carried: state });
}

function handOffActivity(input: JourneyInput) {
  const initial = input.settings.handoffRetryInitialMs;
  return proxyActivities<FloorActivities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: initial, backoffCoefficient: 2, maximumInterval: initial * 64, maximumAttempts: 8 },
    cancellationType: ActivityCancellationType.TRY_CANCEL,
  });
}

/** The journey's ten keys, with values of the journey's lengths. */
function attributes(input: JourneyInput, state: FloorState): SearchAttributeUpdatePair[] {
  const scored = state.scored ? (value: string) => value : () => null;
  return [
    { key: sa.stage, value: state.stage },
    { key: sa.integrationId, value: input.integrationId },
    { key: sa.flags, value: null },
    { key: sa.lastEventType, value: state.lastEventType },
    { key: sa.decision, value: state.decision },
    { key: sa.riskBand, value: scored('B') },
    { key: sa.scoreConfidence, value: scored('high') },
    { key: sa.platform, value: scored('android') },
    { key: sa.handoff, value: state.handoff },
    { key: sa.reviewSince, value: null },
  ] as SearchAttributeUpdatePair[];
}
