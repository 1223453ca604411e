/**
 * The operators' API over journeys, on the internal listener and only when operator authentication
 * is configured (src/auth): every caller is a named principal with a role.
 *   GET  /journeys/:uid            viewer    the journey run's `journey` query, deliveries after its close beside it
 *   GET  /journeys?stage=&decision=&handoff=&query=&since=&limit=   viewer   a visibility list
 *   POST /journeys/:uid/review     reviewer  the `review` update, recorded as the principal
 *   POST /journeys/:uid/reopen     reviewer  the `reopen` update: a delivered decision back in review
 *   POST /journeys/:uid/redrive    admin     the `redrive` update
 *   POST /journeys/redrive         admin     redrive every journey a filter selects (rate limited, dry-run)
 *   POST /journeys/:uid/erase      admin     erase the applicant: tombstone, every run, spool and vault rows (eraseRoute.ts)
 * With several deployments, `?integration=<integrationId>` picks whose journeys (each lives in its
 * deployment's namespace). Every operator action is also one `operator action` audit log line.
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Authenticate } from '../auth/authenticator';
import { allows, AuthFailure, type Principal } from '../auth/principal';
import { CONTROL_CHARS, envelopeSchema } from '../begini/events';
import type { ReceiverConfig } from '../config/receiver';
import { selectDeployment, type Deployment } from '../config/deployments';
import { durationSchema } from '../duration';
import type { ErasureStores } from '../operator/erase';
import { uidRef, type Logger } from '../logger';
import { paced } from '../operator/pace';
import { isProgrammingError, refusedByTemporal } from '../temporal/errors';
import { eraseRoute } from './eraseRoute';
import { journeyView } from './journeyView';
import {
  FINAL_OUTCOMES,
  HANDOFF_STATUSES,
  MAX_REVIEW_REASONS,
  OUTCOMES,
  REASON_CODE,
  REDRIVE_REJECTIONS,
  redriveUpdate,
  REOPEN_MAX_WITHIN_MS,
  REOPEN_REJECTIONS,
  reopenUpdate,
  REVIEW_REJECTIONS,
  reviewUpdate,
  searchAttributes,
  STAGES,
  workflowIdFor,
  WORKFLOW_TYPES,
  type OperatorActor,
  type OperatorRole,
  type RedriveResult,
} from '../../workflows/definitions';
import { journeyRefusalOf, operatorUpdateId, type JourneyRefusal } from './operatorUpdate';
import { Rejection } from './rejection';

// A visibility query takes years 1000–9999 at most; anything else would fail inside Temporal.
const since = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value))
  .refine(
    (date) => date.getUTCFullYear() >= 2000 && date.getUTCFullYear() <= 9999,
    'must be between the years 2000 and 9999',
  );

const journeyFilter = {
  stage: z.enum(STAGES).optional(),
  decision: z.enum(OUTCOMES).optional(),
  // `not_started` is never published as the search attribute, so no journey would match it.
  handoff: z.enum(HANDOFF_STATUSES).exclude(['not_started']).optional(),
  /** A visibility list filter, ANDed with the others (e.g. `BeginiFlags = 'handoff_rejected'`). */
  query: z
    .string()
    .min(1)
    .max(1_000)
    .refine((value) => !CONTROL_CHARS.test(value), 'must not contain control characters')
    .optional(),
  since: since.optional(),
};

export const listQuery = z.strictObject({
  ...journeyFilter,
  limit: z.coerce.number().int().min(1).max(500).default(50),
  integration: z.string().max(128).optional(),
});

/** No `reviewer`: the reviewer is the authenticated principal. */
export const reviewBody = z
  .strictObject({
    outcome: z.enum(FINAL_OUTCOMES),
    reasons: z
      .array(z.string().regex(REASON_CODE, 'must be a reason code of the policy'))
      .max(MAX_REVIEW_REASONS)
      .optional()
      .meta({ description: "Reason codes of the worker's policy; their texts go to the LOS as principal reasons" }),
    note: z.string().max(2000).optional(),
  })
  // The applicant's notice must say why; the journey checks each code against the policy (unknown_reason_code).
  .refine((body) => body.outcome !== 'DECLINE' || (body.reasons?.length ?? 0) > 0, {
    path: ['reasons'],
    message: 'a DECLINE names at least one reason code of the policy',
  });

const reason = z.string().trim().min(1).max(1_000);

export const redriveBody = z.strictObject({ reason });

export const reopenBody = z.strictObject({
  reason,
  reviewWithin: durationSchema
    .refine((ms) => ms >= 60_000 && ms <= REOPEN_MAX_WITHIN_MS, 'must be from 1m to 30d')
    .optional()
    .meta({ description: 'How long the review stays open (default 48h); past it the delivered decision stands' }),
});

export const bulkRedriveBody = z
  .strictObject({
    filter: z.strictObject(journeyFilter),
    reason,
    dryRun: z.boolean().default(false),
    limit: z.number().int().min(1).max(100).default(20),
    perSecond: z.number().min(0.5).max(20).default(5),
  })
  // The answer comes when the last journey is done: keep it within half a minute (the CLI has no such limit).
  .refine(
    (body) => body.limit / body.perSecond <= 30,
    'limit / perSecond must be at most 30 seconds; use npm run redrive for more',
  );

export interface JourneysApiDeps {
  config: ReceiverConfig;
  clients: ReadonlyMap<string, Client>;
  authenticate: Authenticate;
  logger: Logger;
  /** On the integration's database; unset without SPOOL_DATABASE_URL (erasure then refuses). */
  erasure?: ErasureStores;
}

export function journeysApi({ config, clients, authenticate, logger, erasure }: JourneysApiDeps): express.Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const workflowId = (uid: string) => workflowIdFor(config.workflowIdPrefix, uid);

  /** The deployment whose journeys the request is about. */
  function deploymentOf(req: Request): Deployment {
    const integration = typeof req.query.integration === 'string' ? req.query.integration : undefined;
    const deployment = selectDeployment(config, integration);
    if (typeof deployment === 'string') {
      throw deployment === 'integration_required'
        ? new Rejection(
            400,
            'integration_required',
            'several deployments are configured: add ?integration=<integrationId>',
            'Bad Request',
          )
        : new Rejection(404, 'unknown_integration', 'no deployment with that integration id', 'Not Found');
    }
    return deployment;
  }

  /** The client of the namespace whose journeys the request is about. */
  function clientFor(req: Request): Client {
    return clients.get(deploymentOf(req).namespace)!;
  }

  function uidParam(req: Request): string {
    const uid = envelopeSchema.shape.uid.safeParse(req.params.uid);
    if (!uid.success) throw new Rejection(400, 'invalid_uid', `uid: ${uid.error.issues[0]!.message}`, 'Bad Request');
    return uid.data;
  }

  function updateIdOf(action: string, res: Response): string {
    return operatorUpdateId(action, res.locals.principal as Principal, String(res.locals.reqId));
  }

  /** A 503 means Temporal did not answer in time: the update may still apply, so it is not a refusal. */
  function refusalOf(rejection: unknown): Record<string, unknown> {
    if (!(rejection instanceof Rejection)) return { refused: 'error' };
    return rejection.status === 503 ? { outcome: 'unknown', reason: rejection.reason } : { refused: rejection.reason };
  }

  function actorOf(res: Response): OperatorActor {
    const principal = res.locals.principal as Principal;
    return { name: principal.name, role: principal.role, requestId: String(res.locals.reqId) };
  }

  /** One structured line per operator action: who, role, what, on which journey (by ref), with what result. */
  function auditLog(res: Response, action: string, uid: string, result: Record<string, unknown>): void {
    const principal = res.locals.principal as Principal;
    logger.info(
      {
        audit: true,
        reqId: res.locals.reqId,
        principal: principal.name,
        role: principal.role,
        authMethod: principal.method,
        action,
        uidRef: uidRef(uid),
        ...result,
      },
      'operator action',
    );
  }

  router.use('/journeys', async (req: Request, res: Response, next: NextFunction) => {
    res.on('finish', () => {
      // The path holds a uid: log the route's shape only.
      const principal = res.locals.principal as Principal | undefined;
      logger.info(
        {
          reqId: res.locals.reqId,
          method: req.method,
          api: 'journeys',
          status: res.statusCode,
          reason: res.locals.reason ?? 'none',
          principal: principal?.name,
          role: principal?.role,
        },
        'operator api',
      );
    });
    try {
      res.locals.principal = await authenticate(req.headers.authorization);
      next();
    } catch (err) {
      next(err instanceof AuthFailure ? authRejection(err) : err);
    }
  });

  const requireRole =
    (role: OperatorRole) =>
    (_req: Request, res: Response, next: NextFunction): void => {
      const principal = res.locals.principal as Principal;
      if (allows(principal.role, role)) return next();
      next(
        authRejection(
          new AuthFailure('insufficient_role', `this needs the ${role} role; ${principal.name} is ${principal.role}`),
        ),
      );
    };

  async function listJourneys(client: Client, filter: z.infer<z.ZodObject<typeof journeyFilter>>, limit: number) {
    const clauses = [`WorkflowType = '${WORKFLOW_TYPES.journey}'`];
    if (filter.stage) clauses.push(`${searchAttributes.stage.name} = '${filter.stage}'`);
    if (filter.decision) clauses.push(`${searchAttributes.decision.name} = '${filter.decision}'`);
    if (filter.handoff) clauses.push(`${searchAttributes.handoff.name} = '${filter.handoff}'`);
    if (filter.since) clauses.push(`StartTime >= '${filter.since.toISOString()}'`);
    if (filter.query) clauses.push(`(${filter.query})`);
    const query = clauses.join(' AND ');
    const journeys = [];
    try {
      for await (const execution of client.workflow.list({ query, pageSize: limit })) {
        // An operator's raw filter can OR its way past the journey clause: list journeys only.
        if (execution.type !== WORKFLOW_TYPES.journey || !execution.workflowId.startsWith(config.workflowIdPrefix))
          continue;
        journeys.push({
          uid: execution.workflowId.slice(config.workflowIdPrefix.length),
          status: execution.status.name,
          stage: execution.typedSearchAttributes.get(searchAttributes.stage) ?? null,
          decision: execution.typedSearchAttributes.get(searchAttributes.decision) ?? null,
          handoff: execution.typedSearchAttributes.get(searchAttributes.handoff) ?? null,
          flags: execution.typedSearchAttributes.get(searchAttributes.flags) ?? [],
          startTime: execution.startTime.toISOString(),
          closeTime: execution.closeTime?.toISOString() ?? null,
        });
        if (journeys.length >= limit) break;
      }
    } catch (err) {
      const refused = refusedByTemporal(err);
      if (refused !== null)
        throw new Rejection(400, 'invalid_query', `Temporal refused the list filter: ${refused}`, 'Bad Request');
      throw unavailable(err);
    }
    return { query, journeys };
  }

  /**
   * The journey's latest run, if it is an open `beginiJourney`: a closed journey (or the recorder of
   * deliveries after its close) takes no update, and saying so beats a confusing 404 or 503.
   */
  async function openJourney(client: Client, uid: string): Promise<WorkflowHandle> {
    const handle = client.workflow.getHandle(workflowId(uid));
    const description = await bounded(client, () => handle.describe());
    if (description.type !== WORKFLOW_TYPES.journey || description.status.name !== 'RUNNING') {
      throw new Rejection(
        409,
        'journey_closed',
        'the journey has closed (its settle period is over); it takes no review, reopen or redrive',
        'Conflict',
      );
    }
    return handle;
  }

  async function redrive(client: Client, uid: string, reasonText: string, res: Response): Promise<RedriveResult> {
    try {
      const handle = await openJourney(client, uid);
      const result = await bounded(client, () =>
        handle.executeUpdate(redriveUpdate, {
          args: [{ reason: reasonText, actor: actorOf(res) }],
          updateId: updateIdOf('redrive', res),
        }),
      );
      auditLog(res, 'redrive', uid, { result: result.action, outcome: result.outcome });
      return result;
    } catch (err) {
      const rejection = updateRejection(err, REDRIVE_REFUSALS);
      auditLog(res, 'redrive', uid, refusalOf(rejection));
      throw rejection;
    }
  }

  router.get('/journeys', requireRole('viewer'), async (req, res) => {
    const parsed = listQuery.safeParse(req.query);
    if (!parsed.success) throw new Rejection(400, 'invalid_query', firstIssue(parsed.error), 'Bad Request');
    res.json(await listJourneys(clientFor(req), parsed.data, parsed.data.limit));
  });

  router.post('/journeys/redrive', requireRole('admin'), express.json({ limit: '16kb' }), async (req, res) => {
    const parsed = bulkRedriveBody.safeParse(req.body);
    if (!parsed.success) throw new Rejection(400, 'invalid_redrive', firstIssue(parsed.error), 'Bad Request');
    const { filter, reason: why, dryRun, limit, perSecond } = parsed.data;
    const client = clientFor(req);
    const { query, journeys } = await listJourneys(client, filter, limit);
    const open = journeys.filter((j) => j.status === 'RUNNING');
    if (dryRun) {
      res.json({
        query,
        dryRun,
        matched: journeys.length,
        journeys: open.map((j) => ({ uid: j.uid, result: 'would_redrive' })),
      });
      return;
    }
    const results = await paced(open, perSecond, async (journey) => {
      // Nobody would learn what a redrive after the caller hung up did: stop there.
      if (res.socket?.destroyed) return { uid: journey.uid, result: 'not_attempted', reason: 'caller_disconnected' };
      try {
        const result = await redrive(client, journey.uid, why, res);
        return { uid: journey.uid, result: result.action };
      } catch (err) {
        return { uid: journey.uid, result: 'refused', reason: err instanceof Rejection ? err.reason : 'error' };
      }
    });
    res.json({ query, dryRun, matched: journeys.length, journeys: results });
  });

  router.get('/journeys/:uid', requireRole('viewer'), async (req, res) => {
    const uid = uidParam(req);
    try {
      const client = clientFor(req);
      res.json(await bounded(client, () => journeyView(client, workflowId(uid))));
    } catch (err) {
      throw notFound(err) ?? unavailable(err);
    }
  });

  router.post('/journeys/:uid/review', requireRole('reviewer'), express.json({ limit: '16kb' }), async (req, res) => {
    const uid = uidParam(req);
    if (req.body && typeof req.body === 'object' && 'reviewer' in req.body) {
      throw new Rejection(
        400,
        'invalid_review',
        'reviewer: the reviewer is the authenticated operator; remove the field',
        'Bad Request',
      );
    }
    const parsed = reviewBody.safeParse(req.body);
    if (!parsed.success) throw new Rejection(400, 'invalid_review', firstIssue(parsed.error), 'Bad Request');
    try {
      const client = clientFor(req);
      const handle = await openJourney(client, uid);
      const decision = await bounded(client, () =>
        handle.executeUpdate(reviewUpdate, {
          args: [{ ...parsed.data, actor: actorOf(res) }],
          updateId: updateIdOf('review', res),
        }),
      );
      auditLog(res, 'review', uid, { outcome: decision.outcome });
      res.json({ decision });
    } catch (err) {
      const rejection = updateRejection(err, REVIEW_REFUSALS);
      auditLog(res, 'review', uid, refusalOf(rejection));
      throw rejection;
    }
  });

  router.post('/journeys/:uid/reopen', requireRole('reviewer'), express.json({ limit: '16kb' }), async (req, res) => {
    const uid = uidParam(req);
    const parsed = reopenBody.safeParse(req.body);
    if (!parsed.success) throw new Rejection(400, 'invalid_reopen', firstIssue(parsed.error), 'Bad Request');
    try {
      const client = clientFor(req);
      const handle = await openJourney(client, uid);
      const { reason: why, reviewWithin } = parsed.data;
      const review = await bounded(client, () =>
        handle.executeUpdate(reopenUpdate, {
          args: [{ reason: why, reviewWithinMs: reviewWithin, actor: actorOf(res) }],
          updateId: updateIdOf('reopen', res),
        }),
      );
      auditLog(res, 'reopen', uid, { deadline: review.deadline });
      res.json({ review });
    } catch (err) {
      const rejection = updateRejection(err, REOPEN_REFUSALS);
      auditLog(res, 'reopen', uid, refusalOf(rejection));
      throw rejection;
    }
  });

  router.post('/journeys/:uid/redrive', requireRole('admin'), express.json({ limit: '16kb' }), async (req, res) => {
    const uid = uidParam(req);
    const parsed = redriveBody.safeParse(req.body);
    if (!parsed.success) throw new Rejection(400, 'invalid_redrive', firstIssue(parsed.error), 'Bad Request');
    res.json({ redrive: await redrive(clientFor(req), uid, parsed.data.reason, res) });
  });

  router.post(
    '/journeys/:uid/erase',
    requireRole('admin'),
    express.json({ limit: '16kb' }),
    eraseRoute({ config, clients, stores: erasure, deploymentOf, uidParam, auditLog }),
  );

  return router;
}

/** An operator waits at most this long: a query or update no worker takes up in time is a 503, not a hung request. */
const TEMPORAL_CALL_MS = 5_000;

function bounded<T>(client: Client, call: () => Promise<T>): Promise<T> {
  return client.connection.withDeadline(Date.now() + TEMPORAL_CALL_MS, call);
}

function authRejection(failure: AuthFailure): Rejection {
  const titles = { 401: 'Unauthorized', 403: 'Forbidden', 503: 'Service Unavailable' } as const;
  const headers: Record<string, string> =
    failure.status === 401
      ? {
          'www-authenticate': `Bearer error="${failure.reason === 'missing_credentials' ? 'invalid_request' : 'invalid_token'}"`,
        }
      : failure.status === 503
        ? { 'retry-after': '5' }
        : {};
  return new Rejection(failure.status, failure.reason, failure.message, titles[failure.status], headers);
}

const REVIEW_REFUSALS: JourneyRefusal[] = [
  { type: REVIEW_REJECTIONS.notInReview, status: 409, reason: 'not_in_review' },
  // At or past the review deadline: the policy's fallback decides instead.
  { type: REVIEW_REJECTIONS.deadlinePassed, status: 409, reason: 'review_deadline_passed' },
  { type: REVIEW_REJECTIONS.invalid, status: 400, reason: 'invalid_review' },
  { type: REVIEW_REJECTIONS.unknownReason, status: 400, reason: 'unknown_reason_code' },
];
const REOPEN_REFUSALS: JourneyRefusal[] = [
  { type: REOPEN_REJECTIONS.notReopenable, status: 409, reason: 'not_reopenable' },
  { type: REOPEN_REJECTIONS.invalid, status: 400, reason: 'invalid_reopen' },
];
const REDRIVE_REFUSALS: JourneyRefusal[] = [
  { type: REDRIVE_REJECTIONS.notRedrivable, status: 409, reason: 'not_redrivable' },
  { type: REDRIVE_REJECTIONS.invalid, status: 400, reason: 'invalid_redrive' },
];

/** What a failed update means: the journey's own refusals are 4xx, anything else can clear (503). */
function updateRejection(err: unknown, refusals: readonly JourneyRefusal[]): unknown {
  const missing = notFound(err);
  if (missing) return missing;
  if (err instanceof Rejection) return err;
  return journeyRefusalOf(err, refusals) ?? unavailable(err);
}

/**
 * Anything Temporal answers that is not about the request itself (an unreachable frontend, a query
 * or update that found no worker in time) can clear: 503, never a 500 that blames this code.
 */
function unavailable(err: unknown): unknown {
  if (err instanceof Rejection || isProgrammingError(err)) return err;
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

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || 'body'}: ${issue.message}`;
}
