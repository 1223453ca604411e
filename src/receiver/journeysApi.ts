/**
 * The operators' API over journeys, on the internal listener and only when OPERATOR_API_TOKEN is
 * configured:
 *   GET  /journeys/:uid          the `journey` query
 *   GET  /journeys?stage=&decision=&since=&limit=   a visibility list
 *   POST /journeys/:uid/review   the `review` update
 * With several deployments, `?integration=<integrationId>` picks whose journeys (each lives in its
 * deployment's namespace).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { envelopeSchema } from '../begini/events';
import { allDeployments, type ReceiverConfig } from '../config';
import type { Logger } from '../logger';
import {
  journeyQuery,
  REVIEW_REJECTIONS,
  reviewUpdate,
  searchAttributes,
  STAGES,
  WORKFLOW_TYPES,
} from '../../workflows/definitions';
import { Rejection } from './rejection';

// A visibility query takes years 1000–9999 at most; anything else would fail inside Temporal.
const since = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value))
  .refine(
    (date) => date.getUTCFullYear() >= 2000 && date.getUTCFullYear() <= 9999,
    'must be between the years 2000 and 9999',
  );

export const listQuery = z.strictObject({
  stage: z.enum(STAGES).optional(),
  decision: z.enum(['APPROVE', 'DECLINE', 'REFER']).optional(),
  since: since.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  integration: z.string().max(128).optional(),
});

export const reviewBody = z.strictObject({
  outcome: z.enum(['APPROVE', 'DECLINE']),
  reviewer: z.string().trim().min(1).max(200),
  note: z.string().max(2000).optional(),
});

export interface JourneysApiDeps {
  config: ReceiverConfig;
  clients: ReadonlyMap<string, Client>;
  token: string;
  logger: Logger;
}

export function journeysApi({ config, clients, token, logger }: JourneysApiDeps): express.Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const expected = digest(token);
  const deployments = allDeployments(config);
  const workflowId = (uid: string) => `${config.workflowIdPrefix}${uid}`;

  /** The client of the namespace whose journeys the request is about. */
  function clientFor(req: Request): Client {
    const integration = typeof req.query.integration === 'string' ? req.query.integration : undefined;
    const deployment =
      integration === undefined
        ? deployments.length === 1
          ? deployments[0]
          : undefined
        : deployments.find((d) => d.integrationId === integration);
    if (!deployment) {
      throw integration === undefined
        ? new Rejection(
            400,
            'integration_required',
            'several deployments are configured: add ?integration=<integrationId>',
            'Bad Request',
          )
        : new Rejection(404, 'unknown_integration', 'no deployment with that integration id', 'Not Found');
    }
    return clients.get(deployment.namespace)!;
  }

  function uidParam(req: Request): string {
    const uid = envelopeSchema.shape.uid.safeParse(req.params.uid);
    if (!uid.success) throw new Rejection(400, 'invalid_uid', `uid: ${uid.error.issues[0]!.message}`, 'Bad Request');
    return uid.data;
  }

  router.use('/journeys', (req: Request, res: Response, next: NextFunction) => {
    res.on('finish', () => {
      // The path holds a uid: log the route's shape only.
      logger.info(
        {
          reqId: res.locals.reqId,
          method: req.method,
          api: 'journeys',
          status: res.statusCode,
          reason: res.locals.reason ?? 'none',
        },
        'operator api',
      );
    });
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    // Compared as digests, so neither the length nor the content of the token leaks through timing.
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      return next(
        new Rejection(
          401,
          'unauthorized',
          'a valid Authorization: Bearer <OPERATOR_API_TOKEN> is required',
          'Unauthorized',
          { 'www-authenticate': 'Bearer' },
        ),
      );
    }
    next();
  });

  router.get('/journeys', async (req, res) => {
    const parsed = listQuery.safeParse(req.query);
    if (!parsed.success) throw new Rejection(400, 'invalid_query', firstIssue(parsed.error), 'Bad Request');
    const { stage, decision, since, limit } = parsed.data;
    const client = clientFor(req);
    const clauses = [`WorkflowType = '${WORKFLOW_TYPES.journey}'`];
    if (stage) clauses.push(`${searchAttributes.stage.name} = '${stage}'`);
    if (decision) clauses.push(`${searchAttributes.decision.name} = '${decision}'`);
    if (since) clauses.push(`StartTime >= '${since.toISOString()}'`);
    const query = clauses.join(' AND ');
    const journeys = [];
    try {
      for await (const execution of client.workflow.list({ query, pageSize: limit })) {
        journeys.push({
          uid: execution.workflowId.slice(config.workflowIdPrefix.length),
          status: execution.status.name,
          stage: execution.typedSearchAttributes.get(searchAttributes.stage) ?? null,
          decision: execution.typedSearchAttributes.get(searchAttributes.decision) ?? null,
          flags: execution.typedSearchAttributes.get(searchAttributes.flags) ?? [],
          startTime: execution.startTime.toISOString(),
          closeTime: execution.closeTime?.toISOString() ?? null,
        });
        if (journeys.length >= limit) break;
      }
    } catch (err) {
      throw unavailable(err);
    }
    res.json({ query, journeys });
  });

  router.get('/journeys/:uid', async (req, res) => {
    const uid = uidParam(req);
    try {
      const client = clientFor(req);
      res.json(await bounded(client, () => client.workflow.getHandle(workflowId(uid)).query(journeyQuery)));
    } catch (err) {
      throw notFound(err) ?? unavailable(err);
    }
  });

  router.post('/journeys/:uid/review', express.json({ limit: '16kb' }), async (req, res) => {
    const uid = uidParam(req);
    const parsed = reviewBody.safeParse(req.body);
    if (!parsed.success) throw new Rejection(400, 'invalid_review', firstIssue(parsed.error), 'Bad Request');
    try {
      const client = clientFor(req);
      const decision = await bounded(client, () =>
        client.workflow.getHandle(workflowId(uid)).executeUpdate(reviewUpdate, { args: [parsed.data] }),
      );
      res.json({ decision });
    } catch (err) {
      const missing = notFound(err);
      if (missing) throw missing;
      const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === REVIEW_REJECTIONS.notInReview) {
        throw new Rejection(409, 'not_in_review', cause.message, 'Conflict');
      }
      if (cause instanceof ApplicationFailure) throw new Rejection(400, 'invalid_review', cause.message, 'Bad Request');
      throw unavailable(err);
    }
  });

  return router;
}

/** An operator waits at most this long: a query or update no worker takes up in time is a 503, not a hung request. */
const TEMPORAL_CALL_MS = 5_000;

function bounded<T>(client: Client, call: () => Promise<T>): Promise<T> {
  return client.connection.withDeadline(Date.now() + TEMPORAL_CALL_MS, call);
}

/**
 * Anything Temporal answers that is not about the request itself (an unreachable frontend, a query
 * or update that found no worker in time) can clear: 503, never a 500 that blames this code.
 */
function unavailable(err: unknown): unknown {
  if (
    err instanceof Rejection ||
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof ReferenceError
  )
    return err;
  return new Rejection(
    503,
    'temporal_unavailable',
    'Temporal did not answer in time; retry later',
    'Service Unavailable',
    {
      'retry-after': '5',
    },
  );
}

function notFound(err: unknown): Rejection | undefined {
  return err instanceof WorkflowNotFoundError
    ? new Rejection(404, 'unknown_journey', 'no journey with that uid', 'Not Found')
    : undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || 'body'}: ${issue.message}`;
}
