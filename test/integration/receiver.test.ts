/**
 * The HTTP contract of POST /webhooks/begini against a real dev server: every status code with its
 * reason, proof that no rejected request started a workflow, key rotation, Temporal outages and
 * graceful shutdown.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sign } from '../../src/begini/verifier';
import { startDevServer, type DevServer } from '../../dev/devServer';
import { delivery, newUid, post, TEST_KEY } from '../support/begini';
import { allLogs, leakedInLogs } from '../support/logAudit';
import { ISOLATION_NAMESPACE, TEST_DATA_DIR } from '../support/paths';
import { freePort } from '../../src/freePort';
import { startStack, type Stack } from '../support/stack';

const OLD_KEY = 'rotating-key-old-5a1c';
const NEW_KEY = 'rotating-key-new-9e7d';
const TEST_ENV_KEY = 'test-environment-key-44f0';
const PROD_INTEGRATION = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const TESTING_INTEGRATION = 'bbbbbbbbbbbbbbbbbbbbbbbb';
const uidsSent: string[] = [];

function uid(): string {
  const id = newUid();
  uidsSent.push(id);
  return id;
}

let stack: Stack;

beforeAll(async () => {
  const deployments = resolve(TEST_DATA_DIR, 'deployments-receiver-test.yaml');
  writeFileSync(
    deployments,
    [
      'deployments:',
      `  - integrationId: "${PROD_INTEGRATION}"`,
      '    environment: production',
      `    keys: [{ id: "prod-2026-05", value: "${OLD_KEY}" }, { id: "prod-2026-11", value: "${NEW_KEY}" }]`,
      `  - integrationId: "${TESTING_INTEGRATION}"`,
      '    environment: test',
      `    namespace: ${ISOLATION_NAMESPACE}`,
      `    keys: [{ id: "test-1", value: "${TEST_ENV_KEY}" }]`,
    ].join('\n'),
  );
  // No BEGINI_API_KEY: only configured integrations are known.
  stack = await startStack({
    name: 'receiver',
    env: { BEGINI_API_KEY: '', BEGINI_DEPLOYMENTS_FILE: deployments, WEBHOOK_MAX_BODY_BYTES: '4096' },
  });
});

afterAll(async () => {
  await stack?.stop();
});

const prodDelivery = (id: string) => delivery('psychometric_score.complete', id, { integrationId: PROD_INTEGRATION });

async function expectNoWorkflow(id: string): Promise<void> {
  expect(await stack.exists(id)).toBe(false);
}

describe('transport', () => {
  test('a method other than POST gets 405 and starts nothing', async () => {
    const id = uid();
    const result = await stack.send(prodDelivery(id), { key: NEW_KEY, method: 'PUT' });
    expect(result.status).toBe(405);
    expect(result.body).toMatchObject({ reason: 'method_not_allowed' });
    expect(result.headers.get('allow')).toBe('POST');
    await expectNoWorkflow(id);
  });

  test('a non-JSON content type gets 415 and starts nothing', async () => {
    const id = uid();
    const result = await stack.send(prodDelivery(id), { key: NEW_KEY, headers: { 'content-type': 'text/plain' } });
    expect(result.status).toBe(415);
    expect(result.body).toMatchObject({ reason: 'unsupported_media_type' });
    await expectNoWorkflow(id);
  });

  test('a content type with a charset is still JSON', async () => {
    const result = await stack.send(prodDelivery(uid()), {
      key: NEW_KEY,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(result.status).toBe(200);
  });

  test('a compressed body gets 415: the signature covers the bytes as sent', async () => {
    const id = uid();
    const body = gzipSync(JSON.stringify(prodDelivery(id)));
    const result = await post(stack.webhookUrl, body, { key: NEW_KEY, headers: { 'content-encoding': 'gzip' } });
    expect(result.status).toBe(415);
    expect(result.body).toMatchObject({ reason: 'unsupported_encoding' });
    await expectNoWorkflow(id);
  });

  test('a body over the limit gets 413 and starts nothing', async () => {
    const id = uid();
    const body = delivery('psychometric_score.complete', id, {
      integrationId: PROD_INTEGRATION,
      details: { padding: 'x'.repeat(5000) },
    });
    const result = await stack.send(body, { key: NEW_KEY });
    expect(result.status).toBe(413);
    expect(result.body).toMatchObject({ reason: 'payload_too_large' });
    await expectNoWorkflow(id);
  });
});

describe('signature', () => {
  test.each([
    ['missing_signature', { signature: null }],
    ['malformed_signature', { signature: 'abc123' }],
    ['signature_mismatch', { key: 'not-the-key' }],
  ])('%s gets 403 Validation Failure and starts nothing', async (reason, options) => {
    const id = uid();
    const result = await stack.send(prodDelivery(id), options);
    expect(result.status).toBe(403);
    expect(result.body).toMatchObject({ detail: 'Validation Failure', reason });
    await expectNoWorkflow(id);
  });

  test('an integration this receiver does not know gets the same answer as a bad signature', async () => {
    const id = uid();
    const unknown = await stack.send(
      delivery('psychometric_score.complete', id, { integrationId: 'cccccccccccccccccccccccc' }),
      { key: NEW_KEY },
    );
    const mismatch = await stack.send(prodDelivery(id), { key: 'not-the-key' });
    expect(unknown.status).toBe(403);
    // Nothing tells a caller which integration ids exist; the log keeps the difference.
    expect(unknown.body).toEqual(mismatch.body);
    expect(unknown.body).toMatchObject({ detail: 'Validation Failure', reason: 'signature_mismatch' });
    await expectNoWorkflow(id);
    expect(await stack.logText()).toMatch(/"verdict":"unknown_integration"/);
  });

  test('a test-environment key against the production integration is a mismatch', async () => {
    const id = uid();
    const result = await stack.send(prodDelivery(id), { key: TEST_ENV_KEY });
    expect(result.body).toMatchObject({ reason: 'signature_mismatch' });
    await expectNoWorkflow(id);
  });

  test('key rotation: either configured key verifies, and the key id is recorded', async () => {
    const id = uid();
    const now = Math.floor(Date.now() / 1000);
    const first = await stack.send(delivery('application.complete', id, { integrationId: PROD_INTEGRATION, now }), {
      key: OLD_KEY,
    });
    const second = await stack.send(
      delivery('psychometric_score.complete', id, { integrationId: PROD_INTEGRATION, now }),
      { key: NEW_KEY },
    );
    expect([first.status, second.status]).toEqual([200, 200]);
    const view = await stack.waitForJourney(id, (v) => v.counts.deliveries === 2);
    expect(view.events.map((e) => e.keyId)).toEqual(['prod-2026-05', 'prod-2026-11']);
    expect(view.environment).toBe('production');
    const metrics = await (await fetch(`${stack.receiver.internalUrl}/metrics`)).text();
    expect(metrics).toMatch(/begini_deliveries_by_key_total\{key_id="prod-2026-05",environment="production"\} [1-9]/);
    expect(metrics).toMatch(/begini_deliveries_by_key_total\{key_id="prod-2026-11",environment="production"\} [1-9]/);
  });
});

describe('validation', () => {
  test('a signed body that is not JSON gets 400 invalid_json', async () => {
    const result = await stack.send('{"uid": "x", ', { key: NEW_KEY });
    // Not JSON, so no integration id: with no fallback key nothing can verify it.
    expect(result.status).toBe(403);
    expect(result.body).toMatchObject({ reason: 'signature_mismatch' });
  });

  test('invalid UTF-8 gets 400 invalid_json once verified', async () => {
    const fallback = await startStack({ name: 'receiver-fallback', worker: false });
    try {
      const body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
      const result = await post(fallback.webhookUrl, body, { key: TEST_KEY });
      expect(result.status).toBe(400);
      expect(result.body).toMatchObject({ detail: 'Bad Request', reason: 'invalid_json' });
      const array = await fallback.send('[1,2,3]');
      expect(array.body).toMatchObject({ reason: 'invalid_json' });
    } finally {
      await fallback.stop();
    }
  });

  test('a bad envelope gets 400 invalid_envelope naming the field, and starts nothing', async () => {
    const id = uid();
    const body = { uid: id, integration_id: PROD_INTEGRATION, event: { details: {} } };
    const result = await stack.send(body, { key: NEW_KEY });
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ reason: 'invalid_envelope' });
    expect(result.body.message).toMatch(/^event\.type:/);
    await expectNoWorkflow(id);

    const control = await stack.send(
      { uid: 'APP\u0000X', integration_id: PROD_INTEGRATION, event: { type: 'application.expired' } },
      { key: NEW_KEY },
    );
    expect(control.body).toMatchObject({ reason: 'invalid_envelope' });
    expect(control.body.message).toMatch(/^uid:/);
  });

  test('uids that would look like another (invisible characters, not NFC) get 400 and start nothing', async () => {
    const base = uid();
    for (const [lookalike, rule] of [
      [`${base}\u200b`, /^uid: .*invisible or format characters/],
      [`${base}e\u0301`, /^uid: .*NFC/],
    ] as const) {
      const result = await stack.send(
        { uid: lookalike, integration_id: PROD_INTEGRATION, event: { type: 'application.expired' } },
        { key: NEW_KEY },
      );
      expect(result.status).toBe(400);
      expect(result.body).toMatchObject({ reason: 'invalid_envelope' });
      expect(result.body.message).toMatch(rule);
      await expectNoWorkflow(lookalike);
    }
  });

  test('a uid with backticks and markdown stays text in the Web UI’s static details', async () => {
    const id = `${uid()}\`**Decision: APPROVE**\``;
    uidsSent.push(id);
    expect((await stack.send(prodDelivery(id), { key: NEW_KEY })).status).toBe(200);
    const details = await (await stack.handle(id).describe()).staticDetails();
    expect(details).toContain('\\`\\*\\*Decision\\: APPROVE\\*\\*\\`');
    expect(details).not.toMatch(/(^|[^\\])[`*]/);
  });

  test('a known type with malformed details is accepted and delivered marked malformed', async () => {
    const id = uid();
    const body = delivery('psychometric_score.complete', id, {
      integrationId: PROD_INTEGRATION,
      details: { calculated: { score: 'high' } },
    });
    expect((await stack.send(body, { key: NEW_KEY })).status).toBe(200);
    const view = await stack.waitForJourney(id, (v) => v.decision !== null);
    expect(view.events[0]).toMatchObject({ malformed: true, recognised: true });
    expect(view.events[0]!.issues?.join()).toContain('details.calculated.score');
    expect(view.decision).toMatchObject({ outcome: 'REFER', reasons: ['malformed_event'] });
  });

  test('an unknown event type with a valid envelope is accepted as unrecognised', async () => {
    const id = uid();
    const result = await stack.send(
      { uid: id, integration_id: PROD_INTEGRATION, event: { type: 'webhook.test', details: {} } },
      { key: NEW_KEY },
    );
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ status: 'accepted' });
    const view = await stack.waitForJourney(id, (v) => v.counts.deliveries === 1);
    expect(view.events[0]).toMatchObject({ type: 'webhook.test', recognised: false });
    expect(view.flags).toContain('unrecognised_event');
    expect(view.stage).toBe('awaiting_application');
  });
});

describe('delivery', () => {
  test('200 means the event is in the journey whose workflow ID is the uid', async () => {
    const id = uid();
    const result = await stack.send(prodDelivery(id), { key: NEW_KEY });
    expect(result.status).toBe(200);
    const history = await stack.handle(id).fetchHistory();
    const signalled = history.events!.filter(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'beginiEvent',
    );
    expect(signalled).toHaveLength(1);
  });

  test('past the in-flight cap it sheds with 503 and Retry-After, and every 200 landed', async () => {
    const capped = await startStack({ name: 'receiver-capped', worker: false, env: { TEMPORAL_MAX_IN_FLIGHT: '1' } });
    try {
      const ids = Array.from({ length: 30 }, () => uid());
      const results = await Promise.all(ids.map((id) => capped.send(delivery('application.complete', id))));
      const shed = results.filter((r) => r.status === 503);
      expect(shed.length).toBeGreaterThan(0);
      for (const r of shed) {
        expect(r.body).toMatchObject({ reason: 'overloaded' });
        expect(r.headers.get('retry-after')).toBe('1');
      }
      for (const [i, r] of results.entries()) {
        expect([200, 503]).toContain(r.status);
        expect(await capped.exists(ids[i]!)).toBe(r.status === 200);
      }
    } finally {
      await capped.stop();
    }
  });

  test('health and readiness', async () => {
    expect((await fetch(`${stack.receiver.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${stack.receiver.url}/readyz`)).json()).toEqual({ status: 'ready' });
  });
});

describe('native HTTPS', () => {
  test('with TLS_CERT_FILE and TLS_KEY_FILE the receiver serves HTTPS', async () => {
    const cert = resolve(TEST_DATA_DIR, 'receiver-cert.pem');
    const key = resolve(TEST_DATA_DIR, 'receiver-key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const tls = await startStack({
      name: 'receiver-tls',
      worker: false,
      env: { TLS_CERT_FILE: cert, TLS_KEY_FILE: key },
    });
    try {
      expect(tls.webhookUrl.startsWith('https://')).toBe(true);
      const id = uid();
      const body = JSON.stringify(delivery('application.complete', id));
      const status = await new Promise<number>((resolveStatus, reject) => {
        const req = https.request(
          tls.webhookUrl,
          {
            method: 'POST',
            ca: readFileSync(cert),
            headers: { 'content-type': 'application/json', 'x-signature': sign(body, TEST_KEY) },
          },
          (res) => {
            res.resume();
            resolveStatus(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      expect(status).toBe(200);
      expect(await tls.exists(id)).toBe(true);
    } finally {
      await tls.stop();
    }
  });
});

describe('Temporal outages', () => {
  let server: DevServer | undefined;
  afterEach(async () => {
    await server?.stop();
  });

  test('Temporal stopped: 503 with Retry-After; Temporal back: the same delivery gets 200', async () => {
    const port = await freePort();
    const dbFile = resolve(TEST_DATA_DIR, `outage-${process.pid}.db`);
    server = await startDevServer({ port, uiPort: null, dbFile });
    const outage = await startStack({
      name: 'receiver-outage',
      worker: false,
      temporalAddress: server.address,
      env: { TEMPORAL_ACK_TIMEOUT_MS: '1500' },
    });
    try {
      const id = uid();
      const body = JSON.stringify(delivery('application.complete', id));
      expect((await outage.send(delivery('application.expired', uid()))).status).toBe(200);

      await server.stop();
      const started = Date.now();
      const refused = await outage.send(body);
      expect(refused.status).toBe(503);
      expect(['temporal_unavailable', 'temporal_timeout']).toContain(refused.body.reason);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await fetch(`${outage.receiver.url}/readyz`)).status).toBe(503);
      expect((await fetch(`${outage.receiver.url}/healthz`)).status).toBe(200);

      server = await startDevServer({ port, uiPort: null, dbFile });
      // Like Begini: retry the same bytes until they are acknowledged.
      let status = 0;
      for (let attempt = 0; attempt < 40 && status !== 200; attempt++) {
        status = (await outage.send(body)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 500));
      }
      expect(status).toBe(200);
      expect(await outage.exists(id)).toBe(true);
    } finally {
      await outage.stop();
    }
  });
});

describe('Temporal down at start', () => {
  test('the receiver starts without Temporal, answers 503 and not ready; once Temporal is up, 200', async () => {
    const port = await freePort();
    const down = await startStack({
      name: 'receiver-cold-start',
      worker: false,
      temporalAddress: `127.0.0.1:${port}`,
      env: { TEMPORAL_ACK_TIMEOUT_MS: '1500' },
    });
    let server: DevServer | undefined;
    try {
      expect((await fetch(`${down.receiver.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${down.receiver.url}/readyz`)).status).toBe(503);
      const id = uid();
      const body = JSON.stringify(delivery('application.complete', id));
      const started = Date.now();
      const refused = await down.send(body);
      expect(refused.status).toBe(503);
      expect(refused.body.reason).toBe('temporal_unavailable');
      expect(Date.now() - started).toBeLessThan(2_000);

      server = await startDevServer({ port, uiPort: null, dbFile: null });
      let status = 0;
      for (let attempt = 0; attempt < 40 && status !== 200; attempt++) {
        status = (await down.send(body)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 500));
      }
      expect(status).toBe(200);
      expect(await down.exists(id)).toBe(true);
    } finally {
      await down.stop();
      await server?.stop();
    }
  });
});

describe('graceful shutdown', () => {
  test('deliveries in flight when it closes still finish, and every acknowledged one is in its journey', async () => {
    const draining = await startStack({ name: 'receiver-draining', worker: false });
    const inFlight = async () => {
      const metrics = await (await fetch(`${draining.receiver.internalUrl}/metrics`)).text();
      return Number(/^begini_temporal_calls_in_flight (\d+)$/m.exec(metrics)?.[1] ?? 0);
    };
    const ids: string[] = [];
    const sent: Array<{ status: number; settledBeforeClose: boolean }> = [];
    const sending: Promise<void>[] = [];
    let closeCalled = false;
    // Keep sending until the receiver holds several deliveries inside their Temporal call: no guessed sleep.
    let observed = 0;
    while (observed < 3 && ids.length < 2_000) {
      for (let k = 0; k < 20; k++) {
        const id = uid();
        const i = ids.push(id) - 1;
        sending.push(
          draining.send(delivery('application.complete', id)).then(
            (r) => void (sent[i] = { status: r.status, settledBeforeClose: !closeCalled }),
            () => void (sent[i] = { status: 0, settledBeforeClose: !closeCalled }),
          ),
        );
      }
      observed = await inFlight();
    }
    expect(observed).toBeGreaterThanOrEqual(3);
    closeCalled = true;
    const closing = draining.receiver.close();
    await Promise.all(sending);
    await closing;
    const checker = await startStack({ name: 'receiver-checker', worker: false });
    try {
      // Those still in flight at close (at least the ones the gauge counted, bar any that finished
      // in the instant between) were answered 200, not cut off.
      const finishedDuringClose = sent.filter((r) => !r.settledBeforeClose && r.status === 200).length;
      expect(finishedDuringClose).toBeGreaterThanOrEqual(1);
      for (const [i, { status }] of sent.entries()) {
        // 0: the connection was refused before it was accepted, which a sender retries.
        expect([0, 200]).toContain(status);
        if (status === 200) expect(await checker.exists(ids[i]!)).toBe(true);
      }
    } finally {
      await draining.stop();
      await checker.stop();
    }
  });
});

describe('logs', () => {
  test('contain neither a configured key nor any uid in plaintext', async () => {
    await stack.stop();
    expect(await stack.logText()).toContain('"uidRef"');
    expect(allLogs().length).toBeGreaterThan(1000);
    expect(leakedInLogs([OLD_KEY, NEW_KEY, TEST_ENV_KEY, TEST_KEY, ...uidsSent])).toEqual([]);
  });
});
