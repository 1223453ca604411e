/**
 * The receiver's one hook into the spool: a verified, validated delivery Temporal could not take
 * for a reason that can clear is committed to the spool instead, and the receiver answers 200 only
 * once that commit is durable. Anything else keeps the answer Temporal's failure earned.
 */
import { uidRef } from '../logger';
import type { Verified } from '../receiver/deliver';
import { isDeferrable } from '../receiver/backlog';
import { Rejection } from '../receiver/rejection';
import type { SpoolStore } from './store';
import type { RefusedVault } from './vault';

/** Resolves once the spool holds the delivery; otherwise throws the rejection to answer with. */
export type SpoolInstead = (verified: Verified, refusal: Rejection) => Promise<void>;

/** Without a spool, every refusal stands. */
export const noSpool: SpoolInstead = async (_verified, refusal) => {
  throw refusal;
};

export function spoolInstead(store: SpoolStore, onFailure: (err: unknown) => void): SpoolInstead {
  return async (verified, refusal) => {
    // Only a 503 can clear; a 4xx (Temporal calls the event invalid) or a fault of ours is final.
    if (refusal.status !== 503) throw refusal;
    let outcome;
    try {
      outcome = await store.enqueue({
        uidRef: uidRef(verified.uid),
        integrationId: verified.integrationId,
        signingKeyId: verified.keyId,
        rawBody: verified.rawBody,
        receivedAt: verified.receivedAt,
        deferrable: isDeferrable(verified.event.type),
      });
    } catch (err) {
      onFailure(err);
      // Never a 200 the spool cannot keep: Begini retries as it would without one.
      throw refusal;
    }
    if (outcome === 'full') {
      throw new Rejection(
        503,
        'spool_full',
        'the event was not durably accepted and the intake spool is full; retry later',
        'Service Unavailable',
        { 'retry-after': '30' },
      );
    }
  };
}

/** Keeps a refused delivery for a later replay; resolves whatever happens, so the 403 stands as it is. */
export type VaultRefused = (
  integrationId: string,
  refused: { signature: string; rawBody: Uint8Array; receivedAt: Date },
) => Promise<void>;

export function vaultRefused(
  vault: RefusedVault,
  count: (outcome: 'vaulted' | 'rate_limited' | 'failed') => void,
  onFailure: (err: unknown) => void,
): VaultRefused {
  return async (integrationId, refused) => {
    try {
      count(await vault.keep({ integrationId, ...refused }));
    } catch (err) {
      count('failed');
      onFailure(err);
    }
  };
}
