/**
 * Review: a human decides a journey the policy referred, or one whose hand-off the LOS refused.
 * The workflow owns the wait and the timer; this module decides when a review may still decide,
 * what its deadline is, and what a reviewer's decision or the deadline's fallback does to the journey.
 */
import { operatorOf, recordAudit, SYSTEM } from './audit';
import {
  FINAL_OUTCOMES,
  MAX_REVIEW_REASONS,
  REASON_CODE,
  REVIEW_REJECTIONS,
  type Decision,
  type FinalOutcome,
  type PrincipalReason,
  type ReviewRequest,
} from './definitions';
import { actorProblem, stageOf, type JourneyState } from './journeyState';

export type ReviewCheck =
  { ok: true } | { ok: false; type: (typeof REVIEW_REJECTIONS)[keyof typeof REVIEW_REJECTIONS]; reason: string };

/**
 * Whether a review may still decide at workflow time `now`: only while the journey is in review and
 * before its deadline. At or past the deadline the policy's fallback decides, even when the review
 * reaches the workflow before the deadline's timer does (a worker that was down gets both at once).
 */
export function checkReviewOpen(state: JourneyState, now: Date): ReviewCheck {
  const deadlinePassed: ReviewCheck = {
    ok: false,
    type: REVIEW_REJECTIONS.deadlinePassed,
    reason: `the review deadline (${state.review?.deadline}) has passed; the policy's fallback decides`,
  };
  // The same answer whichever of the deadline's timer and the late review the workflow saw first.
  if (state.phase !== 'in_review' && state.decision?.decidedBy === 'review_deadline') return deadlinePassed;
  if (state.phase !== 'in_review') {
    return {
      ok: false,
      type: REVIEW_REJECTIONS.notInReview,
      reason: `journey is not awaiting review (stage ${stageOf(state)})`,
    };
  }
  const deadline = state.review?.deadline;
  if (deadline && now.getTime() >= Date.parse(deadline)) return deadlinePassed;
  return { ok: true };
}

/** Whether `request` is a well-formed review that may decide now (the update's validator). */
export function checkReview(state: JourneyState, request: unknown, now: Date): ReviewCheck {
  const invalid = (reason: string): ReviewCheck => ({ ok: false, type: REVIEW_REJECTIONS.invalid, reason });
  const open = checkReviewOpen(state, now);
  if (!open.ok) return open;
  if (!request || typeof request !== 'object') return invalid('review must be an object');
  const { outcome, reviewer, note, actor, reasons } = request as Record<string, unknown>;
  if (!(FINAL_OUTCOMES as readonly unknown[]).includes(outcome))
    return invalid(`outcome must be ${FINAL_OUTCOMES.join(' or ')}`);
  const reasonsProblem = reviewReasonsProblem(outcome as FinalOutcome, reasons);
  if (reasonsProblem) return invalid(reasonsProblem);
  if (actor !== undefined) {
    const problem = actorProblem(actor, ['reviewer', 'admin']);
    if (problem) return invalid(problem);
    // The authenticated principal is the reviewer: a typed name beside it would be a second claim.
    if (reviewer !== undefined) return invalid('a review with an actor names no reviewer');
  } else if (typeof reviewer !== 'string' || reviewer.trim() === '' || reviewer.length > 200) {
    return invalid('reviewer must be a non-empty string of at most 200 characters');
  }
  if (note !== undefined && (typeof note !== 'string' || note.length > 2000))
    return invalid('note must be a string of at most 2000 characters');
  return { ok: true };
}

/**
 * A reviewer's reasons are the policy's codes (the worker checks each is known and gives their
 * texts); a DECLINE must name one, as the applicant's notice must say why.
 */
function reviewReasonsProblem(outcome: FinalOutcome, reasons: unknown): string | undefined {
  if (reasons !== undefined) {
    if (!Array.isArray(reasons) || reasons.length > MAX_REVIEW_REASONS)
      return `reasons must be a list of at most ${MAX_REVIEW_REASONS} reason codes`;
    if (!reasons.every((code) => typeof code === 'string' && REASON_CODE.test(code)))
      return 'reasons must be reason codes of the policy (letters, digits, _ . : -; at most 100)';
  }
  if (outcome === 'DECLINE' && (!Array.isArray(reasons) || reasons.length === 0))
    return "a DECLINE names at least one reason code of the policy, for the applicant's notice";
  return undefined;
}

/** The policy referred the journey: a reviewer has until the deadline, then `fallback` decides. */
export function referForReview(
  state: JourneyState,
  policyReview: { deadlineMs: number; fallback: FinalOutcome },
  now: Date,
): void {
  state.review = {
    reason: 'referred',
    since: now.toISOString(),
    deadline: new Date(now.getTime() + policyReview.deadlineMs).toISOString(),
    fallback: policyReview.fallback,
  };
  state.phase = 'in_review';
}

/** The LOS refused the decision for good: an operator decides again, however long that takes. */
export function reviewRejectedHandoff(state: JourneyState, now: Date): void {
  const supersedes = state.decision?.supersedes;
  state.review = {
    reason: 'handoff_rejected',
    since: now.toISOString(),
    deadline: null,
    fallback: null,
    // The refused decision replaced a delivered one; so does whatever the operator decides next.
    ...(supersedes && { supersedes }),
  };
  state.phase = 'in_review';
}

/** How long the review may still wait at `now` (at least 1 ms, for a timer); undefined when it has no deadline. */
export function reviewTimeLeft(state: JourneyState, now: Date): number | undefined {
  const { deadline } = state.review!;
  return deadline === null ? undefined : Math.max(Date.parse(deadline) - now.getTime(), 1);
}

/**
 * No reviewer acted before the deadline: the policy's fallback decides; a reopened review has none,
 * so the decision already delivered stands and nothing goes to the LOS again.
 */
export function applyReviewDeadline(state: JourneyState, now: Date): void {
  const review = state.review!;
  if (review.fallback === null) {
    review.resolvedAt = now.toISOString();
    recordAudit(state, SYSTEM.deadline, { at: now, action: 'reopen_lapsed', what: state.decision!.outcome });
    state.phase = 'settled';
    return;
  }
  const fallback = review.fallback;
  const referral = state.decision;
  state.decision = {
    outcome: fallback,
    reasons: [...(referral?.reasons ?? []), 'review_deadline_passed'],
    // The referral's reasons are why the fallback declines; an approval gives none.
    ...(referral?.principalReasons && { principalReasons: fallback === 'DECLINE' ? referral.principalReasons : [] }),
    policyVersion: referral?.policyVersion ?? 'unknown',
    ...(referral?.policySha256 && { policySha256: referral.policySha256 }),
    decidedAt: now.toISOString(),
    decidedBy: 'review_deadline',
  };
  review.resolvedAt = state.decision.decidedAt;
  recordAudit(state, SYSTEM.deadline, { at: now, action: 'review_deadline', what: fallback });
  state.phase = 'delivering';
}

/**
 * A reviewer's decision replaces the policy's. Call only after `checkReview` passed. The texts of
 * the reviewer's reason codes are given when the worker explained them (journeys from before
 * principal reasons existed replay without).
 */
export function applyReview(
  state: JourneyState,
  request: ReviewRequest,
  now: Date,
  updateId: string | null,
  principalReasons?: PrincipalReason[],
): Decision {
  const review = state.review!;
  const at = now.toISOString();
  const who = operatorOf(request.actor, request.reviewer, updateId);
  const decision: Decision = {
    outcome: request.outcome,
    reasons: [
      ...(state.decision?.reasons ?? []),
      `reviewed_${request.outcome.toLowerCase()}`,
      ...(request.reasons ?? []),
    ],
    ...(principalReasons && { principalReasons: request.outcome === 'DECLINE' ? principalReasons : [] }),
    policyVersion: state.decision?.policyVersion ?? 'unknown',
    ...(state.decision?.policySha256 && { policySha256: state.decision.policySha256 }),
    decidedAt: at,
    decidedBy: 'review',
    reviewer: who.actor,
    reviewedVia: who.via,
    ...(review.supersedes && { supersedes: review.supersedes }),
  };
  Object.assign(review, { reviewer: who.actor, note: request.note, resolvedAt: at });
  recordAudit(state, who, { at: now, action: 'review', what: request.outcome, why: request.note ?? null });
  state.decision = decision;
  state.phase = 'delivering';
  return decision;
}
