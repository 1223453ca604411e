import { resolve } from 'node:path';
import { writeFileSync } from 'node:fs';
import { loadPolicy, PolicyConfigError, policySchema } from '../../activities/policy';
import { principalReasons, unknownReasonCodes } from '../../activities/principalReasons';
import { TEST_DATA_DIR } from '../support/paths';

const base = { version: 'v', defaultOutcome: 'APPROVE', review: { deadline: '1h', fallback: 'DECLINE' } };
const when = { riskBandIn: ['E'] };

function problemsOf(policy: unknown): string {
  const file = resolve(TEST_DATA_DIR, 'reasons-policy.yaml');
  writeFileSync(file, JSON.stringify(policy));
  try {
    loadPolicy(file);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyConfigError);
    return (err as PolicyConfigError).problems.join('\n');
  }
  throw new Error('the policy loaded');
}

describe('a policy whose rule can decline', () => {
  test('a DECLINE rule without text is refused at load', () => {
    expect(problemsOf({ ...base, rules: [{ code: 'bad', outcome: 'DECLINE', when }] })).toContain('rules.0.text');
  });

  test('a REFER rule is refused without text when the deadline falls back to DECLINE', () => {
    expect(problemsOf({ ...base, rules: [{ code: 'r', outcome: 'REFER', when }] })).toContain('rules.0.text');
  });

  test('a REFER rule needs no text when the fallback approves, nor does an APPROVE rule', () => {
    const policy = policySchema.parse({
      ...base,
      review: { deadline: '1h', fallback: 'APPROVE' },
      rules: [
        { code: 'r', outcome: 'REFER', when },
        { code: 'a', outcome: 'APPROVE', when },
      ],
    });
    expect(policy.rules.map((r) => r.code)).toEqual(['r', 'a']);
  });

  test('the older `reason` field is read as the code', () => {
    const policy = policySchema.parse({ ...base, rules: [{ reason: 'old', text: 'Old.', outcome: 'DECLINE', when }] });
    expect(policy.rules[0]).toMatchObject({ code: 'old', text: 'Old.', priority: 100 });
  });

  test('a default outcome that can decline is refused without defaultText, and explained by it', () => {
    expect(problemsOf({ ...base, defaultOutcome: 'DECLINE', rules: [] })).toContain('defaultText');
    expect(problemsOf({ ...base, defaultOutcome: 'REFER', rules: [] })).toContain('defaultText');
    const policy = policySchema.parse({ ...base, defaultOutcome: 'DECLINE', defaultText: 'No rule fit.', rules: [] });
    expect(principalReasons(policy, ['no_rule_matched'])).toEqual([{ code: 'no_rule_matched', text: 'No rule fit.' }]);
    expect(unknownReasonCodes(policy, ['no_rule_matched'])).toEqual([]);
  });
});

describe('principal reasons', () => {
  const policy = policySchema.parse({
    ...base,
    rules: [5, 3, 1, 4, 2].map((p) => ({ code: `c${p}`, text: `Text ${p}.`, priority: p, outcome: 'DECLINE', when })),
  });

  test('are ordered by priority and capped at four', () => {
    expect(principalReasons(policy, ['c5', 'c3', 'c1', 'c4', 'c2'])).toEqual([
      { code: 'c1', text: 'Text 1.' },
      { code: 'c2', text: 'Text 2.' },
      { code: 'c3', text: 'Text 3.' },
      { code: 'c4', text: 'Text 4.' },
    ]);
  });

  test('name only the codes given, each once', () => {
    expect(principalReasons(policy, ['c4', 'c4', 'nope'])).toEqual([{ code: 'c4', text: 'Text 4.' }]);
  });

  test('codes the policy does not know are reported', () => {
    expect(unknownReasonCodes(policy, ['c1', 'made_up'])).toEqual(['made_up']);
  });
});

test('every rule of the shipped policy that can decline has text', () => {
  const shipped = loadPolicy(resolve(__dirname, '..', '..', 'activities', 'default-policy.yaml'));
  expect(shipped.rules.filter((r) => r.outcome !== 'APPROVE' && !r.text)).toEqual([]);
});
