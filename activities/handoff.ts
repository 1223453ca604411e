/**
 * Hands decisions and late-event notices to the loan origination system (LOS): JSON, signed the
 * way Begini signs to us (HMAC-SHA512 hex of the raw body in `X-Signature`), with an
 * `Idempotency-Key` that is the same on every retry of the same decision.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { sign } from '../src/begini/verifier';
import { uidRef, type Logger } from '../src/logger';
import { HANDOFF_REJECTED } from '../workflows/definitions';

export interface HandoffTarget {
  url: string;
  secret: string;
  timeoutMs: number;
}

export interface HandoffRequest {
  /** `decision` or `late_event`. */
  kind: string;
  uid: string;
  /** Unique per journey and decision (or notice); hashed into the Idempotency-Key. */
  idempotencySource: string;
  payload: Record<string, unknown>;
}

export interface HandoffResult {
  delivered: boolean;
  status: number | null;
  idempotencyKey: string;
}


export function idempotencyKeyFor(source: string): string {
  return createHash('sha256').update(source).digest('hex').slice(0, 40);
}

export async function handOff(target: HandoffTarget | null, request: HandoffRequest, logger: Logger): Promise<HandoffResult> {
  const idempotencyKey = idempotencyKeyFor(request.idempotencySource);
  const log = logger.child({ kind: request.kind, uidRef: uidRef(request.uid), idempotencyKey });
  if (!target) {
    // Dev default: the decision stays in the journey's state and result.
    const decision = request.payload.decision as { outcome?: string; reasons?: string[] } | undefined;
    log.info({ outcome: decision?.outcome, reasons: decision?.reasons }, 'no LOS_CALLBACK_URL configured; hand-off recorded only');
    return { delivered: false, status: null, idempotencyKey };
  }
  const body = JSON.stringify({ ...request.payload, kind: request.kind, uid: request.uid, idempotencyKey });
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': idempotencyKey,
        'x-signature': sign(body, target.secret),
      },
      body,
      signal: AbortSignal.timeout(target.timeoutMs),
    });
    await response.arrayBuffer(); // drain, so the connection can be reused
  } catch (err) {
    log.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'LOS unreachable');
    throw ApplicationFailure.retryable(`LOS unreachable: ${(err as Error).name}`, 'HandoffUnreachable');
  }
  const { status } = response;
  if (status >= 200 && status < 300) {
    log.info({ status }, 'handed off to LOS');
    return { delivered: true, status, idempotencyKey };
  }
  // 408 and 429 say "later"; any other 4xx says this request will never be accepted as it is.
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    log.warn({ status }, 'LOS rejected hand-off');
    throw ApplicationFailure.nonRetryable(`LOS rejected the hand-off with HTTP ${status}`, HANDOFF_REJECTED, { status });
  }
  log.warn({ status }, 'LOS hand-off failed; will retry');
  throw ApplicationFailure.retryable(`LOS answered HTTP ${status}`, 'HandoffFailed', { status });
}
