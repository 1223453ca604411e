/**
 * The receiver's intake spool (src/spool): off unless SPOOL_DATABASE_URL is set. A 200 then means
 * Temporal or the spool holds the event.
 */
import { z } from 'zod';
import { durationSchema } from '../duration';
import { intFrom } from './env';

export const spoolEnvSchema = z.object({
  SPOOL_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' }).optional(),
  SPOOL_MAX_ROWS: intFrom(100_000),
  SPOOL_MAX_BYTES: intFrom(1024 * 1024 * 1024),
  // Per receiver; Temporal Cloud's default namespace limit is hundreds of actions a second.
  SPOOL_DRAIN_PER_SECOND: intFrom(50),
  // The refused-delivery vault (src/spool/vault.ts), on with the spool: per integration, caps and inserts a second.
  SPOOL_VAULT_MAX_ROWS: intFrom(1_000),
  SPOOL_VAULT_MAX_BYTES: intFrom(16 * 1024 * 1024),
  SPOOL_VAULT_RETENTION: durationSchema.default(7 * 86_400_000),
  SPOOL_VAULT_PER_SECOND: intFrom(20),
});

/** The refused-delivery vault's bounds, per integration (src/spool/vault.ts). */
export interface VaultLimits {
  maxRows: number;
  maxBytes: number;
  retentionMs: number;
  /** Inserts a second per receiver; past it, a refused delivery is not kept. */
  perSecond: number;
}

export interface SpoolSettings {
  databaseUrl: string;
  /** Rows (waiting and dead-lettered) and sealed bytes beyond which a delivery is answered 503 again. */
  maxRows: number;
  maxBytes: number;
  /** Signals each receiver sends from the spool per second at most. */
  drainPerSecond: number;
  /** Deliveries refused 403 signature_mismatch kept for replay after a key fix, per integration. */
  vault: VaultLimits;
}

/** Null: no spool, and a delivery Temporal cannot take is answered 503. */
export function spoolOf(e: z.infer<typeof spoolEnvSchema>): SpoolSettings | null {
  if (!e.SPOOL_DATABASE_URL) return null;
  return {
    databaseUrl: e.SPOOL_DATABASE_URL,
    maxRows: e.SPOOL_MAX_ROWS,
    maxBytes: e.SPOOL_MAX_BYTES,
    drainPerSecond: e.SPOOL_DRAIN_PER_SECOND,
    vault: {
      maxRows: e.SPOOL_VAULT_MAX_ROWS,
      maxBytes: e.SPOOL_VAULT_MAX_BYTES,
      retentionMs: e.SPOOL_VAULT_RETENTION,
      perSecond: e.SPOOL_VAULT_PER_SECOND,
    },
  };
}
