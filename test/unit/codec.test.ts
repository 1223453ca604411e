/**
 * Credit data in Temporal is encrypted: the AES-256-GCM codec, its rotation, its refusal of
 * plaintext (which anyone reaching the frontend could write) and the key configuration. Pure: the
 * codec endpoint and real histories are in codecEndpoint.test.ts.
 */
import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  AesGcmCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  parseCodecKeys,
  PayloadDecryptionError,
} from '../../src/codec/aesGcm';

const key = (id: string) => ({ id, key: randomBytes(32) });
const plain = (value: unknown): Payload => defaultPayloadConverter.toPayload(value)!;
const text = (p: Payload) => Buffer.from(p.data ?? []).toString('utf8');
const meta = (p: Payload, k: string) => Buffer.from(p.metadata?.[k] ?? []).toString('utf8');

describe('AesGcmCodec', () => {
  const old = key('2026-05');
  const current = key('2026-11');

  test('round-trips, and the ciphertext shows nothing of the payload', async () => {
    const codec = new AesGcmCodec([current]);
    const secret = { uid: 'APP-123', score: 42, risk_band: 'B' };
    const [encrypted] = await codec.encode([plain(secret)]);
    expect(meta(encrypted!, 'encoding')).toBe(ENCRYPTED_ENCODING);
    expect(meta(encrypted!, KEY_ID_METADATA)).toBe('2026-11');
    expect(text(encrypted!)).not.toContain('APP-123');
    expect(Object.keys(encrypted!.metadata!)).toEqual(['encoding', KEY_ID_METADATA]);
    const [decrypted] = await codec.decode([encrypted!]);
    expect(defaultPayloadConverter.fromPayload(decrypted!)).toEqual(secret);
  });

  test('every encryption uses a fresh IV', async () => {
    const codec = new AesGcmCodec([current]);
    const [a, b] = await codec.encode([plain('same'), plain('same')]);
    expect(Buffer.compare(Buffer.from(a!.data!), Buffer.from(b!.data!))).not.toBe(0);
  });

  test('rotation: the new key encrypts, the old key still decrypts what it wrote', async () => {
    const [written] = await new AesGcmCodec([old]).encode([plain('before rotation')]);
    const rotated = new AesGcmCodec([current, old]);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([written!]))[0]!)).toBe('before rotation');
    expect(meta((await rotated.encode([plain('after')]))[0]!, KEY_ID_METADATA)).toBe('2026-11');
  });

  test('an unknown key, tampered bytes and a swapped key id are refused', async () => {
    const [written] = await new AesGcmCodec([old]).encode([plain('x')]);
    await expect(new AesGcmCodec([current]).decode([written!])).rejects.toMatchObject({ reason: 'unknown_key' });
    const tampered = { ...written!, data: Buffer.from(written!.data!).fill(0, 20, 21) };
    await expect(new AesGcmCodec([old]).decode([tampered])).rejects.toBeInstanceOf(PayloadDecryptionError);
    const sameKeyOtherId = { id: 'other', key: old.key };
    const relabelled = { ...written!, metadata: { ...written!.metadata, [KEY_ID_METADATA]: Buffer.from('other') } };
    await expect(new AesGcmCodec([sameKeyOtherId]).decode([relabelled])).rejects.toMatchObject({ reason: 'tampered' });
  });

  // What a forger can signal straight to the frontend: no key, so no ciphertext.
  const plaintexts: Array<[string, Payload]> = [
    ['json/plain', plain({ event: 'psychometric_score.complete', score: 999 })],
    ['binary/null', plain(undefined)],
    ['no encoding', { metadata: {}, data: Buffer.from('{"score":999}') }],
    ['no metadata', { data: Buffer.from('{"score":999}') }],
    ['a made-up encoding', { metadata: { encoding: Buffer.from('binary/encrypted-v2') }, data: Buffer.from('x') }],
  ];
  const HOUR = 3_600_000;

  test.each(plaintexts)(
    'a plaintext payload (%s) is refused by default, with reason plaintext and the migration setting named',
    async (_name, payload) => {
      const refusal = new AesGcmCodec([current]).decode([payload]);
      await expect(refusal).rejects.toBeInstanceOf(PayloadDecryptionError);
      await expect(refusal).rejects.toMatchObject({ reason: 'plaintext' });
      await expect(refusal).rejects.toThrow(/plaintext payloads are refused/);
      await expect(refusal).rejects.toThrow(/PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL/);
      // One plaintext payload among encrypted ones still fails the batch.
      const [sealed] = await new AesGcmCodec([current]).encode([plain('ok')]);
      await expect(new AesGcmCodec([current]).decode([sealed!, payload])).rejects.toMatchObject({
        reason: 'plaintext',
      });
    },
  );

  test('the migration allowance accepts plaintext until its date', async () => {
    const migrating = new AesGcmCodec([current], { acceptPlaintext: { until: new Date(Date.now() + HOUR) } });
    for (const [, payload] of plaintexts) expect(await migrating.decode([payload])).toEqual([payload]);
    // Encrypted payloads decode as ever.
    const [sealed] = await migrating.encode([plain({ score: 42 })]);
    expect(defaultPayloadConverter.fromPayload((await migrating.decode([sealed!]))[0]!)).toEqual({ score: 42 });
  });

  test('a migration allowance whose date has passed refuses plaintext, and says when it ended', async () => {
    const ended = new Date(Date.now() - HOUR);
    const expired = new AesGcmCodec([current], { acceptPlaintext: { until: ended } });
    const refusal = expired.decode([plaintexts[0]![1]]);
    await expect(refusal).rejects.toMatchObject({ reason: 'plaintext' });
    await expect(refusal).rejects.toThrow(ended.toISOString());
  });

  test('the allowance is checked at every decode: a running worker stops accepting once the date passes', async () => {
    const start = Date.parse('2026-06-01T00:00:00Z');
    jest.useFakeTimers({ now: start, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const until = new Date(start + HOUR);
      const migrating = new AesGcmCodec([current], { acceptPlaintext: { until } });
      until.setTime(start + 1_000 * HOUR); // the codec keeps its own copy: mutating the caller's Date extends nothing
      const [, payload] = plaintexts[0]!;
      expect(await migrating.decode([payload])).toEqual([payload]);
      jest.setSystemTime(start + HOUR - 1);
      expect(await migrating.decode([payload])).toEqual([payload]);
      jest.setSystemTime(start + HOUR);
      await expect(migrating.decode([payload])).rejects.toMatchObject({ reason: 'plaintext' });
    } finally {
      jest.useRealTimers();
    }
  });

  test('acceptPlaintext: false refuses like the default; an invalid date is refused at construction', async () => {
    await expect(
      new AesGcmCodec([current], { acceptPlaintext: false }).decode([plaintexts[0]![1]]),
    ).rejects.toMatchObject({ reason: 'plaintext' });
    await expect(new AesGcmCodec([current], {}).decode([plaintexts[0]![1]])).rejects.toMatchObject({
      reason: 'plaintext',
    });
    expect(() => new AesGcmCodec([current], { acceptPlaintext: { until: new Date('not a date') } })).toThrow(
      /valid Date/,
    );
  });

  test('encoding always encrypts, whatever plaintext decoding accepts', async () => {
    for (const acceptPlaintext of [true, false, { until: new Date(Date.now() + HOUR) }]) {
      const [encoded] = await new AesGcmCodec([current], { acceptPlaintext }).encode([plain({ uid: 'APP-9' })]);
      expect(meta(encoded!, 'encoding')).toBe(ENCRYPTED_ENCODING);
      expect(text(encoded!)).not.toContain('APP-9');
    }
  });

  test('a duplicate key id is refused at construction', () => {
    expect(() => new AesGcmCodec([key('a'), key('a')])).toThrow(/"a"/);
    expect(() => new AesGcmCodec([key('a'), key('b'), key('a')])).toThrow(/listed more than once/);
  });
});

describe('parseCodecKeys', () => {
  // Fixed keys, so the leak check below is deterministic.
  const k1 = Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
  const k2 = Buffer.alloc(32, 7).toString('base64');

  test('parses id:base64key entries, in order, ignoring blanks and spaces', () => {
    const keys = parseCodecKeys(` first:${k1} ,, second.2026-11:${k2},`);
    expect(keys.map((k) => k.id)).toEqual(['first', 'second.2026-11']);
    expect(keys[0]!.key.toString('base64')).toBe(k1);
    expect(keys[1]!.key.toString('base64')).toBe(k2);
  });

  test('a duplicate key id is refused, naming the id', () => {
    expect(() => parseCodecKeys(`a:${k1},a:${k2}`)).toThrow('PAYLOAD_CODEC_KEYS lists the key id "a" more than once');
    expect(() => parseCodecKeys(`a:${k1},b:${k2},a:${k1}`)).toThrow(/"a"/);
  });

  /** The first substring of at least 4 characters of `secret` that `message` contains. */
  const leakOf = (message: string, secret: string) => {
    for (let i = 0; i + 4 <= secret.length; i++)
      if (message.includes(secret.slice(i, i + 4))) return secret.slice(i, i + 4);
    return undefined;
  };
  const messageOf = (spec: string) => {
    try {
      parseCodecKeys(spec);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected parseCodecKeys to refuse');
  };

  test.each([
    // [case, bad entry, what in it may be key material]
    ['no colon', `nocolon${k2}`, `nocolon${k2}`],
    ['an empty id', `:${k2}`, k2],
    ['an id that is not an id', `bad id!:${k2}`, `bad id!:${k2}`],
    ['a short key', 'k1:dG9vIHNob3J0', 'dG9vIHNob3J0'],
    ['a truncated key', `k1:${k2.slice(0, 40)}`, k2.slice(0, 40)],
    ['key and id the wrong way round', `${k2.replace(/=+$/, '')}:k1`, k2.replace(/=+$/, '')],
  ])('a malformed entry (%s) is named by its position, never by any part of its key', (_name, bad, material) => {
    const message = messageOf(`good:${k1},${bad}`);
    expect(message).toContain('entry 2 of PAYLOAD_CODEC_KEYS');
    expect(leakOf(message, material)).toBeUndefined();
    expect(leakOf(message, k1)).toBeUndefined();
  });

  test('a short key names its entry by position and id, and says what is wrong', () => {
    expect(messageOf('k1:dG9vIHNob3J0')).toBe(
      'entry 1 of PAYLOAD_CODEC_KEYS (id "k1"): the key must be 32 bytes of base64 (openssl rand -base64 32)',
    );
    expect(messageOf(`nocolon${k2}`)).toBe('entry 1 of PAYLOAD_CODEC_KEYS is not id:base64key');
  });
});
