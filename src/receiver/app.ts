import { randomBytes, randomUUID } from 'node:crypto';
import type { Client, ConnectionLike } from '@temporalio/client';
import getRawBody from 'raw-body';
import express, {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { authenticator } from '../auth/authenticator';
import { parseDelivery, peekIntegrationId } from '../begini/events';
import { verifySignature, type SigningKey } from '../begini/verifier';
import type { ReceiverConfig } from '../config/receiver';
import { allDeployments, deploymentFor } from '../config/deployments';
import { uidRef, type Logger } from '../logger';
import { requestSpans } from '../telemetry';
import { isProgrammingError, refusedByTemporal } from '../temporal/errors';
import { deliver, type Verified } from './deliver';
import { journeysApi } from './journeysApi';
import { openApiDocument } from './openapi';
import type { ReceiverMetrics } from './metrics';
import { problem, PROBLEM_CONTENT_TYPE, Rejection, webhookBody } from './rejection';
import { cached } from './cached';
import { noSpool, type SpoolInstead, type VaultRefused } from '../spool/intake';
import { FALLBACK_VAULT } from '../spool/vault';
import type { IsErased } from '../spool/tombstones';
import type { ErasureStores } from '../operator/erase';
import { uidRateLimiter } from './uidRateLimit';
import { isDeferrable, type Backlogged } from './backlog';
import { IntegrationError } from '../errors';

export const WEBHOOK_PATH = '/webhooks/begini';

export interface ReceiverDeps {
  config: ReceiverConfig;
  connection: ConnectionLike;
  /** A client per namespace: each deployment's journeys live in its own. */
  clients: ReadonlyMap<string, Client>;
  logger: Logger;
  metrics: ReceiverMetrics;
  /** Whether a namespace's journeys are too far behind to take new applications now (src/receiver/backlog.ts). */
  backlogged: Backlogged;
  /** Where a delivery Temporal cannot take goes instead (the intake spool); unset: nowhere, 503. */
  spoolInstead?: SpoolInstead;
  /** With the spool on, ready while either can take a delivery. */
  spoolReachable?: () => Promise<boolean>;
  /** With the spool on, keeps a delivery refused for a mismatched signature (src/spool/vault.ts); never throws. */
  vaultRefused?: VaultRefused;
  /** With the spool on: the tombstone lookup, and the stores an erasure writes (src/operator/erase.ts). */
  isErased?: IsErased;
  erasure?: ErasureStores;
}

// One answer for a bad signature and for an integration this receiver does not know, so a caller
// cannot learn which integration ids exist; the log keeps the difference.
const SIGNATURE_MESSAGES = {
  missing_signature: 'X-Signature header is missing',
  malformed_signature: 'X-Signature must be 128 hex characters (HMAC-SHA512)',
  signature_mismatch: 'X-Signature does not match the body under any key configured for its integration',
} as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Case-sensitive and strict: `/Webhooks/Begini` and `/webhooks/begini/` are not the endpoint. */
function strictApp() {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  return app;
}

/**
 * The internet-facing listener: the webhook Begini calls, and the health checks a load balancer
 * needs. Nothing else: metrics and the operator API are on the internal listener.
 */
export function createReceiverApp(deps: ReceiverDeps) {
  const { config, connection, clients, logger, metrics } = deps;
  const spoolInstead = deps.spoolInstead ?? noSpool;
  const app = strictApp();
  let inFlight = 0;
  const perUid = uidRateLimiter(config.uidRateLimit);
  // Verified against when the integration is unknown: as many keys as the largest deployment has,
  // so that case costs the same time as a mismatch.
  const decoyKeys: SigningKey[] = Array.from(
    { length: Math.max(...allDeployments(config).map((d) => d.keys.length)) },
    (_, i) => ({
      id: `decoy-${i}`,
      secret: randomBytes(32).toString('hex'),
    }),
  );

  app.use(accessLog(logger, metrics));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Unauthenticated, so answered from a short cache: a flood of probes costs Temporal one call a second.
  const temporalReachable = cached(1_000, async () => {
    try {
      await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
      return true;
    } catch {
      return false;
    }
  });
  const spoolReachable = deps.spoolReachable && cached(1_000, deps.spoolReachable);
  // With the spool on, its database decides: it takes what Temporal cannot, and every delivery's
  // erasure check reads it, so without it nothing is answered 200 even with Temporal up.
  app.get('/readyz', async (_req, res) => {
    if (spoolReachable) {
      if (await spoolReachable()) res.json({ status: 'ready' });
      else res.status(503).json({ status: 'unavailable', reason: 'database_unreachable' });
    } else if (await temporalReachable()) res.json({ status: 'ready' });
    else res.status(503).json({ status: 'unavailable', reason: 'temporal_unreachable' });
  });

  app.all(
    WEBHOOK_PATH,
    // With tracing on, the root span of the delivery's trace; off, nothing.
    ...requestSpans(WEBHOOK_PATH),
    (req, _res, next) => {
      if (req.method !== 'POST')
        return next(new Rejection(405, 'method_not_allowed', 'use POST', 'Method Not Allowed', { allow: 'POST' }));
      if (!req.is('application/json')) {
        return next(
          new Rejection(
            415,
            'unsupported_media_type',
            'Content-Type must be application/json',
            'Unsupported Media Type',
          ),
        );
      }
      next();
    },
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        // The HMAC must see the bytes exactly as sent, so nothing is inflated.
        const encoding = req.headers['content-encoding'];
        if (encoding && encoding !== 'identity') {
          throw new Rejection(
            415,
            'unsupported_encoding',
            'Content-Encoding is not supported; send the body as is',
            'Unsupported Media Type',
          );
        }
        // raw-body stops reading the moment the limit is passed (or at once, if Content-Length says so).
        const rawBody = await getRawBody(req, { limit: config.maxBodyBytes, length: req.headers['content-length'] });
        await handleDelivery(rawBody, req, res);
      } catch (err) {
        next(err);
      }
    },
  );
  app.use(notFound);
  app.use(rejectionHandler(logger, 'webhook'));

  async function handleDelivery(rawBody: Buffer, req: Request, res: Response): Promise<void> {
    const receivedAt = new Date();

    let json: unknown;
    let text: string | undefined;
    try {
      text = utf8.decode(rawBody);
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    // The integration id only picks the keys; the HMAC always covers the raw bytes.
    const deployment = deploymentFor(config, peekIntegrationId(json));
    const verdict = verifySignature(rawBody, req.headers['x-signature'], deployment?.keys ?? decoyKeys);
    if (!verdict.ok) {
      const reason = verdict.reason === 'unknown_integration' ? 'signature_mismatch' : verdict.reason;
      res.locals.verdict = deployment ? verdict.reason : 'unknown_integration';
      // Only a well-formed signature for a configured integration can verify after a key fix. Not
      // awaited: the 403 must take as long for a configured id as for an unknown one (the vault's
      // per-second admission is synchronous, so the inserts left running are bounded).
      if (deployment && verdict.reason === 'signature_mismatch')
        void deps.vaultRefused?.(config.fallback ? FALLBACK_VAULT : peekIntegrationId(json)!, {
          signature: String(req.headers['x-signature']).trim(),
          rawBody,
          receivedAt,
        });
      throw new Rejection(403, reason, SIGNATURE_MESSAGES[reason], 'Validation Failure');
    }
    // The decoy cannot verify, so a verified delivery always has its deployment.
    const target = deployment!;

    if (text === undefined || json === undefined)
      throw new Rejection(400, 'invalid_json', 'body must be UTF-8 JSON', 'Bad Request');
    const parsed = parseDelivery(json);
    if (!parsed.ok) throw new Rejection(400, parsed.reason, parsed.message, 'Bad Request');
    res.locals.uidRef = uidRef(parsed.uid);
    res.locals.keyId = verdict.keyId;
    res.locals.eventType = parsed.event.type;

    // An application while the journeys are behind waits (src/receiver/backlog.ts). With the spool
    // off it is refused here, before it spends its uid's allowance: Begini's retries of it must not
    // leave that uid's score a 429.
    const deferred = isDeferrable(parsed.event.type) && (await deps.backlogged(target.namespace));
    if (deferred && !deps.spoolInstead) throw journeysBehind();
    // Verified first, so only a key holder can spend a uid's allowance; before Temporal, so a
    // replayed delivery never reaches the journey's history beyond it. Per deployment: one
    // deployment's key never spends the allowance of another's journey of the same uid.
    const admission = perUid.admit(JSON.stringify([parsed.integrationId, parsed.uid]));
    if (!admission.admitted) {
      throw new Rejection(
        429,
        'uid_rate_limited',
        'too many deliveries for this uid; retry after the Retry-After seconds',
        'Too Many Requests',
        { 'retry-after': String(admission.retryAfterSeconds) },
      );
    }
    const verified: Verified = {
      uid: parsed.uid,
      integrationId: parsed.integrationId,
      deployment: target,
      keyId: verdict.keyId,
      event: parsed.event,
      rawBody,
      receivedAt,
    };
    // Before Temporal and the spool: an erased uid's delivery starts nothing, on every receiver.
    if (deps.isErased && (await checkTombstone(deps.isErased, verified))) {
      metrics.erasedDeliveries.inc({ path: 'webhook' });
      res.locals.reason = 'erased';
      res.status(200).json({ status: 'erased' });
      return;
    }
    // Scores and everything else go straight in, so no decision queues behind a flood of new applications.
    if (deferred) {
      await spoolInstead(verified, journeysBehind());
      return accepted(res, verified, 'deferred');
    }
    if (inFlight >= config.maxInFlight) {
      await spoolInstead(
        verified,
        new Rejection(503, 'overloaded', 'too many deliveries in flight; retry shortly', 'Service Unavailable', {
          'retry-after': '1',
        }),
      );
      return accepted(res, verified, 'spooled');
    }
    inFlight++;
    metrics.inFlight.set(inFlight);
    let landed: Awaited<ReturnType<typeof deliver>> | 'spooled';
    try {
      landed = await withTimeout(
        connection.withDeadline(Date.now() + config.ackTimeoutMs, () =>
          deliver(
            {
              client: clients.get(target.namespace)!,
              taskQueue: config.taskQueue,
              workflowIdPrefix: config.workflowIdPrefix,
            },
            verified,
          ),
        ),
        config.ackTimeoutMs,
      );
    } catch (err) {
      // The call may still have landed; the journey's dedupe absorbs the retry (or the spooled copy) this invites.
      logger.warn(
        { reqId: res.locals.reqId, err: { name: (err as Error).name, message: (err as Error).message } },
        'Temporal did not accept the delivery',
      );
      await spoolInstead(verified, temporalRejection(err));
      landed = 'spooled';
    } finally {
      inFlight--;
      metrics.inFlight.set(inFlight);
    }
    if (landed === 'too_old') {
      throw new Rejection(
        422,
        'event_too_old',
        'the event is older than this deployment accepts and its journey is closed',
        'Unprocessable Content',
      );
    }
    accepted(
      res,
      verified,
      landed === 'journey' ? 'accepted' : landed === 'spooled' ? 'spooled' : 'accepted_after_close',
    );
  }

  /** Fail closed: a tombstone lookup that cannot answer is a 503 (Begini retries), never an unchecked start. */
  async function checkTombstone(isErased: IsErased, verified: Verified): Promise<boolean> {
    try {
      return await isErased(verified);
    } catch (err) {
      logger.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'tombstone lookup failed');
      throw new Rejection(
        503,
        'erasure_check_unavailable',
        'whether this applicant was erased cannot be checked now; retry later',
        'Service Unavailable',
        { 'retry-after': '5' },
      );
    }
  }

  function accepted(res: Response, verified: Verified, reason: string): void {
    metrics.deliveriesByKey.inc({ key_id: verified.keyId, environment: verified.deployment.environment });
    res.locals.reason = reason;
    res.status(200).json({ status: 'accepted' });
  }

  return app;
}

/** The operators' listener (loopback by default): Prometheus metrics and the journey API. */
export function createInternalApp(deps: ReceiverDeps) {
  const { config, clients, logger, metrics } = deps;
  const app = strictApp();
  app.use((req, res, next) => {
    res.locals.reqId = requestId(req);
    res.set('x-request-id', res.locals.reqId);
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  const openApi = JSON.stringify(openApiDocument());
  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openApi);
  });
  // Off unless operator authentication is configured: never open by default.
  if (config.operatorAuth) {
    const authenticate = authenticator(config.operatorAuth);
    app.use(journeysApi({ config, clients, authenticate, logger, erasure: deps.erasure }));
  }
  app.use(notFound);
  app.use(rejectionHandler(logger, 'problem'));
  return app;
}

/** Request id, access log and metrics for every request on the public listener. */
function accessLog(logger: Logger, metrics: ReceiverMetrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.locals.reqId = requestId(req);
    res.set('x-request-id', res.locals.reqId);
    res.on('finish', () => {
      if (req.path === '/healthz' || req.path === '/readyz') return;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = String(res.statusCode);
      const reason = (res.locals.reason as string | undefined) ?? 'none';
      metrics.requests.inc({ status, reason });
      metrics.ackSeconds.observe({ status }, seconds);
      logger.info(
        {
          reqId: res.locals.reqId,
          method: req.method,
          // Any other path is attacker-chosen text: logged by kind, not verbatim.
          route: req.path === WEBHOOK_PATH ? WEBHOOK_PATH : 'other',
          status: res.statusCode,
          reason,
          verdict: res.locals.verdict,
          uidRef: res.locals.uidRef,
          keyId: res.locals.keyId,
          eventType: res.locals.eventType,
          ms: Math.round(seconds * 1000),
        },
        'webhook',
      );
    });
    next();
  };
}

function requestId(req: Request): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
}

const notFound: RequestHandler = (_req, _res, next) => {
  next(new Rejection(404, 'not_found', 'no such endpoint', 'Not Found'));
};

/**
 * Every rejection as JSON with a reason: the webhook's own shape on the public listener, RFC 9457
 * problem details on the internal one. A client error the framework raised (bad percent-encoding,
 * a body that is not JSON) is a 4xx; only a fault of ours is a 5xx, and it never blames Temporal.
 */
function rejectionHandler(logger: Logger, style: 'webhook' | 'problem'): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let rejection = err instanceof Rejection ? err : frameworkRejection(err);
    if (!rejection) {
      logger.error({ reqId: res.locals.reqId, err: { name: err?.name, message: err?.message } }, 'unexpected error');
      rejection = new Rejection(500, 'internal_error', 'the request could not be handled', 'Internal Server Error');
    }
    res.locals.reason = rejection.reason;
    if (rejection.status === 413) {
      // The rest of the body is never read; the connection cannot be reused.
      res.set('connection', 'close');
      res.once('finish', () => req.destroy());
    }
    res.set(rejection.headers).status(rejection.status);
    if (style === 'webhook') res.json(webhookBody(rejection));
    else res.type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem(rejection)));
  };
}

function frameworkRejection(err: unknown): Rejection | undefined {
  const { type, status } = (err ?? {}) as { type?: string; status?: number };
  switch (type) {
    case 'entity.too.large':
      return new Rejection(413, 'payload_too_large', 'body exceeds the configured limit', 'Payload Too Large');
    case 'request.aborted':
    case 'request.size.invalid':
      return new Rejection(400, 'incomplete_body', 'the body ended before its declared length', 'Bad Request');
    case 'entity.parse.failed':
      return new Rejection(400, 'invalid_json', 'body must be JSON', 'Bad Request');
  }
  if (err instanceof URIError)
    return new Rejection(400, 'bad_request', 'the path is not valid percent-encoding', 'Bad Request');
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new Rejection(status, 'bad_request', 'the request is malformed', 'Bad Request');
  return undefined;
}

/** An application while the journeys are behind, with the spool off (src/receiver/backlog.ts). */
function journeysBehind(): Rejection {
  return new Rejection(
    503,
    'journeys_backlogged',
    'the journeys are behind; an application waits until they catch up; retry later',
    'Service Unavailable',
    { 'retry-after': '5' },
  );
}

/**
 * What a failed signalWithStart means for Begini: 503 (retry) only for what can clear. Temporal
 * calling the event itself invalid can never clear, and a fault of ours is not Temporal's.
 */
export function temporalRejection(err: unknown): Rejection {
  if (refusedByTemporal(err) !== null) {
    return new Rejection(
      400,
      'rejected_by_temporal',
      'Temporal refuses this event as it is; it cannot be accepted',
      'Bad Request',
    );
  }
  if (isProgrammingError(err)) {
    return new Rejection(500, 'internal_error', 'the event could not be handled', 'Internal Server Error');
  }
  const timedOut = err instanceof TimeoutError || /deadline/i.test((err as Error).message);
  return new Rejection(
    503,
    timedOut ? 'temporal_timeout' : 'temporal_unavailable',
    'the event was not durably accepted; retry later',
    'Service Unavailable',
    {
      'retry-after': '5',
    },
  );
}

class TimeoutError extends IntegrationError<'timeout'> {
  constructor(ms: number) {
    super('timeout', `no answer in ${ms} ms`);
  }
}

/** A hard bound on the answer, even if the gRPC deadline never fires (e.g. a lazy connect hangs). */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(ms)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
