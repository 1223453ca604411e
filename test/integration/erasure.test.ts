/**
 * Erasure (issue 23, items 1–2) on a real Temporal dev server, PostgreSQL and LOS stand-in: a decided
 * journey with an after-close recorder run, a spooled and a vaulted copy, is erased through the API;
 * afterwards no run of the workflow ID exists, the journey API answers 404, and a re-sent captured
 * delivery to two receivers sharing the database is answered 200 `erased` and starts nothing, with
 * no LOS call. Erasing again is idempotent (the CLI too); a spooled row of an erased uid is deleted
 * by the drainer, not signalled; without the database the route and the CLI refuse with their
 * reason; only an admin may erase; with several deployments `?integration=` erases one deployment's
 * journey and tombstone only; a tombstone lookup that cannot answer is a 503, never a start.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { Pool } from 'pg';
import { AesGcmCodec } from '../../src/codec/aesGcm';
import { loadReceiverConfig } from '../../src/config/receiver';
import { uidRef } from '../../src/logger';
import { eraseCli } from '../../src/operator/eraseCli';
import { SPOOL_TABLE, SpoolStore } from '../../src/spool/store';
import { ERASURE_TABLE } from '../../src/spool/tombstones';
import { VAULT_TABLE } from '../../src/spool/vault';
import { startLos, type Los } from '../../dev/losStandIn';
import { ensure } from '../../dev/cluster';
import { startPostgres, type Postgres } from '../../dev/postgres';
import { WORKFLOW_TYPES } from '../../workflows/definitions';
import { delivery, newUid, TEST_CODEC_KEYS, TEST_KEY } from '../support/begini';
import { OPERATORS, operatorsEnv } from '../support/operators';
import { ISOLATION_NAMESPACE, TEST_DATA_DIR } from '../support/paths';
import { startStack, type Stack } from '../support/stack';
import { waitForAsync } from '../support/until';

let postgres: Postgres;
let db: Pool;
let los: Los;
/** A worker and a receiver; `b` a second receiver on the same database and task queue; `bare` one without a database. */
let a: Stack;
let b: Stack;
let bare: Stack;

beforeAll(async () => {
  const logDir = `${TEST_DATA_DIR}/erasure-pg`;
  mkdirSync(logDir, { recursive: true });
  postgres = await startPostgres(ensure('ensure-postgres', 'PostgreSQL'), logDir);
  db = new Pool({ connectionString: postgres.url });
  // Its idle clients lose their server when the last test stops PostgreSQL.
  db.on('error', () => undefined);
  los = await startLos();
  const shared = { ...operatorsEnv('erasure'), SPOOL_DATABASE_URL: postgres.url };
  a = await startStack({ name: 'erasure-a', los, env: { ...shared, JOURNEY_SETTLE: '3s' } });
  b = await startStack({
    name: 'erasure-b',
    los,
    worker: false,
    env: { ...shared, TEMPORAL_TASK_QUEUE: a.env.TEMPORAL_TASK_QUEUE! },
  });
  bare = await startStack({ name: 'erasure-bare', los, worker: false, env: operatorsEnv('erasure-bare') });
});

afterAll(async () => {
  await Promise.all([a, b, bare].map((s) => s?.stop()));
  await los?.close();
  await db?.end();
  await postgres?.stop();
});

async function api(stack: Stack, method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${stack.receiver.internalUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const eraseVia = (
  stack: Stack,
  uid: string,
  token = OPERATORS.admin.token,
  body: unknown = { reason: 'GDPR Art. 17 request #41' },
) => api(stack, 'POST', `/journeys/${encodeURIComponent(uid)}/erase`, token, body);

async function erasedCount(stack: Stack, path: 'webhook' | 'spool'): Promise<number> {
  const metrics = await (await fetch(`${stack.receiver.internalUrl}/metrics`)).text();
  const line = new RegExp(`^begini_erased_deliveries_total\\{path="${path}"\\} (\\d+)$`, 'm').exec(metrics);
  return Number(line?.[1] ?? 0);
}

/** Every run visibility lists under the workflow ID (the uid: no prefix is configured). */
async function listedRuns(uid: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const run of a.client.workflow.list({ query: `WorkflowId = '${uid}'` })) runs.push(run.runId);
  return runs;
}

const count = async (sql: string, params: unknown[]) => Number((await db.query(sql, params)).rows[0].n);

test('an erased journey with an after-close run: no run left, 404, and a re-sent delivery to two receivers is 200 erased and starts nothing', async () => {
  const uid = newUid('ERASE');
  const now = Math.floor(Date.now() / 1000);
  const captured = JSON.stringify(delivery('psychometric_score.complete', uid, { now }));
  expect((await a.send(captured)).status).toBe(200);
  expect((await a.handle(uid).result()).decision?.outcome).toBe('APPROVE');
  expect(los.acceptedFor(uid, 'decision')).toHaveLength(1);
  // A delivery after the close: a recorder run under the same ID.
  const late = delivery('psychometric_score.complete', uid, {
    now: now + 60,
    details: { calculated: { risk_band: 'E' } },
  });
  expect((await a.send(late)).status).toBe(200);
  expect((await a.handle(uid).describe()).type).toBe(WORKFLOW_TYPES.afterClose);
  // A copy in the vault (a key not yet configured) and one dead-lettered in the spool.
  expect(
    (await a.send(JSON.stringify(delivery('application.complete', uid)), { key: 'not-yet-configured-key-77' })).status,
  ).toBe(403);
  await waitForAsync(() =>
    count(`SELECT count(*) AS n FROM ${VAULT_TABLE}`, [])
      .catch(() => 0)
      .then((n) => n > 0),
  );
  const config = loadReceiverConfig({ PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS, BEGINI_API_KEY: TEST_KEY });
  const store = new SpoolStore(postgres.url, new AesGcmCodec(config.codecKeys), { maxRows: 100, maxBytes: 1e7 });
  await store.enqueue({
    uidRef: uidRef(uid),
    integrationId: 'any',
    signingKeyId: 'BEGINI_API_KEY',
    rawBody: Buffer.from(captured),
    receivedAt: new Date(),
    deferrable: false,
  });
  await db.query(`UPDATE ${SPOOL_TABLE} SET dead_at = now(), dead_reason = 'test' WHERE uid_ref = $1`, [uidRef(uid)]);
  await store.close();
  const losCalls = los.forUid(uid).length;

  const erased = await eraseVia(a, uid);
  expect(erased).toMatchObject({
    status: 200,
    body: {
      erasure: {
        uidRef: uidRef(uid),
        runsDeleted: 2,
        spoolRowsDeleted: 1,
        vaultRowsDeleted: 1,
        alreadyErased: false,
        found: true,
      },
    },
  });
  // Gone from the database, not merely counted.
  expect(await count(`SELECT count(*) AS n FROM ${SPOOL_TABLE} WHERE uid_ref = $1`, [uidRef(uid)])).toBe(0);
  expect(await count(`SELECT count(*) AS n FROM ${VAULT_TABLE}`, [])).toBe(0);
  // The tombstone names the applicant by keyed ref only.
  const { rows: tombstones } = await db.query(`SELECT * FROM ${ERASURE_TABLE} WHERE uid_ref = $1`, [uidRef(uid)]);
  expect(tombstones).toMatchObject([{ erased_by: OPERATORS.admin.name, reason: 'GDPR Art. 17 request #41' }]);
  expect(JSON.stringify(tombstones)).not.toContain(uid);

  await waitForAsync(async () => (await listedRuns(uid)).length === 0);
  expect(await a.exists(uid)).toBe(false);
  expect(await api(a, 'GET', `/journeys/${uid}`, OPERATORS.viewer.token)).toMatchObject({
    status: 404,
    body: { reason: 'unknown_journey' },
  });

  const before = { a: await erasedCount(a, 'webhook'), b: await erasedCount(b, 'webhook') };
  for (const receiver of [a, b]) {
    expect(await receiver.send(captured)).toMatchObject({ status: 200, body: { status: 'erased' } });
    // A signalWithStart that had started a run would have it described by now.
    expect(await a.exists(uid)).toBe(false);
  }
  expect(await listedRuns(uid)).toEqual([]);
  expect(los.forUid(uid)).toHaveLength(losCalls);
  expect({ a: await erasedCount(a, 'webhook'), b: await erasedCount(b, 'webhook') }).toEqual({
    a: before.a + 1,
    b: before.b + 1,
  });
  const audit = (await a.logText()).split('\n').filter((line) => line.includes('"action":"erase"'));
  expect(audit).toHaveLength(1);
  expect(JSON.parse(audit[0]!)).toMatchObject({
    msg: 'operator action',
    principal: OPERATORS.admin.name,
    uidRef: uidRef(uid),
    runsDeleted: 2,
  });
  expect(audit[0]).not.toContain(uid);
});

test('erasing again is idempotent, through the API and npm run erase; an unknown uid is no error', async () => {
  const uid = newUid('AGAIN');
  expect((await a.send(delivery('psychometric_score.complete', uid))).status).toBe(200);
  await a.waitForJourney(uid, (view) => view.stage === 'decided');
  expect((await eraseVia(a, uid)).body.erasure).toMatchObject({ runsDeleted: 1, alreadyErased: false });

  expect((await eraseVia(b, uid)).body.erasure).toMatchObject({ runsDeleted: 0, alreadyErased: true, found: false });
  const printed: string[] = [];
  const cli = await eraseCli(['--uid', uid, '--reason', 'repeat of #41'], a.env, (line) => printed.push(line));
  expect(cli.exitCode).toBe(0);
  expect(cli.receipt).toMatchObject({ uidRef: uidRef(uid), runsDeleted: 0, alreadyErased: true, found: false });
  expect(printed.join('\n')).not.toContain(uid);

  const unknown = await eraseVia(a, newUid('NEVER'));
  expect(unknown).toMatchObject({
    status: 200,
    body: { erasure: { runsDeleted: 0, alreadyErased: false, found: false } },
  });
});

test('a spooled row of an erased uid is deleted by the drainer, never signalled', async () => {
  const uid = newUid('SPOOLED');
  expect((await eraseVia(a, uid)).status).toBe(200);
  const before = (await erasedCount(a, 'spool')) + (await erasedCount(b, 'spool'));
  const config = loadReceiverConfig({ PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS, BEGINI_API_KEY: TEST_KEY });
  const store = new SpoolStore(postgres.url, new AesGcmCodec(config.codecKeys), { maxRows: 100, maxBytes: 1e7 });
  const body = Buffer.from(JSON.stringify(delivery('psychometric_score.complete', uid)));
  // As if it had been spooled by a receiver racing the erasure.
  await store.enqueue({
    uidRef: uidRef(uid),
    integrationId: 'any',
    signingKeyId: 'BEGINI_API_KEY',
    rawBody: body,
    receivedAt: new Date(),
    deferrable: false,
  });
  await store.close();
  await waitForAsync(
    async () => (await count(`SELECT count(*) AS n FROM ${SPOOL_TABLE} WHERE uid_ref = $1`, [uidRef(uid)])) === 0,
  );
  expect((await erasedCount(a, 'spool')) + (await erasedCount(b, 'spool'))).toBe(before + 1);
  expect(await a.exists(uid)).toBe(false);
});

test('without SPOOL_DATABASE_URL the route and the CLI refuse with erasure_needs_database', async () => {
  expect(await eraseVia(bare, newUid())).toMatchObject({ status: 409, body: { reason: 'erasure_needs_database' } });
  const printed: string[] = [];
  const cli = await eraseCli(['--uid', newUid(), '--reason', 'r'], bare.env, (line) => printed.push(line));
  expect(cli.exitCode).toBe(78);
  expect(printed.join('\n')).toContain('erasure_needs_database');
});

test('only an admin may erase, with a reason', async () => {
  const uid = newUid('ROLE');
  for (const role of ['viewer', 'reviewer'] as const) {
    expect(await eraseVia(a, uid, OPERATORS[role].token)).toMatchObject({
      status: 403,
      body: { reason: 'insufficient_role' },
    });
  }
  expect(await eraseVia(a, uid, OPERATORS.admin.token, {})).toMatchObject({
    status: 400,
    body: { reason: 'invalid_erase' },
  });
  expect(await count(`SELECT count(*) AS n FROM ${ERASURE_TABLE} WHERE uid_ref = $1`, [uidRef(uid)])).toBe(0);
});

test('with several deployments ?integration= picks whose journey is erased; the same uid of another deployment is untouched', async () => {
  const [one, two] = [
    { integrationId: 'erasure-deployment-one', key: 'erasure-key-one-4b1d9c' },
    { integrationId: 'erasure-deployment-two', key: 'erasure-key-two-8e2f0a' },
  ];
  const file = resolve(TEST_DATA_DIR, `deployments-erasure-${process.pid}.yaml`);
  writeFileSync(
    file,
    [
      'deployments:',
      `  - { integrationId: "${one.integrationId}", environment: production, keys: [{ id: one-1, value: "${one.key}" }] }`,
      `  - { integrationId: "${two.integrationId}", environment: test, namespace: ${ISOLATION_NAMESPACE}, keys: [{ id: two-1, value: "${two.key}" }] }`,
    ].join('\n'),
  );
  // No worker: the runs a delivery starts are enough to see which namespace was erased.
  const several = await startStack({
    name: 'erasure-several',
    los,
    worker: false,
    env: {
      ...operatorsEnv('erasure-several'),
      BEGINI_API_KEY: '',
      BEGINI_DEPLOYMENTS_FILE: file,
      SPOOL_DATABASE_URL: postgres.url,
    },
  });
  const second = new Client({ connection: several.receiver.connection, namespace: ISOLATION_NAMESPACE });
  const existsIn = (client: Client, uid: string) =>
    client.workflow
      .getHandle(uid)
      .describe()
      .then(
        () => true,
        (err) => {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        },
      );
  try {
    const uid = newUid('SEVERAL');
    const sendTo = (d: typeof one) =>
      several.send(delivery('application.complete', uid, { integrationId: d.integrationId }), { key: d.key });
    for (const d of [one, two]) expect(await sendTo(d)).toMatchObject({ status: 200, body: { status: 'accepted' } });
    expect([await existsIn(several.client, uid), await existsIn(second, uid)]).toEqual([true, true]);

    expect(await eraseVia(several, uid)).toMatchObject({ status: 400, body: { reason: 'integration_required' } });
    const path = (integration: string) => `/journeys/${uid}/erase?integration=${integration}`;
    expect(await api(several, 'POST', path('nobody'), OPERATORS.admin.token, { reason: 'r' })).toMatchObject({
      status: 404,
      body: { reason: 'unknown_integration' },
    });
    const erased = await api(several, 'POST', path(two.integrationId), OPERATORS.admin.token, { reason: 'r' });
    expect(erased).toMatchObject({ status: 200, body: { erasure: { runsDeleted: 1 } } });
    expect([await existsIn(several.client, uid), await existsIn(second, uid)]).toEqual([true, false]);
    expect(await sendTo(two)).toMatchObject({ status: 200, body: { status: 'erased' } });
    expect(await sendTo(one)).toMatchObject({ status: 200, body: { status: 'accepted' } });
    expect(await existsIn(second, uid)).toBe(false);
  } finally {
    await several.stop();
  }
});

test('a tombstone lookup that cannot answer (database down) is a 503, starts nothing, and the receiver is not ready', async () => {
  const uid = newUid('DOWN');
  const readiness = async () => {
    const answer = await fetch(`${a.receiver.url}/readyz`);
    return { status: answer.status, body: await answer.json() };
  };
  expect(await readiness()).toEqual({ status: 200, body: { status: 'ready' } });
  postgres.stopNow();
  try {
    expect(await a.send(delivery('psychometric_score.complete', uid))).toMatchObject({
      status: 503,
      body: { reason: 'erasure_check_unavailable' },
    });
    expect(await a.exists(uid)).toBe(false);
    // Temporal is up, yet no delivery can be answered 200: a load balancer should send elsewhere.
    await waitForAsync(async () => (await readiness()).status === 503);
    expect((await readiness()).body).toEqual({ status: 'unavailable', reason: 'database_unreachable' });
  } finally {
    await postgres.start();
  }
});
