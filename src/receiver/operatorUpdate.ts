/**
 * How an operator's request becomes a Temporal update, and what a failed update means for the answer.
 */
import { createHash } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Principal } from '../auth/principal';
import { Rejection } from './rejection';

/**
 * The update id: a retried request (same principal, same X-Request-Id) joins the update it already
 * sent instead of acting twice, and nobody joins another principal's update by sending their
 * request id (they would be answered, and logged, with an action they never took). Hashed so that
 * no name or request id can make two different triples meet.
 */
export function operatorUpdateId(action: string, principal: Principal, requestId: string): string {
  const who = createHash('sha256')
    .update(JSON.stringify([principal.method, principal.name, requestId]))
    .digest('hex');
  return `${action}:${who}`;
}

/** A refusal the journey itself makes: its validator's failure type, and the answer it deserves. */
export interface JourneyRefusal {
  type: string;
  status: 400 | 409;
  reason: string;
}

/**
 * The journey's own refusal, or undefined. Only the validator's failure types count: Temporal
 * also fails updates it could not deliver ("Workflow Update is rejected because it wasn't processed
 * by worker", an ApplicationFailure of no type), which can clear and must never read as a refusal.
 */
export function journeyRefusalOf(err: unknown, refusals: readonly JourneyRefusal[]): Rejection | undefined {
  const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  const refusal = refusals.find((r) => r.type === cause.type);
  if (!refusal) return undefined;
  return new Rejection(
    refusal.status,
    refusal.reason,
    cause.message,
    refusal.status === 409 ? 'Conflict' : 'Bad Request',
  );
}
