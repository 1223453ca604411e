import { KNOWN_EVENT_TYPES, MAX_UID_LENGTH, parseDelivery } from '../../src/begini/events';
import { delivery } from '../support/begini';

const ok = (json: unknown) => {
  const result = parseDelivery(json);
  if (!result.ok) throw new Error(`expected success, got ${result.reason}: ${result.message}`);
  return result;
};

describe('envelope', () => {
  test.each([
    ['an array', []],
    ['a string', 'hello'],
    ['null', null],
  ])('%s is invalid_json', (_name, json) => {
    expect(parseDelivery(json)).toMatchObject({ ok: false, reason: 'invalid_json' });
  });

  test.each([
    ['uid missing', { integration_id: 'i', event: { type: 't' } }, 'uid'],
    ['uid empty', { uid: '', integration_id: 'i', event: { type: 't' } }, 'uid'],
    ['uid too long', { uid: 'x'.repeat(MAX_UID_LENGTH + 1), integration_id: 'i', event: { type: 't' } }, 'uid'],
    ['uid with a newline', { uid: 'APP\n1', integration_id: 'i', event: { type: 't' } }, 'uid'],
    ['uid with DEL', { uid: 'APP\u007f', integration_id: 'i', event: { type: 't' } }, 'uid'],
    ['uid a number', { uid: 12345, integration_id: 'i', event: { type: 't' } }, 'uid'],
    ['integration_id missing', { uid: 'u', event: { type: 't' } }, 'integration_id'],
    ['event missing', { uid: 'u', integration_id: 'i' }, 'event'],
    ['event.type missing', { uid: 'u', integration_id: 'i', event: {} }, 'event.type'],
    ['event.type empty', { uid: 'u', integration_id: 'i', event: { type: '' } }, 'event.type'],
  ])('%s is invalid_envelope naming the field', (_name, json, field) => {
    const result = parseDelivery(json);
    expect(result).toMatchObject({ ok: false, reason: 'invalid_envelope' });
    expect((result as { message: string }).message.startsWith(`${field}:`)).toBe(true);
  });

  test('uids are opaque: dashes, underscores and UUIDs pass', () => {
    for (const uid of [
      '1234QWER-TYUI4567-ASDFD890',
      'uid_123456',
      '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
      'x'.repeat(MAX_UID_LENGTH),
    ]) {
      expect(ok({ uid, integration_id: 'i', event: { type: 'application.expired' } }).uid).toBe(uid);
    }
  });
});

describe('uid text: one uid, one look', () => {
  const body = (uid: string) => ({ uid, integration_id: 'i', event: { type: 'application.expired' } });

  test.each([
    ['a zero-width space', 'APP\u200b1'],
    ['a byte-order mark', '\ufeffAPP1'],
    ['a right-to-left override', 'APP\u202e1'],
    ['a soft hyphen', 'APP\u00ad1'],
    ['a variation selector', 'APP\ufe0f1'],
    ['a Hangul filler', 'APP\u31641'],
  ])('a uid with %s is invalid_envelope, naming the rule', (_name, uid) => {
    const result = parseDelivery(body(uid));
    expect(result).toMatchObject({ ok: false, reason: 'invalid_envelope' });
    expect((result as { message: string }).message).toMatch(/^uid: .*invisible or format characters/);
  });

  test.each([
    ['integration_id', { uid: 'u', integration_id: 'i\u200b', event: { type: 'application.expired' } }],
    ['event.type', { uid: 'u', integration_id: 'i', event: { type: 'application.expired\u202e' } }],
    ['event.type', { uid: 'u', integration_id: 'i', event: { type: 'e\u0301' } }],
  ])('other signed identifiers (%s) follow the same rule', (field, json) => {
    const result = parseDelivery(json);
    expect(result).toMatchObject({ ok: false, reason: 'invalid_envelope' });
    expect((result as { message: string }).message).toMatch(new RegExp(`^${field.replace('.', '\\.')}: `));
  });

  test('a uid not in NFC is invalid_envelope, never mapped to its NFC form', () => {
    const nfd = 'Jose\u0301-1';
    expect(nfd.normalize('NFC')).not.toBe(nfd);
    const result = parseDelivery(body(nfd));
    expect(result).toMatchObject({ ok: false, reason: 'invalid_envelope' });
    expect((result as { message: string }).message).toMatch(/^uid: .*NFC/);
    expect(ok(body(nfd.normalize('NFC'))).uid).toBe('Jos\u00e9-1');
  });
});

describe('event schemas', () => {
  test.each(KNOWN_EVENT_TYPES)('the %s fixture parses clean', (type) => {
    const { event } = ok(delivery(type, 'u'));
    expect(event).toMatchObject({ type, recognised: true, malformed: false, issues: [] });
  });

  test('a score carries its facts, with open-string enums', () => {
    const { event } = ok(
      delivery('psychometric_score.complete', 'u', {
        details: { calculated: { risk_band: 'ZZ-NEW', score_confidence: 'SOMETHING_NEW' } },
      }),
    );
    expect(event.score).toMatchObject({
      kind: 'psychometric',
      score: 42,
      riskBand: 'ZZ-NEW',
      scoreConfidence: 'SOMETHING_NEW',
      platform: 'WEB',
    });
    expect(event.score?.traits).toEqual([
      { key: 'risk_taking', riskBand: 'C' },
      { key: 'consistency', riskBand: 'A' },
    ]);
  });

  test('unknown fields pass through', () => {
    const { event } = ok(
      delivery('psychometric_score.complete', 'u', { details: { flags: ['X'], calculated: { novel: 1 } } }),
    );
    expect(event.details.flags).toEqual(['X']);
    expect((event.details.calculated as Record<string, unknown>).novel).toBe(1);
  });

  test('device permissions are found under any granted/denied name', () => {
    const flat = ok(delivery('android_score.complete', 'u')).event.score!;
    expect(flat).toMatchObject({ kind: 'android', scoreConfidence: null, permissionsDenied: ['READ_SMS'] });
    expect(flat.permissionsGranted).toEqual(['READ_CALL_LOG', 'ACCESS_COARSE_LOCATION']);
    const nested = ok(
      delivery('ios_score.complete', 'u', {
        details: { permissions: { granted: ['CONTACTS'], denied: ['LOCATION'] } },
      }),
    ).event.score!;
    expect(nested).toMatchObject({ kind: 'ios', permissionsGranted: ['CONTACTS'], permissionsDenied: ['LOCATION'] });
  });

  test('reasons are accepted beside details and inside them', () => {
    expect(ok(delivery('application.incomplete', 'u')).event.reasons).toEqual(['MISSING_ANSWERS']);
    expect(ok(delivery('application.cancelled', 'u')).event.reasons).toEqual(['PRIVACY_POLICY_REJECTED']);
  });

  test('a known type whose details do not fit is accepted, marked malformed with its issues', () => {
    const { event } = ok(
      delivery('psychometric_score.complete', 'u', { details: { calculated: { score: 'forty-two' } } }),
    );
    expect(event).toMatchObject({ recognised: true, malformed: true, score: null });
    expect(event.issues.join()).toContain('details.calculated.score');
    const notObject = ok({
      uid: 'u',
      integration_id: 'i',
      event: { type: 'application.complete', details: 'yes' },
    }).event;
    expect(notObject.malformed).toBe(true);
  });

  test('an unknown type is accepted as unrecognised, not malformed', () => {
    const { event } = ok({ uid: 'u', integration_id: 'i', event: { type: 'webhook.test', details: { hello: 1 } } });
    expect(event).toMatchObject({ type: 'webhook.test', recognised: false, malformed: false });
  });

  test('the event’s own timestamps are collected for its semantic key', () => {
    const { event } = ok(delivery('psychometric_score.complete', 'u', { now: 1_700_000_000 }));
    expect(event.timestamps).toEqual({
      application_completed_at: 1_699_999_700,
      application_started_at: 1_699_999_400,
      scored_at: 1_700_000_000,
    });
  });

  test('a __proto__ key in the body is plain data, not a prototype', () => {
    const json = JSON.parse(
      '{"uid":"u","integration_id":"i","event":{"type":"application.expired","details":{"__proto__":{"polluted":true}}}}',
    );
    const { event } = ok(json);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(event.details)).toBe(Object.prototype);
  });

  test('a timestamp from the future makes a score malformed: it would make every later real re-score look stale', () => {
    const inTwoDays = Math.floor(Date.now() / 1000) + 2 * 86_400;
    const { event } = ok(delivery('psychometric_score.complete', 'u', { now: inTwoDays }));
    expect(event).toMatchObject({ malformed: true, score: null });
    expect(event.issues.join()).toContain('future');
    const inAMinute = ok(
      delivery('psychometric_score.complete', 'u', { now: Math.floor(Date.now() / 1000) + 60 }),
    ).event;
    expect(inAMinute.malformed).toBe(false);
  });

  test('labels with control characters make a score malformed', () => {
    const { event } = ok(
      delivery('psychometric_score.complete', 'u', { details: { calculated: { risk_band: 'A\u0000' } } }),
    );
    expect(event).toMatchObject({ malformed: true, score: null });
  });
});
