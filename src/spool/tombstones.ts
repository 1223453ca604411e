/**
 * Erasure tombstones on the integration's PostgreSQL (SPOOL_DATABASE_URL): one row per erased
 * applicant, keyed by (deployment integration id, uidRef), written before anything is deleted, so
 * that every receiver, after any restart, answers a later delivery of that uid without starting a
 * journey. The row holds the keyed uidRef (src/logger.ts), when, who and why: never the uid itself.
 * The key is the deployment's integration id (FALLBACK_INTEGRATION_ID with BEGINI_API_KEY): that is whose namespace,
 * and so whose workflow ID, a delivery of the uid would reach, whatever integration id it names.
 */
import type { Pool, QueryConfig } from 'pg';
import { uidRefsUnderEveryKey } from '../logger';
import type { Verified } from '../receiver/deliver';
import { schemaOnce } from './store';

export const ERASURE_TABLE = 'begini_erasures';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ${ERASURE_TABLE} (
  integration_id text        NOT NULL,
  uid_ref        text        NOT NULL,
  erased_at      timestamptz NOT NULL DEFAULT now(),
  erased_by      text        NOT NULL,
  reason         text        NOT NULL,
  PRIMARY KEY (integration_id, uid_ref)
);
`;

export interface Tombstone {
  integrationId: string;
  uidRef: string;
  /** The principal's name (the API) or `cli:<user>` (npm run erase). */
  erasedBy: string;
  reason: string;
}

export interface Recorded {
  erasedAt: Date;
  /** A tombstone was there already: this erasure repeats an earlier one. */
  alreadyErased: boolean;
}

export class Tombstones {
  readonly migrate: () => Promise<void>;

  constructor(private readonly pool: Pool) {
    this.migrate = schemaOnce(pool, ERASURE_TABLE, SCHEMA);
  }

  /** Committed when it resolves; the first erasure's time, who and reason are kept. */
  async record(tombstone: Tombstone): Promise<Recorded> {
    await this.migrate();
    const { rows } = await this.pool.query(
      `WITH inserted AS (
         INSERT INTO ${ERASURE_TABLE} (integration_id, uid_ref, erased_by, reason) VALUES ($1, $2, $3, $4)
         ON CONFLICT (integration_id, uid_ref) DO NOTHING
         RETURNING erased_at)
       SELECT erased_at, false AS already FROM inserted
       UNION ALL
       SELECT erased_at, true AS already FROM ${ERASURE_TABLE} WHERE integration_id = $1 AND uid_ref = $2`,
      [tombstone.integrationId, tombstone.uidRef, tombstone.erasedBy, tombstone.reason],
    );
    // The CTE's insert is not visible to the statement's own SELECT: one row either way.
    return { erasedAt: rows[0].erased_at, alreadyErased: rows[0].already };
  }

  /** One primary-key lookup; throws when the database cannot answer (the caller fails closed). */
  async isErased(integrationId: string, uidRefs: readonly string[]): Promise<boolean> {
    await this.migrate();
    // pg reads `query_timeout` per query (its types name it only on the client's config): a database
    // that accepts the connection but does not answer is a 503 too, not a delivery held open.
    const lookup: QueryConfig & { query_timeout: number } = {
      text: `SELECT 1 FROM ${ERASURE_TABLE} WHERE integration_id = $1 AND uid_ref = ANY($2::text[]) LIMIT 1`,
      values: [integrationId, uidRefs],
      query_timeout: LOOKUP_TIMEOUT_MS,
    };
    const { rowCount } = await this.pool.query(lookup);
    return rowCount === 1;
  }
}

/** How long a delivery's lookup may take; an erasure waits it out too (src/operator/erase.ts). */
export const LOOKUP_TIMEOUT_MS = 3_000;

/** Whether a verified delivery's uid was erased; throws when that cannot be known (fail closed). */
export type IsErased = (verified: Verified) => Promise<boolean>;

/** Under every configured codec key's ref: a tombstone written before a key rotation still matches. */
export function erasedCheck(tombstones: Tombstones): IsErased {
  return (verified) => tombstones.isErased(verified.deployment.integrationId, uidRefsUnderEveryKey(verified.uid));
}
