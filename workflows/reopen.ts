/**
 * Contest: a human puts a delivered decision the applicant contests back in review (GDPR Art. 22's
 * human review on request). The journey's review loop does the rest: a reviewer's new decision
 * goes to the LOS under a new Idempotency-Key naming the one it supersedes; a review that lapses
 * leaves the delivered decision standing, and nothing is sent again.
 */
import { operatorOf, recordAudit } from './audit';
import {
  MAX_REOPENS,
  REOPEN_DEFAULT_WITHIN_MS,
  REOPEN_MAX_WITHIN_MS,
  REOPEN_REJECTIONS,
  type ReopenRequest,
  type ReviewState,
} from './definitions';
import { operatorRequestProblem, stageOf, type JourneyState } from './journeyState';

export type ReopenCheck =
  { ok: true } | { ok: false; type: (typeof REOPEN_REJECTIONS)[keyof typeof REOPEN_REJECTIONS]; reason: string };

/** Whether `request` may reopen the journey now (the update's validator). */
export function checkReopen(state: JourneyState, request: unknown): ReopenCheck {
  const invalid = (reason: string): ReopenCheck => ({ ok: false, type: REOPEN_REJECTIONS.invalid, reason });
  if (!request || typeof request !== 'object') return invalid('reopen must be an object');
  const problem = operatorRequestProblem(request as Record<string, unknown>, ['reviewer', 'admin']);
  if (problem) return invalid(problem);
  const { reviewWithinMs } = request as Record<string, unknown>;
  if (
    reviewWithinMs !== undefined &&
    (!Number.isInteger(reviewWithinMs) ||
      (reviewWithinMs as number) < 60_000 ||
      (reviewWithinMs as number) > REOPEN_MAX_WITHIN_MS)
  )
    return invalid(`reviewWithinMs must be whole milliseconds from one minute to ${REOPEN_MAX_WITHIN_MS}`);
  const notReopenable = (why: string): ReopenCheck => ({
    ok: false,
    type: REOPEN_REJECTIONS.notReopenable,
    reason: why,
  });
  if (state.phase !== 'settled' || !state.decision)
    return notReopenable(`only a delivered decision can be reopened (stage ${stageOf(state)})`);
  if ((state.reopens ?? 0) >= MAX_REOPENS)
    return notReopenable(`already reopened ${MAX_REOPENS} times; a further contest is for the LOS`);
  if (!state.handoff.idempotencyKey)
    return notReopenable('this decision was delivered before reopening existed; contest it in the LOS');
  return { ok: true };
}

/** Call only after `checkReopen` passed. */
export function applyReopen(
  state: JourneyState,
  request: ReopenRequest,
  now: Date,
  updateId: string | null,
): ReviewState {
  const within = request.reviewWithinMs ?? REOPEN_DEFAULT_WITHIN_MS;
  state.review = {
    reason: 'reopened',
    since: now.toISOString(),
    deadline: new Date(now.getTime() + within).toISOString(),
    fallback: null,
    supersedes: state.handoff.idempotencyKey!,
  };
  state.phase = 'in_review';
  state.reopens = (state.reopens ?? 0) + 1;
  recordAudit(state, operatorOf(request.actor, request.operator, updateId), {
    at: now,
    action: 'reopen',
    what: state.decision!.outcome,
    why: request.reason.trim(),
  });
  return state.review;
}
