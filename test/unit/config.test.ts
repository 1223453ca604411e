import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadReceiverConfig } from '../../src/config/receiver';
import { loadWorkerConfig } from '../../src/config/worker';
import { deploymentFor } from '../../src/config/deployments';
import { ConfigError } from '../../src/config/errors';
import { TEST_CODEC_KEYS } from '../support/begini';
import { TEST_DATA_DIR } from '../support/paths';

const CODEC = { PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS };

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('receiver configuration', () => {
  test('fails closed: no key configured means no receiver', () => {
    expect(problemsOf(() => loadReceiverConfig({ ...CODEC })).join()).toContain('no Begini API key configured');
  });

  test('fails closed: no payload encryption keys means no receiver and no worker', () => {
    expect(problemsOf(() => loadReceiverConfig({ BEGINI_API_KEY: 'k' })).join()).toContain('PAYLOAD_CODEC_KEYS');
    expect(problemsOf(() => loadWorkerConfig({})).join()).toContain('PAYLOAD_CODEC_KEYS');
    expect(
      problemsOf(() => loadReceiverConfig({ BEGINI_API_KEY: 'k', PAYLOAD_CODEC_KEYS: 'k1:dG9vIHNob3J0' })).join(),
    ).toContain('32 bytes');
  });

  test('defaults', () => {
    const config = loadReceiverConfig({ BEGINI_API_KEY: 'k', ...CODEC });
    expect(config).toMatchObject({
      port: 3000,
      maxBodyBytes: 262_144,
      ackTimeoutMs: 5_000,
      workflowIdPrefix: '',
      taskQueue: 'begini-journeys',
      tls: null,
    });
    expect(config.fallback?.journey).toEqual({
      requiredScores: ['psychometric'],
      scoreGraceMs: 15 * 60_000,
      expiryMs: 48 * 3_600_000,
      settleMs: 30 * 86_400_000,
      handoffRetryInitialMs: 1_000,
      maxEventAgeMs: 30 * 86_400_000,
    });
    expect(config).toMatchObject({
      internal: { host: '127.0.0.1', port: 9465 },
      maxConnections: 256,
      requestTimeoutMs: 10_000,
      acceptPlaintextUntil: null,
    });
    expect(config.fallback!.journey.expiryMs).toBeGreaterThan(24 * 3_600_000);
  });

  test('every bad setting is listed in one error', () => {
    const problems = problemsOf(() =>
      loadReceiverConfig({
        ...CODEC,
        BEGINI_API_KEY: 'k',
        PORT: 'eighty',
        JOURNEY_EXPIRY: 'tomorrow',
        BEGINI_ENVIRONMENT: 'staging',
      }),
    );
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/JOURNEY_EXPIRY/);
    expect(problems.join('\n')).toMatch(/BEGINI_ENVIRONMENT/);
  });

  test('TLS files go together', () => {
    expect(
      problemsOf(() => loadReceiverConfig({ ...CODEC, BEGINI_API_KEY: 'k', TLS_CERT_FILE: '/x' })).join(),
    ).toContain('TLS_KEY_FILE');
  });

  test('a deployments file maps integrations to environments, rotating keys and journey settings', () => {
    const file = resolve(TEST_DATA_DIR, 'deployments-config-test.yaml');
    writeFileSync(
      file,
      [
        'deployments:',
        '  - integrationId: prod-1',
        '    environment: production',
        '    keys:',
        '      - { id: "2026-05", fromEnv: OLD_KEY }',
        '      - { id: "2026-11", value: inline-new }',
        '    journey: { requiredScores: [psychometric, android], scoreGrace: 10m }',
      ].join('\n'),
    );
    const config = loadReceiverConfig({ ...CODEC, BEGINI_DEPLOYMENTS_FILE: file, OLD_KEY: 'from-env-old' });
    const prod = deploymentFor(config, 'prod-1')!;
    expect(prod.environment).toBe('production');
    expect(prod.keys).toEqual([
      { id: '2026-05', secret: 'from-env-old' },
      { id: '2026-11', secret: 'inline-new' },
    ]);
    expect(prod.journey).toMatchObject({
      requiredScores: ['psychometric', 'android'],
      scoreGraceMs: 600_000,
      expiryMs: 48 * 3_600_000,
    });
    expect(deploymentFor(config, 'someone-else')).toBeNull();

    expect(problemsOf(() => loadReceiverConfig({ ...CODEC, BEGINI_DEPLOYMENTS_FILE: file })).join()).toContain(
      'OLD_KEY, which is not set',
    );
  });
});

describe('integration isolation', () => {
  const file = (name: string, lines: string[]) => {
    const path = resolve(TEST_DATA_DIR, `deployments-${name}.yaml`);
    writeFileSync(path, ['deployments:', ...lines].join('\n'));
    return path;
  };

  test('one rule: BEGINI_API_KEY or a deployments file, never both', () => {
    const deployments = file('single', [
      '  - { integrationId: a, environment: test, keys: [{ id: a1, value: key-a }] }',
    ]);
    expect(
      problemsOf(() =>
        loadReceiverConfig({ ...CODEC, BEGINI_API_KEY: 'k', BEGINI_DEPLOYMENTS_FILE: deployments }),
      ).join(),
    ).toContain('not both');
    // With a file alone, a key verifies only its own integration.
    const config = loadReceiverConfig({ ...CODEC, BEGINI_DEPLOYMENTS_FILE: deployments });
    expect(deploymentFor(config, 'a')?.keys.map((k) => k.id)).toEqual(['a1']);
    expect(deploymentFor(config, 'b')).toBeNull();
  });

  test('each deployment lives in its own namespace', () => {
    const shared = file('shared-namespace', [
      '  - { integrationId: prod, environment: production, keys: [{ id: p1, value: key-p }] }',
      '  - { integrationId: test, environment: test, keys: [{ id: t1, value: key-t }] }',
    ]);
    expect(problemsOf(() => loadReceiverConfig({ ...CODEC, BEGINI_DEPLOYMENTS_FILE: shared })).join()).toContain(
      'share namespace default',
    );
    const separate = file('separate-namespaces', [
      '  - { integrationId: prod, environment: production, keys: [{ id: p1, value: key-p }] }',
      '  - { integrationId: test, environment: test, namespace: begini-test, keys: [{ id: t1, value: key-t }] }',
    ]);
    const config = loadReceiverConfig({
      ...CODEC,
      BEGINI_DEPLOYMENTS_FILE: separate,
      TEMPORAL_NAMESPACE: 'begini-prod',
    });
    expect([deploymentFor(config, 'prod')?.namespace, deploymentFor(config, 'test')?.namespace]).toEqual([
      'begini-prod',
      'begini-test',
    ]);
  });

  test('a key shared by two deployments, or a key id listed twice, is refused', () => {
    const sharedKey = file('shared-key', [
      '  - { integrationId: prod, environment: production, keys: [{ id: p1, value: same-key }] }',
      '  - { integrationId: test, environment: test, namespace: begini-test, keys: [{ id: t1, value: same-key }] }',
    ]);
    expect(problemsOf(() => loadReceiverConfig({ ...CODEC, BEGINI_DEPLOYMENTS_FILE: sharedKey })).join()).toContain(
      'a signature must identify one deployment',
    );
    const twice = file('key-id-twice', [
      '  - { integrationId: prod, environment: production, keys: [{ id: p1, value: k1 }, { id: p1, value: k2 }] }',
    ]);
    expect(problemsOf(() => loadReceiverConfig({ ...CODEC, BEGINI_DEPLOYMENTS_FILE: twice })).join()).toContain(
      'key id p1 is listed twice',
    );
  });
});

describe('payload encryption migration', () => {
  test('plaintext payloads are refused unless a dated allowance of at most 90 days is set', () => {
    expect(loadWorkerConfig({ ...CODEC }).acceptPlaintextUntil).toBeNull();
    const soon = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    expect(
      loadWorkerConfig({ ...CODEC, PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL: soon })
        .acceptPlaintextUntil?.toISOString()
        .slice(0, 10),
    ).toBe(soon);
    const far = new Date(Date.now() + 400 * 86_400_000).toISOString().slice(0, 10);
    expect(
      problemsOf(() => loadWorkerConfig({ ...CODEC, PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL: far })).join(),
    ).toContain('at most 90 days');
    expect(
      problemsOf(() =>
        loadReceiverConfig({ ...CODEC, BEGINI_API_KEY: 'k', PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL: 'always' }),
      ).join(),
    ).toContain('PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL');
  });

  test('no configuration error repeats a secret', () => {
    const key = Buffer.alloc(32, 9).toString('base64');
    const problems = problemsOf(() =>
      loadReceiverConfig({
        BEGINI_API_KEY: 'begini-secret-value',
        PAYLOAD_CODEC_KEYS: `nocolon${key}`,
        OPERATOR_API_TOKEN: 'short-token-secret',
        PORT: 'x',
      }),
    ).join('\n');
    for (const secret of [key.slice(0, 8), key.slice(8, 16), 'begini-secret-value', 'short-token-secret'])
      expect(problems).not.toContain(secret);
  });
});

describe('worker configuration', () => {
  test('the production entry point refuses to run without a LOS to hand decisions to', () => {
    expect(problemsOf(() => loadWorkerConfig({ ...CODEC }, { requireHandoff: true })).join()).toContain(
      'LOS_CALLBACK_URL',
    );
    expect(loadWorkerConfig({ ...CODEC }).handoff).toBeNull();
  });

  test('a callback URL needs a signing secret', () => {
    expect(
      problemsOf(() => loadWorkerConfig({ ...CODEC, LOS_CALLBACK_URL: 'https://los.example/decisions' })).join(),
    ).toContain('LOS_CALLBACK_SECRET');
    expect(
      problemsOf(() =>
        loadWorkerConfig({ ...CODEC, LOS_CALLBACK_URL: 'ftp://x', LOS_CALLBACK_SECRET: 'x'.repeat(16) }),
      ).join(),
    ).toContain('LOS_CALLBACK_URL');
  });
});
