/**
 * Trust boundaries, against a real dev server: no key reaches another integration's journeys, no
 * signed delivery can terminate or wedge a journey, and nothing forged or replayed decides.
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { sign } from '../../src/begini/verifier';
import { beginiEventSignal, reviewUpdate, searchAttributes, type BeginiDelivery } from '../../workflows/definitions';
import { delivery, newUid, post, scoreFacts } from '../support/begini';
import { startLos, type Los } from '../../dev/losStandIn';
import { ISOLATION_NAMESPACE, TEST_DATA_DIR } from '../support/paths';
import { startStack, type Stack } from '../support/stack';

const PROD = { integrationId: 'aaaaaaaaaaaaaaaaaaaaaaaa', key: 'production-key-for-trust-tests-01' };
const TEST = { integrationId: 'bbbbbbbbbbbbbbbbbbbbbbbb', key: 'test-env-key-for-trust-tests-02' };

let los: Los;
let production: Stack;
let secondDeployment: Stack;
let single: Stack;

beforeAll(async () => {
  los = await startLos();
  const file = resolve(TEST_DATA_DIR, 'deployments-trust.yaml');
  writeFileSync(
    file,
    [
      'deployments:',
      `  - { integrationId: "${PROD.integrationId}", environment: production, keys: [{ id: prod-1, value: "${PROD.key}" }] }`,
      `  - { integrationId: "${TEST.integrationId}", environment: test, namespace: ${ISOLATION_NAMESPACE}, keys: [{ id: test-1, value: "${TEST.key}" }] }`,
    ].join('\n'),
  );
  production = await startStack({ name: 'trust', los, env: { BEGINI_API_KEY: '', BEGINI_DEPLOYMENTS_FILE: file } });
  // The second deployment's workers poll its own namespace, on the same task queue name.
  secondDeployment = await startStack({
    name: 'trust-second',
    los,
    env: { TEMPORAL_NAMESPACE: ISOLATION_NAMESPACE, TEMPORAL_TASK_QUEUE: production.env.TEMPORAL_TASK_QUEUE! },
  });
  single = await startStack({
    name: 'trust-single',
    los,
    env: { WEBHOOK_REQUEST_TIMEOUT: '1s', RECEIVER_MAX_CONNECTIONS: '8' },
  });
});

afterAll(async () => {
  await Promise.all([production, secondDeployment, single].map((s) => s?.stop()));
  await los.close();
});

const asProduction = (type: string, uid: string, details?: Record<string, unknown>) =>
  production.send(delivery(type, uid, { integrationId: PROD.integrationId, ...(details ? { details } : {}) }), {
    key: PROD.key,
  });
const asTest = (type: string, uid: string, details?: Record<string, unknown>) =>
  production.send(delivery(type, uid, { integrationId: TEST.integrationId, ...(details ? { details } : {}) }), {
    key: TEST.key,
  });

describe('integration isolation', () => {
  const decided = (v: { handoff: { status: string } }) => v.handoff.status === 'delivered';

  test.each([
    ['the production journey starts first', 'production-first'],
    ['the test integration delivers first', 'test-first'],
  ])(
    'a test-environment key never changes, decides or delays a production journey of the same uid (%s)',
    async (_name, order) => {
      const uid = newUid('ISO');
      const steps = [
        () => asProduction('application.complete', uid),
        // Signed with the test key, the test integration's id, the same uid and a band the policy approves.
        () => asTest('psychometric_score.complete', uid, { calculated: { risk_band: 'A' } }),
      ];
      for (const step of order === 'production-first' ? steps : steps.reverse())
        expect((await step()).status).toBe(200);

      const productionView = await production.journey(uid);
      expect(productionView).toMatchObject({
        stage: 'awaiting_scores',
        decision: null,
        integrationId: PROD.integrationId,
        counts: { deliveries: 1 },
      });
      const testView = await secondDeployment.waitForJourney(uid, decided);
      expect(testView).toMatchObject({
        integrationId: TEST.integrationId,
        environment: 'test',
        decision: { outcome: 'APPROVE' },
      });

      // The production applicant is decided on production's events alone.
      expect((await asProduction('psychometric_score.complete', uid, { calculated: { risk_band: 'E' } })).status).toBe(
        200,
      );
      const final = await production.waitForJourney(uid, decided);
      expect(final.decision).toMatchObject({ outcome: 'DECLINE', reasons: ['high_risk_band'] });
      expect(final.events.every((e) => e.keyId === 'prod-1')).toBe(true);
      // One decision per deployment, each under its own Idempotency-Key: an LOS that dedupes by key keeps both.
      const handed = los.acceptedFor(uid, 'decision');
      expect(handed.map((r) => [r.body.integrationId, r.body.decision?.outcome]).sort()).toEqual([
        [PROD.integrationId, 'DECLINE'],
        [TEST.integrationId, 'APPROVE'],
      ]);
    },
  );

  test('a delivery of another integration that still reaches a journey is quarantined, flagged and counted, never applied', async () => {
    // One key (BEGINI_API_KEY) signs for any integration id; the journey still holds its own.
    const uid = newUid('FOREIGN');
    expect(
      (await single.send(delivery('application.complete', uid, { integrationId: 'integration-one' }))).status,
    ).toBe(200);
    const foreign = delivery('psychometric_score.complete', uid, {
      integrationId: 'integration-two',
      details: { calculated: { risk_band: 'A' } },
    });
    expect((await single.send(foreign)).status).toBe(200);
    const view = await single.waitForJourney(uid, (v) => v.counts.deliveries === 2);
    expect(view).toMatchObject({
      stage: 'awaiting_scores',
      decision: null,
      scores: {},
      flags: ['foreign_delivery'],
      counts: { quarantined: 1 },
    });
    expect(view.events[1]).toMatchObject({ quarantined: 'foreign' });
    const description = await single.handle(uid).describe();
    expect(description.typedSearchAttributes.get(searchAttributes.flags)).toEqual(['foreign_delivery']);

    // Its own score (with the same timestamps as the foreign one) still decides.
    expect(
      (
        await single.send(
          delivery('psychometric_score.complete', uid, {
            integrationId: 'integration-one',
            details: { calculated: { risk_band: 'E' } },
          }),
        )
      ).status,
    ).toBe(200);
    expect((await single.waitForJourney(uid, (v) => v.decision !== null)).decision).toMatchObject({
      outcome: 'DECLINE',
    });
  });
});

describe('no signed delivery can terminate or wedge a journey', () => {
  test.each([
    ['platform', { platform: 'P'.repeat(3_000) }],
    ['risk_band', { calculated: { risk_band: 'B'.repeat(3_000) } }],
    ['score_confidence', { calculated: { score_confidence: 'C'.repeat(3_000) } }],
    ['a trait key', { calculated: { traits: [{ key: 'k'.repeat(3_000), risk_band: 'A' }] } }],
    [
      'thousands of traits',
      { calculated: { traits: Array.from({ length: 5_000 }, (_, i) => ({ key: `t${i}`, risk_band: 'A' })) } },
    ],
    ['four-byte characters', { platform: '𝔚'.repeat(1_000) }],
  ])(
    'an oversized %s is accepted, recorded as malformed and referred; the journey lives on',
    async (_name, details) => {
      const uid = newUid('LONG');
      expect((await single.send(delivery('psychometric_score.complete', uid, { details }))).status).toBe(200);
      const view = await single.waitForJourney(uid, (v) => v.stage === 'in_review');
      expect(view.events[0]).toMatchObject({ malformed: true });
      expect(view.decision).toMatchObject({ outcome: 'REFER', reasons: ['malformed_event'] });
      const description = await single.handle(uid).describe();
      expect(description.status.name).toBe('RUNNING');
      expect(description.typedSearchAttributes.get(searchAttributes.platform)).toBeUndefined();
    },
  );

  test('a uid at the length limit in four-byte characters (128 UTF-16 units, 248 bytes) gets a journey, not an endless 503', async () => {
    const uid = '𝔘'.repeat(60) + newUid().slice(-8);
    const result = await single.send(delivery('psychometric_score.complete', uid));
    expect(result.status).toBe(200);
    expect((await single.waitForJourney(uid, (v) => v.decision !== null)).decision?.outcome).toBe('APPROVE');
  });

  test.each([
    [
      'nested thousands deep',
      (uid: string) =>
        `{"uid":"${uid}","integration_id":"i","event":{"type":"application.expired","details":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}}`,
    ],
    [
      'nested permission keys',
      (uid: string) =>
        JSON.stringify(delivery('android_score.complete', uid)).replace(
          '"platform"',
          `"permissions":${'{"permissions":'.repeat(2_000)}{}${'}'.repeat(2_000)},"platform"`,
        ),
    ],
  ])('a body %s gets 400 nesting_too_deep, every time, and starts nothing', async (_name, body) => {
    const uid = newUid('DEEP');
    for (let attempt = 0; attempt < 2; attempt++) {
      const result = await single.send(body(uid));
      expect(result.status).toBe(400);
      expect(result.body).toMatchObject({ reason: 'nesting_too_deep' });
    }
    expect(await single.exists(uid)).toBe(false);
  });

  test('permission lists one level down are still read', async () => {
    const uid = newUid('PERM');
    const body = delivery('android_score.complete', uid, {
      details: { permissions: { granted: ['CAMERA'], denied: ['ACCESS_FINE_LOCATION'] } },
    });
    expect((await single.send(body)).status).toBe(200);
    const view = await single.waitForJourney(uid, (v) => Object.keys(v.scores).length > 0);
    expect(view.scores.android?.permissionsDenied).toContain('ACCESS_FINE_LOCATION');
  });

  test('a uid that is not well-formed Unicode is refused: it would collapse into another uid on the wire', async () => {
    const uid = newUid('SURR');
    const raw = JSON.stringify(delivery('application.complete', uid)).replace(`"${uid}"`, `"${uid}\\ud800"`);
    const result = await single.send(raw);
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ reason: 'invalid_envelope' });
    expect(result.body.message).toMatch(/^uid: .*well-formed/);
    expect(await single.exists(`${uid}\ufffd`)).toBe(false);
  });
});

describe('nothing forged or replayed decides', () => {
  test('a plaintext signal sent straight to Temporal is refused by the worker and never applied', async () => {
    const uid = newUid('FORGED');
    expect((await single.send(delivery('application.complete', uid))).status).toBe(200);
    await single.waitForJourney(uid, (v) => v.stage === 'awaiting_scores');

    // Someone who can reach the frontend but holds no codec key.
    const connection = await Connection.connect({ address: single.env.TEMPORAL_ADDRESS! });
    try {
      const plain = new Client({ connection, namespace: 'default' });
      const forged: BeginiDelivery = {
        type: 'psychometric_score.complete',
        recognised: true,
        malformed: false,
        issues: [],
        details: {},
        reasons: null,
        score: scoreFacts({ score: 1, riskBand: 'A' }),
        integrationId: 'integration-one',
        environment: 'test',
        keyId: 'BEGINI_API_KEY',
        receivedAt: new Date().toISOString(),
        fingerprint: 'f'.repeat(64),
        semanticKey: 's'.repeat(64),
      };
      await plain.workflow.getHandle(uid).signal(beginiEventSignal, forged);
      // The worker refuses to decode it: the workflow task fails, visibly, and nothing is applied.
      const deadline = Date.now() + 20_000;
      let refused = false;
      while (!refused && Date.now() < deadline) {
        const history = await single.handle(uid).fetchHistory();
        refused = (history.events ?? []).some((e) =>
          /plaintext payloads are refused/.test(e.workflowTaskFailedEventAttributes?.failure?.message ?? ''),
        );
        if (!refused) await new Promise((r) => setTimeout(r, 250));
      }
      expect(refused).toBe(true);
      expect(los.forUid(uid)).toHaveLength(0);
      expect(
        (await single.handle(uid).describe()).typedSearchAttributes.get(searchAttributes.decision),
      ).toBeUndefined();
    } finally {
      await connection.close();
      // Halted on purpose; stop its task retries so they do not run (and log) for the rest of the suite.
      await single
        .handle(uid)
        .terminate('test: forged plaintext signal')
        .catch(() => undefined);
    }
  });

  test("an encrypted delivery copied from one journey's history into another's is quarantined there", async () => {
    const source = newUid('COPYFROM');
    const target = newUid('COPYTO');
    expect(
      (
        await single.send(
          delivery('psychometric_score.complete', source, { details: { calculated: { risk_band: 'A' } } }),
        )
      ).status,
    ).toBe(200);
    expect((await single.send(delivery('application.complete', target))).status).toBe(200);
    await single.waitForJourney(source, (v) => v.decision !== null);
    // Someone with frontend access copies the ciphertext, as it is, into the other journey.
    const { workflowService } = single.receiver.connection;
    const { history } = await workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId: source },
    });
    const signalled = history!.events!.find(
      (e) => e.workflowExecutionSignaledEventAttributes,
    )!.workflowExecutionSignaledEventAttributes!;
    await workflowService.signalWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: target },
      signalName: signalled.signalName,
      input: signalled.input,
    });
    const view = await single.waitForJourney(target, (v) => v.counts.deliveries === 2);
    expect(view).toMatchObject({ stage: 'awaiting_scores', decision: null, scores: {}, flags: ['foreign_delivery'] });
    expect(view.events[1]).toMatchObject({ quarantined: 'foreign' });
  });

  test('a plaintext review (a CLI without the codec endpoint) is refused and leaves the journey reviewable', async () => {
    const uid = newUid('PLAINREVIEW');
    expect(
      (await single.send(delivery('psychometric_score.complete', uid, { details: { calculated: { risk_band: 'C' } } })))
        .status,
    ).toBe(200);
    await single.waitForJourney(uid, (v) => v.stage === 'in_review');
    const connection = await Connection.connect({ address: single.env.TEMPORAL_ADDRESS! });
    try {
      const plain = new Client({ connection, namespace: 'default' });
      const attempt = plain.workflow
        .getHandle(uid)
        .executeUpdate(reviewUpdate, { args: [{ outcome: 'APPROVE', reviewer: 'mallory' }] });
      await expect(
        Promise.race([
          attempt,
          new Promise((_, reject) => setTimeout(() => reject(new Error('no answer in 10 s')), 10_000)),
        ]),
      ).rejects.toThrow();
    } finally {
      await connection.close();
    }
    // The refused update fails one workflow task; the server drops it and the journey, unchanged,
    // takes a proper review within about half a minute (measured: 25 s on the dev server).
    const started = Date.now();
    let decision: unknown;
    while (!decision && Date.now() - started < 60_000) {
      decision = await single
        .handle(uid)
        .executeUpdate(reviewUpdate, {
          args: [{ outcome: 'DECLINE', reviewer: 'ana@lender', reasons: ['high_risk_band'] }],
        })
        .catch(() => undefined);
      if (!decision) await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(decision).toMatchObject({ outcome: 'DECLINE', reviewer: 'ana@lender' });
    await single.waitForJourney(uid, (v) => v.handoff.status === 'delivered');
    expect(los.acceptedFor(uid, 'decision').map((r) => r.body.decision?.outcome)).toEqual(['DECLINE']);
  });

  test('a captured delivery replayed after its journey is gone never starts a new journey: 422 event_too_old', async () => {
    const uid = newUid('REPLAY');
    const fortyDaysAgo = Math.floor(Date.now() / 1000) - 40 * 86_400;
    const result = await single.send(delivery('psychometric_score.complete', uid, { now: fortyDaysAgo }));
    expect(result.status).toBe(422);
    expect(result.body).toMatchObject({ reason: 'event_too_old' });
    expect(await single.exists(uid)).toBe(false);
    const metrics = await (await fetch(`${single.receiver.internalUrl}/metrics`)).text();
    expect(metrics).toMatch(/begini_webhook_requests_total\{status="422",reason="event_too_old"\} [1-9]/);
  });

  test('an old event for an open journey is recorded there and never applied', async () => {
    const uid = newUid('STALE');
    expect((await single.send(delivery('application.complete', uid))).status).toBe(200);
    const fortyDaysAgo = Math.floor(Date.now() / 1000) - 40 * 86_400;
    expect((await single.send(delivery('psychometric_score.complete', uid, { now: fortyDaysAgo }))).status).toBe(200);
    const view = await single.waitForJourney(uid, (v) => v.counts.deliveries === 2);
    expect(view).toMatchObject({ stage: 'awaiting_scores', scores: {}, decision: null, flags: ['event_too_old'] });
    expect(view.events[1]).toMatchObject({ quarantined: 'too_old' });
  });
});

describe('listeners by audience', () => {
  test('the public listener serves only the webhook and health checks', async () => {
    for (const path of ['/metrics', '/journeys', '/journeys/x']) {
      expect((await fetch(`${single.receiver.url}${path}`)).status).toBe(404);
    }
    expect((await fetch(`${single.receiver.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${single.receiver.internalUrl}/metrics`)).status).toBe(200);
    expect(new URL(single.receiver.internalUrl).hostname).toBe('127.0.0.1');
  });

  test('routing is strict and case-sensitive, and every request is logged and counted', async () => {
    for (const path of ['/Webhooks/Begini', '/webhooks/begini/', '/WEBHOOKS/BEGINI']) {
      const result = await post(`${single.receiver.url}${path}`, delivery('application.complete', newUid()));
      expect(result.status).toBe(404);
      expect(result.body).toMatchObject({ reason: 'not_found' });
    }
    const metrics = await (await fetch(`${single.receiver.internalUrl}/metrics`)).text();
    expect(
      Number(/begini_webhook_requests_total\{status="404",reason="not_found"\} (\d+)/.exec(metrics)?.[1]),
    ).toBeGreaterThanOrEqual(3);
    expect(await single.logText()).toMatch(/"route":"other","status":404,"reason":"not_found"/);
  });
});

describe('slow clients', () => {
  const connect = (url: string) =>
    new Promise<net.Socket>((resolveSocket, reject) => {
      const { hostname, port } = new URL(url);
      const socket = net.connect(Number(port), hostname, () => resolveSocket(socket));
      socket.once('error', reject);
    });
  const closed = (socket: net.Socket) =>
    new Promise<void>((r) => (socket.destroyed ? r() : socket.once('close', () => r())));

  test('a body trickled slower than the request timeout is cut off within about a second of it', async () => {
    const socket = await connect(single.receiver.url);
    const body = JSON.stringify(delivery('application.complete', newUid()));
    socket.write(
      `POST /webhooks/begini HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-signature: ${sign(body, single.env.BEGINI_API_KEY!)}\r\ncontent-length: ${body.length}\r\n\r\n`,
    );
    const started = Date.now();
    const trickle = setInterval(() => socket.writable && socket.write(' '), 200);
    await closed(socket);
    clearInterval(trickle);
    // WEBHOOK_REQUEST_TIMEOUT is 1 s here; the server checks every 500 ms.
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  test('connections past RECEIVER_MAX_CONNECTIONS are refused at once', async () => {
    const held = await Promise.all(Array.from({ length: 8 }, () => connect(single.receiver.url)));
    try {
      const extra = await connect(single.receiver.url);
      const started = Date.now();
      await closed(extra);
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      for (const socket of held) socket.destroy();
    }
  });
});
