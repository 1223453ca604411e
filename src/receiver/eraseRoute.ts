/**
 * `POST /journeys/:uid/erase` (admin): src/operator/erase.ts for the deployment `?integration=`
 * selects, answered with its receipt and one `operator action` audit line by uidRef. Without
 * SPOOL_DATABASE_URL it refuses with 409 `erasure_needs_database`: no tombstone could be kept.
 */
import type { Client } from '@temporalio/client';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Principal } from '../auth/principal';
import type { Deployment } from '../config/deployments';
import type { ReceiverConfig } from '../config/receiver';
import { erase, ErasureError, NEEDS_DATABASE_MESSAGE, type ErasureStores } from '../operator/erase';
import { isProgrammingError } from '../temporal/errors';
import { Rejection } from './rejection';

/** The reason is kept on the tombstone and in the audit line: required, as for a redrive. */
export const eraseBody = z.strictObject({ reason: z.string().trim().min(1).max(1_000) });

export interface EraseRouteDeps {
  config: Pick<ReceiverConfig, 'workflowIdPrefix' | 'ackTimeoutMs'>;
  clients: ReadonlyMap<string, Client>;
  /** Unset without SPOOL_DATABASE_URL. */
  stores: ErasureStores | undefined;
  deploymentOf(req: Request): Deployment;
  uidParam(req: Request): string;
  auditLog(res: Response, action: string, uid: string, result: Record<string, unknown>): void;
}

export function eraseRoute(deps: EraseRouteDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const uid = deps.uidParam(req);
    const body = eraseBody.safeParse(req.body);
    if (!body.success) {
      const issue = body.error.issues[0]!;
      throw new Rejection(400, 'invalid_erase', `${issue.path.join('.') || 'body'}: ${issue.message}`, 'Bad Request');
    }
    const deployment = deps.deploymentOf(req);
    try {
      if (!deps.stores) throw new ErasureError('erasure_needs_database', NEEDS_DATABASE_MESSAGE);
      const receipt = await erase(
        deps.stores,
        {
          client: deps.clients.get(deployment.namespace)!,
          workflowIdPrefix: deps.config.workflowIdPrefix,
          integrationId: deployment.integrationId,
        },
        { uid, reason: body.data.reason, erasedBy: (res.locals.principal as Principal).name },
        // A delivery whose tombstone check passed just before the tombstone committed lands within this.
        { settleMs: deps.config.ackTimeoutMs },
      );
      const { uidRef: _ref, ...result } = receipt;
      deps.auditLog(res, 'erase', uid, result);
      res.json({ erasure: receipt });
    } catch (err) {
      const rejection = erasureRejection(err);
      deps.auditLog(res, 'erase', uid, { refused: rejection instanceof Rejection ? rejection.reason : 'error' });
      throw rejection;
    }
  };
}

/** Only the missing database is final; a database or Temporal that did not answer, or runs still found, can clear. */
export function erasureRejection(err: unknown): unknown {
  if (err instanceof ErasureError && err.reason === 'erasure_needs_database')
    return new Rejection(409, err.reason, err.message, 'Conflict');
  if (isProgrammingError(err)) return err;
  return new Rejection(
    503,
    err instanceof ErasureError ? err.reason : 'erasure_unavailable',
    err instanceof ErasureError
      ? err.message
      : 'the database or Temporal did not answer; nothing is lost by erasing again (it is idempotent)',
    'Service Unavailable',
    { 'retry-after': '5' },
  );
}
