/** Property-based tests of the verifier and the schemas on hostile input (no Temporal needed). */
import fc from 'fast-check';
import { MAX_UID_LENGTH, parseDelivery } from '../src/begini/events';
import { sign, verifySignature } from '../src/begini/verifier';
import { recordCases } from './support/propertyCount';

const REASONS = new Set(['missing_signature', 'malformed_signature', 'signature_mismatch', 'unknown_integration']);
const KEY = { id: 'k', secret: 'the-deployment-key' };

function check<T>(name: string, property: fc.IProperty<T>, numRuns: number): void {
  fc.assert(property, { numRuns });
  recordCases(name, numRuns);
}

describe('verifier', () => {
  test('random bytes and random headers: never throws, never verifies', () => {
    check(
      'verifier: random bytes and headers',
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.option(fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-fA-F]{128}$/), fc.array(fc.string(), { maxLength: 3 }))), (body, header) => {
        const verdict = verifySignature(body, header ?? undefined, [KEY]);
        expect(verdict.ok).toBe(false);
        expect(REASONS.has((verdict as { reason: string }).reason)).toBe(true);
      }),
      3_000,
    );
  });

  test('the right signature verifies in any letter case, with any surrounding whitespace', () => {
    check(
      'verifier: case and whitespace',
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.array(fc.boolean(), { minLength: 128, maxLength: 128 }), fc.stringMatching(/^[ \t]{0,3}$/), (body, upper, pad) => {
        const hex = [...sign(body, KEY.secret)].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('');
        expect(verifySignature(body, `${pad}${hex}${pad}`, [KEY])).toEqual({ ok: true, keyId: 'k' });
      }),
      1_500,
    );
  });

  test('a signature made with another key is a mismatch', () => {
    check(
      'verifier: another key',
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.string({ minLength: 1 }).filter((k) => k !== KEY.secret), (body, other) => {
        expect(verifySignature(body, sign(body, other), [KEY])).toEqual({ ok: false, reason: 'signature_mismatch' });
      }),
      1_500,
    );
  });

  test('an empty key configuration verifies nothing', () => {
    check(
      'verifier: no keys',
      fc.property(fc.uint8Array({ maxLength: 1024 }), fc.string(), (body, secret) => {
        expect(verifySignature(body, sign(body, secret), [])).toEqual({ ok: false, reason: 'unknown_integration' });
      }),
      1_000,
    );
  });
});

describe('schemas', () => {
  const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'uid', 'event', 'details', 'calculated');
  const hostileValue = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.jsonValue(),
      fc.dictionary(fc.oneof(hostileKey, fc.string()), tie('value'), { maxKeys: 6 }),
      fc.array(tie('value'), { maxLength: 6 }),
    ),
  })).value;

  test('any JSON value: never throws, answers ok or a stable reason, pollutes no prototype', () => {
    check(
      'schemas: arbitrary JSON',
      fc.property(hostileValue, (value) => {
        const json = JSON.parse(JSON.stringify(value ?? null)) as unknown;
        const result = parseDelivery(json);
        if (!result.ok) expect(['invalid_json', 'invalid_envelope']).toContain(result.reason);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      2_000,
    );
  });

  test('a valid envelope with hostile details is accepted, recognised types perhaps malformed', () => {
    const type = fc.oneof(fc.constantFrom('psychometric_score.complete', 'android_score.complete', 'application.complete', 'application.cancelled'), fc.string({ minLength: 1, maxLength: 40 }));
    check(
      'schemas: hostile details',
      fc.property(type, hostileValue, hostileValue, (eventType, details, reasons) => {
        const body = JSON.parse(JSON.stringify({ uid: 'u-1', integration_id: 'i', event: { type: eventType, details, reasons } })) as unknown;
        const result = parseDelivery(body);
        expect(result.ok).toBe(true);
        if (result.ok && !result.event.recognised) expect(result.event.malformed).toBe(false);
      }),
      1_500,
    );
  });

  test('deep nesting and huge arrays parse without a crash', () => {
    const deep = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    for (const depth of [100, 1_000, 5_000]) {
      const text = `{"uid":"u","integration_id":"i","event":{"type":"application.expired","details":${deep(depth)}}}`;
      expect(parseDelivery(JSON.parse(text)).ok).toBe(true);
    }
    const huge = { uid: 'u', integration_id: 'i', event: { type: 'psychometric_score.complete', details: { calculated: { score: 1, risk_band: 'B', traits: Array.from({ length: 50_000 }, (_, i) => ({ key: `t${i}` })) }, scored_at: 1 } } };
    const parsed = parseDelivery(huge);
    expect(parsed.ok && parsed.event.score?.traits.length).toBe(50_000);
    recordCases('schemas: deep nesting and huge arrays', 4);
  });

  test('uids: control characters and over-long ones are refused; path separators are opaque text', () => {
    const envelope = (uid: string) => ({ uid, integration_id: 'i', event: { type: 'application.expired' } });
    check(
      'schemas: uids with control characters',
      fc.property(fc.string({ maxLength: 40 }), fc.integer({ min: 0, max: 0x1f }), fc.string({ maxLength: 40 }), (a, control, b) => {
        expect(parseDelivery(envelope(`${a}${String.fromCharCode(control)}${b}`))).toMatchObject({ ok: false, reason: 'invalid_envelope' });
      }),
      500,
    );
    expect(parseDelivery(envelope('x'.repeat(10_000)))).toMatchObject({ ok: false, reason: 'invalid_envelope' });
    expect(parseDelivery(envelope('x'.repeat(MAX_UID_LENGTH + 1)))).toMatchObject({ ok: false, reason: 'invalid_envelope' });
    for (const uid of ['../../etc/passwd', 'a/b/c', 'a\\b', '/after-close', '%2e%2e%2f']) {
      expect(parseDelivery(envelope(uid))).toMatchObject({ ok: true, uid });
    }
  });
});
