/**
 * Begini's webhook signature: HMAC-SHA512 over the raw body bytes, keyed with the deployment's API
 * key, as 128 hex characters in `X-Signature`. Pure: bytes, a header and keys in; a verdict out.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SigningKey {
  /** A name for the key that is safe to log and to record; never the key itself. */
  id: string;
  secret: string;
}

export type SignatureFailure =
  'missing_signature' | 'malformed_signature' | 'signature_mismatch' | 'unknown_integration';

export type SignatureVerdict = { ok: true; keyId: string } | { ok: false; reason: SignatureFailure };

const SIGNATURE_PATTERN = /^[0-9a-fA-F]{128}$/;

export function sign(rawBody: Uint8Array | string, secret: string): string {
  return createHmac('sha512', secret).update(rawBody).digest('hex');
}

/**
 * Every configured key is tried, so a key can rotate without a gap. `keys` empty means the body
 * names an integration this deployment does not know.
 */
export function verifySignature(
  rawBody: Uint8Array,
  header: string | readonly string[] | undefined,
  keys: readonly SigningKey[],
): SignatureVerdict {
  if (header === undefined || (typeof header === 'string' && header.trim() === '')) {
    return { ok: false, reason: 'missing_signature' };
  }
  // A repeated header is ambiguous; refuse it rather than pick one.
  if (typeof header !== 'string') return { ok: false, reason: 'malformed_signature' };
  const presented = header.trim();
  if (!SIGNATURE_PATTERN.test(presented)) return { ok: false, reason: 'malformed_signature' };
  if (keys.length === 0) return { ok: false, reason: 'unknown_integration' };

  const presentedBytes = Buffer.from(presented, 'hex');
  let matched: string | undefined;
  // No early exit: the time taken does not reveal which key, if any, matched.
  for (const key of keys) {
    const expected = createHmac('sha512', key.secret).update(rawBody).digest();
    if (timingSafeEqual(expected, presentedBytes) && matched === undefined) matched = key.id;
  }
  return matched === undefined ? { ok: false, reason: 'signature_mismatch' } : { ok: true, keyId: matched };
}
