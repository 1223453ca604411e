/**
 * Encrypts every Temporal payload (workflow inputs, signals, activity inputs and results, query
 * results, user metadata) with AES-256-GCM, so history holds ciphertext. The key id travels in the
 * payload's metadata; the first key encrypts and every key decrypts, so keys rotate without a gap.
 * Search attributes are never passed through codecs: they hold coarse, non-identifying values only.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface CodecKey {
  id: string;
  key: Buffer;
}

export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
  constructor(
    readonly reason: 'unknown_key' | 'tampered',
    message: string,
  ) {
    super(message);
  }
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export class AesGcmCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: readonly CodecKey[]) {
    if (keys.length === 0) throw new Error('AesGcmCodec needs at least one key');
    for (const { id, key } of keys) if (key.length !== 32) throw new Error(`codec key ${id} must be 32 bytes`);
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
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
      // Payloads written before encryption was on stay readable.
      if (!encoding || fromUtf8.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
      const idBytes = payload.metadata?.[KEY_ID_METADATA];
      const id = idBytes ? fromUtf8.decode(idBytes) : '';
      const key = this.byId.get(id);
      if (!key) throw new PayloadDecryptionError('unknown_key', `payload encrypted with key "${id}", which is not configured`);
      const sealed = Buffer.from(payload.data ?? new Uint8Array());
      try {
        const decipher = createDecipheriv(CIPHER, key, sealed.subarray(0, IV_BYTES));
        decipher.setAAD(additionalData(id));
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        const plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
        return temporal.api.common.v1.Payload.decode(plain);
      } catch {
        throw new PayloadDecryptionError('tampered', 'payload failed authentication');
      }
    });
  }
}

/** Binds the ciphertext to its key id, so metadata cannot be swapped onto another payload's key. */
function additionalData(keyId: string): Buffer {
  return Buffer.from(`begini-temporal/v1/${keyId}`);
}

/** `id:base64key,id:base64key`: the first encrypts, all decrypt. */
export function parseCodecKeys(spec: string): CodecKey[] {
  return spec
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const separator = entry.indexOf(':');
      const id = entry.slice(0, separator);
      const key = Buffer.from(entry.slice(separator + 1), 'base64');
      if (separator <= 0 || !/^[\w.-]{1,64}$/.test(id)) throw new Error(`"${id || entry.slice(0, 8)}…" is not id:base64key`);
      if (key.length !== 32) throw new Error(`key ${id} must be 32 bytes of base64 (openssl rand -base64 32)`);
      return { id, key };
    });
}

export function generateCodecKeySpec(id = `dev-${new Date().toISOString().slice(0, 10)}`): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
