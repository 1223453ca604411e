/**
 * Champion/challenger assignment, pure: a uidRef's bucket decides its arm, so the split is stable
 * for a given applicant, near the share over many, and nested as the share grows; shadow mode never
 * acts on the challenger.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { createActivities } from '../../activities';
import { armFor, bucketOf, decideInExperiment } from '../../activities/experiment';
import { loadPolicy, type PolicyInput } from '../../activities/policy';
import { activePolicy, fixedPolicy } from '../../activities/policySource';
import { loadWorkerConfig } from '../../src/config/worker';
import { createLogger } from '../../src/logger';
import { type ConfigError } from '../../src/config/errors';
import { TEST_CODEC_KEYS } from '../support/begini';

const ROOT = resolve(__dirname, '..', '..');
const champion = activePolicy(loadPolicy(resolve(ROOT, 'activities', 'default-policy.yaml')));
const challengerPolicy = loadPolicy(resolve(ROOT, 'test', 'fixtures', 'policy-declines-low-risk.yaml'));
// uidRefs are HMAC output: sha256 digests stand in for them, fixed so the test is too.
const refs = Array.from({ length: 10_000 }, (_, i) =>
  createHash('sha256').update(`uid-${i}`).digest('hex').slice(0, 16),
);

const bandA: PolicyInput = {
  trigger: 'scores_complete',
  application: 'complete',
  scores: {
    psychometric: {
      kind: 'psychometric',
      score: 40,
      riskBand: 'A',
      scoreConfidence: 'HIGH',
      scoredAt: 1_796_000_000,
      platform: 'WEB',
      traits: [],
      permissionsGranted: [],
      permissionsDenied: [],
    },
  },
  requiredScores: ['psychometric'],
  malformed: false,
};

test('a uidRef always falls in the same bucket, within 0..99', () => {
  for (const ref of refs.slice(0, 100)) {
    expect(bucketOf(ref)).toBe(bucketOf(ref));
    expect(bucketOf(ref)).toBeGreaterThanOrEqual(0);
    expect(bucketOf(ref)).toBeLessThan(100);
  }
});

test('a 50 % share sends about half to the challenger; raising the share keeps those already there', () => {
  const at = (share: number) => new Set(refs.filter((r) => armFor(bucketOf(r), share, 'split') === 'challenger'));
  // 10,000 uniform draws: 50 % within 3 standard deviations (1.5 points).
  expect(at(50).size / refs.length).toBeGreaterThan(0.485);
  expect(at(50).size / refs.length).toBeLessThan(0.515);
  const ten = at(10);
  const twenty = at(20);
  for (const ref of ten) expect(twenty.has(ref)).toBe(true);
  expect(at(0).size).toBe(0);
  expect(at(100).size).toBe(refs.length);
  expect(refs.some((r) => armFor(bucketOf(r), 100, 'shadow') === 'challenger')).toBe(false);
});

test('the arm decides by its own policy and records both hashes; shadow records the verdict beside', () => {
  const contender = activePolicy(challengerPolicy);
  const inChallenger = refs.find((r) => bucketOf(r) < 50)!;
  const inChampion = refs.find((r) => bucketOf(r) >= 50)!;
  const split = { policies: fixedPolicy(challengerPolicy), share: 50, mode: 'split' as const };
  const a = decideInExperiment(champion, split, inChallenger, bandA);
  expect(a.decision).toMatchObject({ outcome: 'DECLINE', policySha256: contender.sha256 });
  expect(a.experiment).toEqual({
    arm: 'challenger',
    mode: 'split',
    share: 50,
    bucket: bucketOf(inChallenger),
    champion: { version: champion.policy.version, sha256: champion.sha256 },
    challenger: { version: challengerPolicy.version, sha256: contender.sha256 },
  });
  expect(decideInExperiment(champion, split, inChampion, bandA).decision).toMatchObject({
    outcome: 'APPROVE',
    policySha256: champion.sha256,
  });

  const shadow = decideInExperiment(champion, { ...split, share: 0, mode: 'shadow' }, inChallenger, bandA);
  expect(shadow.decision).toMatchObject({ outcome: 'APPROVE', policySha256: champion.sha256 });
  expect(shadow.experiment).toMatchObject({
    arm: 'champion',
    shadow: { outcome: 'DECLINE', reasons: ['low_risk_band'], policySha256: contender.sha256 },
  });
});

test('a challenger needs its file, a share in split mode, and no share in shadow mode', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadWorkerConfig({ PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS, ...env });
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };
  expect(problems({ CHALLENGER_SHARE: '10' }).join()).toContain('need CHALLENGER_POLICY_FILE');
  expect(problems({ CHALLENGER_POLICY_FILE: 'c.yaml' }).join()).toContain('CHALLENGER_SHARE');
  expect(problems({ CHALLENGER_POLICY_FILE: 'c.yaml', CHALLENGER_SHARE: '101' }).join()).toContain('CHALLENGER_SHARE');
  expect(
    problems({ CHALLENGER_POLICY_FILE: 'c.yaml', CHALLENGER_MODE: 'shadow', CHALLENGER_SHARE: '5' }).join(),
  ).toContain('shadow mode');
  expect(
    loadWorkerConfig({
      PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS,
      CHALLENGER_POLICY_FILE: 'c.yaml',
      CHALLENGER_MODE: 'shadow',
    }).challenger,
  ).toEqual({ policyFile: 'c.yaml', share: 0, mode: 'shadow' });
});

test("a reviewer of the challenger's referral cites the challenger's codes; of the champion's, the champion's", async () => {
  const own = {
    ...challengerPolicy,
    rules: [
      ...challengerPolicy.rules,
      { ...challengerPolicy.rules[0]!, code: 'challenger_only', text: 'A reason only the challenger gives.' },
    ],
  };
  const activities = createActivities({
    policies: fixedPolicy(champion.policy),
    challenger: { policies: fixedPolicy(own), share: 50, mode: 'split' },
    handoff: null,
    logger: createLogger('experiment-test', 'silent'),
  });
  expect(await activities.explainReasons(['challenger_only'], 'challenger')).toEqual({
    principalReasons: [{ code: 'challenger_only', text: 'A reason only the challenger gives.' }],
    unknown: [],
  });
  expect((await activities.explainReasons(['challenger_only'], 'champion')).unknown).toEqual(['challenger_only']);
  expect((await activities.explainReasons(['challenger_only'])).unknown).toEqual(['challenger_only']);
});
