/**
 * Redrive: an operator hands a journey's current decision to the LOS again (after the LOS lost it,
 * or refused it and has since been fixed). The journey's own delivery loop does the work; this
 * module decides what a redrive means in the journey's present phase.
 */
import { operatorOf, recordAudit } from './audit';
import { REDRIVE_REJECTIONS, type RedriveResult } from './definitions';
import { operatorRequestProblem, removeFlag, stageOf, type JourneyState } from './journeyState';

export type RedriveCheck =
  { ok: true } | { ok: false; type: (typeof REDRIVE_REJECTIONS)[keyof typeof REDRIVE_REJECTIONS]; reason: string };

export function checkRedrive(state: JourneyState, request: unknown): RedriveCheck {
  const invalid = (reason: string): RedriveCheck => ({ ok: false, type: REDRIVE_REJECTIONS.invalid, reason });
  if (!request || typeof request !== 'object') return invalid('redrive must be an object');
  const problem = operatorRequestProblem(request as Record<string, unknown>, ['admin']);
  if (problem) return invalid(problem);
  if (redriveAction(state) === null) {
    return {
      ok: false,
      type: REDRIVE_REJECTIONS.notRedrivable,
      reason: `journey has no decision to hand off again (stage ${stageOf(state)}, hand-off ${state.handoff.status})`,
    };
  }
  return { ok: true };
}

function redriveAction(state: JourneyState): RedriveResult['action'] | null {
  if (!state.decision) return null;
  if (state.phase === 'settled') return 'resend';
  if (state.phase === 'in_review' && state.review?.reason === 'handoff_rejected') return 'redeliver';
  if (state.phase === 'delivering' && state.handoff.status === 'failing') return 'retry_now';
  return null;
}

/** Call only after `checkRedrive` passed. */
export function applyRedrive(
  state: JourneyState,
  request: { reason: string; operator?: string; actor?: Parameters<typeof operatorOf>[0] },
  now: Date,
  updateId: string | null,
): RedriveResult {
  const action = redriveAction(state)!;
  const decision = state.decision!;
  switch (action) {
    case 'resend':
      // The same decision again, so the same Idempotency-Key: the delivery loop keys each decision
      // by how many the LOS had answered before it.
      state.decisionsDelivered--;
      state.phase = 'delivering';
      break;
    case 'redeliver':
      // The refused attempt stays counted, so this is a new attempt with a new key.
      state.review!.resolvedAt = now.toISOString();
      removeFlag(state, 'handoff_rejected');
      state.phase = 'delivering';
      break;
    case 'retry_now':
      state.retryHandoffNow = true;
      break;
  }
  recordAudit(state, operatorOf(request.actor, request.operator, updateId), {
    at: now,
    action: action === 'retry_now' ? 'handoff_retry' : 'redrive',
    what: `${action} ${decision.outcome}`,
    why: request.reason.trim(),
  });
  return { action, outcome: decision.outcome };
}
