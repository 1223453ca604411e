/** Property-based tests of the verifier and the schemas on hostile input (no Temporal needed). */
import fc from 'fast-check';
import { MAX_LABEL_LENGTH, MAX_PERMISSIONS, MAX_TRAITS, MAX_UID_LENGTH, parseDelivery } from '../../src/begini/events';
import { toDelivery } from '../../src/receiver/deliver';
import type { Deployment } from '../../src/config/deployments';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmCodec } from '../../src/codec/aesGcm';
import { applyDelivery, startJourney } from '../../workflows/journeyState';
import type { BeginiDelivery } from '../../workflows/definitions';
import { sign, verifySignature } from '../../src/begini/verifier';
import { recordCases } from '../support/propertyCount';
import { TEST_JOURNEY_SETTINGS } from '../support/begini';

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
      fc.property(
        fc.uint8Array({ maxLength: 4096 }),
        fc.option(
          fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-fA-F]{128}$/), fc.array(fc.string(), { maxLength: 3 })),
        ),
        (body, header) => {
          const verdict = verifySignature(body, header ?? undefined, [KEY]);
          expect(verdict.ok).toBe(false);
          expect(REASONS.has((verdict as { reason: string }).reason)).toBe(true);
        },
      ),
      3_000,
    );
  });

  test('the right signature verifies in any letter case, with any surrounding whitespace', () => {
    check(
      'verifier: case and whitespace',
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.array(fc.boolean(), { minLength: 128, maxLength: 128 }),
        fc.stringMatching(/^[ \t]{0,3}$/),
        (body, upper, pad) => {
          const hex = [...sign(body, KEY.secret)].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('');
          expect(verifySignature(body, `${pad}${hex}${pad}`, [KEY])).toEqual({ ok: true, keyId: 'k' });
        },
      ),
      1_500,
    );
  });

  test('a signature made with another key is a mismatch', () => {
    check(
      'verifier: another key',
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.string({ minLength: 1 }).filter((k) => k !== KEY.secret),
        (body, other) => {
          expect(verifySignature(body, sign(body, other), [KEY])).toEqual({ ok: false, reason: 'signature_mismatch' });
        },
      ),
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
  const hostileKey = fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'uid',
    'event',
    'details',
    'calculated',
  );
  const hostileValue = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.jsonValue(),
      fc.dictionary(fc.oneof(hostileKey, fc.string()), tie('value'), { maxKeys: 6 }),
      fc.array(tie('value'), { maxLength: 6 }),
    ),
  })).value;

  test('any JSON value: never throws, answers ok or a stable reason', () => {
    check(
      'schemas: arbitrary JSON',
      fc.property(hostileValue, (value) => {
        const json = JSON.parse(JSON.stringify(value ?? null)) as unknown;
        const result = parseDelivery(json);
        if (!result.ok) expect(['invalid_json', 'invalid_envelope', 'nesting_too_deep']).toContain(result.reason);
      }),
      2_000,
    );
  });

  test('a "__proto__" key anywhere in a body never becomes the prototype of what reaches the journey', () => {
    const text = `{"uid":"u","integration_id":"i","__proto__":{"polluted":1},"event":{"type":"psychometric_score.complete","__proto__":{"polluted":1},"details":{"__proto__":{"polluted":1},"scored_at":1,"calculated":{"__proto__":{"polluted":1},"score":1,"risk_band":"A","traits":[{"__proto__":{"polluted":1},"key":"k"}]}}}}`;
    const result = parseDelivery(JSON.parse(text));
    if (!result.ok) throw new Error(result.message);
    const reached: object[] = [result.event, result.event.details, result.event.score!, ...result.event.score!.traits];
    for (const value of reached) {
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect((value as Record<string, unknown>).polluted).toBeUndefined();
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('a valid envelope with hostile details is accepted, recognised types perhaps malformed', () => {
    const type = fc.oneof(
      fc.constantFrom(
        'psychometric_score.complete',
        'android_score.complete',
        'application.complete',
        'application.cancelled',
      ),
      fc.string({ minLength: 1, maxLength: 40 }),
    );
    check(
      'schemas: hostile details',
      fc.property(type, hostileValue, hostileValue, (eventType, details, reasons) => {
        const body = JSON.parse(
          JSON.stringify({ uid: 'u-1', integration_id: 'i', event: { type: eventType, details, reasons } }),
        ) as unknown;
        const result = parseDelivery(body);
        expect(result.ok).toBe(true);
        if (result.ok && !result.event.recognised) expect(result.event.malformed).toBe(false);
      }),
      1_500,
    );
  });

  test('deep nesting and huge arrays parse without a crash', () => {
    const deep = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const nested = (depth: number) =>
      parseDelivery(
        JSON.parse(`{"uid":"u","integration_id":"i","event":{"type":"application.expired","details":${deep(depth)}}}`),
      );
    expect(nested(20).ok).toBe(true);
    // Far deeper than any Begini payload: refused for good (4xx), never an endless 503.
    for (const depth of [100, 1_000, 5_000, 100_000])
      expect(nested(depth)).toMatchObject({ ok: false, reason: 'nesting_too_deep' });
    const huge = {
      uid: 'u',
      integration_id: 'i',
      event: {
        type: 'psychometric_score.complete',
        details: {
          calculated: {
            score: 1,
            risk_band: 'B',
            traits: Array.from({ length: 50_000 }, (_, i) => ({ key: `t${i}` })),
          },
          scored_at: 1,
        },
      },
    };
    const parsed = parseDelivery(huge);
    // Kept on record but marked malformed: no list that reaches a journey's state is unbounded.
    expect(parsed.ok && parsed.event.malformed && parsed.event.score).toBeNull();
    recordCases('schemas: deep nesting and huge arrays', 5);
  });

  test('uids: control characters and over-long ones are refused; path separators are opaque text', () => {
    const envelope = (uid: string) => ({ uid, integration_id: 'i', event: { type: 'application.expired' } });
    check(
      'schemas: uids with control characters',
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.integer({ min: 0, max: 0x1f }),
        fc.string({ maxLength: 40 }),
        (a, control, b) => {
          expect(parseDelivery(envelope(`${a}${String.fromCharCode(control)}${b}`))).toMatchObject({
            ok: false,
            reason: 'invalid_envelope',
          });
        },
      ),
      500,
    );
    expect(parseDelivery(envelope('x'.repeat(10_000)))).toMatchObject({ ok: false, reason: 'invalid_envelope' });
    expect(parseDelivery(envelope('x'.repeat(MAX_UID_LENGTH + 1)))).toMatchObject({
      ok: false,
      reason: 'invalid_envelope',
    });
    for (const uid of ['../../etc/passwd', 'a/b/c', 'a\\b', '/after-close', 'X/after-close', '%2e%2e%2f']) {
      expect(parseDelivery(envelope(uid))).toMatchObject({ ok: true, uid });
    }
  });

  test('identifiers that are not well-formed Unicode are refused: a lone surrogate would collapse two uids into one', () => {
    const envelope = (uid: string, integration = 'i', type = 'application.expired') => ({
      uid,
      integration_id: integration,
      event: { type },
    });
    check(
      'schemas: lone surrogates in identifiers',
      fc.property(
        fc.string({ maxLength: 20 }),
        fc.integer({ min: 0xd800, max: 0xdfff }),
        fc.string({ maxLength: 20 }),
        fc.integer({ min: 0, max: 2 }),
        (a, surrogate, b, field) => {
          const odd = `${a}${String.fromCharCode(surrogate)}${b}`;
          const body = [envelope(odd), envelope('u', odd), envelope('u', 'i', odd)][field]!;
          expect(parseDelivery(body)).toMatchObject({ ok: false, reason: 'invalid_envelope' });
        },
      ),
      500,
    );
  });
});

/** The largest signal a 256 KiB body can become: 16 KiB of details, 4 KiB of reasons, bounded facts. */
const MAX_DELIVERY_BYTES = 112 * 1024;

describe('what reaches Temporal is bounded', () => {
  const deployment: Deployment = {
    integrationId: 'i',
    environment: 'test',
    namespace: 'default',
    keys: [],
    journey: { requiredScores: ['psychometric'], scoreGraceMs: 1, expiryMs: 1, settleMs: 1, handoffRetryInitialMs: 1 },
  };
  // Three-byte characters at the length limit are the heaviest text that passes the bounds.
  const hostileText = fc.oneof(
    fc.string({ maxLength: 3_000 }),
    fc.string({ unit: 'grapheme', maxLength: 300 }),
    fc.constant('x'.repeat(3_000)),
    fc.integer({ min: 1, max: 64 }).map((n) => '中'.repeat(n)),
  );

  test('every free-text field of a score, at any length and in any script, reaches the journey clipped or marked malformed', () => {
    check(
      'bounds: long and odd free-text fields',
      fc.property(
        fc.record({
          platform: hostileText,
          risk_band: hostileText,
          score_confidence: hostileText,
          traitKey: hostileText,
          traitBand: hostileText,
          traits: fc.integer({ min: 0, max: 500 }),
          permission: hostileText,
          permissions: fc.integer({ min: 0, max: 2_000 }),
          extraTimestamps: fc.integer({ min: 0, max: 2_000 }),
        }),
        (f) => {
          const details: Record<string, unknown> = {
            scored_at: 1_700_000_000,
            platform: f.platform,
            permissions: {
              granted: Array.from({ length: f.permissions }, (_, i) => `${f.permission}${i}`.slice(-64)),
              denied: Array.from({ length: f.permissions }, (_, i) => `${i}${f.permission}`.slice(0, 64)),
              nested: { permissions: { denied: ['two levels down: not read'] } },
            },
            calculated: {
              score: 1,
              risk_band: f.risk_band,
              score_confidence: f.score_confidence,
              traits: Array.from({ length: f.traits }, () => ({ key: f.traitKey, risk_band: f.traitBand })),
            },
          };
          for (let i = 0; i < f.extraTimestamps; i++) details[`t${i}_at`] = i;
          const parsed = parseDelivery({
            uid: 'u',
            integration_id: 'i',
            event: { type: 'psychometric_score.complete', details },
          });
          if (!parsed.ok) throw new Error(parsed.message);
          const score = parsed.event.score;
          if (score) {
            for (const text of [
              score.riskBand,
              score.scoreConfidence ?? '',
              score.platform ?? '',
              ...score.traits.flatMap((t) => [t.key, t.riskBand ?? '']),
            ]) {
              expect(text.length).toBeLessThanOrEqual(MAX_LABEL_LENGTH);
            }
            expect(score.traits.length).toBeLessThanOrEqual(MAX_TRAITS);
            expect(score.permissionsGranted.length).toBeLessThanOrEqual(MAX_PERMISSIONS);
            expect(score.permissionsDenied.length).toBeLessThanOrEqual(MAX_PERMISSIONS);
            expect(score.permissionsDenied).not.toContain('two levels down: not read');
          } else {
            expect(parsed.event.malformed).toBe(true);
          }
          expect(Object.keys(parsed.event.timestamps).length).toBeLessThanOrEqual(16);
          const delivery = toDelivery({
            uid: 'u',
            integrationId: 'i',
            deployment,
            keyId: 'k',
            event: parsed.event,
            rawBody: Buffer.from('x'),
            receivedAt: new Date(),
          });
          expect(delivery.semanticKey).toMatch(/^[0-9a-f]{64}$/);
          expect(Buffer.byteLength(JSON.stringify(delivery))).toBeLessThan(MAX_DELIVERY_BYTES);
        },
      ),
      300,
    );
  });

  test("the heaviest journey state signed deliveries can build stays far below Temporal's 2 MB payload limit", () => {
    // Every list at its cap, every label at its length limit in three-byte characters.
    const heavy = (n: number) => '中'.repeat(64 - String(n).length) + n;
    const scoreBody = (type: string, scoredAt: number) => ({
      uid: 'u',
      integration_id: 'i',
      event: {
        type,
        details: {
          scored_at: scoredAt,
          platform: heavy(0),
          permissions: {
            granted: Array.from({ length: 500 }, (_, i) => heavy(i)),
            denied: Array.from({ length: 500 }, (_, i) => heavy(i)),
          },
          calculated: {
            score: 1,
            risk_band: heavy(1),
            score_confidence: heavy(2),
            traits: Array.from({ length: MAX_TRAITS }, (_, i) => ({ key: heavy(i), risk_band: heavy(i) })),
          },
          padding: 'x'.repeat(200_000),
        },
        reasons: Array.from({ length: 1_000 }, (_, i) => heavy(i)),
      },
    });
    const toSignal = (body: Record<string, unknown>, n: number) => {
      const parsed = parseDelivery(body);
      if (!parsed.ok) throw new Error(parsed.message);
      return toDelivery({
        uid: 'u',
        integrationId: 'i',
        deployment,
        keyId: 'k',
        event: parsed.event,
        rawBody: Buffer.from(String(n)),
        receivedAt: new Date(),
      });
    };
    const state = startJourney(
      { uid: 'u', integrationId: 'i', environment: 'test', settings: deployment.journey },
      new Date(),
    );
    let n = 0;
    const now = Math.floor(Date.now() / 1000);
    for (const type of ['psychometric_score.complete', 'android_score.complete', 'ios_score.complete'])
      applyDelivery(state, toSignal(scoreBody(type, now - 1_000), n++), new Date());
    state.phase = 'settled';
    // Late re-scores (notices) and malformed events (issues) until every list is full.
    for (let i = 0; i < 200; i++)
      applyDelivery(state, toSignal(scoreBody('psychometric_score.complete', now - 900 + i), n++), new Date());
    for (let i = 0; i < 200; i++)
      applyDelivery(
        state,
        toSignal(
          {
            uid: 'u',
            integration_id: 'i',
            event: { type: 'android_score.complete', details: { calculated: Array(50).fill(heavy(i)) } },
          },
          n++,
        ),
        new Date(),
      );
    const bytes = Buffer.byteLength(JSON.stringify(state));
    console.log(`heaviest journey state: ${(bytes / 1024).toFixed(0)} KiB`);
    expect(bytes).toBeLessThan(512 * 1024);
  });
});

describe('nothing from outside the trust boundary is applied', () => {
  const settings = TEST_JOURNEY_SETTINGS;
  const T0 = new Date('2026-11-28T10:00:00Z');
  const delivery = (n: number, type: string, integrationId: string, band: string): BeginiDelivery => ({
    type,
    recognised: true,
    malformed: false,
    issues: [],
    details: {},
    reasons: null,
    score: type.endsWith('_score.complete')
      ? {
          kind: type.split('_')[0]!,
          score: n,
          riskBand: band,
          scoreConfidence: null,
          scoredAt: n,
          platform: null,
          traits: [],
          permissionsGranted: [],
          permissionsDenied: [],
        }
      : null,
    integrationId,
    environment: 'test',
    keyId: 'k',
    receivedAt: T0.toISOString(),
    fingerprint: `${integrationId}-${n}`.padEnd(64, '0'),
    // The same event from another integration has the same semantic key: it must not mask the real one.
    semanticKey: `${type}|${n}`,
  });
  const types = [
    'application.complete',
    'application.expired',
    'application.cancelled',
    'psychometric_score.complete',
    'android_score.complete',
  ];

  test("foreign integration: any interleaving of another integration's deliveries leaves the journey as its own deliveries alone make it", () => {
    check(
      'trust: foreign deliveries interleaved',
      fc.property(
        fc.array(
          fc.record({
            n: fc.integer({ min: 1, max: 20 }),
            type: fc.constantFrom(...types),
            foreign: fc.boolean(),
            band: fc.constantFrom('A', 'E'),
          }),
          { maxLength: 30 },
        ),
        (steps) => {
          const mixed = startJourney({ uid: 'u', integrationId: 'own', environment: 'test', settings }, T0);
          const alone = startJourney({ uid: 'u', integrationId: 'own', environment: 'test', settings }, T0);
          for (const step of steps) {
            const d = delivery(step.n, step.type, step.foreign ? 'foreign' : 'own', step.band);
            applyDelivery(mixed, d, T0);
            if (!step.foreign) applyDelivery(alone, d, T0);
          }
          const foreignCount = steps.filter((s) => s.foreign).length;
          expect(mixed.scores).toEqual(alone.scores);
          expect(mixed.application).toEqual(alone.application);
          expect(mixed.counts.duplicates).toBe(alone.counts.duplicates);
          expect(mixed.counts.quarantined).toBe(foreignCount);
          expect(mixed.flags.filter((f) => f !== 'foreign_delivery')).toEqual(alone.flags);
        },
      ),
      1_000,
    );
  });

  test('plaintext signals: any payload that is not ours-encrypted is refused by the worker-side codec', async () => {
    const codec = new AesGcmCodec([{ id: 'k', key: Buffer.alloc(32, 3) }]);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue().map((value) => defaultPayloadConverter.toPayload(value)!),
          fc.record({
            metadata: fc.dictionary(fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 40 }), { maxKeys: 4 }),
            data: fc.uint8Array({ maxLength: 200 }),
          }),
        ),
        async (payload) => {
          const encoding = Buffer.from(payload.metadata?.encoding ?? []).toString();
          fc.pre(encoding !== 'binary/encrypted');
          await expect(codec.decode([payload])).rejects.toMatchObject({ reason: 'plaintext' });
        },
      ),
      { numRuns: 500 },
    );
    recordCases('trust: plaintext payloads', 500);
  });
});
