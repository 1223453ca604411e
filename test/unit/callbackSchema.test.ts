/**
 * The LOS callback bodies against their published JSON Schemas (docs/los-callback/), pure: the body
 * is `callbackBody`, the function the real hand-off sends (test/integration/handoff.test.ts checks
 * that the bytes on the wire are the same), built by the journey's own request builders.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { callbackBody, LOS_CALLBACK_SCHEMA_VERSION, LOS_CALLBACK_SCHEMA_VERSIONS } from '../../activities/handoff';
import { evaluatePolicy, policySchema } from '../../activities/policy';
import { principalReasons } from '../../activities/principalReasons';
import type { BeginiDelivery, Decision, ScoreFacts } from '../../workflows/definitions';
import { decisionRequest, lateEventRequest, type HandoffRequest } from '../../workflows/handoffRequests';
import { applyDelivery, decisionTrigger, startJourney, type JourneyState } from '../../workflows/journeyState';

describe('callback JSON Schemas (docs/los-callback/)', () => {
  const schemaDir = join(__dirname, '..', '..', 'docs', 'los-callback');
  const schemaOf = (name: string) =>
    JSON.parse(readFileSync(join(schemaDir, `${name}.schema.json`), 'utf8')) as Record<string, any>;
  // Ajv's strict lint, so a typo'd keyword fails here rather than being ignored by every LOS; all but
  // strictRequired, which would forbid `then: { required: ['reviewer'] }`.
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  addFormats(ajv);
  const schemas = { decision: schemaOf('decision'), late_event: schemaOf('late-event') };
  const validate = { decision: ajv.compile(schemas.decision), late_event: ajv.compile(schemas.late_event) };

  const T0 = new Date('2026-11-28T10:00:00Z');
  let delivered = 0;
  function scoreDelivery(kind: string, facts: Partial<ScoreFacts> | null): BeginiDelivery {
    const raw = JSON.stringify({ n: ++delivered, kind });
    const score: ScoreFacts | null = facts && {
      kind,
      score: 612,
      riskBand: 'B',
      scoreConfidence: null,
      scoredAt: Math.floor(T0.getTime() / 1000),
      platform: 'android',
      traits: [
        { key: 'conscientiousness', riskBand: 'A' },
        { key: 'impulsivity', riskBand: null },
      ],
      permissionsGranted: ['READ_CONTACTS'],
      permissionsDenied: ['READ_SMS'],
      ...facts,
    };
    return {
      type: `${kind}_score.complete`,
      recognised: true,
      malformed: score === null,
      issues: score === null ? ['details.calculated.score: Required'] : [],
      details: {},
      reasons: null,
      score,
      integrationId: 'integration-1',
      environment: 'production',
      keyId: 'begini-production',
      receivedAt: T0.toISOString(),
      fingerprint: createHash('sha256').update(raw).digest('hex'),
      semanticKey: `${kind}|${delivered}`,
      eventTime: null,
    };
  }

  /** A journey brought to its decision (and then late scores) by the real reducer. */
  function decidedJourney(decision: Decision): JourneyState {
    const journey = startJourney(
      {
        uid: 'applicant-7',
        integrationId: 'integration-1',
        environment: 'production',
        settings: {
          requiredScores: ['psychometric'],
          scoreGraceMs: 60_000,
          expiryMs: 3_600_000,
          settleMs: 60_000,
          handoffRetryInitialMs: 1,
        },
      },
      T0,
    );
    applyDelivery(journey, scoreDelivery('psychometric', { platform: null, scoreConfidence: 'HIGH' }), T0);
    journey.trigger = decisionTrigger(journey, T0);
    journey.decision = decision;
    journey.phase = 'settled';
    applyDelivery(
      journey,
      scoreDelivery('psychometric', { score: 701, scoredAt: journey.scores.psychometric!.scoredAt + 60 }),
      T0,
    );
    applyDelivery(journey, scoreDelivery('android', null), T0);
    return journey;
  }

  const byPolicy: Decision = {
    outcome: 'APPROVE',
    reasons: ['score_ok'],
    policyVersion: 'default-1',
    decidedAt: T0.toISOString(),
    decidedBy: 'policy',
  };
  const byReview: Decision = {
    outcome: 'DECLINE',
    reasons: ['borderline_score', 'reviewed_decline'],
    policyVersion: 'default-1',
    decidedAt: T0.toISOString(),
    decidedBy: 'review',
    reviewer: 'ana@lender.example',
  };

  const sent = (handoffRequest: HandoffRequest) => JSON.parse(callbackBody(handoffRequest)) as Record<string, any>;

  function expectValid(kind: 'decision' | 'late_event', body: unknown) {
    const ok = validate[kind](body);
    expect(validate[kind].errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  }

  test.each([
    ['by the policy', byPolicy],
    ['by a reviewer', byReview],
  ])(
    'a decision callback (decided %s, before principal reasons existed), as sent, is 2026-11 and valid',
    (_name, decision) => {
      const journey = decidedJourney(decision);
      expect(journey.trigger).toBe('scores_complete');
      const body = sent(decisionRequest(journey, journey.decision!));
      expect(body).toMatchObject({ schemaVersion: LOS_CALLBACK_SCHEMA_VERSIONS[0], kind: 'decision' });
      expectValid('decision', body);
    },
  );

  test("a DECLINE callback gives its principal reasons in priority order, at most four, in the policy's words", () => {
    const rule = (code: string, priority: number, when: Record<string, unknown>) => ({
      code,
      text: `Text of ${code}.`,
      priority,
      outcome: 'DECLINE',
      when,
    });
    const policy = policySchema.parse({
      version: 'reasons-1',
      defaultOutcome: 'APPROVE',
      review: { deadline: '1h', fallback: 'DECLINE' },
      rules: [
        rule('sms_denied', 40, { permissionsDeniedAnyOf: ['READ_SMS'] }),
        rule('band_b', 10, { riskBandIn: ['B'] }),
        rule('score_low', 30, { scoreAtMost: 650 }),
        rule('trait_a', 50, { trait: { key: 'conscientiousness', riskBandIn: ['A'] } }),
        rule('confidence_high', 20, { scoreConfidenceIn: ['HIGH'] }),
        { code: 'not_matching', text: 'Never.', priority: 1, outcome: 'DECLINE', when: { riskBandIn: ['Z'] } },
      ],
    });
    const journey = decidedJourney(byPolicy);
    const evaluated = evaluatePolicy(policy, {
      trigger: journey.trigger!,
      application: journey.application,
      scores: { psychometric: { ...journey.scores.psychometric!, score: 612, scoreConfidence: 'HIGH' } },
      requiredScores: ['psychometric'],
      malformed: false,
    });
    expect(evaluated.outcome).toBe('DECLINE');
    const decision: Decision = {
      ...byPolicy,
      outcome: 'DECLINE',
      reasons: evaluated.reasons,
      principalReasons: principalReasons(policy, evaluated.reasons),
    };
    const body = sent(decisionRequest(journey, decision));
    expect(body.schemaVersion).toBe(LOS_CALLBACK_SCHEMA_VERSION);
    expect(body.decision.principalReasons).toEqual([
      { code: 'band_b', text: 'Text of band_b.' },
      { code: 'confidence_high', text: 'Text of confidence_high.' },
      { code: 'score_low', text: 'Text of score_low.' },
      { code: 'sms_denied', text: 'Text of sms_denied.' },
    ]);
    expectValid('decision', body);

    // A decision after a reopened review names the key it supersedes.
    const superseding = { ...body, decision: { ...body.decision, supersedes: body.idempotencyKey } };
    expectValid('decision', superseding);
    expect(validate.decision({ ...body, decision: { ...body.decision, supersedes: 'the old one' } })).toBe(false);

    const withoutReasons = { ...body, decision: { ...body.decision, principalReasons: undefined } };
    const five = [...body.decision.principalReasons, { code: 'trait_a', text: 'Text of trait_a.' }];
    for (const broken of [withoutReasons, { ...body, decision: { ...body.decision, principalReasons: five } }])
      expect(validate.decision(JSON.parse(JSON.stringify(broken)))).toBe(false);
  });

  test('late-event callbacks, with a score and with none, as sent, are valid against late-event.schema.json', () => {
    const journey = decidedJourney(byPolicy);
    expect(journey.pendingNotices.map((notice) => notice.score?.score ?? null)).toEqual([701, null]);
    for (const notice of journey.pendingNotices) {
      const body = sent(lateEventRequest(journey, notice));
      expect(body).toMatchObject({ schemaVersion: LOS_CALLBACK_SCHEMA_VERSIONS[0], kind: 'late_event' });
      expectValid('late_event', body);
    }
  });

  test('the schemas are versioned with the body, open to additions, and refuse what breaks the contract', async () => {
    const journey = decidedJourney(byPolicy);
    const decision = sent(decisionRequest(journey, journey.decision!));
    const notice = sent(lateEventRequest(journey, journey.pendingNotices[0]!));

    for (const schema of Object.values(schemas)) {
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.properties.schemaVersion).toEqual({ enum: [...LOS_CALLBACK_SCHEMA_VERSIONS] });
    }
    // Kept apart so each file stands alone for an LOS; kept equal here.
    expect(schemas.late_event.$defs.decision).toEqual(schemas.decision.$defs.decision);
    expect(schemas.late_event.$defs.idempotencyKey).toEqual(schemas.decision.$defs.idempotencyKey);

    expect(validate.decision({ ...decision, addedLater: { any: 'thing' } })).toBe(true);
    expect(validate.late_event({ ...notice, addedLater: 1 })).toBe(true);

    const { scores: _scores, ...withoutScores } = decision;
    const broken: Array<['decision' | 'late_event', unknown]> = [
      ['decision', withoutScores],
      ['decision', { ...decision, schemaVersion: '2020-01' }],
      ['decision', { ...decision, decision: { ...decision.decision, outcome: 'MAYBE' } }],
      ['decision', { ...decision, decision: { ...byReview, reviewer: undefined } }],
      ['decision', { ...decision, decision: { ...decision.decision, decidedAt: 'yesterday' } }],
      ['decision', notice],
      ['late_event', decision],
      ['late_event', { ...notice, notice: { ...notice.notice, score: { score: 1 } } }],
      ['late_event', { ...notice, decision: null }],
    ];
    for (const [kind, body] of broken) expect(validate[kind](JSON.parse(JSON.stringify(body)))).toBe(false);
  });
});
