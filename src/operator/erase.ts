/**
 * Erasing one applicant from this integration: the one function behind `POST /journeys/:uid/erase`
 * and `npm run erase`. In this order:
 *   1. the tombstone (src/spool/tombstones.ts), committed before anything is deleted, so a delivery
 *      racing the erasure is answered `erased` by every receiver from then on instead of starting a run;
 *   2. the uid's spool rows (a drainer holding one is waited for: it checks the tombstone first);
 *   3. every run under the workflow ID (journey and after-close recorders, open or closed), with
 *      Temporal's own DeleteWorkflowExecution, found by visibility and by describe (which sees a run
 *      visibility has not indexed yet), again until neither finds one, within a bound;
 *   4. the refused-delivery vault's rows whose body names the uid.
 * The LOS keeps its own record (it is the system of record): erasure removes this integration's copies.
 * Idempotent: erasing again repeats 2–4 and says the tombstone was there (`alreadyErased`).
 */
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { WorkflowNotFoundError } from '@temporalio/client';
import { FALLBACK_INTEGRATION_ID } from '../config/deployments';
import { IntegrationError } from '../errors';
import { uidRef, uidRefsUnderEveryKey } from '../logger';
import { visibilityString } from '../receiver/journeyView';
import type { SpoolStore } from '../spool/store';
import { LOOKUP_TIMEOUT_MS, type Tombstones } from '../spool/tombstones';
import { vaultPartition, type RefusedVault } from '../spool/vault';
import { notFoundInTemporal } from '../temporal/errors';
import { workflowIdFor } from '../../workflows/definitions';

/**
 * `erasure_needs_database`: no SPOOL_DATABASE_URL, so nowhere shared and durable for a tombstone
 * (retrying cannot clear it). `erasure_incomplete`: runs were still found when the bound passed;
 * erase again (it is idempotent).
 */
export type ErasureReason = 'erasure_needs_database' | 'erasure_incomplete';

export class ErasureError extends IntegrationError<ErasureReason> {}

export const NEEDS_DATABASE_MESSAGE =
  'erasure needs SPOOL_DATABASE_URL: without it there is nowhere shared and durable to keep the tombstone that stops a re-sent delivery from starting a new journey';

/** The stores on the integration's database (SPOOL_DATABASE_URL). */
export interface ErasureStores {
  tombstones: Tombstones;
  spool: SpoolStore;
  vault: RefusedVault;
}

export interface ErasureTarget {
  /** A client of the deployment's namespace. */
  client: Client;
  workflowIdPrefix: string;
  /** The deployment's integration id (FALLBACK_INTEGRATION_ID with BEGINI_API_KEY). */
  integrationId: string;
}

export interface ErasureRequest {
  uid: string;
  reason: string;
  /** The principal's name, or `cli:<user>`. */
  erasedBy: string;
}

/** The receipt the route answers and the CLI prints (docs/openapi.json takes it from here). */
export const erasureReceiptSchema = z
  .object({
    uidRef: z.string().meta({ description: 'The keyed ref of the uid, as the logs and the tombstone name it' }),
    runsDeleted: z.number().int(),
    spoolRowsDeleted: z.number().int(),
    vaultRowsDeleted: z.number().int(),
    erasedAt: z.string().meta({ description: 'When the tombstone was first written' }),
    alreadyErased: z.boolean().meta({ description: 'The tombstone was there already: an earlier erasure of this uid' }),
    found: z.boolean().meta({
      description: 'Anything about the uid was held (runs, spool or vault rows); an unknown uid is not an error',
    }),
  })
  .meta({ id: 'ErasureReceipt' });

export type ErasureReceipt = z.infer<typeof erasureReceiptSchema>;

export interface ErasureOptions {
  /** How long runs may still be found before the erasure answers erasure_incomplete. */
  boundMs?: number;
  /** Between two looks for runs: Temporal deletes asynchronously. */
  pollMs?: number;
  /**
   * The receivers' ack timeout: a delivery whose tombstone check passed just before the tombstone
   * committed can still start a run this long after; runs are looked for again until then.
   */
  settleMs?: number;
}

// Generous: Temporal deletes asynchronously, and a loaded server (SQLite visibility on 2 busy cores)
// has been seen to list a deleted run for more than 20 s.
const DEFAULT_BOUND_MS = 60_000;
const DEFAULT_POLL_MS = 200;

export async function erase(
  stores: ErasureStores,
  target: ErasureTarget,
  request: ErasureRequest,
  options: ErasureOptions = {},
): Promise<ErasureReceipt> {
  const ref = uidRef(request.uid);
  const recorded = await stores.tombstones.record({
    integrationId: target.integrationId,
    uidRef: ref,
    erasedBy: request.erasedBy,
    reason: request.reason,
  });
  // A delivery whose lookup began before the tombstone committed may answer up to its timeout later,
  // and only then call Temporal (for up to settleMs): runs are looked for until both have passed.
  const settledAt = Date.now() + LOOKUP_TIMEOUT_MS + (options.settleMs ?? 0);
  const spoolRowsDeleted = await stores.spool.removeApplicant(
    uidRefsUnderEveryKey(request.uid),
    target.integrationId === FALLBACK_INTEGRATION_ID ? null : target.integrationId,
  );
  const runsDeleted = await deleteRuns(
    target.client,
    workflowIdFor(target.workflowIdPrefix, request.uid),
    settledAt,
    options,
  );
  const vaultRowsDeleted = await stores.vault.removeWhere(vaultPartition(target.integrationId), (body) =>
    bodyNamesUid(body, request.uid),
  );
  return {
    uidRef: ref,
    runsDeleted,
    spoolRowsDeleted,
    vaultRowsDeleted,
    erasedAt: recorded.erasedAt.toISOString(),
    alreadyErased: recorded.alreadyErased,
    found: runsDeleted + spoolRowsDeleted + vaultRowsDeleted > 0,
  };
}

/** Whether a (refused, unverified) body is a Begini envelope for `uid`. */
export function bodyNamesUid(rawBody: Uint8Array, uid: string): boolean {
  try {
    const json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(rawBody)) as unknown;
    return typeof json === 'object' && json !== null && (json as { uid?: unknown }).uid === uid;
  } catch {
    return false;
  }
}

/**
 * Deletes every run under the ID until visibility and describe both find none (and a racing
 * delivery can no longer land); the number of runs deleted.
 */
async function deleteRuns(
  client: Client,
  workflowId: string,
  settledAt: number,
  options: ErasureOptions,
): Promise<number> {
  const deadline = Date.now() + (options.boundMs ?? DEFAULT_BOUND_MS);
  const deleted = new Set<string>();
  for (;;) {
    const runs = await bounded(client, () => runsUnder(client, workflowId));
    if (runs.size === 0 && Date.now() >= settledAt) return deleted.size;
    if (runs.size > 0 && Date.now() > deadline) {
      throw new ErasureError(
        'erasure_incomplete',
        `${runs.size} run(s) of the journey were still found after the deletes; erase again (it is idempotent)`,
      );
    }
    for (const runId of runs) {
      try {
        await bounded(client, () =>
          client.workflowService.deleteWorkflowExecution({
            namespace: client.options.namespace,
            workflowExecution: { workflowId, runId },
          }),
        );
        deleted.add(runId);
      } catch (err) {
        // Deleted meanwhile (Temporal deletes asynchronously, and finds a run until it has).
        if (!notFoundInTemporal(err)) throw err;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? DEFAULT_POLL_MS));
  }
}

/** Each look and each delete within a deadline: an unreachable Temporal is an answer (503), not a hung erasure. */
const TEMPORAL_CALL_MS = 5_000;

function bounded<T>(client: Client, call: () => Promise<T>): Promise<T> {
  return client.connection.withDeadline(Date.now() + TEMPORAL_CALL_MS, call);
}

/** The run IDs visibility lists under the ID, and the latest run describe finds. */
async function runsUnder(client: Client, workflowId: string): Promise<Set<string>> {
  const runs = new Set<string>();
  for await (const run of client.workflow.list({ query: `WorkflowId = ${visibilityString(workflowId)}` })) {
    if (run.workflowId === workflowId) runs.add(run.runId);
  }
  try {
    runs.add((await client.workflow.getHandle(workflowId).describe()).runId);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  return runs;
}
