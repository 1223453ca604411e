/** setup-temporal on Temporal Cloud: which targets count as Cloud, and the plan printed for what is missing. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { searchAttributes } from '../../workflows/definitions';
import { cloudSetupPlan, isTemporalCloud, terraformType, type CloudRequirements } from '../../src/temporal/cloudPlan';

describe('detection', () => {
  test.each([
    ['lender-prod.a1b2c.tmprl.cloud:7233', false, true],
    ['aws-us-east-1.region.tmprl.cloud:7233', false, true],
    ['us-east-1.aws.api.temporal.io:7233', false, true],
    ['temporal.internal:7233', true, true],
    ['localhost:7233', false, false],
    ['tmprl.cloud.example.com:7233', false, false],
    ['nottmprl.cloud:7233', false, false],
  ])('%s (API key: %s) is Cloud: %s', (address, hasApiKey, cloud) => {
    expect(isTemporalCloud({ address, hasApiKey })).toBe(cloud);
  });

  test('TEMPORAL_SETUP_MODE overrides the guess either way', () => {
    expect(isTemporalCloud({ address: 'ns.acct.tmprl.cloud:7233', hasApiKey: true }, 'self-hosted')).toBe(false);
    expect(isTemporalCloud({ address: 'localhost:7233', hasApiKey: false }, 'cloud')).toBe(true);
  });
});

const required: CloudRequirements = {
  namespace: 'lender-prod.a1b2c',
  retentionDays: 30,
  searchAttributes: Object.values(searchAttributes),
  auth: 'api_key',
};
const allRegistered = Object.fromEntries(Object.values(searchAttributes).map((a) => [a.name, a.type]));

describe('the plan', () => {
  test('a ready namespace needs nothing', () => {
    expect(cloudSetupPlan(required, { exists: true, retentionDays: 45, searchAttributes: allRegistered })).toEqual({
      findings: [],
      commands: [],
    });
  });

  test('a missing namespace: one tcld namespace create with retention, auth and every attribute', () => {
    const plan = cloudSetupPlan(required, { exists: false, retentionDays: null, searchAttributes: {} });
    expect(plan.commands).toEqual([
      'tcld namespace create --namespace lender-prod --region <region> --retention-days 30 --auth-method api_key ' +
        '--search-attribute "BeginiStage=Keyword" --search-attribute "BeginiDecision=Keyword" ' +
        '--search-attribute "BeginiRiskBand=Keyword" --search-attribute "BeginiScoreConfidence=Keyword" ' +
        '--search-attribute "BeginiPlatform=Keyword" --search-attribute "BeginiIntegrationId=Keyword" ' +
        '--search-attribute "BeginiLastEventType=Keyword" --search-attribute "BeginiHandoff=Keyword" ' +
        '--search-attribute "BeginiFlags=KeywordList" --search-attribute "BeginiReviewSince=Datetime" ' +
        '--search-attribute "BeginiPolicyArm=Keyword"',
    ]);
    expect(
      cloudSetupPlan({ ...required, auth: 'mtls' }, { exists: false, retentionDays: null, searchAttributes: {} })
        .commands[0],
    ).toContain('--auth-method mtls --ca-certificate-file <ca.pem>');
  });

  test('a short retention and missing attributes: retention set, then one add for exactly the missing ones', () => {
    const { BeginiFlags: _flags, BeginiReviewSince: _since, ...some } = allRegistered;
    const plan = cloudSetupPlan(required, { exists: true, retentionDays: 7, searchAttributes: some });
    expect(plan.commands).toEqual([
      'tcld namespace retention set --namespace lender-prod.a1b2c --retention-days 30',
      'tcld namespace search-attributes add --namespace lender-prod.a1b2c --search-attribute "BeginiFlags=KeywordList" --search-attribute "BeginiReviewSince=Datetime"',
    ]);
    expect(plan.findings).toEqual([
      'retention is 7 days, at least 30 needed',
      'search attributes missing: BeginiFlags, BeginiReviewSince',
    ]);
  });

  test('an attribute of another type is reported, never re-added', () => {
    const plan = cloudSetupPlan(required, {
      exists: true,
      retentionDays: 30,
      searchAttributes: { ...allRegistered, BeginiStage: 'TEXT' },
    });
    expect(plan.commands).toEqual([]);
    expect(plan.findings).toEqual([
      expect.stringMatching(/^search attribute BeginiStage is registered as Text, the journeys need Keyword/),
    ]);
  });
});

test('deploy/temporal-cloud/main.tf declares exactly the search attributes of workflows/definitions.ts', () => {
  const tf = readFileSync(resolve(__dirname, '../../deploy/temporal-cloud/main.tf'), 'utf8');
  const block = /search_attributes = \{([^}]*)\}/.exec(tf)![1]!;
  const declared = Object.fromEntries([...block.matchAll(/(\w+)\s*=\s*"(\w+)"/g)].map((m) => [m[1], m[2]]));
  expect(declared).toEqual(
    Object.fromEntries(Object.values(searchAttributes).map((a) => [a.name, terraformType(a.type)])),
  );
  expect(tf).toMatch(/retention_days\s*=\s*var\.retention_days/);
});
