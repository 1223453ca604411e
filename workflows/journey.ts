import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  currentUpdateInfo,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import type { HandoffResult, JourneyActivities } from '../activities';
import { decisionRequest, lateEventRequest, type HandoffRequest } from './handoffRequests';
import { recordAudit, SYSTEM } from './audit';
import {
  beginiEventSignal,
  HANDOFF_FAILURE,
  journeyQuery,
  redriveUpdate,
  reopenUpdate,
  REVIEW_REJECTIONS,
  reviewUpdate,
  type FinalOutcome,
  type JourneyInput,
  type PolicyArm,
  type PrincipalReason,
  type JourneyView,
} from './definitions';
import {
  addFlag,
  applyDelivery,
  decisionTrigger,
  nextWaitDeadline,
  removeFlag,
  startJourney,
  viewOf,
  type JourneyState,
} from './journeyState';
import { historyIsLong, ONE_PUBLISH_PER_TASK, publisher, type Publisher } from './publish';
import { applyRedrive, checkRedrive } from './redrive';
import { applyReopen, checkReopen } from './reopen';
import {
  applyReview,
  applyReviewDeadline,
  checkReview,
  checkReviewOpen,
  referForReview,
  reviewRejectedHandoff,
  reviewTimeLeft,
} from './review';

export interface JourneyRunInput extends JourneyInput {
  /** State handed over by continue-as-new. */
  carried?: JourneyState;
}

const { evaluatePolicy } = proxyActivities<JourneyActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumInterval: '1m' },
});
/**
 * The policy inside the workflow task: it is a few microseconds of CPU and needs no activity task
 * of its own (three history events, a workflow task and an action). Its result is recorded in a
 * marker, so a policy change still cannot break replay.
 */
const local = proxyLocalActivities<JourneyActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumInterval: '1m' },
});
/**
 * A late-event notice's first try inside the workflow task (and a decision's, in histories from
 * before `decision-durable-before-handoff`), as an LOS usually answers at once. A notice's body
 * is the notice (from its signal) and the delivered decision, both already in history. One short
 * attempt only: a failing or slow LOS falls back to the activity and its server-side retries (same
 * Idempotency-Key), and a workflow task is never held open for long, so a flood of deliveries
 * meanwhile is still absorbed and the run can still continue as new.
 */
const { handOff: handOffOnce } = proxyLocalActivities<JourneyActivities>({
  startToCloseTimeout: '5s',
  retry: { maximumAttempts: 1 },
});

/**
 * One applicant's journey, keyed by Begini's uid: collect events, wait for the required scores (or
 * expiry, cancellation, incompletion), decide once, refer to a human where the policy says so,
 * hand the decision to the loan origination system, then stay open to absorb late deliveries.
 */
export async function beginiJourney(input: JourneyRunInput): Promise<JourneyView> {
  const journey = input.carried ?? startJourney(input, new Date());
  const publish = publisher(journey);

  setHandler(beginiEventSignal, (delivery) => {
    applyDelivery(journey, delivery, new Date());
    publish();
  });
  setHandler(journeyQuery, () => viewOf(journey));
  setHandler(
    reviewUpdate,
    async (request) => {
      const refuseIfClosed = () => {
        const open = checkReviewOpen(journey, new Date());
        if (!open.ok) throw ApplicationFailure.nonRetryable(open.reason, open.type);
      };
      // The validator already refused a late review; this holds in histories where it did not run.
      if (patched(REVIEW_CLOSES_AT_DEADLINE)) refuseIfClosed();
      const updateId = currentUpdateInfo()?.id ?? null;
      let principalReasons: PrincipalReason[] | undefined;
      if (patched(REVIEW_GIVES_PRINCIPAL_REASONS)) {
        principalReasons = request.reasons?.length
          ? await explainReviewReasons(request.reasons, request.outcome, journey.experiment?.arm)
          : [];
        // The deadline, or another reviewer, may have decided while the worker looked the texts up.
        refuseIfClosed();
      }
      const decision = applyReview(journey, request, new Date(), updateId, principalReasons);
      publish();
      return decision;
    },
    {
      validator: (request) => {
        const check = checkReview(journey, request, new Date());
        if (!check.ok) throw ApplicationFailure.nonRetryable(check.reason, check.type);
      },
    },
  );
  setHandler(
    reopenUpdate,
    (request) => {
      const review = applyReopen(journey, request, new Date(), currentUpdateInfo()?.id ?? null);
      publish();
      return review;
    },
    {
      validator: (request) => {
        const check = checkReopen(journey, request);
        if (!check.ok) throw ApplicationFailure.nonRetryable(check.reason, check.type);
      },
    },
  );
  setHandler(
    redriveUpdate,
    (request) => {
      const result = applyRedrive(journey, request, new Date(), currentUpdateInfo()?.id ?? null);
      publish();
      return result;
    },
    {
      validator: (request) => {
        const check = checkRedrive(journey, request);
        if (!check.ok) throw ApplicationFailure.nonRetryable(check.reason, check.type);
      },
    },
  );
  publish();
  publish.coalesce();

  while (journey.phase !== 'closed') {
    if (historyIsLong()) {
      await condition(allHandlersFinished);
      publish.flush();
      return continueAsNew<typeof beginiJourney>({ ...input, carried: journey });
    }
    switch (journey.phase) {
      case 'waiting':
        await waitForDecisionPoint(journey, publish);
        break;
      case 'deciding':
        await decide(journey, publish);
        break;
      case 'in_review':
        await awaitReview(journey, publish);
        break;
      case 'delivering':
        await deliverDecision(journey, publish);
        break;
      case 'settled':
        await settle(journey, publish);
        break;
    }
    publish();
    publish.stepDone();
  }
  await condition(allHandlersFinished);
  publish.flush();
  return viewOf(journey);
}

async function waitForDecisionPoint(journey: JourneyState, publish: Publisher): Promise<void> {
  const deadline = nextWaitDeadline(journey);
  await condition(
    publish.wakeWhen(
      () => decisionTrigger(journey, new Date()) !== null || nextWaitDeadline(journey) !== deadline || historyIsLong(),
    ),
    Math.max(deadline - Date.now(), 1),
  );
  const trigger = decisionTrigger(journey, new Date());
  if (trigger) {
    journey.trigger = trigger;
    journey.phase = 'deciding';
  }
}

async function decide(journey: JourneyState, publish: Publisher): Promise<void> {
  const input = {
    trigger: journey.trigger!,
    application: journey.application,
    scores: journey.scores,
    requiredScores: journey.settings.requiredScores,
    malformed: journey.flags.includes('malformed_event'),
  };
  const options = { summary: `evaluate policy (${journey.trigger})` };
  const policy = patched(ONE_PUBLISH_PER_TASK)
    ? await publish.hold(() => local.evaluatePolicy.executeWithOptions(options, [input, { uid: journey.uid }]))
    : await evaluatePolicy.executeWithOptions(options, [input]);
  const now = new Date();
  // Asked only when a challenger ran, so ordinary journeys gain no marker; behind the patch because
  // an older worker's code may have ignored an experiment its newer activity already recorded.
  const experiment = policy.experiment && patched(POLICY_EXPERIMENT) ? policy.experiment : undefined;
  if (experiment) {
    journey.experiment = experiment;
    if (experiment.shadow && experiment.shadow.outcome !== policy.outcome) addFlag(journey, 'shadow_disagrees');
  }
  // Behind a patch, not only read off the result: a journey an older worker decided (its result
  // may already carry them) must build the same decision, and so the same LOS body, on replay.
  const explained = patched(DECISION_EXPLAINED);
  journey.decision = {
    outcome: policy.outcome,
    reasons: policy.reasons,
    ...(explained && policy.principalReasons && { principalReasons: policy.principalReasons }),
    policyVersion: policy.policyVersion,
    ...(explained && policy.policySha256 && { policySha256: policy.policySha256 }),
    decidedAt: now.toISOString(),
    decidedBy: 'policy',
  };
  recordAudit(journey, SYSTEM.policy, {
    at: now,
    action: 'decided',
    what: policy.outcome,
    why: policy.reasons.join(', '),
  });
  if (policy.review) referForReview(journey, policy.review, now);
  else journey.phase = 'delivering';
}

async function awaitReview(journey: JourneyState, publish: Publisher): Promise<void> {
  const remaining = reviewTimeLeft(journey, new Date());
  const done = publish.wakeWhen(() => journey.phase !== 'in_review' || historyIsLong());
  const acted = remaining === undefined ? (await condition(done), true) : await condition(done, remaining);
  if (acted || journey.phase !== 'in_review') return;
  applyReviewDeadline(journey, new Date());
}

/** From this patch on, a decision's hand-off is a normal activity from its first try (issue #20). */
const DECISION_DURABLE_BEFORE_HANDOFF = 'decision-durable-before-handoff';

/**
 * Reviews are refused at or past the review deadline (workflow time), in the handler too. Journeys
 * that accepted a late review before this keep their history's outcome on replay.
 */
const REVIEW_CLOSES_AT_DEADLINE = 'review-closes-at-deadline';

/** From this patch on, a policy decision carries its principal reasons and the policy's content hash. */
const DECISION_EXPLAINED = 'decision-principal-reasons';

/** From this patch on, a decision made while a challenger ran records its assignment (activities/experiment.ts). */
const POLICY_EXPERIMENT = 'policy-experiment';

/**
 * A review's reason codes are looked up in the worker's policy (their texts, and whether each is
 * known) before the review applies. Journeys that took a review before this replay without it.
 */
const REVIEW_GIVES_PRINCIPAL_REASONS = 'review-gives-principal-reasons';

/**
 * The texts of a reviewer's codes, in the words of the arm's policy that referred the journey; a
 * code that policy does not know refuses the review (400 at the API).
 */
async function explainReviewReasons(
  codes: string[],
  outcome: FinalOutcome,
  arm?: PolicyArm,
): Promise<PrincipalReason[]> {
  const explained = await local.explainReasons.executeWithOptions(
    { summary: 'explain review reasons' },
    arm ? [codes, arm] : [codes],
  );
  if (explained.unknown.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `the policy has no reason code ${explained.unknown.join(', ')}`,
      REVIEW_REJECTIONS.unknownReason,
    );
  }
  // A decline the applicant's notice could not explain: the codes named have no text in the policy.
  if (outcome === 'DECLINE' && explained.principalReasons.length === 0) {
    throw ApplicationFailure.nonRetryable(
      `the policy gives no applicant-facing text for ${codes.join(', ')}; name a reason that has one`,
      REVIEW_REJECTIONS.unknownReason,
    );
  }
  return explained.principalReasons;
}

const INTERRUPTED = Symbol('history is long');

/**
 * Runs an activity, but gives up on it (cancelling it) once the history grows long: deliveries keep
 * arriving as signals while a hand-off retries for minutes, and the run must continue as new before
 * the server's history limits terminate it. The next run repeats the call; the LOS dedupes it by
 * its Idempotency-Key.
 */
async function unlessHistoryGrowsLong<T>(work: () => Promise<T>): Promise<T | typeof INTERRUPTED> {
  if (!patched('handoff-yields-to-long-history')) return work();
  const scope = new CancellationScope();
  try {
    return await scope.run(() =>
      Promise.race([work(), condition(historyIsLong).then((): typeof INTERRUPTED => INTERRUPTED)]),
    );
  } finally {
    scope.cancel();
  }
}

async function deliverDecision(journey: JourneyState, publish: Publisher): Promise<void> {
  const decision = journey.decision!;
  const { handOff, retryPause } = handoffFor(journey);
  const summary = `hand ${decision.outcome} to LOS`;
  const request = () => decisionRequest(journey, decision);
  journey.handoff.status = 'pending';
  publish();
  // No local first try for a decision: scheduling the activity ends the workflow task that holds
  // the policy's marker, so the decision is in history before any request leaves, and a crash or
  // eviction mid-call can never re-decide (new decidedAt, maybe a new outcome) under the same key.
  for (let quick = patched(ONE_PUBLISH_PER_TASK) && !patched(DECISION_DURABLE_BEFORE_HANDOFF); ; quick = false) {
    try {
      const result = quick
        ? await handOffLocally(request(), summary, publish)
        : await unlessHistoryGrowsLong(() => handOff.executeWithOptions({ summary }, [request()]));
      if (result === RETRY_AS_ACTIVITY) continue;
      if (result === INTERRUPTED) return;
      journey.decisionsDelivered++;
      journey.handoff = {
        status: result.delivered ? 'delivered' : 'not_configured',
        failedRounds: journey.handoff.failedRounds,
        lastError: null,
        // What a reopened review's decision names as superseded.
        idempotencyKey: result.idempotencyKey,
      };
      removeFlag(journey, 'handoff_failing');
      delete journey.retryHandoffNow;
      if (result.delivered)
        recordAudit(journey, SYSTEM.los, { at: new Date(), action: 'handoff_delivered', what: decision.outcome });
      journey.settleUntil = new Date(Date.now() + journey.settings.settleMs).toISOString();
      journey.phase = 'settled';
      return;
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : err;
      const message = cause instanceof Error ? cause.message : String(cause);
      if (cause instanceof ApplicationFailure && cause.type === HANDOFF_FAILURE.rejected) {
        // The LOS answered this decision for good; the reviewer's next one is a new call, with a new key.
        journey.decisionsDelivered++;
        journey.handoff = { ...journey.handoff, status: 'rejected', lastError: message };
        addFlag(journey, 'handoff_rejected');
        recordAudit(journey, SYSTEM.los, {
          at: new Date(),
          action: 'handoff_rejected',
          what: decision.outcome,
          why: message,
        });
        reviewRejectedHandoff(journey, new Date());
        return;
      }
      // Keep trying for as long as it takes, but say so where operators look.
      journey.handoff = { status: 'failing', failedRounds: journey.handoff.failedRounds + 1, lastError: message };
      addFlag(journey, 'handoff_failing');
      publish();
      // An operator's redrive (`retry_now`) cuts the pause short.
      await condition(() => historyIsLong() || journey.retryHandoffNow === true, retryPause);
      delete journey.retryHandoffNow;
      if (historyIsLong()) return;
    }
  }
}

async function settle(journey: JourneyState, publish: Publisher): Promise<void> {
  const { handOff } = handoffFor(journey);
  while (journey.pendingNotices.length > 0) {
    const notice = journey.pendingNotices[0]!;
    const summary = `notify LOS of late ${notice.eventType}`;
    const request = lateEventRequest(journey, notice);
    const send = () => unlessHistoryGrowsLong(() => handOff.executeWithOptions({ summary }, [request]));
    const sent = await (
      patched(ONE_PUBLISH_PER_TASK)
        ? handOffLocally(request, summary, publish).then((result) => (result === RETRY_AS_ACTIVITY ? send() : result))
        : send()
    ).catch((err: unknown) => {
      // A notice the LOS refuses is recorded on the journey, not retried for ever.
      journey.handoff.lastError = err instanceof Error ? err.message : String(err);
    });
    if (sent === INTERRUPTED) return;
    journey.pendingNotices.shift();
    journey.noticesSent++;
    publish();
  }
  const remaining = Date.parse(journey.settleUntil!) - Date.now();
  // A redrive moves a settled journey back to delivery.
  const woke = await condition(
    publish.wakeWhen(() => journey.pendingNotices.length > 0 || historyIsLong() || journey.phase !== 'settled'),
    Math.max(remaining, 1),
  );
  // A redrive accepted in the very activation the settle timer fired in still runs.
  if (!woke && journey.phase === 'settled') journey.phase = 'closed';
}

const RETRY_AS_ACTIVITY = Symbol('retry as an activity');

/**
 * One attempt inside the workflow task, where an LOS that answers at once costs no activity task.
 * A rejection is final either way and is thrown as the activity's would be; any other failure
 * hands the call to the activity, whose retries the server keeps. Same Idempotency-Key both ways.
 */
async function handOffLocally(
  request: HandoffRequest,
  summary: string,
  publish: Publisher,
): Promise<HandoffResult | typeof RETRY_AS_ACTIVITY> {
  try {
    return await publish.hold(() => handOffOnce.executeWithOptions({ summary }, [request]));
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : err;
    if (cause instanceof ApplicationFailure && cause.type === HANDOFF_FAILURE.rejected) throw err;
    return RETRY_AS_ACTIVITY;
  }
}

function handoffFor(journey: JourneyState) {
  const initial = journey.settings.handoffRetryInitialMs;
  const maximumInterval = initial * 64;
  const { handOff } = proxyActivities<JourneyActivities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: initial, backoffCoefficient: 2, maximumInterval, maximumAttempts: 8 },
    // The hand-off sends no heartbeat, so it cannot learn it was cancelled: waiting for that would
    // hold a run that must continue as new for a whole attempt. The next run resends the same bytes
    // under the same Idempotency-Key, which the LOS dedupes. Older histories waited; they still do.
    ...(patched(DECISION_DURABLE_BEFORE_HANDOFF) && { cancellationType: ActivityCancellationType.TRY_CANCEL }),
  });
  return { handOff, retryPause: maximumInterval };
}
