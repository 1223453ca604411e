/**
 * The refused-delivery vault: a delivery answered 403 signature_mismatch for an integration this
 * receiver knows is kept, sealed with the payload codec, so that after a signing-key fix an operator
 * can re-verify it against the keys configured then and replay what verifies
 * (src/spool/replayRefused.ts). What an attacker can make it hold is bounded:
 * - only integrations of this receiver's configuration are vaulted (with BEGINI_API_KEY, one
 *   partition for all), so invented integration ids add nothing;
 * - per integration at most maxRows bodies and maxBytes sealed bytes, oldest dropped first, trimmed
 *   in the transaction that inserts;
 * - rows older than the retention are deleted by every insert;
 * - per integration and receiver at most perSecond inserts a second; past it, not vaulted.
 * A missing or malformed X-Signature is never vaulted: no key can ever verify it.
 */
import type { Pool } from 'pg';
import type { AesGcmCodec } from '../codec/aesGcm';
import { FALLBACK_INTEGRATION_ID } from '../config/deployments';
import type { VaultLimits } from '../config/spool';
import { inTransaction, openBody, schemaOnce, sealBody } from './store';

export const VAULT_TABLE = 'begini_vault';
/** With BEGINI_API_KEY every integration id is this receiver's: the vault keeps them all under one name. */
export const FALLBACK_VAULT = 'BEGINI_API_KEY';

/** The vault's partition for a deployment's integration id (`*` with BEGINI_API_KEY). */
export function vaultPartition(deploymentIntegrationId: string): string {
  return deploymentIntegrationId === FALLBACK_INTEGRATION_ID ? FALLBACK_VAULT : deploymentIntegrationId;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ${VAULT_TABLE} (
  id             bigserial PRIMARY KEY,
  integration_id text        NOT NULL,
  signature      text        NOT NULL,
  codec_key_id   text        NOT NULL,
  sealed         bytea       NOT NULL,
  size           integer     NOT NULL,
  received_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ${VAULT_TABLE}_integration ON ${VAULT_TABLE} (integration_id, id);
CREATE INDEX IF NOT EXISTS ${VAULT_TABLE}_received ON ${VAULT_TABLE} (received_at);
`;

export interface RefusedDelivery {
  integrationId: string;
  /** The X-Signature as presented: re-verified against the keys configured at replay. */
  signature: string;
  rawBody: Uint8Array;
  receivedAt: Date;
}

export interface VaultedRow extends RefusedDelivery {
  id: string;
}

/** A vaulted row that cannot be opened (its codec key removed, or the sealed bytes altered). */
export interface UnreadableRow {
  id: string;
  unreadable: true;
}

export type Vaulted = 'vaulted' | 'rate_limited';

/** The presented signature is 128 hex characters (verifySignature's pattern) before it is vaulted. */
const MAX_SIGNATURE_LENGTH = 128;
const MAX_INTEGRATION_ID_LENGTH = 256;

export class RefusedVault {
  private readonly windows = new Map<string, { second: number; count: number }>();

  constructor(
    private readonly pool: Pool,
    private readonly codec: AesGcmCodec,
    private readonly limits: VaultLimits,
  ) {
    this.migrate = schemaOnce(pool, VAULT_TABLE, SCHEMA);
  }

  readonly migrate: () => Promise<void>;

  /** One INSERT and one bounded trim, in one transaction serialised per integration. */
  async keep(refused: RefusedDelivery): Promise<Vaulted> {
    if (refused.integrationId.length > MAX_INTEGRATION_ID_LENGTH || refused.signature.length > MAX_SIGNATURE_LENGTH)
      throw new Error('refused delivery out of bounds');
    if (!this.admit(refused.integrationId)) return 'rate_limited';
    await this.migrate();
    const { codecKeyId, sealed } = await sealBody(this.codec, refused.rawBody);
    return inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${VAULT_TABLE}:${refused.integrationId}`]);
      await client.query(
        `INSERT INTO ${VAULT_TABLE} (integration_id, signature, codec_key_id, sealed, size, received_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [refused.integrationId, refused.signature, codecKeyId, sealed, sealed.length, refused.receivedAt],
      );
      await client.query(
        `DELETE FROM ${VAULT_TABLE}
         WHERE received_at < now() - make_interval(secs => $2::double precision / 1000)
            OR (integration_id = $1 AND id IN (
                 SELECT id FROM (
                   SELECT id, row_number() OVER w AS n, sum(size) OVER w AS bytes
                   FROM ${VAULT_TABLE} WHERE integration_id = $1
                   WINDOW w AS (ORDER BY id DESC)) newest_first
                 WHERE n > $3::bigint OR bytes > $4::bigint))`,
        [refused.integrationId, this.limits.retentionMs, this.limits.maxRows, this.limits.maxBytes],
      );
      return 'vaulted' as const;
    });
  }

  /** The integration's rows within the retention, oldest first, opened. */
  async rows(integrationId: string, since?: Date): Promise<Array<VaultedRow | UnreadableRow>> {
    await this.migrate();
    const { rows } = await this.pool.query(
      `SELECT id, integration_id, signature, codec_key_id, sealed, received_at FROM ${VAULT_TABLE}
       WHERE integration_id = $1 AND received_at >= greatest($2::timestamptz,
             now() - make_interval(secs => $3::double precision / 1000))
       ORDER BY id`,
      [integrationId, since ?? new Date(0), this.limits.retentionMs],
    );
    return Promise.all(
      rows.map(async (row): Promise<VaultedRow | UnreadableRow> => {
        const rawBody = await openBody(this.codec, row.codec_key_id, row.sealed).catch(() => undefined);
        if (!rawBody) return { id: String(row.id), unreadable: true };
        return {
          id: String(row.id),
          integrationId: row.integration_id,
          signature: row.signature,
          rawBody,
          receivedAt: row.received_at,
        };
      }),
    );
  }

  /**
   * Deletes the integration's rows whose opened body `names` (retention passed or not): the vault
   * has no uid column, so each row is opened; at most the per-integration cap of them. A row that
   * cannot be opened is kept: it can never be replayed, and is trimmed by the caps and retention.
   */
  async removeWhere(integrationId: string, names: (rawBody: Uint8Array) => boolean): Promise<number> {
    await this.migrate();
    const { rows } = await this.pool.query(
      `SELECT id, codec_key_id, sealed FROM ${VAULT_TABLE} WHERE integration_id = $1 ORDER BY id`,
      [integrationId],
    );
    let removed = 0;
    for (const row of rows) {
      const rawBody = await openBody(this.codec, row.codec_key_id, row.sealed).catch(() => undefined);
      if (rawBody && names(rawBody)) {
        await this.remove(String(row.id));
        removed++;
      }
    }
    return removed;
  }

  async remove(id: string): Promise<void> {
    await this.pool.query(`DELETE FROM ${VAULT_TABLE} WHERE id = $1`, [id]);
  }

  /** A fixed one-second window per integration: cheap, and enough to bound the insert rate. */
  private admit(integrationId: string): boolean {
    const second = Math.floor(Date.now() / 1000);
    const window = this.windows.get(integrationId);
    if (!window || window.second !== second) {
      this.windows.set(integrationId, { second, count: 1 });
      return true;
    }
    return ++window.count <= this.limits.perSecond;
  }
}
