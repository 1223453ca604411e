import { randomUUID } from 'node:crypto';
import type { Client, Connection } from '@temporalio/client';
import getRawBody from 'raw-body';
import express, { type ErrorRequestHandler, type NextFunction, type Request, type Response } from 'express';
import { parseDelivery, peekIntegrationId } from '../begini/events';
import { verifySignature } from '../begini/verifier';
import { deploymentFor, type ReceiverConfig } from '../config';
import { uidRef, type Logger } from '../logger';
import { deliver } from './deliver';
import { journeysApi } from './journeysApi';
import type { ReceiverMetrics } from './metrics';
import { Rejection } from './rejection';

export const WEBHOOK_PATH = '/webhooks/begini';

export interface ReceiverDeps {
  config: ReceiverConfig;
  connection: Connection;
  client: Client;
  logger: Logger;
  metrics: ReceiverMetrics;
}

const SIGNATURE_MESSAGES = {
  missing_signature: 'X-Signature header is missing',
  malformed_signature: 'X-Signature must be 128 hex characters (HMAC-SHA512)',
  signature_mismatch: 'X-Signature does not match the body under any configured key for this integration',
  unknown_integration: 'integration_id is not configured on this receiver',
} as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function createReceiverApp(deps: ReceiverDeps) {
  const { config, connection, client, logger, metrics } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  let inFlight = 0;

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    try {
      await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'unavailable', reason: 'temporal_unreachable' });
    }
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const webhook = express.Router();
  webhook.all(
    WEBHOOK_PATH,
    (req, _res, next) => {
      if (req.method !== 'POST') return next(new Rejection(405, 'method_not_allowed', 'use POST', 'Method Not Allowed', { allow: 'POST' }));
      if (!req.is('application/json')) {
        return next(new Rejection(415, 'unsupported_media_type', 'Content-Type must be application/json', 'Unsupported Media Type'));
      }
      next();
    },
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        // The HMAC must see the bytes exactly as sent, so nothing is inflated.
        const encoding = req.headers['content-encoding'];
        if (encoding && encoding !== 'identity') {
          throw new Rejection(415, 'unsupported_encoding', 'Content-Encoding is not supported; send the body as is', 'Unsupported Media Type');
        }
        // raw-body stops reading the moment the limit is passed (or at once, if Content-Length says so).
        const rawBody = await getRawBody(req, { limit: config.maxBodyBytes, length: req.headers['content-length'] });
        await handleDelivery(rawBody, req, res);
      } catch (err) {
        next(err);
      }
    },
  );
  app.use(webhook);
  // Off unless a token is configured: never open by default.
  if (config.operatorApiToken) {
    app.use(journeysApi({ client, token: config.operatorApiToken, workflowIdPrefix: config.workflowIdPrefix }));
  }

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
    const verdict = verifySignature(rawBody, req.headers['x-signature'], deployment?.keys ?? []);
    if (!verdict.ok) throw new Rejection(403, verdict.reason, SIGNATURE_MESSAGES[verdict.reason], 'Validation Failure');

    if (text === undefined || json === undefined) throw new Rejection(400, 'invalid_json', 'body must be UTF-8 JSON', 'Bad Request');
    const parsed = parseDelivery(json);
    if (!parsed.ok) throw new Rejection(400, parsed.reason, parsed.message, 'Bad Request');
    res.locals.uidRef = uidRef(parsed.uid);
    res.locals.keyId = verdict.keyId;
    res.locals.eventType = parsed.event.type;

    if (inFlight >= config.maxInFlight) {
      throw new Rejection(503, 'overloaded', 'too many deliveries in flight; retry shortly', 'Service Unavailable', { 'retry-after': '1' });
    }
    inFlight++;
    metrics.inFlight.set(inFlight);
    let landed: string;
    try {
      landed = await withTimeout(
        connection.withDeadline(Date.now() + config.ackTimeoutMs, () =>
          deliver(
            { client, taskQueue: config.taskQueue, workflowIdPrefix: config.workflowIdPrefix },
            { uid: parsed.uid, integrationId: parsed.integrationId, deployment: deployment!, keyId: verdict.keyId, event: parsed.event, rawBody, receivedAt },
          ),
        ),
        config.ackTimeoutMs,
      );
    } catch (err) {
      // The call may still have landed; the journey's dedupe absorbs the retry this invites.
      logger.warn({ reqId: res.locals.reqId, err: { name: (err as Error).name, message: (err as Error).message } }, 'Temporal did not accept the delivery');
      const timedOut = err instanceof TimeoutError || /deadline/i.test((err as Error).message);
      throw new Rejection(
        503,
        timedOut ? 'temporal_timeout' : 'temporal_unavailable',
        'the event was not durably accepted; retry later',
        'Service Unavailable',
        { 'retry-after': '5' },
      );
    } finally {
      inFlight--;
      metrics.inFlight.set(inFlight);
    }
    metrics.deliveriesByKey.inc({ key_id: verdict.keyId, environment: deployment!.environment });
    res.locals.landed = landed;
    res.locals.reason = landed === 'journey' ? 'accepted' : 'accepted_after_close';
    res.status(200).json({ status: 'accepted' });
  }

  const rejectionHandler: ErrorRequestHandler = (err, req, res, _next) => {
    const rejection =
      err instanceof Rejection
        ? err
        : bodyParserRejection(err) ?? new Rejection(503, 'internal_error', 'the event was not accepted; retry later', 'Service Unavailable', { 'retry-after': '5' });
    if (!(err instanceof Rejection) && !bodyParserRejection(err)) {
      logger.error({ reqId: res.locals.reqId, err: { name: err?.name, message: err?.message } }, 'unexpected error');
    }
    res.locals.reason = rejection.reason;
    if (rejection.status === 413) {
      // The rest of the body is never read; the connection cannot be reused.
      res.set('connection', 'close');
      res.once('finish', () => req.destroy());
    }
    res.set(rejection.headers).status(rejection.status).json({ detail: rejection.detail, reason: rejection.reason, message: rejection.message });
  };

  // Request id, access log and metrics around everything above.
  const outer = express();
  outer.disable('x-powered-by');
  outer.set('etag', false);
  outer.use((req, res, next) => {
    const started = process.hrtime.bigint();
    const incoming = req.headers['x-request-id'];
    res.locals.reqId = typeof incoming === 'string' && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    res.set('x-request-id', res.locals.reqId);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (req.path.startsWith('/journeys')) {
        // The path holds a uid: log the route's shape only.
        logger.info({ reqId: res.locals.reqId, method: req.method, api: 'journeys', status: res.statusCode, reason: res.locals.reason ?? 'none', ms: Math.round(seconds * 1000) }, 'operator api');
        return;
      }
      if (req.path !== WEBHOOK_PATH) return;
      const status = String(res.statusCode);
      const reason = (res.locals.reason as string | undefined) ?? 'none';
      metrics.requests.inc({ status, reason });
      metrics.ackSeconds.observe({ status }, seconds);
      logger.info(
        {
          reqId: res.locals.reqId,
          method: req.method,
          path: req.path,
          status: res.statusCode,
          reason,
          uidRef: res.locals.uidRef,
          keyId: res.locals.keyId,
          eventType: res.locals.eventType,
          ms: Math.round(seconds * 1000),
        },
        'webhook',
      );
    });
    next();
  });
  outer.use(app);
  outer.use((_req, res) => {
    res.status(404).json({ detail: 'Not Found', reason: 'not_found', message: 'no such endpoint' });
  });
  outer.use(rejectionHandler);
  return outer;
}

function bodyParserRejection(err: unknown): Rejection | undefined {
  const type = (err as { type?: string } | undefined)?.type;
  switch (type) {
    case 'entity.too.large':
      return new Rejection(413, 'payload_too_large', 'body exceeds the configured limit', 'Payload Too Large');
    case 'request.aborted':
    case 'request.size.invalid':
      return new Rejection(400, 'incomplete_body', 'the body ended before its declared length', 'Bad Request');
    default:
      return undefined;
  }
}

class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** A hard bound on the answer, even if the gRPC deadline never fires (e.g. a lazy connect hangs). */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(`no answer in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
