/**
 * What the journey asks the hand-off activity to send the LOS, built from the journey's state by
 * pure functions that the workflow and the tests both call, so a test checks the real payload. The
 * payload's key order is the callback body's (docs/los-callback/), so it never changes.
 */
import type { Decision, DecisionTrigger, ScoreFacts } from './definitions';
import type { JourneyState, LateNotice } from './journeyState';

export interface DecisionPayload {
  decision: Decision;
  scores: Record<string, ScoreFacts>;
  trigger: DecisionTrigger | null;
  integrationId: string;
  environment: string;
}

export interface LateEventPayload {
  notice: LateNotice;
  decision: Decision | null;
  decisionUnchanged: true;
}

interface Addressed {
  uid: string;
  /** Unique per journey and decision (or notice); hashed into the Idempotency-Key. */
  idempotencySource: string;
}

export type HandoffRequest =
  | (Addressed & { kind: 'decision'; payload: DecisionPayload })
  | (Addressed & { kind: 'late_event'; payload: LateEventPayload });

/** The scope older journeys lack: the uid alone, as their keys were built. */
function scopeOf(journey: JourneyState): string {
  return journey.idempotencyScope ?? journey.uid;
}

/** The next decision hand-off: a new key per decision delivered (a review's is a new call). */
export function decisionRequest(journey: JourneyState, decision: Decision): HandoffRequest {
  return {
    kind: 'decision',
    uid: journey.uid,
    idempotencySource: `${scopeOf(journey)}:decision:${journey.decisionsDelivered + 1}`,
    payload: {
      decision,
      scores: journey.scores,
      trigger: journey.trigger,
      integrationId: journey.integrationId,
      environment: journey.environment,
    },
  };
}

/** A late event's notice, keyed by the notice, under the decision it leaves unchanged. */
export function lateEventRequest(journey: JourneyState, notice: LateNotice): HandoffRequest {
  return {
    kind: 'late_event',
    uid: journey.uid,
    idempotencySource: `${scopeOf(journey)}:notice:${notice.id}`,
    payload: { notice, decision: journey.decision, decisionUnchanged: true },
  };
}
