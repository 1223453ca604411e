/** Payload encryption, which the receiver, the worker and the codec server all need its keys for. */
import { z } from 'zod';
import { parseCodecKeys, type CodecKey } from '../codec/aesGcm';

/** Payload encryption is not optional: history would otherwise hold credit data in plaintext. */
export const codecKeys = z
  .string({
    error:
      'is required: credit data in Temporal is encrypted (id:base64key[,id:base64key]; generate a key with openssl rand -base64 32)',
  })
  .transform((spec, ctx) => {
    try {
      return parseCodecKeys(spec);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  })
  .pipe(z.array(z.custom<CodecKey>()).min(1, 'needs at least one key'));

/** A migration allowance for payloads written before encryption, and only ever for a while. */
const MAX_PLAINTEXT_ALLOWANCE_MS = 90 * 86_400_000;
const acceptPlaintextUntil = z.iso
  .date('must be a date such as 2026-12-31')
  .transform((day) => new Date(`${day}T23:59:59.999Z`))
  .refine(
    (until) => until.getTime() - Date.now() <= MAX_PLAINTEXT_ALLOWANCE_MS,
    'must be at most 90 days ahead: it is a migration allowance, not a mode',
  )
  .optional();

export const payloadCodecEnvSchema = z.object({
  PAYLOAD_CODEC_KEYS: codecKeys,
  PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL: acceptPlaintextUntil,
});

export interface PayloadCodecSettings {
  codecKeys: CodecKey[];
  /** Until when plaintext payloads (written before encryption) are still read; null: never. */
  acceptPlaintextUntil: Date | null;
}

export function payloadCodecOf(e: z.infer<typeof payloadCodecEnvSchema>): PayloadCodecSettings {
  return { codecKeys: e.PAYLOAD_CODEC_KEYS, acceptPlaintextUntil: e.PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL ?? null };
}
