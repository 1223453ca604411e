import { resolve } from 'node:path';
import { writeFileSync } from 'node:fs';
import { evaluatePolicy, loadPolicy, PolicyConfigError, policySchema, type PolicyInput } from '../../activities/policy';
import { scoreFacts } from '../support/begini';
import { TEST_DATA_DIR } from '../support/paths';

const policy = loadPolicy(resolve(__dirname, '..', '../activities/default-policy.yaml'));

const score = scoreFacts;

function input(overrides: Partial<PolicyInput> = {}): PolicyInput {
  return {
    trigger: 'scores_complete',
    application: 'complete',
    scores: { psychometric: score() },
    requiredScores: ['psychometric'],
    malformed: false,
    ...overrides,
  };
}

describe('the shipped default policy', () => {
  test.each([
    ['low band approves', {}, 'APPROVE', ['low_risk_band']],
    ['medium band refers', { scores: { psychometric: score({ riskBand: 'C' }) } }, 'REFER', ['medium_risk_band']],
    ['high band declines', { scores: { psychometric: score({ riskBand: 'E' }) } }, 'DECLINE', ['high_risk_band']],
    [
      'low confidence refers even a low band',
      { scores: { psychometric: score({ scoreConfidence: 'LOW' }) } },
      'REFER',
      ['low_score_confidence'],
    ],
    [
      'cancelled declines',
      { trigger: 'cancelled' as const, application: 'cancelled' as const, scores: {} },
      'DECLINE',
      ['application_cancelled'],
    ],
    [
      'incomplete refers',
      { trigger: 'incomplete' as const, application: 'incomplete' as const, scores: {} },
      'REFER',
      ['application_incomplete'],
    ],
    ['no score at expiry declines', { trigger: 'expired_no_score' as const, scores: {} }, 'DECLINE', ['no_score']],
    [
      'a malformed event refers',
      { malformed: true, trigger: 'malformed_score' as const, scores: {} },
      'REFER',
      ['malformed_event'],
    ],
    ['a missing required score refers', { trigger: 'grace_elapsed' as const }, 'REFER', ['required_score_missing']],
    [
      'an unknown band falls to the default outcome',
      { scores: { psychometric: score({ riskBand: 'Q' }) } },
      'REFER',
      ['no_rule_matched'],
    ],
    [
      'a denied device permission refers',
      {
        scores: {
          psychometric: score(),
          android: score({ kind: 'android', permissionsDenied: ['ACCESS_FINE_LOCATION'] }),
        },
      },
      'REFER',
      ['device_location_denied'],
    ],
  ])('%s', (_name, overrides, outcome, reasons) => {
    const decision = evaluatePolicy(policy, input(overrides as Partial<PolicyInput>));
    expect(decision.outcome).toBe(outcome);
    expect(decision.reasons).toEqual(reasons);
    expect(decision.policyVersion).toBe('reference-2026-11');
    expect(decision.review).toEqual(outcome === 'REFER' ? { deadlineMs: 48 * 3_600_000, fallback: 'DECLINE' } : null);
  });
});

describe('rule conditions', () => {
  const only = (when: Record<string, unknown>) =>
    policySchema.parse({
      version: 'v',
      defaultOutcome: 'APPROVE',
      review: { deadline: '1h', fallback: 'DECLINE' },
      rules: [{ reason: 'hit', text: 'Hit.', outcome: 'DECLINE', when }],
    });
  const hits = (when: Record<string, unknown>, i: Partial<PolicyInput> = {}) =>
    evaluatePolicy(only(when), input(i)).outcome === 'DECLINE';

  test('score bounds are inclusive', () => {
    expect(hits({ scoreAtLeast: 42 })).toBe(true);
    expect(hits({ scoreAtLeast: 43 })).toBe(false);
    expect(hits({ scoreAtMost: 42 })).toBe(true);
    expect(hits({ scoreAtMost: 41 })).toBe(false);
  });

  test('trait bands', () => {
    const traits = [{ key: 'risk_taking', riskBand: 'D' }];
    expect(
      hits({ trait: { key: 'risk_taking', riskBandIn: ['D'] } }, { scores: { psychometric: score({ traits }) } }),
    ).toBe(true);
    expect(
      hits({ trait: { key: 'risk_taking', riskBandIn: ['A'] } }, { scores: { psychometric: score({ traits }) } }),
    ).toBe(false);
  });

  test('a score condition on an absent score does not match', () => {
    expect(hits({ scoreKind: 'ios', riskBandIn: ['B'] })).toBe(false);
    expect(hits({ missingScore: ['ios'] })).toBe(true);
  });

  test('granted permissions need all of the list', () => {
    const android = score({ kind: 'android', permissionsGranted: ['A', 'B'] });
    expect(hits({ scoreKind: 'android', permissionsGrantedAllOf: ['A', 'B'] }, { scores: { android } })).toBe(true);
    expect(hits({ scoreKind: 'android', permissionsGrantedAllOf: ['A', 'C'] }, { scores: { android } })).toBe(false);
  });
});

describe('loading', () => {
  test('a typo in a rule is refused at load, naming where', () => {
    const file = resolve(TEST_DATA_DIR, 'bad-policy.yaml');
    writeFileSync(
      file,
      'version: x\ndefaultOutcome: MAYBE\nreview: { deadline: soon, fallback: DECLINE }\nrules:\n  - reason: r\n    outcome: APPROVE\n    when: { riskBand: [A] }\n',
    );
    expect(() => loadPolicy(file)).toThrow(PolicyConfigError);
    try {
      loadPolicy(file);
    } catch (err) {
      const problems = (err as PolicyConfigError).problems.join('\n');
      expect(problems).toContain('defaultOutcome');
      expect(problems).toContain('review.deadline');
      expect(problems).toContain('rules.0.when');
    }
  });
});
