/**
 * The intake spool's table on PostgreSQL: a delivery Temporal could not take, kept until a drainer
 * has Temporal accept it. Hand-written SQL rather than a queue library: what this needs is one
 * table with a per-applicant arrival order (a row is taken only when no earlier row of its uid is
 * waiting), caps checked in the statement that inserts, and a delete in the transaction that held
 * the row while Temporal accepted it. pg-boss and graphile-worker bring their own schemas, retry
 * policies and workers, and neither orders jobs per key without a queue (and its bookkeeping) per uid.
 *
 * Bodies are sealed with the payload codec (AES-256-GCM, src/codec): the row keeps the codec key
 * id, so a body sealed before a key rotation opens with the old key while it is still configured.
 */
import { Pool, type PoolClient } from 'pg';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA, type AesGcmCodec } from '../codec/aesGcm';

export const SPOOL_TABLE = 'begini_spool';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ${SPOOL_TABLE} (
  id             bigserial PRIMARY KEY,
  uid_ref        text        NOT NULL,
  integration_id text        NOT NULL,
  signing_key_id text        NOT NULL,
  codec_key_id   text        NOT NULL,
  sealed         bytea       NOT NULL,
  size           integer     NOT NULL,
  received_at    timestamptz NOT NULL,
  spooled_at     timestamptz NOT NULL DEFAULT now(),
  dead_at        timestamptz,
  dead_reason    text
);
CREATE INDEX IF NOT EXISTS ${SPOOL_TABLE}_uid_order ON ${SPOOL_TABLE} (uid_ref, id) WHERE dead_at IS NULL;
ALTER TABLE ${SPOOL_TABLE} ADD COLUMN IF NOT EXISTS is_deferrable boolean NOT NULL DEFAULT false;
`;

/** What is needed to rebuild exactly the delivery the receiver verified. */
export interface SpoolEntry {
  /** uidRef of the uid: orders one applicant's rows without storing the uid in the clear. */
  uidRef: string;
  integrationId: string;
  /** The Begini key that verified the body. */
  signingKeyId: string;
  rawBody: Uint8Array;
  receivedAt: Date;
  /** An event that waits while the journeys are behind (src/receiver/backlog.ts), however it came to be spooled. */
  deferrable: boolean;
}

export interface SpooledRow extends SpoolEntry {
  id: string;
}

export interface SpoolLimits {
  maxRows: number;
  maxBytes: number;
}

export interface SpoolStats {
  waiting: number;
  dead: number;
  bytes: number;
  /** Seconds the oldest waiting row has waited since it was received; 0 when none waits. */
  oldestSeconds: number;
}

export type Enqueued = 'spooled' | 'full';

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export class SpoolStore {
  readonly pool: Pool;

  constructor(
    databaseUrl: string,
    private readonly codec: AesGcmCodec,
    private readonly limits: SpoolLimits,
  ) {
    // Short timeouts: an unreachable spool must turn into a 503 well inside the sender's own timeout.
    this.pool = new Pool({ connectionString: databaseUrl, max: 10, connectionTimeoutMillis: 3_000 });
    // An idle client losing its server (a restart) must not crash the receiver; the next query reconnects.
    this.pool.on('error', () => undefined);
    // The table once per process; a failure (the database was down) is tried again next time.
    this.migrate = schemaOnce(this.pool, SPOOL_TABLE, SCHEMA);
  }

  readonly migrate: () => Promise<void>;

  /**
   * Commits the entry unless the spool is at its caps. The caps are read in the inserting
   * statement, so concurrent inserts can pass them by at most the number in flight at once.
   */
  async enqueue(entry: SpoolEntry): Promise<Enqueued> {
    await this.migrate();
    const { codecKeyId, sealed } = await this.seal(entry.rawBody);
    const result = await this.pool.query(
      `INSERT INTO ${SPOOL_TABLE} (uid_ref, integration_id, signing_key_id, codec_key_id, sealed, size, received_at, is_deferrable)
       SELECT $1, $2, $3, $4, $5, $6::integer, $7, $10
       FROM (SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM ${SPOOL_TABLE}) usage
       WHERE usage.n < $8::bigint AND usage.b + $6::integer <= $9::bigint`,
      [
        entry.uidRef,
        entry.integrationId,
        entry.signingKeyId,
        codecKeyId,
        sealed,
        sealed.length,
        entry.receivedAt,
        this.limits.maxRows,
        this.limits.maxBytes,
        entry.deferrable,
      ],
    );
    return result.rowCount === 1 ? 'spooled' : 'full';
  }

  /**
   * Locks up to `limit` rows, each the earliest waiting row of its uid, in arrival order; rows
   * another drainer holds are skipped. `handle` runs with the rows locked; its deletes and
   * dead-letters commit together. A drainer that dies mid-batch rolls back: the rows wait again.
   * `holdDeferrable`: deferrable rows are left where they are and hold nothing behind them, so a
   * uid's score is taken before its held application (which is safe in either order).
   */
  async withBatch<T>(
    limit: number,
    handle: (rows: SpooledRow[], tx: SpoolTransaction, unreadable: number) => Promise<T>,
    holdDeferrable = false,
  ): Promise<T> {
    await this.migrate();
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query(
        `SELECT s.id, s.uid_ref, s.integration_id, s.signing_key_id, s.codec_key_id, s.sealed, s.received_at, s.is_deferrable
         FROM ${SPOOL_TABLE} s
         WHERE s.dead_at IS NULL AND NOT ($2::boolean AND s.is_deferrable)
           AND NOT EXISTS (SELECT 1 FROM ${SPOOL_TABLE} e
                           WHERE e.uid_ref = s.uid_ref AND e.dead_at IS NULL AND e.id < s.id
                             AND NOT ($2::boolean AND e.is_deferrable))
         ORDER BY s.id
         LIMIT $1
         FOR UPDATE OF s SKIP LOCKED`,
        [limit, holdDeferrable],
      );
      const tx = new SpoolTransaction(client);
      const spooled: SpooledRow[] = [];
      let unreadable = 0;
      for (const row of rows) {
        const rawBody = await this.open(row.codec_key_id, row.sealed).catch(() => undefined);
        // Its codec key removed, or the row altered: it can never open, and must not hold its uid's queue.
        if (!rawBody) {
          await tx.deadLetter(String(row.id), 'unreadable');
          unreadable++;
        } else
          spooled.push({
            id: String(row.id),
            uidRef: row.uid_ref,
            integrationId: row.integration_id,
            signingKeyId: row.signing_key_id,
            rawBody,
            receivedAt: row.received_at,
            deferrable: row.is_deferrable,
          });
      }
      return handle(spooled, tx, unreadable);
    });
  }

  async stats(): Promise<SpoolStats> {
    await this.migrate();
    const { rows } = await this.pool.query(
      `SELECT count(*) FILTER (WHERE dead_at IS NULL) AS waiting,
              count(*) FILTER (WHERE dead_at IS NOT NULL) AS dead,
              coalesce(sum(size), 0) AS bytes,
              coalesce(extract(epoch FROM now() - min(received_at) FILTER (WHERE dead_at IS NULL)), 0) AS oldest
       FROM ${SPOOL_TABLE}`,
    );
    const row = rows[0];
    return {
      waiting: Number(row.waiting),
      dead: Number(row.dead),
      bytes: Number(row.bytes),
      oldestSeconds: Math.max(0, Number(row.oldest)),
    };
  }

  /**
   * Deletes an erased applicant's rows, waiting and dead-lettered, by any of its refs; null
   * `integrationId` (BEGINI_API_KEY): of every integration id. Waits for a drainer holding one.
   */
  async removeApplicant(uidRefs: readonly string[], integrationId: string | null): Promise<number> {
    await this.migrate();
    const { rowCount } = await this.pool.query(
      `DELETE FROM ${SPOOL_TABLE} WHERE uid_ref = ANY($1::text[]) AND ($2::text IS NULL OR integration_id = $2)`,
      [uidRefs, integrationId],
    );
    return rowCount ?? 0;
  }

  async reachable(): Promise<boolean> {
    return this.pool.query('SELECT 1').then(
      () => true,
      () => false,
    );
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private seal(body: Uint8Array) {
    return sealBody(this.codec, body);
  }

  private open(codecKeyId: string, sealed: Buffer) {
    return openBody(this.codec, codecKeyId, sealed);
  }
}

/**
 * Creates `table`'s schema (`ddl`, idempotent: IF NOT EXISTS) once per process, in one transaction
 * under an advisory lock on the table's name, since receivers starting together would race on
 * CREATE. A failure (the database was down) is tried again on the next call.
 */
export function schemaOnce(pool: Pool, table: string, ddl: string): () => Promise<void> {
  const sql = `BEGIN;\nSELECT pg_advisory_xact_lock(hashtext('${table}'));\n${ddl.trim()}\nCOMMIT;`;
  let done: Promise<void> | undefined;
  return () => {
    done ??= pool.query(sql).then(
      () => undefined,
      (err) => {
        done = undefined;
        throw err;
      },
    );
    return done;
  };
}

/** `work` in one transaction: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  // A checked-out client whose server goes away (PostgreSQL stopped while the drain signals Temporal
  // between two queries) emits 'error' on itself, not on the pool: unheard, it kills the process.
  const lost = () => {
    broken = true;
  };
  client.on('error', lost);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.off('error', lost);
    client.release(broken);
  }
}

/** A body sealed with the payload codec's current key; the key id is kept beside it to open it later. */
export async function sealBody(codec: AesGcmCodec, body: Uint8Array): Promise<{ codecKeyId: string; sealed: Buffer }> {
  const [payload] = await codec.encode([{ metadata: { encoding: utf8.encode('binary/plain') }, data: body }]);
  return {
    codecKeyId: fromUtf8.decode(payload!.metadata![KEY_ID_METADATA]!),
    sealed: Buffer.from(payload!.data!),
  };
}

/** Throws when the key is no longer configured or the sealed bytes were altered (GCM tag). */
export async function openBody(codec: AesGcmCodec, codecKeyId: string, sealed: Buffer): Promise<Uint8Array> {
  const [payload] = await codec.decode([
    {
      metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(codecKeyId) },
      data: sealed,
    },
  ]);
  return payload!.data ?? new Uint8Array();
}

/** Settles rows of the batch it belongs to. */
export class SpoolTransaction {
  constructor(private readonly client: PoolClient) {}

  async remove(id: string): Promise<void> {
    await this.client.query(`DELETE FROM ${SPOOL_TABLE} WHERE id = $1`, [id]);
  }

  /** Kept for an operator, out of the queue, so one row that can never land cannot wedge its uid. */
  async deadLetter(id: string, reason: string): Promise<void> {
    await this.client.query(`UPDATE ${SPOOL_TABLE} SET dead_at = now(), dead_reason = $2 WHERE id = $1`, [id, reason]);
  }
}
