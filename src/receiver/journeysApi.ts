/**
 * The operators' API over journeys, mounted only when OPERATOR_API_TOKEN is configured:
 *   GET  /journeys/:uid          the `journey` query
 *   GET  /journeys?stage=&decision=&since=&limit=   a visibility list
 *   POST /journeys/:uid/review   the `review` update
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { journeyQuery, reviewUpdate, searchAttributes } from '../../workflows/definitions';
import { REVIEW_REJECTIONS, type Stage } from '../../workflows/journeyState';
import { Rejection } from './rejection';

const STAGES = ['awaiting_application', 'awaiting_scores', 'deciding', 'in_review', 'decided', 'expired', 'incomplete', 'cancelled', 'closed'] as const satisfies readonly Stage[];

const listQuery = z.strictObject({
  stage: z.enum(STAGES).optional(),
  decision: z.enum(['APPROVE', 'DECLINE', 'REFER']).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const reviewBody = z.strictObject({
  outcome: z.enum(['APPROVE', 'DECLINE']),
  reviewer: z.string().trim().min(1).max(200),
  note: z.string().max(2000).optional(),
});

export interface JourneysApiDeps {
  client: Client;
  token: string;
  workflowIdPrefix: string;
}

export function journeysApi({ client, token, workflowIdPrefix }: JourneysApiDeps): express.Router {
  const router = express.Router();
  const expected = digest(token);
  const workflowId = (uid: string) => `${workflowIdPrefix}${uid}`;

  router.use('/journeys', (req: Request, _res: Response, next: NextFunction) => {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    // Compared as digests, so neither the length nor the content of the token leaks through timing.
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      return next(new Rejection(401, 'unauthorized', 'a valid Authorization: Bearer <OPERATOR_API_TOKEN> is required', 'Unauthorized', { 'www-authenticate': 'Bearer' }));
    }
    next();
  });

  router.get('/journeys', async (req, res) => {
    const parsed = listQuery.safeParse(req.query);
    if (!parsed.success) throw new Rejection(400, 'invalid_query', firstIssue(parsed.error), 'Bad Request');
    const { stage, decision, since, limit } = parsed.data;
    const clauses = [`WorkflowType = 'beginiJourney'`];
    if (stage) clauses.push(`${searchAttributes.stage.name} = '${stage}'`);
    if (decision) clauses.push(`${searchAttributes.decision.name} = '${decision}'`);
    if (since) clauses.push(`StartTime >= '${new Date(since).toISOString()}'`);
    const query = clauses.join(' AND ');
    const journeys = [];
    for await (const execution of client.workflow.list({ query, pageSize: limit })) {
      journeys.push({
        uid: execution.workflowId.slice(workflowIdPrefix.length),
        status: execution.status.name,
        stage: execution.typedSearchAttributes.get(searchAttributes.stage) ?? null,
        decision: execution.typedSearchAttributes.get(searchAttributes.decision) ?? null,
        flags: execution.typedSearchAttributes.get(searchAttributes.flags) ?? [],
        startTime: execution.startTime.toISOString(),
        closeTime: execution.closeTime?.toISOString() ?? null,
      });
      if (journeys.length >= limit) break;
    }
    res.json({ query, journeys });
  });

  router.get('/journeys/:uid', async (req, res) => {
    try {
      res.json(await client.workflow.getHandle(workflowId(req.params.uid!)).query(journeyQuery));
    } catch (err) {
      throw notFound(err) ?? err;
    }
  });

  router.post('/journeys/:uid/review', express.json({ limit: '16kb' }), async (req, res) => {
    const parsed = reviewBody.safeParse(req.body);
    if (!parsed.success) throw new Rejection(400, 'invalid_review', firstIssue(parsed.error), 'Bad Request');
    try {
      const decision = await client.workflow.getHandle(workflowId(req.params.uid!)).executeUpdate(reviewUpdate, { args: [parsed.data] });
      res.json({ decision });
    } catch (err) {
      const missing = notFound(err);
      if (missing) throw missing;
      const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === REVIEW_REJECTIONS.notInReview) {
        throw new Rejection(409, 'not_in_review', cause.message, 'Conflict');
      }
      if (cause instanceof ApplicationFailure) throw new Rejection(400, 'invalid_review', cause.message, 'Bad Request');
      throw err;
    }
  });

  return router;
}

function notFound(err: unknown): Rejection | undefined {
  return err instanceof WorkflowNotFoundError ? new Rejection(404, 'unknown_journey', 'no journey with that uid', 'Not Found') : undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || 'body'}: ${issue.message}`;
}
