/**
 * Encrypts every Temporal payload (workflow inputs, signals, activity inputs and results, query
 * results, user metadata) with AES-256-GCM, so history holds ciphertext. The key id travels in the
 * payload's metadata; the first key encrypts and every key decrypts, so keys rotate without a gap.
 * Search attributes are never passed through codecs: they hold coarse values only (a risk band, never
 * a score), still personal credit data beside the uid (docs/security.md, Data inventory).
 *
 * Decoding fails closed on plaintext. Encryption is also our authentication: the GCM tag proves a
 * payload came from something holding a key (the receiver, after its HMAC check), while anyone who
 * can reach the Temporal frontend can write a plaintext signal. Passing plaintext through would
 * let a forged `beginiEvent` skip the receiver's checks and drive a journey. Two exceptions, both
 * explicit: `{ until }` reads histories written before encryption was on, for a bounded migration
 * window (checked at every decode, so a long-running worker stops on time, not at its next
 * restart); `true` is for the codec endpoint only, which merely displays what is already stored.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { IntegrationError } from '../errors';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface CodecKey {
  id: string;
  key: Buffer;
}

export type PayloadDecryptionReason = 'unknown_key' | 'tampered' | 'plaintext';

export class PayloadDecryptionError extends IntegrationError<PayloadDecryptionReason> {}

/** The environment setting operators use for the migration allowance; named in refusals so they know where to look. */
export const ACCEPT_PLAINTEXT_SETTING = 'PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL';

export interface AesGcmCodecOptions {
  /**
   * Default false: a payload that is not `binary/encrypted` is refused (reason `plaintext`).
   * `{ until }`: accepted until that instant, to read histories from before encryption was on.
   * `true`: always accepted; for the codec endpoint only, never a worker or a client.
   */
  acceptPlaintext?: boolean | { until: Date };
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export class AesGcmCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  /** Plaintext is accepted while Date.now() is below this: -Infinity refuses, Infinity always accepts. */
  private readonly plaintextUntil: number;

  constructor(
    private readonly keys: readonly CodecKey[],
    options: AesGcmCodecOptions = {},
  ) {
    if (keys.length === 0) throw new Error('AesGcmCodec needs at least one key');
    for (const { id, key } of keys) if (key.length !== 32) throw new Error(`codec key ${id} must be 32 bytes`);
    // With a duplicate id, one key would encrypt and another decrypt what it wrote.
    const duplicate = firstDuplicate(keys.map((k) => k.id));
    if (duplicate !== undefined) throw new Error(`codec key id "${duplicate}" is listed more than once`);
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
    const accept = options.acceptPlaintext ?? false;
    if (typeof accept === 'boolean') {
      this.plaintextUntil = accept ? Infinity : -Infinity;
    } else {
      // Copied, so a caller mutating its Date cannot extend the window; an invalid date must not read as "no limit".
      this.plaintextUntil = accept.until instanceof Date ? accept.until.getTime() : NaN;
      if (Number.isNaN(this.plaintextUntil)) throw new Error('acceptPlaintext.until must be a valid Date');
    }
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keys[0]!;
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(CIPHER, key, iv);
      cipher.setAAD(additionalData(id));
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(id) },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (!encoding || fromUtf8.decode(encoding) !== ENCRYPTED_ENCODING) {
        if (Date.now() < this.plaintextUntil) return payload;
        throw new PayloadDecryptionError('plaintext', this.plaintextRefusal());
      }
      const idBytes = payload.metadata?.[KEY_ID_METADATA];
      const id = idBytes ? fromUtf8.decode(idBytes) : '';
      const key = this.byId.get(id);
      if (!key)
        throw new PayloadDecryptionError('unknown_key', `payload encrypted with key "${id}", which is not configured`);
      const sealed = Buffer.from(payload.data ?? new Uint8Array());
      try {
        const decipher = createDecipheriv(CIPHER, key, sealed.subarray(0, IV_BYTES));
        decipher.setAAD(additionalData(id));
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        const plain = Buffer.concat([
          decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
          decipher.final(),
        ]);
        return temporal.api.common.v1.Payload.decode(plain);
      } catch {
        throw new PayloadDecryptionError('tampered', 'payload failed authentication');
      }
    });
  }

  private plaintextRefusal(): string {
    // The payload's own metadata is not echoed: it is whatever the sender chose to write.
    const ended = Number.isFinite(this.plaintextUntil)
      ? ` (the allowance ended at ${new Date(this.plaintextUntil).toISOString()})`
      : '';
    return `payload is not encrypted: plaintext payloads are refused${ended}; to read histories written before encryption was on, set ${ACCEPT_PLAINTEXT_SETTING} to a date for a bounded migration window`;
  }
}

function firstDuplicate(ids: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) return id;
    seen.add(id);
  }
  return undefined;
}

/** Binds the ciphertext to its key id, so metadata cannot be swapped onto another payload's key. */
function additionalData(keyId: string): Buffer {
  return Buffer.from(`begini-temporal/v1/${keyId}`);
}

/**
 * `id:base64key,id:base64key`: the first encrypts, all decrypt. Errors name an entry by its position
 * and, once its id is known, by that id: never by any part of the entry itself, which may be a key
 * (this text ends up in logs and in startup failure output).
 */
export function parseCodecKeys(spec: string): CodecKey[] {
  const keys = spec
    .split(',')
    .map((entry, index) => ({ entry: entry.trim(), where: `entry ${index + 1} of PAYLOAD_CODEC_KEYS` }))
    .filter(({ entry }) => entry)
    .map(({ entry, where }) => {
      const separator = entry.indexOf(':');
      const id = entry.slice(0, separator);
      if (separator <= 0 || !/^[\w.-]{1,64}$/.test(id)) throw new Error(`${where} is not id:base64key`);
      const key = Buffer.from(entry.slice(separator + 1), 'base64');
      // Written the wrong way round (key:id), the "id" is the key; an unpadded one even passes the id pattern.
      const named = Buffer.from(id, 'base64').length === 32 ? where : `${where} (id "${id}")`;
      if (key.length !== 32) throw new Error(`${named}: the key must be 32 bytes of base64 (openssl rand -base64 32)`);
      return { id, key };
    });
  const duplicate = firstDuplicate(keys.map((k) => k.id));
  // Each id must name one key: otherwise the first would encrypt and the last decrypt, and nothing written would read back.
  if (duplicate !== undefined) throw new Error(`PAYLOAD_CODEC_KEYS lists the key id "${duplicate}" more than once`);
  return keys;
}

export function generateCodecKeySpec(id = `dev-${new Date().toISOString().slice(0, 10)}`): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
