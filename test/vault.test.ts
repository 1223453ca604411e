/**
 * The refused-delivery vault on a real PostgreSQL and Temporal dev server: deliveries Begini signs
 * with a key the receiver does not have yet are answered 403 and vaulted; once the key is configured,
 * replay-refused decides each journey exactly once; a forged or tampered row is never replayed;
 * the per-integration cap drops the oldest; a missing signature is not vaulted; a dry run replays nothing.
 */
import { mkdirSync } from 'node:fs';
import { Pool } from 'pg';
import { sign } from '../src/begini/verifier';
import { AesGcmCodec } from '../src/codec/aesGcm';
import { loadReceiverConfig } from '../src/config';
import { startLos, type Los } from '../src/dev/losStandIn';
import { FALLBACK_VAULT } from '../src/receiver/app';
import { replayRefused } from '../src/spool/replayRefused';
import { SpoolStore } from '../src/spool/store';
import { RefusedVault, VAULT_TABLE } from '../src/spool/vault';
import { ensure } from '../src/temporal/cluster';
import { startPostgres, type Postgres } from '../src/temporal/postgres';
import { delivery, newUid, TEST_KEY } from './support/begini';
import { TEST_DATA_DIR } from './support/paths';
import { startStack, type Stack } from './support/stack';

const NEW_KEY = 'rotated-begini-key-2026-12-a41c';
let postgres: Postgres;
let db: Pool;
let los: Los;
let stack: Stack;

const vaulted = async () =>
  Number(
    (await db.query(`SELECT count(*) AS n FROM ${VAULT_TABLE} WHERE integration_id = $1`, [FALLBACK_VAULT])).rows[0].n,
  );

beforeAll(async () => {
  const logDir = `${TEST_DATA_DIR}/vault-pg`;
  mkdirSync(logDir, { recursive: true });
  postgres = await startPostgres(ensure('ensure-postgres', 'PostgreSQL'), logDir);
  db = new Pool({ connectionString: postgres.url });
  los = await startLos();
  stack = await startStack({
    name: 'vault',
    los,
    env: { SPOOL_DATABASE_URL: postgres.url, SPOOL_VAULT_MAX_ROWS: '4' },
  });
});

afterAll(async () => {
  await stack?.stop();
  await los?.close();
  await db?.end();
  await postgres?.stop();
});

beforeEach(async () => {
  await db.query(`DELETE FROM ${VAULT_TABLE}`).catch(() => undefined);
});

/** The operator's configuration after the fix: the key Begini now signs with. */
function replayDeps(key: string) {
  const config = loadReceiverConfig({ ...stack.env, BEGINI_API_KEY: key });
  const codec = new AesGcmCodec(config.codecKeys);
  const spool = new SpoolStore(postgres.url, codec, config.spool!);
  const vault = new RefusedVault(spool.pool, codec, config.spool!.vault);
  const connection = stack.receiver.connection;
  return { config, connection, clients: new Map([['default', stack.client]]), vault, spool };
}

test('signed with a key not yet configured: 403 and vaulted; after the fix, replay-refused decides each journey once, a forged row never', async () => {
  const uid = newUid();
  const bodies = ['application.complete', 'psychometric_score.complete'].map((type) =>
    JSON.stringify(delivery(type, uid)),
  );
  for (const body of bodies) {
    const result = await stack.send(body, { key: NEW_KEY });
    expect(result.status).toBe(403);
    expect(result.body).toMatchObject({ reason: 'signature_mismatch' });
  }
  expect(await vaulted()).toBe(2);
  expect(await stack.exists(uid)).toBe(false);

  // A forged row: a body for another applicant signed with a key Begini never had.
  const forgedUid = newUid();
  const deps = replayDeps(NEW_KEY);
  const forged = JSON.stringify(delivery('application.complete', forgedUid));
  await deps.vault.keep({
    integrationId: FALLBACK_VAULT,
    signature: sign(forged, 'not-a-key-begini-ever-had-9c1e'),
    rawBody: Buffer.from(forged),
    receivedAt: new Date(),
  });

  try {
    const dry = await replayRefused(deps, { integrationId: FALLBACK_VAULT, dryRun: true, print: () => undefined });
    expect(dry).toMatchObject({ replayed: 2, unverifiable: 1, failed: 0 });
    expect(await stack.exists(uid)).toBe(false);
    expect(await vaulted()).toBe(3);

    const lines: string[] = [];
    const summary = await replayRefused(deps, {
      integrationId: FALLBACK_VAULT,
      dryRun: false,
      print: (l) => lines.push(l),
    });
    expect(summary).toMatchObject({ replayed: 2, unverifiable: 1, invalid: 0, failed: 0 });
    expect(lines.join('\n')).not.toContain(uid);
    await stack.waitForJourney(uid, (view) => view.stage === 'decided');
    // Only the forged row is left; running again replays nothing more.
    expect(await vaulted()).toBe(1);
    expect(
      await replayRefused(deps, { integrationId: FALLBACK_VAULT, dryRun: false, print: () => undefined }),
    ).toMatchObject({
      replayed: 0,
      unverifiable: 1,
    });
    await waitFor(() => los.acceptedFor(uid, 'decision').length === 1);
    expect(los.acceptedFor(uid, 'decision')).toHaveLength(1);
    expect(await stack.exists(forgedUid)).toBe(false);
  } finally {
    await deps.spool.close();
  }
});

test('a body altered in the table is never replayed', async () => {
  const uid = newUid();
  const body = JSON.stringify(delivery('application.complete', uid));
  expect((await stack.send(body, { key: NEW_KEY })).status).toBe(403);
  await db.query(`UPDATE ${VAULT_TABLE} SET sealed = overlay(sealed placing '\\x00'::bytea from 20 for 1)`);
  const deps = replayDeps(NEW_KEY);
  try {
    const summary = await replayRefused(deps, { integrationId: FALLBACK_VAULT, dryRun: false, print: () => undefined });
    expect(summary).toMatchObject({ replayed: 0, unreadable: 1 });
    expect(await stack.exists(uid)).toBe(false);
  } finally {
    await deps.spool.close();
  }
});

test('the per-integration cap drops the oldest; a missing signature is not vaulted', async () => {
  const uids = Array.from({ length: 6 }, () => newUid());
  for (const uid of uids)
    expect((await stack.send(JSON.stringify(delivery('application.complete', uid)), { key: NEW_KEY })).status).toBe(
      403,
    );
  expect(
    (await stack.send(JSON.stringify(delivery('application.complete', newUid())), { signature: null })).status,
  ).toBe(403);
  expect(await vaulted()).toBe(4);
  const deps = replayDeps(NEW_KEY);
  try {
    const kept = await deps.vault.rows(FALLBACK_VAULT);
    const keptUids = kept.map((row) => ('rawBody' in row ? JSON.parse(Buffer.from(row.rawBody).toString()).uid : null));
    expect(keptUids).toEqual(uids.slice(2));
  } finally {
    await deps.spool.close();
  }
});

test('a delivery the configured key verifies is not vaulted', async () => {
  expect((await stack.send(JSON.stringify(delivery('application.complete', newUid())), { key: TEST_KEY })).status).toBe(
    200,
  );
  expect(await vaulted()).toBe(0);
});

// Last: the receiver's cached schema no longer matches the database, so every later insert fails.
test('vaulting failing leaves the 403 exactly as it is, and is counted', async () => {
  const body = JSON.stringify(delivery('application.complete', newUid()));
  const before = await stack.send(body, { key: NEW_KEY });
  await db.query(`DROP TABLE ${VAULT_TABLE}`);
  const after = await stack.send(body, { key: NEW_KEY });
  expect(after.status).toBe(403);
  expect(after.body).toEqual(before.body);
  const metrics = await (await fetch(`${stack.receiver.internalUrl}/metrics`)).text();
  expect(metrics).toMatch(/begini_vault_refused_total\{outcome="failed"\} 1\b/);
  expect(stack.logText()).toContain('vaulting failed');
});

async function waitFor(condition: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 100));
  }
}
