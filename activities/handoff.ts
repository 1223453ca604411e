/**
 * Hands decisions and late-event notices to the loan origination system (LOS): JSON, signed the
 * way Begini signs to us (HMAC-SHA512 hex of the raw body in `X-Signature`), with an
 * `Idempotency-Key` that is the same on every retry of the same decision, and signed again per
 * Standard Webhooks so an LOS can verify with an off-the-shelf library and refuse stale replays.
 * The contract is docs/los-callback.md.
 */
import { createHash, createHmac } from 'node:crypto';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { ApplicationFailure } from '@temporalio/common';
import { sign } from '../src/begini/verifier';
import { uidRef, type Logger } from '../src/logger';
import { TRACER_NAME } from '../src/tracerName';
import { HANDOFF_FAILURE } from '../workflows/definitions';
import type { HandoffRequest } from '../workflows/handoffRequests';

export interface HandoffTarget {
  url: string;
  secret: string;
  timeoutMs: number;
}

export interface HandoffResult {
  delivered: boolean;
  status: number | null;
  idempotencyKey: string;
}

/**
 * The most of a response body that is read. The outcome depends only on the status; the body is
 * read (up to this much) only so a well-behaved connection can be reused, and a huge or endless
 * body must not hold memory or the activity.
 */
export const MAX_RESPONSE_BODY_BYTES = 64 * 1024;

/**
 * The body's contract versions (docs/los-callback/*.schema.json). Additive changes keep one; a field
 * removed, renamed, retyped or newly required, or a new outcome, needs a new one, so an LOS can tell
 * which it got. `2026-12` requires the decision's principal reasons.
 */
export const LOS_CALLBACK_SCHEMA_VERSIONS = ['2026-11', '2026-12'] as const;
export const LOS_CALLBACK_SCHEMA_VERSION = LOS_CALLBACK_SCHEMA_VERSIONS[1];

/**
 * Read off the decision the body carries, never off the worker sending it: a decision made before
 * principal reasons existed goes as 2026-11 on every retry, resend and redrive, whichever worker
 * version sends it, so one Idempotency-Key never carries two bodies.
 */
function schemaVersionOf(request: HandoffRequest): (typeof LOS_CALLBACK_SCHEMA_VERSIONS)[number] {
  return request.payload.decision?.principalReasons ? LOS_CALLBACK_SCHEMA_VERSION : LOS_CALLBACK_SCHEMA_VERSIONS[0];
}

const WHSEC_PREFIX = 'whsec_';
/** Padded standard base64, the only form the Standard Webhooks libraries decode. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function idempotencyKeyFor(source: string): string {
  return createHash('sha256').update(source).digest('hex').slice(0, 40);
}

/**
 * The Standard Webhooks key for LOS_CALLBACK_SECRET. A `whsec_<base64>` secret is the spec's own
 * format, so the LOS can hand it to a library unchanged. Any other secret (existing ones are
 * arbitrary strings, and their X-Signature must not change) is keyed as its UTF-8 bytes; so is a
 * `whsec_` one whose rest is not base64, rather than refusing to deliver over a malformed secret.
 */
function standardWebhooksKey(secret: string): Buffer {
  const encoded = secret.startsWith(WHSEC_PREFIX) ? secret.slice(WHSEC_PREFIX.length) : '';
  return encoded && BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : Buffer.from(secret, 'utf8');
}

/** `v1,<base64 HMAC-SHA256 of id.timestamp.body>`: the id and time are signed, so neither can be swapped. */
function standardWebhooksSignature(key: Uint8Array, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/**
 * The exact body the LOS is sent for `request` (docs/los-callback/*.schema.json): the payload with
 * the contract version, kind, uid and Idempotency-Key beside it. The same bytes on every retry.
 */
export function callbackBody(request: HandoffRequest): string {
  return JSON.stringify({
    ...request.payload,
    schemaVersion: schemaVersionOf(request),
    kind: request.kind,
    uid: request.uid,
    idempotencyKey: idempotencyKeyFor(request.idempotencySource),
  });
}

export async function handOff(
  target: HandoffTarget | null,
  request: HandoffRequest,
  logger: Logger,
  /** The activity's cancellation: a timed-out local try must stop waiting on the LOS, not hold on. */
  cancelled?: AbortSignal,
): Promise<HandoffResult> {
  const idempotencyKey = idempotencyKeyFor(request.idempotencySource);
  const log = logger.child({ kind: request.kind, uidRef: uidRef(request.uid), idempotencyKey });
  if (!target) {
    // Dev default: the decision stays in the journey's state and result.
    const { decision } = request.payload;
    log.info(
      { outcome: decision?.outcome, reasons: decision?.reasons },
      'no LOS_CALLBACK_URL configured; hand-off recorded only',
    );
    return { delivered: false, status: null, idempotencyKey };
  }
  const body = callbackBody(request);
  // Per attempt, so an LOS can refuse a recorded call replayed outside its tolerance; the id stays
  // the Idempotency-Key, so a retry inside it is still recognised as the same call.
  const timestamp = Math.floor(Date.now() / 1000);
  // With tracing on, a CLIENT span under the activity's, sent as `traceparent`; off, a no-op.
  const span = losSpan(target.url);
  const traceHeaders: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), traceHeaders);
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      headers: {
        ...traceHeaders,
        'content-type': 'application/json',
        'idempotency-key': idempotencyKey,
        'x-signature': sign(body, target.secret),
        'webhook-id': idempotencyKey,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': standardWebhooksSignature(
          standardWebhooksKey(target.secret),
          idempotencyKey,
          timestamp,
          body,
        ),
      },
      body,
      // A followed redirect would carry the signature and Idempotency-Key (and, for 307/308, the
      // decision) to whatever origin `Location` names, and its answer would count as the LOS's.
      redirect: 'manual',
      signal: cancelled
        ? AbortSignal.any([AbortSignal.timeout(target.timeoutMs), cancelled])
        : AbortSignal.timeout(target.timeoutMs),
    });
  } catch (err) {
    endLosSpan(span, null, (err as Error).name);
    log.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'LOS unreachable');
    throw ApplicationFailure.retryable(`LOS unreachable: ${(err as Error).name}`, HANDOFF_FAILURE.unreachable);
  }
  await discardBody(response);
  const { status } = response;
  endLosSpan(span, status);
  if (status >= 200 && status < 300) {
    log.info({ status }, 'handed off to LOS');
    return { delivered: true, status, idempotencyKey };
  }
  if (status >= 300 && status < 400) {
    // Location is not logged: it is the other side's text and could carry anything. Retryable,
    // because the cure is a configuration change after which delivery must resume by itself.
    log.warn({ status }, 'LOS answered with a redirect; not followed');
    throw ApplicationFailure.retryable(
      `LOS answered HTTP ${status} (redirects are not followed; check LOS_CALLBACK_URL)`,
      HANDOFF_FAILURE.redirected,
      { status },
    );
  }
  // 408 and 429 say "later"; any other 4xx says this request will never be accepted as it is.
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    log.warn({ status }, 'LOS rejected hand-off');
    throw ApplicationFailure.nonRetryable(`LOS rejected the hand-off with HTTP ${status}`, HANDOFF_FAILURE.rejected, {
      status,
    });
  }
  log.warn({ status }, 'LOS hand-off failed; will retry');
  throw ApplicationFailure.retryable(`LOS answered HTTP ${status}`, HANDOFF_FAILURE.failed, { status });
}

/** Named and described by the HTTP semantic conventions; the URL's path and query are left out. */
function losSpan(url: string): Span {
  const { protocol, hostname, port } = new URL(url);
  const scheme = protocol.slice(0, -1);
  return trace.getTracer(TRACER_NAME).startSpan('POST', {
    kind: SpanKind.CLIENT,
    attributes: {
      'http.request.method': 'POST',
      'server.address': hostname,
      'server.port': port ? Number(port) : scheme === 'https' ? 443 : 80,
      'url.scheme': scheme,
    },
  });
}

/** Anything but a 2xx is a failed hand-off (redirects are not followed), and so an error. */
function endLosSpan(span: Span, status: number | null, errorType?: string): void {
  if (status !== null) span.setAttribute('http.response.status_code', status);
  if (status === null || status >= 300) {
    span.setAttribute('error.type', errorType ?? String(status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/**
 * Best effort: the LOS has already answered with its status, so a body that breaks off or times
 * out changes nothing. Past the cap the stream is cancelled, which closes the connection.
 */
async function discardBody(response: Response): Promise<void> {
  const reader = response.body?.getReader();
  if (!reader) return;
  try {
    let read = 0;
    while (read <= MAX_RESPONSE_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
    }
  } catch {
    // Broken off or timed out: nothing left to read, but still released below.
  }
  await reader.cancel().catch(() => undefined);
}
